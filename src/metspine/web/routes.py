"""Web pages: sign-in, case list, case form with live scoring, board view, decisions, plan check,
history, and the report (HTML and PDF from the same templates).

Pages only render the stored Assessment (``a.model_dump(mode="json")``); the live preview calls the
engine exactly as the API does. Sessions are server-side (a random token in an HttpOnly cookie,
only its SHA-256 stored); every form that changes something carries a CSRF token derived from the
session with the app's secret key, and HTMX sends the same token in ``X-CSRF-Token``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import UploadFile

from metspine import __version__
from metspine.api.problems import Problem
from metspine.api.routes.plan_checks import create_check, upload_too_large
from metspine.api.settings import Settings
from metspine.engine import assess as run_assess
from metspine.knowledge import KNOWLEDGE_VERSION
from metspine.knowledge import references as reference_registry
from metspine.model.validation import CaseError, case_from_dict
from metspine.store import Store
from metspine.store.db import role_at_least
from metspine.store.errors import ConflictError, StoreError
from metspine.store.models import User
from metspine.web import forms
from metspine.web.report import render_pdf

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "metspine_session"
LOGIN_COOKIE = "metspine_login"
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(
    engine_version=__version__, knowledge_version=KNOWLEDGE_VERSION, dom_id=forms.dom_id
)
router = APIRouter(include_in_schema=False)


class SignInRequired(Exception):  # noqa: N818 - a control-flow signal, not an error
    pass


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def csrf_for(settings: Settings, token: str) -> str:
    return hmac.new(
        settings.secret_key.encode(), b"csrf:" + token.encode(), hashlib.sha256
    ).hexdigest()


def session_user(request: Request) -> User:
    token = request.cookies.get(SESSION_COOKIE)
    user = _store(request).user_for_token(token, "session") if token else None
    if user is None:
        raise SignInRequired()
    request.state.user = user
    request.state.csrf = csrf_for(_settings(request), token or "")
    return user


def page_role(role: str) -> Any:
    def check(user: Annotated[User, Depends(session_user)]) -> User:
        if not role_at_least(user.role, role):
            raise Problem(
                403, f"This needs the role {role} or above; you are signed in as {user.role}."
            )
        return user

    return Depends(check)


ViewerPage = Annotated[User, page_role("viewer")]
ClinicianPage = Annotated[User, page_role("clinician")]
ChairPage = Annotated[User, page_role("board_chair")]


async def checked_form(request: Request) -> dict[str, Any]:
    """The posted form, after checking its CSRF token (form field or X-CSRF-Token header)."""
    form = await request.form()
    sent = request.headers.get("x-csrf-token") or str(form.get("csrf_token") or "")
    if not hmac.compare_digest(sent, getattr(request.state, "csrf", "")):
        raise Problem(
            403, "The form has expired or did not come from this site (CSRF check); reload it."
        )
    return dict(form)


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("user", getattr(request.state, "user", None))
    context.setdefault("csrf", getattr(request.state, "csrf", ""))
    return templates.TemplateResponse(request, name, context, status_code=status)


# -- sign in ---------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    resp = render(request, "login.html", next=next, login_csrf=nonce, error=None)
    resp.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="strict", max_age=3600)
    return resp


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    form = await request.form()
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not hmac.compare_digest(nonce, str(form.get("login_csrf", ""))):
        raise Problem(403, "The sign-in form has expired; reload it.")
    store, settings = _store(request), _settings(request)
    user = store.authenticate(str(form.get("username", "")), str(form.get("password", "")))
    target = str(form.get("next") or "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    if user is None:
        fresh = secrets.token_urlsafe(16)
        page = render(request, "login.html", 401, next=target, login_csrf=fresh,
                      error="Unknown user or wrong password.")  # fmt: skip
        page.set_cookie(LOGIN_COOKIE, fresh, httponly=True, samesite="strict", max_age=3600)
        return page
    token = store.issue_token(user, "session", settings.session_ttl)
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=int(settings.session_ttl.total_seconds()),
    )
    resp.delete_cookie(LOGIN_COOKIE)
    return resp


@router.post("/logout")
async def logout(request: Request, user: ViewerPage) -> RedirectResponse:
    await checked_form(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        _store(request).revoke_token(token)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


# -- case list and form ----------------------------------------------------------------------


@router.get("/")
def case_list(request: Request, user: ViewerPage, q: str = "") -> HTMLResponse:
    rows = _store(request).list_cases(q or None, limit=200)
    return render(request, "cases.html", rows=rows, q=q)


def _markers(
    groups: list[forms.Group], data: dict[str, Any]
) -> tuple[dict[str, str], Any, list[Any]]:
    """Per field: "missing" or the problem; plus the live assessment (dict) and the problems."""
    markers: dict[str, str] = {}
    try:
        a = run_assess(case_from_dict(data)).model_dump(mode="json")
    except CaseError as exc:
        for p in exc.problems:
            markers[forms.field_name(p.field)] = p.message
        return markers, None, exc.problems
    for m in a["missing"]:
        markers.setdefault(forms.field_name(m["field"]), "missing")
    return markers, a, []


def _form_page(
    request: Request,
    data: dict[str, Any],
    *,
    case_id: str | None,
    version: int | None,
    lesion_count: int | None = None,
    status: int = 200,
    message: str | None = None,
    check: bool = True,
) -> HTMLResponse:
    groups = forms.build_form(data, lesion_count)
    markers, live, problems = _markers(groups, data) if check else ({}, None, [])
    return render(
        request,
        "case_form.html",
        status,
        groups=groups,
        markers=markers,
        live=live,
        problems=problems,
        case_id=case_id,
        version=version,
        message=message,
        all_fields=forms.all_fields(groups),
    )


@router.get("/cases/new")
def new_case(request: Request, user: ClinicianPage) -> HTMLResponse:
    return _form_page(request, {}, case_id=None, version=None, check=False)


def _lesion_count(form: dict[str, Any]) -> int:
    idx = {
        int(k.split(".")[1]) for k in form if k.startswith("lesions.") and k.split(".")[1].isdigit()
    }
    return max(idx) + 1 if idx else 1


async def _save(request: Request, case_id: str | None) -> Response:
    form = await checked_form(request)
    data = forms.case_from_form({k: str(v) for k, v in form.items() if isinstance(v, str)})
    action = str(form.get("_action", "save"))
    version = int(str(form["version"])) if str(form.get("version", "")).isdigit() else None
    if case_id is not None:
        data["id"] = case_id
    count = _lesion_count(form)
    if action == "add_lesion":
        return _form_page(request, data, case_id=case_id, version=version, lesion_count=count + 1)
    if action == "check":
        return _form_page(request, data, case_id=case_id, version=version, lesion_count=count)
    store, user = _store(request), request.state.user
    try:
        if case_id is None:
            row = store.create_case(data, actor=user.username)
        else:
            row = store.update_case(
                case_id, data, expected_version=version or 0, actor=user.username
            )
    except CaseError:
        return _form_page(request, data, case_id=case_id, version=version, lesion_count=count,
                          status=422, message="The case has problems; see the marked fields.")  # fmt: skip
    except ConflictError as exc:
        return _form_page(request, data, case_id=case_id, version=version, lesion_count=count,
                          status=409, message=str(exc))  # fmt: skip
    return RedirectResponse(f"/cases/{quote(row.id)}", status_code=303)


@router.post("/cases/new", response_model=None)
async def create_case(request: Request, user: ClinicianPage) -> Response:
    return await _save(request, None)


@router.get("/cases/{case_id}/edit")
def edit_case(request: Request, case_id: str, user: ClinicianPage) -> HTMLResponse:
    row = _store(request).get_case(case_id)
    return _form_page(request, row.data, case_id=row.id, version=row.version)


@router.post("/cases/{case_id}/edit", response_model=None)
async def update_case(request: Request, case_id: str, user: ClinicianPage) -> Response:
    return await _save(request, case_id)


@router.post("/cases/live")
async def live(request: Request, user: ClinicianPage) -> HTMLResponse:
    """HTMX: the scores as the form stands, and each field's marker (out-of-band swaps)."""
    form = await checked_form(request)
    data = forms.case_from_form({k: str(v) for k, v in form.items() if isinstance(v, str)})
    groups = forms.build_form(data, _lesion_count(form))
    markers, live_a, problems = _markers(groups, data)
    return render(request, "_live.html", live=live_a, problems=problems, markers=markers,
                  all_fields=forms.all_fields(groups), oob=True)  # fmt: skip


