"""`metspine plan-check`: a spine SBRT plan against cord / cauda limits (contract §4)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from metspine.cli._app import app
from metspine.cli.commands import Fmt, fail, load_policy
from metspine.dosimetry.errors import DosimetryInputError

if TYPE_CHECKING:
    from datetime import date

    from metspine.radiation.reirradiation import Course


def _courses(
    case_path: Path, lesion_id: str | None
) -> tuple[list[Course], date | None, str | None]:
    from metspine.io.casefile import load_case
    from metspine.model.validation import CaseError
    from metspine.radiation.reirradiation import Course

    try:
        case = load_case(case_path)
    except CaseError as exc:
        raise fail(str(exc)) from exc
    lesions = list(case.lesions)
    if lesion_id is not None:
        chosen = [les for les in lesions if les.id == lesion_id]
        if not chosen:
            ids = ", ".join(les.id for les in lesions) or "none"
            raise fail(f"--lesion: no lesion {lesion_id!r} in {case_path} (lesions: {ids})")
    else:
        chosen = [les for les in lesions if les.prior_radiation]
        if len(chosen) > 1:
            ids = ", ".join(les.id for les in chosen)
            raise fail(f"--lesion: several lesions of {case_path} were irradiated before ({ids}); "
                       "name the one this plan treats")  # fmt: skip
    if not chosen:
        return [], case.assessed_on, None
    les = chosen[0]
    courses = [
        Course(c.dose_gy, c.fractions, c.end_date, c.cord_max_eqd2_gy) for c in les.prior_radiation
    ]
    return courses, case.assessed_on, les.id


@app.command("plan-check")
def plan_check_cmd(
    dose: Annotated[Path, typer.Option("--dose", help="RTDOSE file")],
    struct: Annotated[Path, typer.Option("--struct", help="RTSTRUCT file")],
    fractions: Annotated[int, typer.Option("--fractions", help="Number of fractions of the plan")],
    cord: Annotated[
        str | None, typer.Option("--cord", help="Structure for the cord/thecal sac limit")
    ] = None,
    cauda: Annotated[str | None, typer.Option("--cauda", help="Cauda equina structure")] = None,
    case: Annotated[
        Path | None, typer.Option("--case", help="Case file: prior courses for re-irradiation")
    ] = None,
    lesion: Annotated[
        str | None, typer.Option("--lesion", help="Lesion id in the case that this plan treats")
    ] = None,
    policy: Annotated[Path | None, typer.Option("--policy", help="Policy TOML file")] = None,
    fmt: Annotated[Fmt, typer.Option("--format", help="Output format")] = Fmt.text,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write the DVH plot (PNG)")] = None,
) -> None:
    """Check a spine SBRT plan: each limit with its value, margin, pass/fail and source.

    A failed or unjudged limit is a result, not an error: the exit code is 0 once the check ran."""
    # numpy, pydicom and matplotlib load here, not when the CLI starts.
    from metspine.dosimetry.plancheck import plan_check, plot_plan_check, reirradiation_for

    pol = load_policy(policy)
    courses: list[Course] = []
    assessed_on: date | None = None
    lesion_id: str | None = None
    if case is not None:
        courses, assessed_on, lesion_id = _courses(case, lesion)
    try:
        reirr = reirradiation_for(courses, assessed_on, fractions, pol.radiation)
        check = plan_check(
            dose, struct, fractions, pol.radiation, cord=cord, cauda=cauda, reirradiation=reirr
        )
    except (DosimetryInputError, ValueError) as exc:
        raise fail(str(exc)) from exc
    if plot is not None:
        plot_plan_check(check, plot, f"{dose.name}: {fractions} fraction(s)")
    if fmt is Fmt.json:
        out = check.as_dict()
        out["lesion_id"] = lesion_id
        sys.stdout.write(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    else:
        _render(check, fractions, lesion_id)


def _render(check: object, fractions: int, lesion_id: str | None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from metspine.dosimetry.plancheck import PlanCheck

    assert isinstance(check, PlanCheck)
    console = Console()
    roles = ", ".join(f"{r} = {n}" for r, n in check.roles.items()) or "none matched"
    console.print(f"Plan check, {fractions} fraction(s); structures: {roles}")
    if lesion_id:
        console.print(f"Re-irradiation of lesion {lesion_id}: "
                      f"{check.reirradiation.as_details() if check.reirradiation else '—'}")  # fmt: skip
    t = Table()
    for col in ("structure", "metric", "limit Gy", "value Gy", "margin Gy", "result", "source"):
        t.add_column(col)
    for r in check.limits:
        res = (Text("pass", style="green") if r.passed else
               Text("FAIL", style="bold red") if r.passed is False else
               Text("not judged", style="yellow"))  # fmt: skip
        t.add_row(
            r.structure, r.metric,
            "—" if r.limit_gy is None else f"{r.limit_gy:.2f}",
            "—" if r.value_gy is None else f"{r.value_gy:.2f}",
            "—" if r.margin_gy is None else f"{r.margin_gy:+.2f}",
            res, r.source,
        )  # fmt: skip
    console.print(t)
    for note in check.notes:
        console.print(f"note: {note}")
    verdict = "PASSED" if check.passed else "NOT PASSED"
    console.print(Text(verdict, style="bold green" if check.passed else "bold red"))
