"""`metspine serve [--host] [--port] [--db URL]`: the web app and the REST API (uvicorn)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from metspine.cli._app import app


def load_demo_cases(store: object, folder: Path) -> int:
    """Store each demo case that is not stored yet (idempotent); returns how many were added."""
    from metspine.io.casefile import load_case
    from metspine.store import Store

    assert isinstance(store, Store)
    added = 0
    for f in sorted(folder.glob("*.yaml")):
        case = load_case(f)
        if not store.case_exists(case.id):
            store.create_case(case.model_dump(mode="json", exclude_none=True), actor="demo-loader")
            added += 1
    return added


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port")] = 8000,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Database URL (default: METSPINE_DB_URL or metspine-data/metspine.db)"
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Load the bundled demo cases (skips those already stored)"),
    ] = False,
    demo_user: Annotated[
        bool,
        typer.Option(
            "--demo-users", help="Create demo users (password 'metspine-demo') if none exist"
        ),
    ] = False,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes")] = 1,
) -> None:
    """Serve the tumor-board web app and the REST API (/api/v1, OpenAPI at /api/v1/docs)."""
    import uvicorn

    from metspine.api import Settings, create_app
    from metspine.cli.commands import _examples_dir
    from metspine.store import Store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = (Settings(db_url=db) if db else Settings()).with_secret()
    store = Store(settings.db_url)
    store.migrate()
    if demo_user and not store.users():
        for name, role in (("coordinator", "clinician"), ("chair", "board_chair"),
                           ("viewer", "viewer"), ("admin", "admin")):  # fmt: skip
            store.add_user(name, "metspine-demo", role, actor="demo-loader")
        sys.stdout.write(
            "demo users: coordinator (clinician), chair (board_chair), viewer, admin; "
            "password metspine-demo — for a local demo only\n"
        )
    if demo:
        added = load_demo_cases(store, _examples_dir())
        sys.stdout.write(f"demo cases: {added} added\n")
    sys.stdout.write(
        f"metspine: http://{host}:{port}/  (API docs: http://{host}:{port}/api/v1/docs)\n"
    )
    sys.stdout.flush()
    if workers > 1:
        store.dispose()
        import os

        os.environ["METSPINE_DB_URL"] = settings.db_url
        os.environ["METSPINE_SECRET_KEY"] = settings.secret_key
        uvicorn.run("metspine.api.asgi:app", host=host, port=port, workers=workers,
                    access_log=False, log_level="warning")  # fmt: skip
        return
    # access_log off: uvicorn's access log prints paths, which carry case ids.
    uvicorn.run(
        create_app(settings, store), host=host, port=port, access_log=False, log_level="warning"
    )
