"""Pages without a browser: sign-in, CSRF, the form and its live scoring, board, decisions, report."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from pypdf import PdfReader
from webkit import csrf_of

from metspine.api import Settings, create_app
from metspine.store import Store

ROOT = Path(__file__).resolve().parents[2]
Web = tuple[Store, Callable[[str], TestClient]]


def _demo() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "examples" / "demo-001-rcc-t11-t12.yaml").read_text())
    return dict(json.loads(json.dumps(data, default=str)))


def test_pages_need_sign_in(web: Web) -> None:
    store, _ = web
    client = TestClient(create_app(Settings(db_url=store.url, secret_key="k"), store))
    r = client.get("/cases/demo-001", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    bad = client.post(
        "/login", data={"username": "viewer", "password": "x", "login_csrf": "forged"}
    )
    assert bad.status_code == 403


def test_wrong_password_and_logout(web: Web) -> None:
    _, signed_in = web
    c = signed_in("viewer")
    home = c.get("/")
    assert home.status_code == 200 and "Cases" in home.text
    assert c.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    r = c.post("/logout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/", follow_redirects=False).status_code == 303


def test_form_live_scoring_and_create(web: Web) -> None:
    store, signed_in = web
    c = signed_in("clinician")
    form = c.get("/cases/new")
    assert form.status_code == 200
    for label in ("Patient", "Cancer", "Lesion 1", "Events", "ESCC grade", "Pain"):
        assert label in form.text
    assert 'for="f-lesions-0-sins-pain"' in form.text and 'id="f-lesions-0-sins-pain"' in form.text
    token = csrf_of(form.text)
    fields = {"id": "web-1", "assessed_on": "2026-11-27", "lesions.0.id": "L1",
              "lesions.0.levels": "T11-T12", "lesions.0.sins.pain": "mechanical",
              "lesions.0.sins.bone_lesion": "lytic", "lesions.0.escc": "2"}  # fmt: skip
    assert c.post("/cases/live", data=fields).status_code == 403  # no CSRF token
    live = c.post("/cases/live", data=fields, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert live.status_code == 200
    assert "SINS" in live.text and "(incomplete)" in live.text and "ESCC: 2 (high)" in live.text
    assert 'id="m-lesions-0-sins-alignment" hx-swap-oob="true">missing<' in live.text
    bad = c.post("/cases/live", data=dict(fields, **{"lesions.0.levels": "T99"}),
                 headers={"X-CSRF-Token": token})  # fmt: skip
    assert "Not yet valid" in bad.text and "lesions[0].levels" in bad.text
    # Without JavaScript: "check" re-renders the form with the markers.
    check = c.post("/cases/new", data=dict(fields, csrf_token=token, _action="check"))
    assert check.status_code == 200 and 'class="field missing"' in check.text
    more = c.post("/cases/new", data=dict(fields, csrf_token=token, _action="add_lesion"))
    assert "Lesion 2" in more.text
    saved = c.post("/cases/new", data=dict(fields, csrf_token=token), follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/cases/web-1"
    assert store.get_case("web-1").data["lesions"][0]["levels"] == ["T11", "T12"]
    assert store.get_case("web-1").created_by == "clinician"


def test_board_edit_conflict_decision_and_report(web: Web) -> None:
    store, signed_in = web
    store.create_case(_demo(), actor="coordinator")
    chair = signed_in("board_chair")
    board = chair.get("/cases/demo-001")
    assert board.status_code == 200
    for text in ("Neurologic", "Oncologic", "Mechanical", "Systemic", "Options, strongest first",
                 "Safety", "Missing", "References cited", "Record the board"):  # fmt: skip
        assert text in board.text
    token = csrf_of(board.text)
    r = chair.post("/cases/demo-001/decisions", data={"csrf_token": token, "decision": "sbrt",
                   "lesion_id": "L1", "agreed_by": "Dr A, Dr B"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert store.decisions("demo-001")[0].agreed_by == ["Dr A", "Dr B"]
    edit = chair.get("/cases/demo-001/edit")
    assert 'name="version" value="1"' in edit.text
    store.update_case("demo-001", _demo() | {"assessed_on": "2026-11-28"}, expected_version=1,
                      actor="someone")  # fmt: skip
    stale = chair.post("/cases/demo-001/edit", data={"csrf_token": token, "version": "1",
                       "lesions.0.id": "L1", "lesions.0.levels": "T11 T12"})  # fmt: skip
    assert stale.status_code == 409 and "version 2" in stale.text
    history = chair.get("/cases/demo-001/history")
    assert "case.update" in history.text and "assessed_on" in history.text
    html = chair.get("/cases/demo-001/report.html")
    assert html.status_code == 200 and "References cited" in html.text
    pdf = chair.get("/cases/demo-001/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    for needle in ("demo-001", "SINS", "Engine", "policy default", "2026-11-28", "sbrt"):
        assert needle in text, needle


def test_viewer_reads_but_cannot_change(web: Web) -> None:
    store, signed_in = web
    store.create_case(_demo(), actor="coordinator")
    v = signed_in("viewer")
    board = v.get("/cases/demo-001")
    assert board.status_code == 200 and "Edit the case" not in board.text
    assert "Record the board" not in board.text and "Upload and check" not in board.text
    assert v.get("/cases/new").status_code == 403
    r = v.post("/cases/demo-001/decisions", data={"csrf_token": csrf_of(board.text)})
    assert r.status_code == 403
    assert v.get("/cases/nope").status_code == 404
