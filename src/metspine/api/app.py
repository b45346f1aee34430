"""The application: REST API under ``/api/v1``, the web pages, static files, ``/healthz``.

Logs name the route template (``/api/v1/cases/{case_id}``), never the path, a body or a case id,
so that no patient data reaches them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from metspine import __version__
from metspine.api import cdshooks, problems
from metspine.api.cds_auth import CdsConfig
from metspine.api.routes import admin, auth, cases, plan_checks
from metspine.api.settings import Settings
from metspine.knowledge import KNOWLEDGE_VERSION
from metspine.model.assessment import Assessment
from metspine.model.case import Case
from metspine.store import Store

log = logging.getLogger("metspine.app")


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title="metspine",
            version=__version__,
            description=(
                "Decision support for metastatic spine disease. Cases are `metspine.case/1`, "
                "assessments `metspine.assessment/1`; errors are RFC 9457 problem details."
            ),
            routes=app.routes,
        )
        _, defs = models_json_schema(
            [(Case, "validation"), (Assessment, "serialization")],
            ref_template="#/components/schemas/{model}",
        )
        schema.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
        app.openapi_schema = schema
        return schema

    return build


class RouteLog:
    """Pure ASGI middleware: one log line per request naming the route template, never the path."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [0]

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if log.isEnabledFor(logging.INFO):
                template = getattr(scope.get("route"), "path", "(unrouted)")
                if scope["path"].startswith("/api/v1/") and not template.startswith("/api/v1"):
                    template = "/api/v1" + template
                log.info("%s %s %d %.1fms", scope["method"], template, status[0],
                         1000 * (time.perf_counter() - start))  # fmt: skip


def create_app(
    settings: Settings | None = None, store: Store | None = None, cds: CdsConfig | None = None
) -> FastAPI:
    settings = (settings or Settings()).with_secret()
    if store is None:
        store = Store(settings.db_url)
        store.migrate()
    app = FastAPI(
        title="metspine",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    problems.install(app)

    api = APIRouter(prefix="/api/v1")
    for module in (auth, cases, plan_checks, admin):
        api.include_router(module.router)
    app.include_router(api)
    cdshooks.install(
        app, cds
    )  # CDS Hooks 2.0: /cds-services (METSPINE_CDS_CONFIG when cds is None)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {
            "status": "ok",
            "engine_version": __version__,
            "knowledge_version": KNOWLEDGE_VERSION,
        }

    from metspine.web.routes import install as install_web

    install_web(app)
    app.openapi = _openapi(app)  # type: ignore[method-assign]

    app.add_middleware(RouteLog)
    return app
