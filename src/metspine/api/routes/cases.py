"""Cases (create, read, update with If-Match, list/search), assessments, decisions, history."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from metspine.api.deps import BoardChair, Clinician, SettingsDep, StoreDep, Viewer
from metspine.api.problems import Problem
from metspine.engine import assess as run_assess
from metspine.model.validation import case_from_dict
from metspine.store.models import AssessmentRow, CaseRow, DecisionRow

router = APIRouter(tags=["cases"])
CASE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}},
    }
}
ASSESSMENT_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Assessment"}}}}
}


async def json_body(request: Request, limit: int) -> dict[str, Any]:
    """The request's JSON object, refused politely when too large, malformed or not an object."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise Problem(413, f"the body is larger than {limit} bytes")
    raw = await request.body()
    if len(raw) > limit:
        raise Problem(413, f"the body is larger than {limit} bytes")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Problem(
            422, f"the body is not valid JSON: {exc}", errors=[{"field": "", "message": str(exc)}]
        ) from exc
    if not isinstance(data, dict):
        raise Problem(422, "the body must be a JSON object (a metspine.case/1 case)",
                      errors=[{"field": "", "message": "not an object"}])  # fmt: skip
    return data


def case_out(row: CaseRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "version": row.version,
        "created_at": row.created_at,
        "created_by": row.created_by,
        "updated_at": row.updated_at,
        "updated_by": row.updated_by,
        "case": row.data,
    }


def assessment_meta(row: AssessmentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "case_version": row.case_version,
        "engine_version": row.engine_version,
        "knowledge_version": row.knowledge_version,
        "policy": {"name": row.policy_name, "sha256": row.policy_sha256},
        "created_at": row.created_at,
        "created_by": row.created_by,
    }


def _etag(version: int) -> str:
    return f'"{version}"'


@router.get("/cases")
def list_cases(
    store: StoreDep,
    user: Viewer,
    q: Annotated[str | None, Query(max_length=128, description="id or primary contains")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    rows = store.list_cases(q, limit, offset)
    return {
        "items": [
            {
                "id": r.id,
                "version": r.version,
                "assessed_on": r.assessed_on,
                "primary": r.primary_site,
                "updated_at": r.updated_at,
                "updated_by": r.updated_by,
            }
            for r in rows
        ],
        "limit": limit,
        "offset": offset,
    }


@router.post("/cases", status_code=201, openapi_extra=CASE_BODY)
async def create_case(
    request: Request, response: Response, store: StoreDep, settings: SettingsDep, user: Clinician
) -> dict[str, Any]:
    data = await json_body(request, settings.max_json_bytes)
    row = store.create_case(data, actor=user.username)
    response.headers["ETag"] = _etag(row.version)
    response.headers["Location"] = f"/api/v1/cases/{row.id}"
    return case_out(row)


@router.get("/cases/{case_id}")
def read_case(case_id: str, response: Response, store: StoreDep, user: Viewer) -> dict[str, Any]:
    row = store.get_case(case_id)
    response.headers["ETag"] = _etag(row.version)
    return case_out(row)


def _if_match(request: Request) -> int:
    header = request.headers.get("if-match")
    if header is None:
        raise Problem(
            428,
            "send If-Match with the version you edited (the ETag of GET /api/v1/cases/{id})",
            errors=[{"field": "If-Match", "message": "required"}],
        )
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise Problem(422, "If-Match must be a case version such as \"3\"",
                      errors=[{"field": "If-Match", "message": "not a version"}])  # fmt: skip
    return int(text)


@router.put("/cases/{case_id}", openapi_extra=CASE_BODY)
async def update_case(
    case_id: str,
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    user: Clinician,
) -> dict[str, Any]:
    expected = _if_match(request)
    data = await json_body(request, settings.max_json_bytes)
    row = store.update_case(case_id, data, expected_version=expected, actor=user.username)
    response.headers["ETag"] = _etag(row.version)
    return case_out(row)


@router.post("/assess", responses=ASSESSMENT_RESPONSE, openapi_extra=CASE_BODY)
async def assess_ad_hoc(
    request: Request, store: StoreDep, settings: SettingsDep, user: Viewer
) -> Response:
    """Assess a case without storing it (contract §2 JSON)."""
    data = await json_body(request, settings.max_json_bytes)
    a = run_assess(case_from_dict(data), store.policy)
    return Response(a.model_dump_json(), media_type="application/json")


@router.get("/cases/{case_id}/assessment", responses=ASSESSMENT_RESPONSE)
def latest_assessment(case_id: str, store: StoreDep, user: Viewer) -> Response:
    """The latest stored snapshot (contract §2 JSON); its provenance is in the X-Metspine-* headers."""
    row = store.latest_assessment(case_id)
    return Response(
        json.dumps(row.data, ensure_ascii=False),
        media_type="application/json",
        headers={
            "X-Metspine-Assessment-Id": str(row.id),
            "X-Metspine-Case-Version": str(row.case_version),
            "X-Metspine-Assessed-At": row.created_at,
        },
    )


@router.post("/cases/{case_id}/assessments", status_code=201)
def reassess(case_id: str, store: StoreDep, user: Clinician) -> dict[str, Any]:
    """A new snapshot of the current version with this engine and policy."""
    row = store.reassess(case_id, actor=user.username)
    return assessment_meta(row) | {"assessment": row.data}


@router.get("/cases/{case_id}/assessments")
def list_assessments(case_id: str, store: StoreDep, user: Viewer) -> dict[str, Any]:
    return {"items": [assessment_meta(r) for r in store.assessments(case_id)]}


class DecisionIn(BaseModel):
    decision: str = Field(min_length=1, max_length=64, description="a recommendation code, or free")
    lesion_id: str | None = Field(None, max_length=64)
    agreed_by: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(min_length=1)
    notes: str = Field("", max_length=10000)


def decision_out(row: DecisionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "case_version": row.case_version,
        "lesion_id": row.lesion_id,
        "decision": row.decision,
        "agreed_by": row.agreed_by,
        "notes": row.notes,
        "created_at": row.created_at,
        "created_by": row.created_by,
    }


@router.post("/cases/{case_id}/decisions", status_code=201)
def record_decision(
    case_id: str, body: DecisionIn, store: StoreDep, user: BoardChair
) -> dict[str, Any]:
    row = store.add_decision(
        case_id,
        decision=body.decision,
        lesion_id=body.lesion_id,
        agreed_by=body.agreed_by,
        notes=body.notes,
        actor=user.username,
    )
    return decision_out(row)


@router.get("/cases/{case_id}/decisions")
def list_decisions(case_id: str, store: StoreDep, user: Viewer) -> dict[str, Any]:
    return {"items": [decision_out(r) for r in store.decisions(case_id)]}


@router.get("/cases/{case_id}/history")
def history(case_id: str, store: StoreDep, user: Viewer) -> dict[str, Any]:
    """Every change to the case: who, when, what changed, and which versions assessed it."""
    store.get_case(case_id)
    events = store.audit_events("case", case_id, limit=1000)
    return {
        "items": [
            {"id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail}
            for e in events
        ]
    }
