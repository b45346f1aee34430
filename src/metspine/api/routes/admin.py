"""Users (admin) and the audit trail (board chair and admin)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from metspine.api.deps import Admin, BoardChair, StoreDep

router = APIRouter(tags=["admin"])


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$")
    password: str = Field(min_length=8, max_length=1024)
    role: Literal["viewer", "clinician", "board_chair", "admin"]


@router.get("/users")
def list_users(store: StoreDep, user: Admin) -> dict[str, Any]:
    return {
        "items": [
            {"username": u.username, "role": u.role, "active": u.active, "created_at": u.created_at}
            for u in store.users()
        ]
    }


@router.post("/users", status_code=201)
def add_user(body: UserIn, store: StoreDep, user: Admin) -> dict[str, Any]:
    u = store.add_user(body.username, body.password, body.role, actor=user.username)
    return {"username": u.username, "role": u.role}


@router.get("/audit")
def audit_log(
    store: StoreDep,
    user: BoardChair,
    entity_type: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    return {
        "items": [
            {
                "id": e.id,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "entity_type": e.entity_type,
                "entity_id": e.entity_id,
                "detail": e.detail,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in store.audit_events(entity_type, entity_id, limit)
        ]
    }


@router.get("/audit/verify")
def audit_verify(
    store: StoreDep,
    user: BoardChair,
    expect_head: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    r = store.verify_audit(expect_head)
    return {"ok": r.ok, "rows": r.rows, "head": r.head, "problems": list(r.problems)}
