"""Dependencies: the store, the signed-in user (bearer token), and role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from metspine.api.problems import Problem
from metspine.api.settings import Settings
from metspine.store import Store
from metspine.store.db import role_at_least
from metspine.store.models import User


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def bearer_user(request: Request, store: StoreDep) -> User:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(
            401,
            "sign in: POST /api/v1/auth/token, then send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user = store.user_for_token(token.strip(), "bearer")
    if user is None:
        raise Problem(
            401, "the token is unknown or has expired", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


def require(role: str) -> Callable[[User], User]:
    """A dependency that lets through users whose role is ``role`` or above."""

    def check(user: Annotated[User, Depends(bearer_user)]) -> User:
        if not role_at_least(user.role, role):
            raise Problem(403, f"this needs the role {role} or above; you are {user.role}")
        return user

    return check


Viewer = Annotated[User, Depends(require("viewer"))]
Clinician = Annotated[User, Depends(require("clinician"))]
BoardChair = Annotated[User, Depends(require("board_chair"))]
Admin = Annotated[User, Depends(require("admin"))]
