"""patient-view: NOMS cards per lesion, the missing-data card, prefetch, fhirServer and 412."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

import metspine
from conftest import (
    EXAMPLES,
    PATIENT_ID,
    PV,
    Signer,
    auth,
    hook_request,
    prefetch_for,
    server_resources,
)
from metspine.api.cds_cards import SUMMARY_MAX, Card, clip
from metspine.io.casefile import load_case

PATH = f"/cds-services/{PV}"
DEMOS = sorted(p.name for p in EXAMPLES.glob("*.yaml"))


def call(client: TestClient, sign: Signer, body: dict[str, Any], path: str = PATH) -> Any:
    return client.post(path, json=body, headers=auth(sign(path)))


def check_cards(cards: list[dict[str, Any]]) -> None:
    """Every card within CDS Hooks 2.0: summary < 140, indicator, source.label, uuid; and it parses."""
    for c in cards:
        assert 0 < len(c["summary"]) < 140, c["summary"]
        assert c["indicator"] in ("info", "warning", "critical")
        assert c["source"]["label"].startswith("metspine")
        assert c["uuid"]
        if c.get("suggestions"):
            assert c["selectionBehavior"] in ("at-most-one", "any")
            for s in c["suggestions"]:
                assert s["label"] and s["uuid"]
        for link in c.get("links", []):
            assert link["type"] in ("absolute", "smart") and link["url"].startswith("http")
        Card.model_validate(c)


@pytest.mark.parametrize("name", DEMOS)
def test_one_noms_card_per_lesion_rendering_the_assessment(
    client: TestClient, sign: Signer, name: str
) -> None:
    r = call(client, sign, hook_request("patient-view", prefetch_for(name)))
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    check_cards(cards)
    a = metspine.assess(load_case(EXAMPLES / name))
    for la in a.lesions:
        levels = la.levels[0] if len(la.levels) == 1 else f"{la.levels[0]}-{la.levels[-1]}"
        card = next(c for c in cards if c["summary"].startswith(levels + ":"))
        sins = la.scores["sins"]
        if sins.value is not None:
            assert f"SINS {sins.value:g}" in card["summary"]
        if la.recommendations:
            assert la.recommendations[0].strength in card["summary"] or "…" in card["summary"]
            assert la.recommendations[0].summary.replace("|", "\\|") in card["detail"]
        assert la.noms.mechanical.summary.replace("|", "\\|") in card["detail"]
        severities = [f.severity for f in a.safety if f.lesion_id == la.id]
        expected = max(severities, key=["info", "warning", "critical"].index, default="info")
        assert card["indicator"] == expected


def test_missing_data_card_names_the_fields(client: TestClient, sign: Signer) -> None:
    name = "demo-007-thyroid-1c-missing-data.yaml"
    cards = call(client, sign, hook_request("patient-view", prefetch_for(name))).json()["cards"]
    missing = [c for c in cards if "missing" in c["summary"]]
    assert len(missing) == 1
    a = metspine.assess(load_case(EXAMPLES / name))
    for m in a.missing:
        assert f"`{m.field}`" in missing[0]["detail"]
    assert "SINS: pain" in missing[0]["detail"]  # in the clinic's words


def test_no_spinal_lesion_gives_one_card_saying_so(client: TestClient, sign: Signer) -> None:
    prefetch = prefetch_for(DEMOS[0]) | {"conditions": None}
    cards = call(client, sign, hook_request("patient-view", prefetch)).json()["cards"]
    check_cards(cards)
    assert any("no spinal metastasis" in c["summary"] for c in cards)


def test_unreadable_data_gives_a_card_not_an_error(client: TestClient, sign: Signer) -> None:
    prefetch = prefetch_for(DEMOS[0])
    prefetch["patient"]["id"] = "someone-else"
    r = call(client, sign, hook_request("patient-view", prefetch))
    assert r.status_code == 200
    (card,) = r.json()["cards"]
    assert card["indicator"] == "warning" and "could not read" in card["summary"]


def test_required_prefetch_missing_without_fhir_server_is_412(
    client: TestClient, sign: Signer
) -> None:
    prefetch = prefetch_for(DEMOS[0])
    del prefetch["observations"]
    r = call(client, sign, hook_request("patient-view", prefetch))
    assert r.status_code == 412
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"] == [{"field": "prefetch.observations", "message": "missing"}]


def test_unreachable_fhir_server_is_412(client: TestClient, sign: Signer) -> None:
    body = hook_request("patient-view", None)
    body["fhirServer"] = "http://127.0.0.1:1/fhir"
    body["fhirAuthorization"] = {"access_token": "t", "token_type": "Bearer", "expires_in": 300,
                                 "scope": "patient/*.read", "subject": "metspine"}  # fmt: skip
    r = call(client, sign, body)
    assert r.status_code == 412
    assert "could not fetch" in r.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"hook": "order-select"}, 400, "hook"),
        ({"context": {}}, 400, "context.patientId"),
        ({"hookInstance": ""}, 400, "hookInstance"),
    ],
)
def test_bad_requests_name_the_field(
    client: TestClient, sign: Signer, body: dict[str, Any], status: int, field: str
) -> None:
    r = call(client, sign, hook_request("patient-view", prefetch_for(DEMOS[0])) | body)
    assert r.status_code == status
    assert field in r.json()["detail"]


def test_unknown_service_is_404(client: TestClient, sign: Signer) -> None:
    path = "/cds-services/nope"
    r = call(client, sign, hook_request("patient-view", None), path)
    assert r.status_code == 404


@given(st.text(min_size=1, max_size=400).filter(lambda s: s.strip()))
def test_clip_always_fits_a_summary(text: str) -> None:
    out = clip(text)
    assert 0 < len(out) <= SUMMARY_MAX
    assert "\n" not in out


# -- against a real FHIR server (sekmet-fhir): no prefetch, everything fetched -----------------------


def _load(base: str, name: str) -> None:
    """PUT the demo case's resources with their ids (as an EHR's server holds them)."""
    entries = [
        {
            "resource": r,
            "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
        }
        for r in server_resources(name)
    ]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    req = urllib.request.Request(
        base, data=json.dumps(bundle).encode(), method="POST",
        headers={"Content-Type": "application/fhir+json"},
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status in (200, 201)


def _strip(cards: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(c["summary"], c["indicator"], c.get("detail", "")) for c in cards]


def test_fetched_from_the_fhir_server_as_with_prefetch(
    client: TestClient, sign: Signer, fhir_server: str, tmp_path: Path
) -> None:
    name = "demo-004-nsclc-unstable.yaml"
    _load(fhir_server, name)
    with_prefetch = call(client, sign, hook_request("patient-view", prefetch_for(name)))
    body = hook_request("patient-view", None)
    body["fhirServer"] = fhir_server
    fetched = call(client, sign, body)
    assert fetched.status_code == 200, fetched.text
    assert _strip(fetched.json()["cards"]) == _strip(with_prefetch.json()["cards"])
    # part prefetched, the rest fetched
    partial = {"patient": prefetch_for(name)["patient"]}
    body = hook_request("patient-view", partial) | {"fhirServer": fhir_server}
    both = call(client, sign, body)
    assert _strip(both.json()["cards"]) == _strip(with_prefetch.json()["cards"])
    assert PATIENT_ID in json.dumps(body)
