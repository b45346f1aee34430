"""``POST /api/v1/auth/token``: OAuth2 password flow → bearer token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form

from metspine.api.deps import SettingsDep, StoreDep, Viewer
from metspine.api.problems import Problem

router = APIRouter(tags=["auth"])


@router.post("/auth/token")
def token(
    store: StoreDep,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> dict[str, Any]:
    user = store.authenticate(username, password)
    if user is None:
        raise Problem(401, "unknown user or wrong password", headers={"WWW-Authenticate": "Bearer"})
    access = store.issue_token(user, "bearer", settings.token_ttl)
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": int(settings.token_ttl.total_seconds()),
        "role": user.role,
    }


@router.get("/auth/me")
def me(user: Viewer) -> dict[str, str]:
    return {"username": user.username, "role": user.role}
