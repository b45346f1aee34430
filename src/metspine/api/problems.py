"""Errors as RFC 9457 problem details (``application/problem+json``), each naming the field."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from metspine.model.validation import CaseError, field_path
from metspine.store.errors import ConflictError, NotFoundError, StoreError

PROBLEM = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
}


class Problem(Exception):  # noqa: N818 - RFC 9457 calls it a problem
    """Raise from a route: becomes a problem details response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    request: Request,
    status: int,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def case_problem(exc: CaseError) -> Problem:
    errors = [{"field": p.field, "message": p.message} for p in exc.problems]
    fields = ", ".join(e["field"] or "(case)" for e in errors)
    return Problem(422, f"the case is not valid: {fields}", errors=errors)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and request.url.path != "/healthz"


def install(app: FastAPI) -> None:
    """Register the handlers. Pages (outside ``/api``) get ``app.state.html_error`` if set."""

    def respond(
        request: Request,
        status: int,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> Any:
        html = getattr(request.app.state, "html_error", None)
        if html is not None and _wants_html(request):
            return html(request, status, detail, errors or [])
        return problem_response(request, status, detail, errors, headers, **extra)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Any:
        return respond(request, exc.status, exc.detail, exc.errors, exc.headers, **exc.extra)

    @app.exception_handler(CaseError)
    async def _case(request: Request, exc: CaseError) -> Any:
        p = case_problem(exc)
        return respond(request, p.status, p.detail, p.errors)

    @app.exception_handler(NotFoundError)
    async def _missing(request: Request, exc: NotFoundError) -> Any:
        return respond(request, 404, str(exc))

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> Any:
        extra = {} if exc.current_version is None else {"current_version": exc.current_version}
        headers = {} if exc.current_version is None else {"ETag": f'"{exc.current_version}"'}
        field = str(exc).split(":", 1)[0]
        return respond(
            request, 409, str(exc), [{"field": field, "message": str(exc)}], headers, **extra
        )

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> Any:
        text = str(exc)
        field = text.split(":", 1)[0] if ":" in text else ""
        return respond(request, 422, text, [{"field": field, "message": text}])

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Any:
        errors = []
        for err in exc.errors():
            loc = tuple(
                p
                for p in err.get("loc", ())
                if p not in ("body", "query", "path", "header", "form")
            )
            errors.append({"field": field_path(loc), "message": str(err.get("msg", "invalid"))})
        fields = ", ".join(e["field"] for e in errors)
        return respond(request, 422, f"invalid request: {fields}", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Any:
        return respond(request, exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))
