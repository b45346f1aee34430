"""Errors the store raises; faces translate them (HTTP 404/409, CLI exit 2)."""

from __future__ import annotations


class StoreError(Exception):
    """Base of the store's refusals."""


class NotFoundError(StoreError):
    """No such case, user, plan check or assessment."""


class ConflictError(StoreError):
    """A write based on a stale version, or a duplicate key."""

    def __init__(self, message: str, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version
