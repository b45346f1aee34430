"""`metspine checklist CASE` prints the pre-procedure checklist from the Assessment (contract §4)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import EXAMPLES
from typer.testing import CliRunner

from metspine.cli.commands import app

runner = CliRunner()


def test_checklist_for_demo_001() -> None:
    res = runner.invoke(app, ["checklist", str(EXAMPLES / "demo-001-rcc-t11-t12.yaml")])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "Pre-procedure safety checklist: case demo-001" in out
    assert "separation_surgery_then_sbrt [recommended]" in out
    assert "approach: mini_open" in out
    assert "preoperative_embolization [recommended]" in out
    # sunitinib 2026-11-20 → surgery 2026-12-07 = 17 days < 21 (sunitinib_uspi): critical, listed first.
    lines = [ln for ln in out.splitlines() if "[ ]" in ln]
    assert lines[0].startswith("!![ ] antiangiogenic_timing")
    assert "17 days" in lines[0]
    assert any("wrong_level_safeguard L1" in ln for ln in lines)


def test_checklist_without_procedures() -> None:
    res = runner.invoke(
        app, ["checklist", str(EXAMPLES / "demo-002-breast-escc3-radiosensitive.yaml")]
    )
    assert res.exit_code == 0
    assert "none: no surgical or interventional option" in res.output
    assert "steroid_regimen" in res.output


def test_checklist_bad_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: metspine.case/1\nid: x\nlesions: [{id: L1, levels: [T99]}]\n")
    res = runner.invoke(app, ["checklist", str(bad)])
    assert res.exit_code == 2
