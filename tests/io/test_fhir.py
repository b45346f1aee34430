"""FHIR R4 (mCODE) export and import: lossless round trips, R4B validity, codes, bad input, a real server."""

from __future__ import annotations

import copy
import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

import metspine.cli.fhir as fhir_cli  # registers `metspine fhir` on the app
from metspine.cli import app
from metspine.engine import assess
from metspine.io.casefile import load_case
from metspine.io.fhir import export_bundle
from metspine.io.fhir_import import (
    case_from_bundle,
    created_ids,
    import_server,
    post_transaction,
)
from metspine.knowledge.fhir_codes import fhir_codes
from metspine.model.case import Case

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
CODES = fhir_codes()
runner = CliRunner()


def _ids(p: Path) -> str:
    return p.stem.split("-")[0] + "-" + p.stem.split("-")[1]


@pytest.fixture(scope="module", params=EXAMPLES, ids=[_ids(p) for p in EXAMPLES])
def example(request: pytest.FixtureRequest) -> tuple[Case, dict[str, Any]]:
    case = load_case(request.param)
    return case, json.loads(json.dumps(export_bundle(case)))


def resources(bundle: dict[str, Any], rtype: str | None = None) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if rtype is None or e["resource"]["resourceType"] == rtype
    ]


def has_code(r: dict[str, Any], system: str, code: str, key: str = "code") -> bool:
    return any(c.get("system") == system and c.get("code") == code for c in r[key]["coding"])


