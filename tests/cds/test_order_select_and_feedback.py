"""order-select: SINS >= 7 without a surgical consultation, the radiation-surgery interval; feedback."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from test_patient_view import check_cards

from conftest import OS, PATIENT_ID, PV, Signer, auth, hook_request, prefetch_for, searchset
from metspine.knowledge.cds_orders import cds_orders

PATH = f"/cds-services/{OS}"
SINS_CASE = "demo-001-rcc-t11-t12.yaml"  # L1 at T11-T12, SINS 11 (sins_surgical_consult warning)
RT_CASE = "demo-008-rcc-reirradiation.yaml"  # last radiotherapy ended 2026-03-27


def order(rid: str, text: str, *, on: str | None = None, site: str | None = None,
          status: str = "draft") -> dict[str, Any]:  # fmt: skip
    sr: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "code": {"text": text},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
    }
    if on:
        sr["occurrenceDateTime"] = on
    if site:
        sr["bodySite"] = [{"text": site}]
    return sr


def drafts(*orders: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": o} for o in orders]}  # fmt: skip


def call(client: TestClient, sign: Signer, name: str, *orders: dict[str, Any],
         consults: Any = None, drop_consults: bool = False) -> list[dict[str, Any]]:  # fmt: skip
    prefetch = prefetch_for(name)
    if not drop_consults:
        prefetch["consults"] = consults
    body = hook_request(
        "order-select", prefetch, draftOrders=drafts(*orders),
        selections=[f"ServiceRequest/{o['id']}" for o in orders],
    )  # fmt: skip
    r = client.post(PATH, json=body, headers=auth(sign(PATH)))
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    check_cards(cards)
    return cards


def test_sbrt_for_an_unstable_lesion_without_consultation_warns(
    client: TestClient, sign: Signer
) -> None:
    cards = call(client, sign, SINS_CASE, order("sbrt-1", "SBRT 24 Gy in 2 fractions T11-T12"))
    (card,) = cards
    assert card["indicator"] == "warning"
    assert "SINS 11" in card["summary"] and "no spine surgery consultation" in card["summary"]
    assert card["selectionBehavior"] == "any"
    create, delete = card["suggestions"]
    assert create["isRecommended"] is True
    sr = create["actions"][0]["resource"]
    assert sr["resourceType"] == "ServiceRequest" and sr["status"] == "draft"
    assert sr["code"]["coding"][0]["code"] == cds_orders().consult_code.code
    assert sr["subject"]["reference"] == f"Patient/{PATIENT_ID}"
    assert sr["reasonReference"][0]["reference"].startswith("Condition/")
    assert delete["actions"] == [
        {"type": "delete", "description": "Remove SBRT 24 Gy in 2 fractions T11-T12",
         "resourceId": "ServiceRequest/sbrt-1"}
    ]  # fmt: skip
    assert card["overrideReasons"] and card["links"]
    assert all(link["url"].startswith("https://doi.org/") for link in card["links"])


def test_a_recorded_consultation_turns_the_warning_into_information(
    client: TestClient, sign: Signer
) -> None:
    consult = order("c-1", "Spine surgery consultation", on="2026-11-20", status="completed")
    cards = call(client, sign, SINS_CASE, order("rt-1", "Radiotherapy 8 Gy T11"),
                 consults=searchset([consult]))  # fmt: skip
    (card,) = cards
    assert card["indicator"] == "info" and "on record" in card["summary"]
    assert "ServiceRequest/c-1 (2026-11-20)" in card["detail"]
    assert "suggestions" not in card


def test_a_consultation_ordered_with_it_counts(client: TestClient, sign: Signer) -> None:
    prefetch = prefetch_for(SINS_CASE) | {"consults": None}
    sbrt = order("sbrt-2", "SBRT T12")
    body = hook_request(
        "order-select", prefetch,
        draftOrders=drafts(sbrt, order("c-2", "Neurosurgery consult")),
        selections=["ServiceRequest/sbrt-2"],
    )  # fmt: skip
    (card,) = client.post(PATH, json=body, headers=auth(sign(PATH))).json()["cards"]
    assert card["indicator"] == "info" and "ordered with it" in card["summary"]


def test_unknown_consultation_is_said_not_assumed(client: TestClient, sign: Signer) -> None:
    cards = call(client, sign, SINS_CASE, order("sbrt-3", "SBRT T11"), drop_consults=True)
    (card,) = cards
    assert "not known" in card["summary"] and "unknown" in card["detail"]
    assert card["indicator"] == "warning"


def test_orders_elsewhere_or_not_radiotherapy_give_no_sins_card(
    client: TestClient, sign: Signer
) -> None:
    assert call(client, sign, SINS_CASE, order("rt-4", "Radiotherapy", site="Left femur")) == []
    assert call(client, sign, SINS_CASE, order("lab-1", "Complete blood count")) == []
    # a radiotherapy order naming no site: information, the lesion named
    (card,) = call(client, sign, SINS_CASE, order("rt-5", "Palliative radiotherapy"))
    assert card["indicator"] == "info" and "names no spinal level" in card["summary"]


def test_surgery_inside_the_radiation_surgery_interval(client: TestClient, sign: Signer) -> None:
    cards = call(client, sign, RT_CASE,
                 order("op-1", "Posterior instrumentation T11-L1", on="2026-03-31"))  # fmt: skip
    interval = [c for c in cards if c["summary"].startswith("Radiation-surgery interval")]
    (card,) = interval
    assert card["indicator"] == "critical"
    assert "4 days" in card["detail"]
    assert card["selectionBehavior"] == "at-most-one"
    assert card["suggestions"][0]["actions"][0]["resourceId"] == "ServiceRequest/op-1"
    # well after the window: no interval card
    later = call(client, sign, RT_CASE, order("op-2", "Spinal decompression", on="2026-06-30"))
    assert not [c for c in later if c["summary"].startswith("Radiation-surgery interval")]
    # no date: said, not guessed
    undated = call(client, sign, RT_CASE, order("op-3", "Laminectomy L4"))
    assert any("without a date" in c["summary"] for c in undated)


def test_order_select_needs_draft_orders(client: TestClient, sign: Signer) -> None:
    body = hook_request("order-select", prefetch_for(SINS_CASE) | {"consults": None})
    r = client.post(PATH, json=body, headers=auth(sign(PATH)))
    assert r.status_code == 400 and "draftOrders" in r.json()["detail"]


def test_order_classes_by_code_and_text() -> None:
    o = cds_orders()
    assert o.classify([], ["SABR 30 Gy/3 L2"]) == {"sbrt", "radiotherapy"}
    assert o.classify([("http://snomed.info/sct", "33195004")], []) == {"radiotherapy"}
    assert o.classify([], ["Spine surgery consultation"]) == {"consult"}
    assert o.classify([], ["Separation surgery T6"]) == {"spine_surgery"}
    assert o.classify([], ["Kyphoplasty L1"]) == set()
    assert o.classify([], ["Trsbrtx"]) == set()


# -- feedback ----------------------------------------------------------------------------------------


def test_feedback_on_issued_cards(client: TestClient, sign: Signer) -> None:
    (card,) = call(client, sign, SINS_CASE, order("sbrt-9", "SBRT T11-T12"))
    path = f"{PATH}/feedback"
    accepted = {
        "card": card["uuid"],
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
        "outcomeTimestamp": "2026-11-27T10:00:00Z",
    }
    overridden = {
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": card["overrideReasons"][0], "userComment": "free text"},
        "outcomeTimestamp": "2026-11-27T10:01:00Z",
    }
    r = client.post(path, json={"feedback": [accepted, overridden]}, headers=auth(sign(path)))
    assert r.status_code == 200, r.text
    assert r.json() == {"received": 2, "known_cards": 2}
    counts = client.app.state.cds.feedback  # type: ignore[attr-defined]
    assert counts[(OS, "sins_surgical_consult", "accepted")] >= 1
    assert counts[(OS, "sins_surgical_consult", "overridden")] >= 1
    # a token for the service endpoint is also accepted on its feedback endpoint
    r = client.post(path, json={"feedback": [overridden]}, headers=auth(sign(PATH)))
    assert r.status_code == 200


def test_feedback_refuses_bad_tokens_and_bad_bodies(client: TestClient, sign: Signer) -> None:
    path = f"{PATH}/feedback"
    item = {"card": "x", "outcome": "accepted", "outcomeTimestamp": "2026-11-27T10:00:00Z"}
    assert client.post(path, json={"feedback": [item]}).status_code == 401
    expired = sign(path, exp=1, iat=0)
    assert client.post(path, json={"feedback": [item]}, headers=auth(expired)).status_code == 401
    other = sign(f"/cds-services/{PV}/feedback")
    assert client.post(path, json={"feedback": [item]}, headers=auth(other)).status_code == 401
    r = client.post(path, json={"feedback": [item]}, headers=auth(sign(path)))
    assert r.status_code == 400 and "feedback.0" in r.json()["detail"]
    r = client.post(path, json={"feedback": []}, headers=auth(sign(path)))
    assert r.status_code == 400
    r = client.post("/cds-services/nope/feedback", json={}, headers=auth(sign(path)))
    assert r.status_code == 404