@router.post("/cases/lesion")
async def add_lesion(request: Request, user: ClinicianPage) -> HTMLResponse:
    """HTMX: one more empty lesion fieldset."""
    form = await checked_form(request)
    index = _lesion_count(form)
    return render(request, "_group.html", g=forms.lesion_group(index), markers={})


# -- board view ------------------------------------------------------------------------------


def _board_context(store: Store, case_id: str) -> dict[str, Any]:
    row = store.get_case(case_id)
    snap = store.latest_assessment(case_id)
    a = snap.data
    registry = reference_registry()
    return {
        "case": row,
        "snap": snap,
        "a": a,
        "decisions": store.decisions(case_id),
        "checks": store.plan_checks(case_id),
        "cited": [(k, registry[k].citation() if k in registry else k) for k in _cited(a)],
        "lesion_ids": [les["id"] for les in a["lesions"]],
    }


def _cited(a: dict[str, Any]) -> list[str]:
    from metspine.model.assessment import Assessment

    return Assessment.model_validate(a).cited_references()


@router.get("/cases/{case_id}")
def board(request: Request, case_id: str, user: ViewerPage) -> HTMLResponse:
    ctx = _board_context(_store(request), case_id)
    return render(request, "board.html", **ctx, can_edit=role_at_least(user.role, "clinician"),
                  can_decide=role_at_least(user.role, "board_chair"))  # fmt: skip