def walk_codings(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "system" in node and "code" in node:
            yield node
        for v in node.values():
            yield from walk_codings(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk_codings(v)


# -- round trips ----------------------------------------------------------------------------------


def test_round_trip_gives_back_the_same_case(example: tuple[Case, dict[str, Any]]) -> None:
    case, bundle = example
    result = case_from_bundle(bundle, "bundle")
    assert result.case == case
    assert result.notes == []


def test_cli_round_trip_through_files(tmp_path: Path) -> None:
    for src in EXAMPLES:
        out = tmp_path / f"{src.stem}.fhir.json"
        back = tmp_path / f"{src.stem}.yaml"
        res = runner.invoke(app, ["fhir", "export", str(src), "-o", str(out)])
        assert res.exit_code == 0, res.output
        res = runner.invoke(app, ["fhir", "import", str(out), "-o", str(back)])
        assert res.exit_code == 0, res.output
        assert load_case(back) == load_case(src)


def test_import_lists_what_it_could_not_find() -> None:
    src = ROOT / "examples" / "demo-007-thyroid-1c-missing-data.yaml"
    result = case_from_bundle(export_bundle(load_case(src)), "b")
    for path in (
        "patient.kps",
        "lesions[0].sins.pain",
        "patient.labs.crp_mg_dl",
        "events.steroids",
    ):
        assert path in result.not_found
    for path in ("patient.ecog", "cancer.primary", "lesions[0].escc", "patient.labs.albumin_g_dl"):
        assert path not in result.not_found


# -- the export -----------------------------------------------------------------------------------


def test_export_is_valid_fhir_r4b(example: tuple[Case, dict[str, Any]]) -> None:
    _, bundle = example
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "transaction"
    assert all(e.request is not None and e.request.method == "POST" for e in parsed.entry or [])


def test_every_metspine_code_is_in_the_codesystem(example: tuple[Case, dict[str, Any]]) -> None:
    _, bundle = example
    known = {c.code for c in CODES.concepts()}
    ours = [c["code"] for c in walk_codings(bundle) if c["system"] == CODES.url]
    assert ours
    assert sorted(set(ours) - known) == []


def test_scores_render_the_assessment(example: tuple[Case, dict[str, Any]]) -> None:
    case, bundle = example
    a = assess(case)
    obs = resources(bundle, "Observation")
    for code, s in a.scores.items():
        if code in ("kps", "ecog") and getattr(case.patient, code) is not None:
            continue
        (o,) = [o for o in obs if has_code(o, CODES.url, code)]
        assert o.get("valueInteger", o.get("valueQuantity", {}).get("value")) == s.value
        assert len(o.get("component", [])) == len(s.components)
        if s.band:
            assert o["interpretation"][0]["coding"][0]["code"] == f"{code}.band.{s.band}"
    for la, lesion in zip(a.lesions, case.lesions, strict=True):
        (cond_url,) = [
            e["fullUrl"]
            for e in bundle["entry"]
            if e["resource"].get("identifier", [{}])[0].get("value") == lesion.id
            and e["resource"]["resourceType"] == "Condition"
        ]
        (sins,) = [
            o for o in obs
            if has_code(o, CODES.systems["radelement"], "RDES21")
            and o["focus"][0]["reference"] == cond_url
        ]  # fmt: skip
        s = la.scores["sins"]
        assert sins.get("valueInteger") == s.value
        assert len(sins["component"]) == 6
        points = [c.points for c in s.components]
        shown = [
            next((x.get("valueInteger") for x in comp.get("extension", [])), None)
            for comp in sins["component"]
        ]
        assert sorted(map(str, shown)) == sorted(map(str, points))
        plans = [p for p in resources(bundle, "CarePlan") if lesion.id in p["title"]]
        assert len(plans) == 1
        codes = [act["detail"]["code"]["coding"][0]["code"] for act in plans[0].get("activity", [])]
        assert codes == [r.code for r in la.recommendations]


def test_mcode_profiles_and_standard_codes() -> None:
    case = load_case(ROOT / "examples" / "demo-001-rcc-t11-t12.yaml")
    bundle = export_bundle(case)
    (kps,) = [
        o for o in resources(bundle, "Observation") if has_code(o, "http://loinc.org", "89243-0")
    ]
    assert kps["meta"]["profile"] == [CODES.profiles["kps"]]
    assert kps["valueInteger"] == 80
    assert kps["interpretation"][0]["coding"][0]["code"] == "LA29177-5"
    (lesion,) = [
        c
        for c in resources(bundle, "Condition")
        if CODES.profiles["secondary_cancer"] in c["meta"]["profile"]
    ]
    assert has_code(lesion, "http://snomed.info/sct", "128462008")
    sites = [s["coding"][0]["code"] for s in lesion["bodySite"]]
    assert sites == ["52120002", "280849005"]  # T11, T12 vertebral bodies
    (escc,) = [
        o
        for o in resources(bundle, "Observation")
        if has_code(o, CODES.systems["radelement"], "RDES288")
    ]
    assert "valueInteger" not in escc
    assert escc["valueCodeableConcept"]["text"] == "2"
    labs = [
        o for o in resources(bundle, "Observation") if has_code(o, "http://loinc.org", "1751-7")
    ]
    assert labs[0]["valueQuantity"] == {
        "value": 3.8, "unit": "g/dL", "system": "http://unitsofmeasure.org", "code": "g/dL"
    }  # fmt: skip
    (prov,) = resources(bundle, "Provenance")
    assert len(prov["target"]) == len(bundle["entry"]) - 1
    (device,) = resources(bundle, "Device")
    versions = {v["type"]["text"]: v["value"] for v in device["version"]}
    a = assess(case)
    assert versions["engine"] == a.engine_version
    assert versions["knowledge"] == a.knowledge_version
    assert versions["policy"].endswith(a.policy.sha256)


def test_ecog_measured_on_its_profile_kps_converted_is_ours() -> None:
    case = load_case(ROOT / "examples" / "demo-007-thyroid-1c-missing-data.yaml")
    obs = resources(export_bundle(case), "Observation")
    (ecog,) = [o for o in obs if has_code(o, "http://loinc.org", "89247-1")]
    assert ecog["meta"]["profile"] == [CODES.profiles["ecog"]] and ecog["valueInteger"] == 1
    assert not [o for o in obs if has_code(o, "http://loinc.org", "89243-0")]


def test_export_is_deterministic_but_for_the_recorded_time() -> None:
    from datetime import UTC, datetime

    case = load_case(EXAMPLES[0])
    when = datetime(2026, 11, 27, 12, tzinfo=UTC)
    assert export_bundle(case, recorded=when) == export_bundle(case, recorded=when)


def test_codesystem_is_published_and_in_sync() -> None:
    published = (ROOT / "docs" / "codesystem.json").read_text(encoding="utf-8")
    assert published == fhir_cli.codesystem_json(), (
        "run: metspine fhir codesystem -o docs/codesystem.json"
    )
    cs = json.loads(published)
    codes = [c["code"] for c in cs["concept"]]
    assert len(codes) == len(set(codes)) == cs["count"]
    for needed in ("sins", "sins.band.unstable", "separation_surgery_then_sbrt", "lesion.escc.1c"):
        assert needed in codes
    res = runner.invoke(app, ["fhir", "codesystem"])
    assert res.exit_code == 0 and json.loads(res.stdout) == cs


# -- importing hospital data: never invent --------------------------------------------------------


def hospital_bundle() -> dict[str, Any]:
    """mCODE-style data as a hospital holds it: no metspine codes at all."""
    pat = {"reference": "Patient/p1"}
    loinc, sct, icd = (
        "http://loinc.org",
        "http://snomed.info/sct",
        "http://hl7.org/fhir/sid/icd-10-cm",
    )
    entries = [
        {"resourceType": "Patient", "id": "p1"},
        {"resourceType": "Condition", "id": "prim", "subject": pat,
         "meta": {"profile": [CODES.profiles["primary_cancer"]]},
         "code": {"coding": [{"system": icd, "code": "C34.90"}]}},
        {"resourceType": "Condition", "id": "met1", "subject": pat,
         "code": {"coding": [{"system": sct, "code": "128462008"}]},
         "bodySite": [{"coding": [{"system": sct, "code": "61032001"}]}]},
        {"resourceType": "Condition", "id": "liver", "subject": pat,
         "code": {"coding": [{"system": sct, "code": "128462008"}]}},
        {"resourceType": "Observation", "id": "ecog-old", "status": "final", "subject": pat,
         "code": {"coding": [{"system": loinc, "code": "89247-1"}]},
         "effectiveDateTime": "2026-01-01", "valueInteger": 0},
        {"resourceType": "Observation", "id": "ecog-new", "status": "final", "subject": pat,
         "code": {"coding": [{"system": loinc, "code": "89247-1"}]},
         "effectiveDateTime": "2026-11-01",
         "valueCodeableConcept": {"coding": [{"system": loinc, "code": "LA9624-3"}]}},
        {"resourceType": "Observation", "id": "alb", "status": "final", "subject": pat,
         "code": {"coding": [{"system": loinc, "code": "1751-7"}]},
         "valueQuantity": {"value": 38, "unit": "g/L", "system": "http://unitsofmeasure.org", "code": "g/L"}},
        {"resourceType": "Observation", "id": "crp", "status": "final", "subject": pat,
         "code": {"coding": [{"system": loinc, "code": "1988-5"}]},
         "valueQuantity": {"value": 3, "unit": "mg/furlong"}},
        {"resourceType": "Observation", "id": "wrong", "status": "entered-in-error", "subject": pat,
         "code": {"coding": [{"system": loinc, "code": "89243-0"}]}, "valueInteger": 40},
        {"resourceType": "Observation", "id": "escc", "status": "final", "subject": pat,
         "code": {"coding": [{"system": "https://radelement.org", "code": "RDES288"}]},
         "bodySite": {"coding": [{"system": sct, "code": "61032001"}]}, "valueInteger": 2},
    ]  # fmt: skip
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in entries],
    }


