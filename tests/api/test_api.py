"""Every /api/v1 route: success, role refusals (401/403), invalid input (422 naming the field),
optimistic concurrency (428/409), upload limits, and problem details throughout."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from apikit import ROOT, Api, demo_case

import metspine

DICOM = ROOT / "tests" / "data" / "dicom-rt"
PROBLEM = "application/problem+json"


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def _create(api: Api, name: str = "demo-001-rcc-t11-t12.yaml") -> dict[str, Any]:
    r = api.client.post("/api/v1/cases", json=demo_case(name), headers=api.h("clinician"))
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def test_token_and_me(api: Api) -> None:
    r = api.client.post("/api/v1/auth/token", data={"username": "viewer", "password": "nope-nope"})
    _problem(r, 401)
    r = api.client.get("/api/v1/auth/me", headers=api.h("board_chair"))
    assert r.json() == {"username": "board_chair", "role": "board_chair"}
    _problem(api.client.post("/api/v1/auth/token", data={"username": "viewer"}), 422)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/cases"),
        ("post", "/api/v1/cases"),
        ("get", "/api/v1/cases/demo-001"),
        ("put", "/api/v1/cases/demo-001"),
        ("post", "/api/v1/assess"),
        ("get", "/api/v1/cases/demo-001/assessment"),
        ("get", "/api/v1/cases/demo-001/assessments"),
        ("post", "/api/v1/cases/demo-001/assessments"),
        ("get", "/api/v1/cases/demo-001/decisions"),
        ("post", "/api/v1/cases/demo-001/decisions"),
        ("get", "/api/v1/cases/demo-001/history"),
        ("get", "/api/v1/cases/demo-001/plan-checks"),
        ("post", "/api/v1/cases/demo-001/plan-checks"),
        ("get", "/api/v1/cases/demo-001/plan-checks/1"),
        ("get", "/api/v1/cases/demo-001/plan-checks/1/dvh.png"),
        ("get", "/api/v1/audit"),
        ("get", "/api/v1/audit/verify"),
        ("get", "/api/v1/users"),
        ("post", "/api/v1/users"),
    ],
)
def test_every_route_needs_a_token(api: Api, method: str, path: str) -> None:
    r = getattr(api.client, method)(path)
    body = _problem(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"
    assert "sign in" in body["detail"]
    r = getattr(api.client, method)(path, headers={"Authorization": "Bearer forged"})
    _problem(r, 401)


@pytest.mark.parametrize(
    ("role", "method", "path", "kwargs"),
    [
        ("viewer", "post", "/api/v1/cases", {"json": {}}),
        ("viewer", "put", "/api/v1/cases/demo-001", {"json": {}}),
        ("viewer", "post", "/api/v1/cases/demo-001/assessments", {}),
        ("viewer", "post", "/api/v1/cases/demo-001/plan-checks", {}),
        ("clinician", "post", "/api/v1/cases/demo-001/decisions", {"json": {}}),
        ("clinician", "get", "/api/v1/audit", {}),
        ("clinician", "get", "/api/v1/audit/verify", {}),
        ("board_chair", "get", "/api/v1/users", {}),
        ("board_chair", "post", "/api/v1/users", {"json": {}}),
    ],
)
def test_roles_are_enforced(api: Api, role: str, method: str, path: str, kwargs: Any) -> None:
    _create(api)
    r = getattr(api.client, method)(path, headers=api.h(role), **kwargs)
    body = _problem(r, 403)
    assert role in body["detail"]


def test_create_read_list_and_search(api: Api) -> None:
    r = api.client.post("/api/v1/cases", json=demo_case(), headers=api.h("clinician"))
    assert r.status_code == 201
    assert r.headers["etag"] == '"1"' and r.headers["location"] == "/api/v1/cases/demo-001"
    assert r.json()["id"] == "demo-001" and r.json()["version"] == 1
    _create(api, "demo-002-breast-escc3-radiosensitive.yaml")
    r = api.client.get("/api/v1/cases/demo-001", headers=api.h("viewer"))
    assert r.status_code == 200 and r.headers["etag"] == '"1"'
    assert r.json()["case"]["lesions"][0]["id"] == "L1"
    assert r.json()["created_by"] == "clinician"
    ids = [
        c["id"] for c in api.client.get("/api/v1/cases", headers=api.h("viewer")).json()["items"]
    ]
    assert set(ids) == {"demo-001", "demo-002"}
    found = api.client.get("/api/v1/cases?q=breast", headers=api.h("viewer")).json()["items"]
    assert [c["id"] for c in found] == ["demo-002"]
    _problem(api.client.get("/api/v1/cases/nope", headers=api.h("viewer")), 404)
    _problem(api.client.get("/api/v1/cases?limit=0", headers=api.h("viewer")), 422)


def test_invalid_case_is_422_naming_the_field(api: Api) -> None:
    bad = demo_case()
    bad["lesions"][0]["escc"] = "4"
    bad["patient"]["kps"] = 85
    body = _problem(api.client.post("/api/v1/cases", json=bad, headers=api.h("clinician")), 422)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"lesions[0].escc", "patient.kps"}
    assert "lesions[0].escc" in body["detail"]
    r = api.client.post("/api/v1/cases", content=b"{not json", headers=api.h("clinician"))
    _problem(r, 422)
    r = api.client.post("/api/v1/cases", json=[1, 2], headers=api.h("clinician"))
    _problem(r, 422)
    big = b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    _problem(api.client.post("/api/v1/cases", content=big, headers=api.h("clinician")), 413)


def test_duplicate_case_is_409(api: Api) -> None:
    _create(api)
    r = api.client.post("/api/v1/cases", json=demo_case(), headers=api.h("clinician"))
    assert _problem(r, 409)["errors"][0]["field"] == "id"


def test_update_needs_if_match_and_refuses_stale_versions(api: Api) -> None:
    _create(api)
    data = demo_case()
    data["patient"]["kps"] = 60
    url, h = "/api/v1/cases/demo-001", api.h("clinician")
    assert (
        _problem(api.client.put(url, json=data, headers=h), 428)["errors"][0]["field"] == "If-Match"
    )
    r = api.client.put(url, json=data, headers=h | {"If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["version"] == 2 and r.headers["etag"] == '"2"'
    stale = _problem(api.client.put(url, json=data, headers=h | {"If-Match": '"1"'}), 409)
    assert stale["current_version"] == 2 and stale["errors"][0]["field"] == "version"
    other = dict(data, id="demo-999")
    body = _problem(api.client.put(url, json=other, headers=h | {"If-Match": '"2"'}), 422)
    assert body["errors"][0]["field"] == "id"
    _problem(api.client.put(url, json=data, headers=h | {"If-Match": "abc"}), 422)
    r = api.client.put("/api/v1/cases/nope", json=data, headers=h | {"If-Match": '"1"'})
    assert r.status_code in (404, 422)


def test_concurrent_edits_one_wins_the_other_gets_409(api: Api) -> None:
    _create(api)
    url, h = "/api/v1/cases/demo-001", api.h("clinician") | {"If-Match": '"1"'}
    results: list[int] = []
    barrier = threading.Barrier(4)

    def edit(kps: int) -> None:
        data = demo_case()
        data["patient"]["kps"] = kps
        barrier.wait()
        results.append(api.client.put(url, json=data, headers=h).status_code)

    threads = [threading.Thread(target=edit, args=(k,)) for k in (40, 50, 60, 70)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409, 409, 409]
    assert api.store.get_case("demo-001").version == 2
    assert api.store.verify_audit().ok


def test_assess_ad_hoc_equals_the_engine_and_stores_nothing(api: Api) -> None:
    case = demo_case()
    r = api.client.post("/api/v1/assess", json=case, headers=api.h("viewer"))
    assert r.status_code == 200
    assert r.json() == metspine.assess(case).model_dump(mode="json")
    assert api.store.list_cases() == []
    bad = dict(case, lesions=[{"id": "L1", "levels": ["T13"]}])
    body = _problem(api.client.post("/api/v1/assess", json=bad, headers=api.h("viewer")), 422)
    assert body["errors"][0]["field"].startswith("lesions[0].levels")


def test_stored_assessments_are_snapshots_with_versions(api: Api) -> None:
    _create(api)
    r = api.client.get("/api/v1/cases/demo-001/assessment", headers=api.h("viewer"))
    assert r.status_code == 200 and r.headers["x-metspine-case-version"] == "1"
    assert r.json()["case_id"] == "demo-001" and r.json()["format"] == "metspine.assessment/1"
    r = api.client.post("/api/v1/cases/demo-001/assessments", headers=api.h("clinician"))
    assert r.status_code == 201 and r.json()["engine_version"] == metspine.__version__
    items = api.client.get("/api/v1/cases/demo-001/assessments", headers=api.h("viewer")).json()
    assert [a["case_version"] for a in items["items"]] == [1, 1]
    assert all(len(a["policy"]["sha256"]) == 64 for a in items["items"])
    _problem(api.client.get("/api/v1/cases/nope/assessment", headers=api.h("viewer")), 404)


def test_decisions_and_history(api: Api) -> None:
    _create(api)
    url = "/api/v1/cases/demo-001/decisions"
    body = {"decision": "separation_surgery_then_sbrt", "lesion_id": "L1",
            "agreed_by": ["Dr A (surgery)", "Dr B (radiation oncology)"]}  # fmt: skip
    r = api.client.post(url, json=body, headers=api.h("board_chair"))
    assert r.status_code == 201 and r.json()["case_version"] == 1
    bad = _problem(
        api.client.post(url, json=dict(body, lesion_id="L7"), headers=api.h("board_chair")), 422
    )
    assert bad["errors"][0]["field"] == "lesion_id"
    none = _problem(
        api.client.post(url, json=dict(body, agreed_by=[]), headers=api.h("board_chair")), 422
    )
    assert none["errors"][0]["field"] == "agreed_by"
    assert len(api.client.get(url, headers=api.h("viewer")).json()["items"]) == 1
    data = demo_case()
    data["lesions"][0]["escc"] = "3"
    api.client.put("/api/v1/cases/demo-001", json=data,
                   headers=api.h("clinician") | {"If-Match": '"1"'})  # fmt: skip
    hist = api.client.get("/api/v1/cases/demo-001/history", headers=api.h("viewer")).json()["items"]
    actions = [e["action"] for e in hist]
    assert actions == ["assessment.create", "case.update", "decision.create",
                       "assessment.create", "case.create"]  # fmt: skip
    update = hist[1]
    assert update["actor"] == "clinician"
    assert {"field": "lesions[0].escc", "from": "2", "to": "3"} in update["detail"]["changes"]
    assert hist[0]["detail"]["engine_version"] == metspine.__version__


def test_plan_check_upload_result_and_plot(api: Api) -> None:
    _create(api)
    url = "/api/v1/cases/demo-001/plan-checks"
    files = {
        "rtdose": (DICOM / "rtdose.dcm").read_bytes(),
        "rtstruct": (DICOM / "rtss.dcm").read_bytes(),
    }
    r = api.client.post(url, files=files, data={"fractions": "1", "lesion_id": "L1"},
                        headers=api.h("clinician"))  # fmt: skip
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["result"]["limits"] and out["result"]["passed"] is False  # no cord in this plan
    assert {s["name"] for s in out["result"]["all_structures"]} >= {"Heart", "Tumor Bed"}
    png = api.client.get(out["dvh_png"], headers=api.h("viewer"))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    got = api.client.get(f"{url}/{out['id']}", headers=api.h("viewer")).json()
    assert got["rtdose_sha256"] == out["rtdose_sha256"]
    assert len(api.client.get(url, headers=api.h("viewer")).json()["items"]) == 1
    _problem(api.client.get(f"{url}/999", headers=api.h("viewer")), 404)
    junk = {"rtdose": b"not dicom", "rtstruct": b"not dicom"}
    bad = _problem(
        api.client.post(url, files=junk, data={"fractions": "1"}, headers=api.h("clinician")), 422
    )
    assert bad["errors"][0]["field"] in ("rtdose/rtstruct", "rtdose", "rtstruct")
    r = api.client.post(url, files=files, data={"fractions": "0"}, headers=api.h("clinician"))
    assert _problem(r, 422)["errors"][0]["field"] == "fractions"
    big = {"rtdose": b"x" * (17 * 1024 * 1024), "rtstruct": b"x"}
    _problem(
        api.client.post(url, files=big, data={"fractions": "1"}, headers=api.h("clinician")), 413
    )


def test_users_and_audit(api: Api) -> None:
    _create(api)
    r = api.client.post("/api/v1/users", json={"username": "dr_x", "password": "longenough1",
                        "role": "clinician"}, headers=api.h("admin"))  # fmt: skip
    assert r.status_code == 201
    bad = _problem(api.client.post("/api/v1/users", json={"username": "dr_y", "password": "short",
                   "role": "wizard"}, headers=api.h("admin")), 422)  # fmt: skip
    assert {e["field"] for e in bad["errors"]} == {"password", "role"}
    users = api.client.get("/api/v1/users", headers=api.h("admin")).json()["items"]
    assert "dr_x" in {u["username"] for u in users} and all("password" not in str(u) for u in users)
    log = api.client.get("/api/v1/audit", headers=api.h("board_chair")).json()["items"]
    assert log[0]["action"] == "user.create" and log[0]["prev_hash"] == log[1]["hash"]
    v = api.client.get("/api/v1/audit/verify", headers=api.h("board_chair")).json()
    assert v["ok"] and v["rows"] == len(log)


def test_openapi_and_healthz(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/auth/token", "/api/v1/cases", "/api/v1/cases/{case_id}",
                 "/api/v1/assess", "/api/v1/cases/{case_id}/assessment",
                 "/api/v1/cases/{case_id}/plan-checks", "/api/v1/cases/{case_id}/decisions",
                 "/api/v1/audit", "/healthz"):  # fmt: skip
        assert path in spec["paths"], path
    assert {"Case", "Assessment"} <= set(spec["components"]["schemas"])
    assert api.client.get("/healthz").json()["status"] == "ok"


def test_logs_carry_no_case_data(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    case = demo_case()
    case["id"] = "MRN-123456"
    api.client.post("/api/v1/cases", json=case, headers=api.h("clinician"))
    api.client.get("/api/v1/cases/MRN-123456", headers=api.h("viewer"))
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("metspine"))
    assert "/api/v1/cases/{case_id}" in text
    assert "MRN-123456" not in text and "renal_cell" not in text
