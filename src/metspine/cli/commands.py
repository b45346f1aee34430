"""The engine's commands: assess, validate, references, demo."""

from __future__ import annotations

import json
import sys
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from metspine.cli._app import app

if TYPE_CHECKING:
    from metspine.model.policy import Policy
    from metspine.model.validation import CaseError

# Commands import what they use when they run (the engine, pydantic, numpy, pydicom…), so that
# starting any one command does not load every other command's libraries.

err = Console(stderr=True, soft_wrap=True)


class Fmt(StrEnum):
    text = "text"
    json = "json"


class AssessFmt(StrEnum):
    text = "text"
    json = "json"
    html = "html"
    pdf = "pdf"


def fail(message: str) -> typer.Exit:
    """Print an input error to stderr; the caller raises the returned Exit(2)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(2)


def load_policy(path: Path | None) -> Policy:
    from pydantic import ValidationError

    from metspine.model.policy import Policy
    from metspine.model.validation import problems_from

    if path is None:
        return Policy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise fail(f"policy file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise fail(f"{path}: not valid TOML: {exc}") from exc
    data.setdefault("name", path.stem)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        lines = "\n".join(f"  {p}" for p in problems_from(exc))
        raise fail(f"{path}: invalid policy\n{lines}") from exc


def _case_error(exc: CaseError) -> typer.Exit:
    return fail(str(exc))


@app.command()
def assess(
    case: Annotated[Path, typer.Argument(help="Case file (YAML or JSON, metspine.case/1)")],
    policy: Annotated[Path | None, typer.Option("--policy", help="Policy TOML file")] = None,
    fmt: Annotated[AssessFmt, typer.Option("--format", help="Output format")] = AssessFmt.text,
    out: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file")] = None,
) -> None:
    """Assess one case: scores, NOMS pillars, ordered options with reasons, safety, missing data."""
    from metspine.cli.render import render
    from metspine.engine import assess as run_assess
    from metspine.io.casefile import load_case
    from metspine.model.validation import CaseError

    pol = load_policy(policy)
    try:
        c = load_case(case)
    except CaseError as exc:
        raise _case_error(exc) from exc
    a = run_assess(c, pol)
    if fmt in (AssessFmt.html, AssessFmt.pdf):
        from metspine.web.standalone import report_html, report_pdf

        if fmt is AssessFmt.pdf:
            if out is None:
                raise fail("--format pdf needs -o FILE")
            _write_atomic_bytes(out, report_pdf(a))
            return
        html = report_html(a)
        if out:
            _write_atomic(out, html)
        else:
            sys.stdout.write(html)
        return
    if fmt is AssessFmt.json:
        text = json.dumps(a.model_dump(mode="json"), indent=2, ensure_ascii=False)
        if out:
            _write_atomic(out, text + "\n")
        else:
            sys.stdout.write(text + "\n")
        return
    if out:
        buf = Console(record=True, width=120, file=open("/dev/null", "w"))  # noqa: SIM115
        render(a, buf)
        _write_atomic(out, buf.export_text())
    else:
        render(a, _console())


def _write_atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


def _write_atomic(path: Path, text: str) -> None:
    """Write the whole file or nothing (contract: nothing half-written)."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


@app.command()
def validate(
    case: Annotated[Path, typer.Argument(help="Case file to check")],
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.text,
) -> None:
    """Check a case file: every problem with its field path; exit 2 if any."""
    from metspine.io.casefile import load_case
    from metspine.model.validation import CaseError

    try:
        c = load_case(case)
    except CaseError as exc:
        if fmt is Fmt.json:
            probs = [{"field": p.field, "message": p.message} for p in exc.problems]
            sys.stdout.write(json.dumps({"valid": False, "problems": probs}, indent=2) + "\n")
            raise typer.Exit(2) from exc
        raise _case_error(exc) from exc
    if fmt is Fmt.json:
        sys.stdout.write(json.dumps({"valid": True, "problems": [], "case_id": c.id}) + "\n")
    else:
        Console().print(
            f"[green]ok[/]: {case} is a valid metspine.case/1 (id {c.id}, "
            f"{len(c.lesions)} lesion(s))"
        )


@app.command()
def references(fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.text) -> None:
    """Print the reference registry every recommendation cites."""
    from rich.table import Table

    from metspine.knowledge import references as registry

    refs = registry()
    if fmt is Fmt.json:
        rows = [
            {
                "key": r.key,
                "authors": r.authors,
                "year": r.year,
                "title": r.title,
                "journal": r.journal,
                "doi": r.doi,
            }
            for r in sorted(refs.values(), key=lambda r: r.key)
        ]
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    t = Table(title=f"metspine reference registry ({len(refs)} sources)", show_lines=False)
    t.add_column("key", style="cyan", no_wrap=True)
    t.add_column("citation")
    for r in sorted(refs.values(), key=lambda r: r.key):
        t.add_row(r.key, r.citation())
    Console().print(t)


def _console() -> Console:
    """A console at least 110 columns wide, so the tables stay readable when piped."""
    c = Console()
    return Console(width=max(110, c.width))


def _examples_dir() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        cand = parent / "examples"
        if cand.is_dir() and any(cand.glob("*.yaml")):
            return cand
    return Path("examples")


@app.command()
def demo(
    directory: Annotated[Path | None, typer.Option("--dir", help="Folder of case files")] = None,
    full: Annotated[bool, typer.Option("--full", help="Print every assessment in full")] = False,
) -> None:
    """Assess the bundled demo cases and print the board summary."""
    from rich.table import Table

    from metspine.cli.render import board_line, render
    from metspine.engine import assess as run_assess
    from metspine.io.casefile import load_case
    from metspine.model.validation import CaseError

    folder = directory or _examples_dir()
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.json"))
    if not files:
        raise fail(f"no case files in {folder}")
    console = _console()
    board = Table(title=f"Tumor board: {len(files)} demo cases ({folder})", show_lines=True)
    board.add_column("case")
    board.add_column("per lesion: scores → first option")
    board.add_column("safety")
    board.add_column("missing")
    for f in files:
        try:
            a = run_assess(load_case(f))
        except CaseError as exc:
            raise _case_error(exc) from exc
        if full:
            render(a, console)
        crit = sum(1 for s in a.safety if s.severity == "critical")
        warn = sum(1 for s in a.safety if s.severity == "warning")
        board.add_row(
            a.case_id, board_line(a), f"{crit} critical, {warn} warning", str(len(a.missing))
        )
    console.print(board)
    console.print("Full detail: metspine assess examples/<case>.yaml  (or --format json)")


# Further command modules register on the same app (imported last: they use the helpers above).
from metspine.cli import audit as _audit  # noqa: F401,E402
from metspine.cli import checklist as _checklist  # noqa: F401,E402
from metspine.cli import dosimetry as _dosimetry  # noqa: E402, F401
from metspine.cli import plancheck as _plancheck  # noqa: E402, F401
from metspine.cli import serve as _serve  # noqa: F401,E402
from metspine.cli import users as _users  # noqa: F401,E402