@router.post("/cases/{case_id}/decisions")
async def decide(request: Request, case_id: str, user: ChairPage) -> Response:
    form = await checked_form(request)
    agreed = [
        a.strip() for a in str(form.get("agreed_by", "")).replace("\n", ",").split(",") if a.strip()
    ]
    decision = str(form.get("decision", "")).strip()
    lesion = str(form.get("lesion_id", "")).strip() or None
    if not decision or not agreed:
        raise Problem(422, "Record the decision and at least one person who agreed.")
    try:
        _store(request).add_decision(case_id, decision=decision[:64], lesion_id=lesion,
                                     agreed_by=agreed, notes=str(form.get("notes", ""))[:10000],
                                     actor=user.username)  # fmt: skip
    except StoreError as exc:
        raise Problem(422, str(exc)) from exc
    return RedirectResponse(f"/cases/{quote(case_id)}#decisions", status_code=303)


@router.post("/cases/{case_id}/plan-checks")
async def plan_check_upload(request: Request, case_id: str, user: ClinicianPage) -> Response:
    settings = _settings(request)
    upload_too_large(request, settings.max_upload_bytes)
    form = await checked_form(request)
    files: dict[str, bytes] = {}
    for name in ("rtdose", "rtstruct"):
        f = form.get(name)
        if not isinstance(f, UploadFile):
            raise Problem(422, f"Choose the {name.upper()} file.")
        data = await f.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise Problem(413, f"{name}: the file is too large.")
        if not data:
            raise Problem(422, f"{name}: the file is empty.")
        files[name] = data
    fractions = str(form.get("fractions", ""))
    if not fractions.isdigit() or not 1 <= int(fractions) <= 40:
        raise Problem(422, "Fractions: a whole number from 1 to 40.")
    row = await create_check(
        _store(request), user, case_id, files["rtdose"], files["rtstruct"], int(fractions),
        str(form.get("lesion_id") or "") or None, str(form.get("cord") or "") or None,
    )  # fmt: skip
    return RedirectResponse(f"/cases/{quote(case_id)}/plan-checks/{row.id}", status_code=303)


@router.get("/cases/{case_id}/plan-checks/{check_id}")
def plan_check_page(
    request: Request, case_id: str, check_id: int, user: ViewerPage
) -> HTMLResponse:
    row = _store(request).get_plan_check(case_id, check_id)
    return render(request, "plan_check.html", check=row, case_id=case_id)


@router.get("/cases/{case_id}/plan-checks/{check_id}/dvh.png")
def plan_check_png(request: Request, case_id: str, check_id: int, user: ViewerPage) -> Response:
    row = _store(request).get_plan_check(case_id, check_id)
    if row.dvh_png is None:
        raise Problem(404, "This plan check has no DVH plot.")
    return Response(row.dvh_png, media_type="image/png")


@router.get("/cases/{case_id}/history")
def history(request: Request, case_id: str, user: ViewerPage) -> HTMLResponse:
    store = _store(request)
    row = store.get_case(case_id)
    return render(request, "history.html", case=row, events=store.audit_events("case", case_id, 1000),
                  snapshots=store.assessments(case_id))  # fmt: skip


# -- report ----------------------------------------------------------------------------------


@functools.cache
def _css() -> str:
    return (HERE / "static" / "app.css").read_text(encoding="utf-8")


def report_html(request: Request, case_id: str) -> str:
    ctx = _board_context(_store(request), case_id)
    return templates.get_template("report.html").render(
        request=request, **ctx, engine_version=__version__, knowledge_version=KNOWLEDGE_VERSION,
        dom_id=forms.dom_id, inline_css=_css(), report=True,
    )  # fmt: skip


@router.get("/cases/{case_id}/report.html")
def report(request: Request, case_id: str, user: ViewerPage) -> HTMLResponse:
    return HTMLResponse(report_html(request, case_id))


@router.get("/cases/{case_id}/report.pdf")
async def report_pdf(request: Request, case_id: str, user: ViewerPage) -> Response:
    from starlette.concurrency import run_in_threadpool

    html = report_html(request, case_id)
    pdf = await run_in_threadpool(render_pdf, html, str(HERE / "static"))
    name = f"metspine-{case_id}.pdf".replace('"', "")
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(router)

    def html_error(
        request: Request, status: int, detail: str, errors: list[dict[str, str]]
    ) -> Response:
        if status == 401:
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return render(
            request, "error.html", status, status_code=status, detail=detail, errors=errors
        )

    app.state.html_error = html_error

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
