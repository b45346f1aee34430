"""``uvicorn metspine.api.asgi:app``: the app configured from the environment (METSPINE_DB_URL…)."""

from __future__ import annotations

from metspine.api.app import create_app

app = create_app()
