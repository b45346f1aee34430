"""`metspine user add NAME --role ROLE --password-stdin`: create a user (the first admin, say)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from metspine.cli._app import app

user_app = typer.Typer(help="Users of the web app and API.", no_args_is_help=True)
app.add_typer(user_app, name="user")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: METSPINE_DB_URL or the SQLite file)"),
]


@user_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, underscores)")],
    role: Annotated[str, typer.Option("--role", help="viewer | clinician | board_chair | admin")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    db: DbOption = None,
) -> None:
    """Create a user with an argon2-hashed password."""
    from metspine.store import Store, StoreError

    if not password_stdin:
        sys.stderr.write("error: pass the password on standard input with --password-stdin\n")
        raise typer.Exit(2)
    password = sys.stdin.readline().rstrip("\r\n")
    store = Store(db)
    try:
        store.migrate()
        store.add_user(name, password, role, actor="cli")
    except StoreError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise typer.Exit(2) from exc
    finally:
        store.dispose()
    sys.stdout.write(f"user {name} added with role {role}\n")


@user_app.command("list")
def list_users(db: DbOption = None) -> None:
    """List user names and roles."""
    from metspine.store import Store

    store = Store(db)
    try:
        store.migrate()
        for u in store.users():
            sys.stdout.write(f"{u.username}\t{u.role}\t{'active' if u.active else 'inactive'}\n")
    finally:
        store.dispose()
