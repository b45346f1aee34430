"""`metspine checklist CASE`: the pre-procedure safety checklist (contract §4).

A face only: it prints what the Assessment holds (the surgical options with their details and the
``safety`` entries, most severe first) as tick boxes; it computes nothing clinical.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from metspine.cli._app import app
from metspine.cli.commands import fail, load_policy

if TYPE_CHECKING:
    from metspine.model.assessment import Assessment

# The image-guided interventions a pre-procedure checklist covers besides the operations that open
# the spine (the engine's own list, metspine.decision.surgery.SURGICAL_CODES).
INTERVENTIONS = frozenset({"preoperative_embolization", "cement_augmentation", "ablation"})
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
MARK = {"critical": "!!", "warning": "! ", "info": "  "}
DETAIL_KEYS = (
    "approach",
    "implant_material",
    "surgical_goal",
    "max_hours_before_surgery",
    "modality",
    "posterior_wall_involved",
)


def checklist_lines(a: Assessment) -> list[str]:
    """The checklist as plain lines (tested without a terminal)."""
    from metspine.decision.surgery import SURGICAL_CODES

    procedures = SURGICAL_CODES | INTERVENTIONS
    lines = [
        f"Pre-procedure safety checklist: case {a.case_id} (assessed on {a.assessed_on or '—'})"
    ]
    lines.append(
        f"engine {a.engine_version}, knowledge {a.knowledge_version}, policy {a.policy.name}"
    )
    lines.append("")
    lines.append("Procedures under consideration")
    any_proc = False
    for lesion in a.lesions:
        for r in lesion.recommendations:
            if r.code not in procedures or r.strength == "avoid":
                continue
            any_proc = True
            bits = [f"{k}: {r.details[k]}" for k in DETAIL_KEYS if k in r.details]
            extra = f" ({'; '.join(bits)})" if bits else ""
            levels = "-".join(dict.fromkeys((lesion.levels[0], lesion.levels[-1])))
            lines.append(f"  - {lesion.id} {levels}: {r.code} [{r.strength}]{extra}")
    if not any_proc:
        lines.append("  - none: no surgical or interventional option for this case")
    lines.append("")
    lines.append("Checks (!! critical, ! warning)")
    flags = sorted(a.safety, key=lambda f: SEVERITY_ORDER[f.severity])
    if not flags:
        lines.append("  [ ] nothing flagged")
    for f in flags:
        where = f" {f.lesion_id}" if f.lesion_id else ""
        refs = f" [{', '.join(f.references)}]" if f.references else ""
        lines.append(f"{MARK[f.severity]}[ ] {f.code}{where}: {f.text}{refs}")
    if a.missing:
        lines.append("")
        lines.append("Record before the procedure (missing data)")
        for m in a.missing:
            lines.append(f"  [ ] {m.field} (for {', '.join(m.needed_for)})")
    return lines


@app.command()
def checklist(
    case: Annotated[Path, typer.Argument(help="Case file (YAML or JSON, metspine.case/1)")],
    policy: Annotated[Path | None, typer.Option("--policy", help="Policy TOML file")] = None,
) -> None:
    """Print the pre-procedure safety checklist for one case."""
    from rich.console import Console

    from metspine.engine import assess as run_assess
    from metspine.io.casefile import load_case
    from metspine.model.validation import CaseError

    pol = load_policy(policy)
    try:
        c = load_case(case)
    except CaseError as exc:
        raise fail(str(exc)) from exc
    console = Console(width=max(110, Console().width), highlight=False, soft_wrap=True)
    for line in checklist_lines(run_assess(c, pol)):
        console.print(line, markup=False)
