"""`metspine plan-check` on analytic spine phantoms (expected values worked out by hand).

Phantom: a thecal sac drawn as a 5 mm-radius cylinder along z (planes z = -19 … 19 mm) in a dose field
D(x) = A + 0.2·x Gy. The point maximum lies on the cylinder surface at x = 5 mm: Dmax = A + 1 Gy.
Limits (HyTEC 2021 / Sahgal 2013, thecal sac Pmax): 2 fractions → 17.0 Gy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from dosimetry_phantoms import Roi, circle, grid, write_dose, write_struct
from tests.conftest import make_case
from typer.testing import CliRunner, Result

from metspine.cli import app
from metspine.dosimetry.plancheck import plan_check
from metspine.model.policy import Policy

runner = CliRunner()
XS = YS = ZS = grid(-30.0, 30.0, 2.0)
PLANES = [float(z) for z in range(-19, 20, 2)]


def field(a: float):  # type: ignore[no-untyped-def]
    return lambda x, y, z: a + 0.2 * x


@pytest.fixture(scope="module")
def spine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("spine")
    rois = [Roi("ThecalSac", [(z, circle(5.0)) for z in PLANES]),
            Roi("PTV", [(z, circle(10.0, cx=12.0)) for z in PLANES])]  # fmt: skip
    return {
        "struct": write_struct(folder / "rs.dcm", rois),
        "low": write_dose(folder / "rd_low.dcm", field(15.0), XS, YS, ZS),  # Dmax 16.0
        "high": write_dose(folder / "rd_high.dcm", field(17.0), XS, YS, ZS),  # Dmax 18.0
        "edge": write_dose(folder / "rd_edge.dcm", field(16.0), XS, YS, ZS),  # Dmax 17.0
        "folder": folder,
    }


def check_cli(spine: dict[str, Path], dose: str, *extra: str) -> Result:
    """Run `metspine plan-check` on the spine phantom in 2 fractions."""
    args = ["plan-check", "--dose", str(spine[dose]), "--struct", str(spine["struct"]),
            "--fractions", "2", *extra]  # fmt: skip
    return runner.invoke(app, args)


def cord_row(out: dict[str, object]) -> dict[str, object]:
    rows = [r for r in out["limits"] if r["structure"] == "thecal_sac"]  # type: ignore[union-attr]
    assert len(rows) == 1
    return rows[0]  # type: ignore[no-any-return]


def test_plan_passes_with_margin(spine: dict[str, Path]) -> None:
    res = check_cli(spine, "low", "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    row = cord_row(out)
    assert row["limit_gy"] == pytest.approx(17.0)
    assert row["value_gy"] == pytest.approx(16.0, abs=0.02)
    assert row["margin_gy"] == pytest.approx(1.0, abs=0.02)
    assert row["passed"] is True and out["passed"] is True
    assert out["roles"]["thecal_sac"] == "ThecalSac"
    assert {"name", "volume_cc", "min_gy", "mean_gy", "max_gy", "d_cc", "d_pct", "v_gy"} <= set(
        out["structures"][0]
    )


def test_plan_fails_over_the_limit(spine: dict[str, Path]) -> None:
    check = plan_check(spine["high"], spine["struct"], 2, Policy().radiation)
    row = next(r for r in check.limits if r.structure == "thecal_sac")
    assert row.value_gy == pytest.approx(18.0, abs=0.02)
    assert row.passed is False and row.margin_gy == pytest.approx(-1.0, abs=0.02)
    assert not check.passed


def test_value_equal_to_limit_passes(spine: dict[str, Path]) -> None:
    check = plan_check(spine["edge"], spine["struct"], 2, Policy().radiation)
    row = next(r for r in check.limits if r.structure == "thecal_sac")
    assert row.value_gy == pytest.approx(17.0, abs=0.02)


def test_reirradiation_budget_from_the_case(spine: dict[str, Path], tmp_path: Path) -> None:
    # Prior 20 Gy/5 eight months before: EQD2(α/β 2) = 20·(4+2)/(2+2) = 30 Gy; the SBRT course may
    # add at most 25 Gy EQD2 (Sahgal 2012), i.e. in 2 fractions d with d(d+2)/4 = 25/2 …
    # 2·d·(d+2)/4 = 25 → d² + 2d − 50 = 0 → d = −1 + √51 = 6.1414 Gy/fraction → Pmax 12.28 Gy.
    case = make_case(**{"lesions.0.levels": ["T12"], "lesions.0.prior_radiation": [
        {"dose_gy": 20, "fractions": 5, "end_date": "2026-03-27"}]})  # fmt: skip
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(case), encoding="utf-8")
    res = check_cli(spine, "low", "--case", str(path), "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    row = cord_row(out)
    assert row["limit_gy"] == pytest.approx(12.28, abs=0.01)
    assert row["passed"] is False  # 16 Gy exceeds the re-irradiation budget
    assert out["reirradiation"]["prior_eqd2_gy"] == pytest.approx(30.0)
    assert out["reirradiation"]["interval_months"] == 8


def test_missing_cord_structure_is_not_judged(spine: dict[str, Path], tmp_path: Path) -> None:
    rs = write_struct(tmp_path / "rs_ptv.dcm", [Roi("PTV", [(z, circle(10.0)) for z in PLANES])])
    check = plan_check(spine["low"], rs, 2, Policy().radiation)
    row = next(r for r in check.limits if r.structure == "thecal_sac")
    assert row.passed is None
    assert not check.passed
    assert any("--cord" in n for n in check.notes)


def test_explicit_cord_name_wins_and_must_exist(spine: dict[str, Path]) -> None:
    check = plan_check(spine["low"], spine["struct"], 2, Policy().radiation, cord="PTV")
    assert check.roles["thecal_sac"] == "PTV"
    res = check_cli(spine, "low", "--cord", "Nope")
    assert res.exit_code == 2 and "Nope" in res.stderr


def test_bad_inputs_exit_2(spine: dict[str, Path], tmp_path: Path) -> None:
    junk = tmp_path / "junk.dcm"
    junk.write_text("not dicom", encoding="utf-8")
    res = runner.invoke(app, ["plan-check", "--dose", str(junk), "--struct", str(spine["struct"]),
                              "--fractions", "2"])  # fmt: skip
    assert res.exit_code == 2 and "junk.dcm" in res.stderr
    res = runner.invoke(app, ["plan-check", "--dose", str(spine["low"]), "--struct",
                              str(spine["struct"]), "--fractions", "9"])  # fmt: skip
    assert res.exit_code == 2 and "fractions" in res.stderr


def test_plot_is_written(spine: dict[str, Path], tmp_path: Path) -> None:
    png = tmp_path / "dvh.png"
    res = check_cli(spine, "low", "--plot", str(png))
    assert res.exit_code == 0, res.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
