"""`metspine audit verify`: check the hash chain of the audit trail (exit 3 when broken)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from metspine.cli._app import app

audit_app = typer.Typer(help="The append-only, hash-chained audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

CHAIN_BROKEN = 3


@audit_app.command("verify")
def verify(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: METSPINE_DB_URL or the SQLite file)"),
    ] = None,
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head", help="Head hash recorded earlier (detects removed tail rows)"
        ),
    ] = None,
) -> None:
    """Recompute every row's hash and link; print the head hash to keep as an anchor."""
    from metspine.store import Store

    store = Store(db)
    try:
        result = store.verify_audit(expect_head)
    finally:
        store.dispose()
    if result.ok:
        sys.stdout.write(f"ok: {result.rows} audit rows, chain intact; head {result.head}\n")
        return
    for problem in result.problems:
        sys.stderr.write(f"broken: {problem}\n")
    sys.stderr.write(
        f"audit chain BROKEN: {len(result.problems)} problem(s) in {result.rows} rows\n"
    )
    raise typer.Exit(CHAIN_BROKEN)
