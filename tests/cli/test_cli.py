"""The command line as a user runs it: exit codes, JSON exactly as contract §2, field-named errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from tests.conftest import EXAMPLES, make_case
from typer.testing import CliRunner

from metspine.cli import app

runner = CliRunner()
DEMO = EXAMPLES / "demo-001-rcc-t11-t12.yaml"


def write(tmp_path: Path, data: object, name: str = "case.yaml") -> Path:
    p = tmp_path / name
    p.write_text(
        yaml.safe_dump(data, sort_keys=False) if name.endswith(".yaml") else json.dumps(data),
        encoding="utf-8",
    )
    return p


def test_assess_json_is_the_contract_shape() -> None:
    res = runner.invoke(app, ["assess", str(DEMO), "--format", "json"])
    assert res.exit_code == 0, res.output
    a = json.loads(res.stdout)  # only JSON on stdout
    assert a["format"] == "metspine.assessment/1"
    assert a["case_id"] == "demo-001"
    assert set(a) >= {
        "engine_version",
        "knowledge_version",
        "policy",
        "scores",
        "lesions",
        "safety",
        "missing",
    }
    assert set(a["policy"]) == {"name", "sha256"} and len(a["policy"]["sha256"]) == 64
    for code in ("tokuhashi_revised", "tomita", "bauer_modified", "nesms", "katagiri_new",
                 "van_der_linden", "mfi5", "mstfi", "kps", "ecog"):  # fmt: skip
        s = a["scores"][code]
        assert set(s) >= {
            "status",
            "value",
            "range",
            "band",
            "direction",
            "components",
            "missing",
            "references",
            "version",
        }
    lesion = a["lesions"][0]
    assert lesion["escc"] == {"grade": "2", "group": "high", "treated_as": "high", "note": None}
    assert set(lesion["noms"]) == {"neurologic", "oncologic", "mechanical", "systemic"}
    # T11 junctional 3 + mechanical 3 + lytic 2 + normal 0 + <50% 2 + unilateral 1 = 11
    assert lesion["scores"]["sins"]["value"] == 11
    assert lesion["scores"]["sins"]["band"] == "potentially_unstable"
    rec = lesion["recommendations"][0]
    assert set(rec) >= {"code", "strength", "summary", "reasons", "details", "alternatives"}
    assert rec["code"] == "separation_surgery_then_sbrt"


def test_assess_text_names_the_options() -> None:
    res = runner.invoke(app, ["assess", str(DEMO)])
    assert res.exit_code == 0
    assert "separation_surgery_then_sbrt" in res.stdout
    assert "Neurologic" in res.stdout and "Systemic" in res.stdout


def test_validate_ok_and_bad(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["validate", str(DEMO)])
    assert ok.exit_code == 0
    bad = make_case(**{"patient.kps": 85, "lesions.0.sins.pain": "sharp", "lesions.0.escc": 2})
    res = runner.invoke(app, ["validate", str(write(tmp_path, bad)), "--format", "json"])
    assert res.exit_code == 2
    problems = {p["field"]: p["message"] for p in json.loads(res.stdout)["problems"]}
    assert "steps of 10" in problems["patient.kps"]
    assert "sharp" in problems["lesions[0].sins.pain"]
    assert "quoted string" in problems["lesions[0].escc"]


def test_unknown_field_and_missing_required_are_named(tmp_path: Path) -> None:
    data = make_case(**{"lesions.0.levelz": ["T4"], "id": ...})
    res = runner.invoke(app, ["validate", str(write(tmp_path, data, "c.json"))])
    assert res.exit_code == 2
    assert "lesions[0].levelz" in res.stderr and "unknown field" in res.stderr
    assert "id: required field is missing" in res.stderr


def test_cross_field_checks(tmp_path: Path) -> None:
    data = make_case(**{"lesions.0.levels": ["T4", "T6"]})
    res = runner.invoke(app, ["validate", str(write(tmp_path, data))])
    assert res.exit_code == 2 and "contiguous" in res.stderr
    data = make_case(**{"lesions.0.levels": ["T5", "T6"], "cancer.vertebral_metastases": 1})
    res = runner.invoke(app, ["validate", str(write(tmp_path, data))])
    assert res.exit_code == 2 and "vertebral_metastases" in res.stderr


def test_assess_bad_file_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = write(tmp_path, make_case(**{"patient.ecog": 9}))
    out = tmp_path / "out.json"
    res = runner.invoke(app, ["assess", str(bad), "--format", "json", "-o", str(out)])
    assert res.exit_code == 2
    assert "patient.ecog" in res.stderr
    assert not out.exists() and not list(tmp_path.glob("*.part"))
    res = runner.invoke(app, ["assess", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2 and "not found" in res.stderr
    (tmp_path / "broken.yaml").write_text("format: [unclosed", encoding="utf-8")
    res = runner.invoke(app, ["assess", str(tmp_path / "broken.yaml")])
    assert res.exit_code == 2 and "not valid" in res.stderr


def test_policy_file_is_applied_and_recorded(tmp_path: Path) -> None:
    pol = tmp_path / "inst.toml"
    pol.write_text('name = "inst"\nescc_1c = "low"\n', encoding="utf-8")
    res = runner.invoke(app, ["assess", str(DEMO), "--format", "json", "--policy", str(pol)])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["policy"]["name"] == "inst"
    pol.write_text('escc_1c = "sideways"\n', encoding="utf-8")
    res = runner.invoke(app, ["assess", str(DEMO), "--policy", str(pol)])
    assert res.exit_code == 2 and "escc_1c" in res.stderr


def test_references_json_lists_the_registry() -> None:
    res = runner.invoke(app, ["references", "--format", "json"])
    assert res.exit_code == 0
    rows = json.loads(res.stdout)
    keys = {r["key"] for r in rows}
    assert {"fisher2010_sins", "bilsky2010_escc", "laufer2013_noms", "tokuhashi2005"} <= keys
    assert all(set(r) == {"key", "authors", "year", "title", "journal", "doi"} for r in rows)


def test_demo_runs_every_example() -> None:
    res = runner.invoke(app, ["demo"])
    assert res.exit_code == 0, res.output
    for f in EXAMPLES.glob("*.yaml"):
        assert yaml.safe_load(f.read_text())["id"] in res.stdout


def test_console_script_exit_code_from_a_real_process(tmp_path: Path) -> None:
    bad = write(tmp_path, make_case(**{"lesions.0.escc": "4"}))
    proc = subprocess.run(
        [sys.executable, "-m", "metspine", "validate", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "lesions[0].escc" in proc.stderr


def test_assess_html_and_pdf_reports(tmp_path: Path) -> None:
    from pypdf import PdfReader

    res = runner.invoke(app, ["assess", str(DEMO), "--format", "html"])
    assert res.exit_code == 0, res.output
    assert "<html" in res.stdout and "demo-001" in res.stdout and "separation surgery" in res.stdout
    pdf = tmp_path / "r.pdf"
    res = runner.invoke(app, ["assess", str(DEMO), "--format", "pdf", "-o", str(pdf)])
    assert res.exit_code == 0, res.output
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "demo-001" in text and "SINS 11" in text and "laufer2013_noms" in text
    res = runner.invoke(app, ["assess", str(DEMO), "--format", "pdf"])
    assert res.exit_code == 2 and "-o" in res.stderr


def test_starting_the_cli_loads_no_command_libraries() -> None:
    """`metspine <command>` starts fast: the CLI registers every command without importing the
    engine's models, numpy, pydicom, matplotlib or the web stack; each command loads its own."""
    heavy = ["numpy", "pydicom", "matplotlib", "metspine.engine", "metspine.model", "fastapi"]
    code = f"import sys, metspine.cli\nprint([m for m in {heavy!r} if m in sys.modules])\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
    # ...and every command is still there.
    names = {c.name or getattr(c.callback, "__name__", "") for c in app.registered_commands}
    names |= {g.name or "" for g in app.registered_groups}
    assert {"assess", "validate", "references", "demo", "dvh", "plan-check", "checklist"} <= names
    assert "fhir" in names
