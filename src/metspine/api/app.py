"""The application: REST API under ``/api/v1``, the web pages, static files, ``/healthz``.

Logs name the route template (``/api/v1/cases/{case_id}``), never the path, a body or a case id,
so that no patient data reaches them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from metspine import __version__
from metspine.api import problems
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


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
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

    @app.middleware("http")
    async def _log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "(unrouted)")
        log.info(
            "%s %s %d %.1fms",
            request.method,
            template,
            response.status_code,
            1000 * (time.perf_counter() - start),
        )
        return response

    return app
