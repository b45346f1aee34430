"""Structure-name matching (TG-263 and variants), the DVH plot, the `dvh` command, import cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Phantoms
from metspine.dosimetry import (
    DosimetryInputError,
    compute_dvhs,
    load_plan,
    match_structure,
    resolve_structure,
)
from metspine.dosimetry.names import synonyms
from metspine.dosimetry.plot import LimitMarker, plot_dvh

NAMES = ["BODY", "PTV_2400", "SpinalCord_PRV05", "Spinal Cord", "Thecal_Sac", "Cauda", "Esophagus"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [("cord", "Spinal Cord"), ("thecal_sac", "Thecal_Sac"), ("cauda_equina", "Cauda")],
)
def test_roles_found_by_tg263_name_or_variant(role: str, expected: str) -> None:
    assert match_structure(NAMES, role) == expected


@pytest.mark.parametrize(
    "name", ["SpinalCord", "spinal_cord", "SPINAL CORD", "Cord", "spinal-cord", "SpinalCord "]
)
def test_cord_spellings(name: str) -> None:
    assert match_structure(["BODY", name], "cord") == name


def test_prv_is_excluded_unless_asked() -> None:
    names = ["BODY", "SpinalCord_PRV05", "Cord+2mm"]
    assert match_structure(names, "cord") is None
    assert match_structure(names, "cord", include_prv=True) == "SpinalCord_PRV05"


def test_tg263_name_is_first_and_wins_over_variants() -> None:
    assert synonyms()["cord"][0] == "SpinalCord"
    assert synonyms()["cauda_equina"][0] == "CaudaEquina"
    assert match_structure(["Cord", "SpinalCord"], "cord") == "SpinalCord"


def test_explicit_name_wins_and_must_exist() -> None:
    assert resolve_structure(NAMES, "cord", explicit="Esophagus") == "Esophagus"
    with pytest.raises(DosimetryInputError, match="no structure named 'Myelon'"):
        resolve_structure(NAMES, "cord", explicit="Myelon")
    assert match_structure(["PTV", "GTV"], "cord") is None


def test_unknown_role_is_refused() -> None:
    with pytest.raises(DosimetryInputError, match="unknown structure role"):
        match_structure(NAMES, "heart")


def test_plot_writes_a_png(tmp_path: Path, phantoms: Phantoms) -> None:
    dose, sset = load_plan(phantoms.lin_x, phantoms.struct)
    dvhs = compute_dvhs(dose, sset, ["Cylinder", "Sphere", "Empty"])
    out = plot_dvh(
        dvhs,
        tmp_path / "plots" / "dvh.png",
        limits=[
            LimitMarker("Dmax 34 Gy", 34.0, passed=True),
            LimitMarker("V32Gy < 0.35 cc", 32.0, 0.35, passed=False),
        ],
        title="phantom",
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_metrics_do_not_import_matplotlib(phantoms: Phantoms) -> None:
    code = (
        "import sys; from metspine.dosimetry import compute_metrics;"
        f"compute_metrics({str(phantoms.lin_x)!r}, {str(phantoms.struct)!r}, ['Cylinder']);"
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _app():  # type: ignore[no-untyped-def]
    from metspine.cli._app import app
    from metspine.cli.dosimetry import dvh  # noqa: F401  (registers the command)

    return app


def test_dvh_command_json_is_contract_shaped(phantoms: Phantoms) -> None:
    args = ["dvh", "--dose", str(phantoms.lin_x), "--struct", str(phantoms.struct)]
    args += ["--structure", "Cylinder", "--d-cc", "0.03,0.1", "--v-gy", "32", "--format", "json"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (row,) = data["structures"]
    assert set(row) == {"name", "volume_cc", "min_gy", "mean_gy", "max_gy", "d_cc", "d_pct", "v_gy"}
    assert row["name"] == "Cylinder"
    assert set(row["d_cc"]) == {"0.03", "0.1"}
    assert set(row["d_pct"]) == {"2", "50", "98"}
    assert set(row["v_gy"]) == {"32"}
    assert row["mean_gy"] == pytest.approx(30.0, abs=0.01)


def test_dvh_command_bad_input_exits_2(tmp_path: Path, phantoms: Phantoms) -> None:
    bogus = tmp_path / "x.dcm"
    bogus.write_text("not dicom")
    result = CliRunner().invoke(
        _app(), ["dvh", "--dose", str(bogus), "--struct", str(phantoms.struct), "--format", "json"]
    )
    assert result.exit_code == 2
    assert "x.dcm" in result.stderr and "not a DICOM file" in result.stderr
    assert result.stdout == ""


def test_module_entry_point(phantoms: Phantoms) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "metspine.dosimetry", "--dose", str(phantoms.lin_x),
         "--struct", str(phantoms.struct), "--structure", "Ring"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout)["structures"][0]["name"] == "Ring"