def test_hospital_data_are_read_and_nothing_is_invented() -> None:
    result = case_from_bundle(hospital_bundle(), "hospital")
    c = result.case
    assert c.id == "p1"
    assert c.patient.ecog == 2  # the latest, from its LOINC answer code
    assert c.patient.kps is None  # the entered-in-error KPS is ignored
    assert c.patient.labs.albumin_g_dl == pytest.approx(3.8)  # g/L converted
    assert c.patient.labs.crp_mg_dl is None  # unknown unit: not guessed
    assert c.cancer.primary is None  # C34.90 does not say NSCLC or SCLC
    assert [(les.id, les.levels) for les in c.lesions] == [("met1", ["L1"])]
    assert c.lesions[0].escc is None  # a grade given as a number is refused
    assert c.assessed_on is None
    notes = "\n".join(result.notes)
    for bit in (
        "C34.90",
        "g/L",
        "mg/furlong",
        "Condition/liver",
        "ESCC given as a number",
        "2 values",
    ):
        assert bit in notes
    for path in ("assessed_on", "cancer.primary", "patient.kps", "patient.labs.crp_mg_dl",
                 "lesions[0].escc", "lesions[0].sins.pain"):  # fmt: skip
        assert path in result.not_found


# -- bad input: exit 2, a message naming the file or resource, nothing written --------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json at all", "not FHIR JSON"),
        ('{"hello": 1}', "not a FHIR resource"),
        ('{"resourceType": "Patient"}', "expected a FHIR Bundle"),
        ('{"resourceType": "Bundle", "type": "collection", "entry": []}', "no Patient"),
    ],
)
def test_bad_files_exit_2_and_write_nothing(tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "in.json"
    src.write_text(content, encoding="utf-8")
    out = tmp_path / "case.yaml"
    res = runner.invoke(app, ["fhir", "import", str(src), "-o", str(out)])
    assert res.exit_code == 2
    assert message in res.output and "in.json" in res.output
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_two_patients_need_a_choice(tmp_path: Path) -> None:
    b = hospital_bundle()
    b["entry"].append({"resource": {"resourceType": "Patient", "id": "p2"}})
    src = tmp_path / "two.json"
    src.write_text(json.dumps(b), encoding="utf-8")
    res = runner.invoke(app, ["fhir", "import", str(src)])
    assert res.exit_code == 2 and "2 Patients" in res.output
    res = runner.invoke(app, ["fhir", "import", str(src), "--patient", "p1"])
    assert res.exit_code == 0, res.output


def test_unreachable_server_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "case.yaml"
    res = runner.invoke(
        app,
        ["fhir", "import", "--server", "http://127.0.0.1:9/fhir", "--patient", "x", "-o", str(out)],
    )
    assert res.exit_code == 2 and "cannot reach the FHIR server" in res.output
    assert not out.exists()


def test_export_of_an_invalid_case_exits_2(tmp_path: Path) -> None:
    src = tmp_path / "bad.yaml"
    src.write_text("format: metspine.case/1\nid: x\npatient: {kps: 85}\n", encoding="utf-8")
    out = tmp_path / "b.json"
    res = runner.invoke(app, ["fhir", "export", str(src), "-o", str(out)])
    assert res.exit_code == 2 and "patient.kps" in res.output and not out.exists()


def test_a_reimported_case_with_a_bad_value_names_the_field() -> None:
    b = export_bundle(load_case(EXAMPLES[0]))
    b = copy.deepcopy(b)
    for r in resources(b, "Observation"):
        if has_code(r, "http://loinc.org", "89243-0"):
            r["valueInteger"] = 85
    with pytest.raises(Exception, match=r"patient\.kps"):
        case_from_bundle(b, "b")


# -- a real FHIR server ---------------------------------------------------------------------------


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as r:
        data: dict[str, Any] = json.load(r)
        return data


def test_server_round_trip_for_every_example(fhir_server: str) -> None:
    for src in EXAMPLES:
        case = load_case(src)
        resp = post_transaction(fhir_server, export_bundle(case))
        assert resp["type"] == "transaction-response"
        (pid,) = created_ids(resp, "Patient")
        # search it back by our identifier and by a standard code
        ident = urllib.parse.quote(f"{CODES.identifier_system('case-id')}|{case.id}")
        found = _get(f"{fhir_server}/Patient?identifier={ident}")
        assert [e["resource"]["id"] for e in found["entry"]] == [pid]
        conds = _get(f"{fhir_server}/Condition?patient={pid}&code=http://snomed.info/sct|128462008")
        assert len(conds.get("entry", [])) == len(case.lesions)
        result = import_server(fhir_server, pid)
        assert result.case == case, src.name
        assert result.notes == []


def test_cli_against_the_server(fhir_server: str, tmp_path: Path) -> None:
    src = ROOT / "examples" / "demo-008-rcc-reirradiation.yaml"
    res = runner.invoke(app, ["fhir", "export", str(src), "--server", fhir_server])
    assert res.exit_code == 0, res.output
    pid = res.output.split("Patient/")[1].split()[0]
    out = tmp_path / "back.yaml"
    res = runner.invoke(
        app, ["fhir", "import", "--server", fhir_server, "--patient", pid, "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "could not find:" in res.output
    assert load_case(out) == load_case(src)
    assert yaml.safe_load(out.read_text())["lesions"][0]["prior_radiation"][0]["dose_gy"] == 20


def test_missing_patient_on_the_server_exits_2(fhir_server: str) -> None:
    res = runner.invoke(app, ["fhir", "import", "--server", fhir_server, "--patient", "nobody"])
    assert res.exit_code == 2 and "Patient/nobody" in res.output


def test_codesystem_covers_the_engines_code_lists() -> None:
    """Drift guard: safety rules and histologies added elsewhere must get a concept here."""
    import tomllib

    from metspine.knowledge.histology import histology_codes

    safety = ROOT / "src" / "metspine" / "knowledge" / "safety.toml"
    if safety.exists():
        rules = set(tomllib.loads(safety.read_text(encoding="utf-8")))
        assert rules - set(CODES.safety) == set()
    assert set(histology_codes()) == set(CODES.primary)


def test_round_trip_keeps_every_case_field() -> None:
    """A case with every optional field filled (beyond the demo cases) survives the round trip."""
    data = yaml.safe_load(EXAMPLES[0].read_text(encoding="utf-8"))
    data["patient"]["mri_surveillance_planned"] = True
    data["patient"]["anterior_or_combined_approach_planned"] = False
    data["cancer"]["tomita_growth"] = "moderate"
    data["cancer"]["katagiri_growth"] = "moderate"
    data["cancer"]["tissue_diagnosis"] = True
    data["cancer"]["suspected_lymphoma"] = False
    lesion = data["lesions"][0]
    lesion["deformity_needs_in_situ_contouring"] = False
    lesion["solitary"] = True
    lesion["prior_surgery"] = False
    lesion["motor_deficit"] = True
    lesion["motor_deficit_onset_days"] = 3
    case = Case.model_validate(data)
    back = case_from_bundle(export_bundle(case), "bundle").case
    assert back == case
