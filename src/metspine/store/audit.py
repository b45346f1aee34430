"""The append-only audit trail: every change is one row, hash-chained to the row before it.

``hash = sha256(prev_hash || canonical JSON of (id, at, actor, action, entity_type, entity_id,
detail, prev_hash))``; the first row's ``prev_hash`` is 64 zeros. Ids are dense (1, 2, 3, …), so an
edited row breaks its own hash, a deleted row leaves a gap or a broken link, and an inserted row
breaks the link of the row after it. Deleting the newest rows leaves a shorter valid chain; anchor
against that by keeping the head hash that ``metspine audit verify`` prints (``--expect-head``).
Appends are serialised (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction advisory lock).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from metspine.store.models import AuditEvent

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 0x6D657473  # "mets": one advisory lock key for audit appends


def canonical(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def row_hash(
    *,
    id: int,
    at: str,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    detail: dict[str, Any],
    prev_hash: str,
) -> str:
    body = canonical(
        {
            "id": id,
            "at": at,
            "actor": actor,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "detail": detail,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def append(
    session: Session,
    *,
    at: str,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    detail: dict[str, Any],
) -> AuditEvent:
    """Add the next audit row in the caller's transaction (committed with the change it records)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    next_id, prev = (1, GENESIS) if last is None else (last[0] + 1, last[1])
    # Round-trip through JSON so the hash covers exactly what the database will give back.
    clean = json.loads(canonical(detail))
    ev = AuditEvent(
        id=next_id,
        at=at,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        detail=clean,
        prev_hash=prev,
        hash=row_hash(
            id=next_id,
            at=at,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            detail=clean,
            prev_hash=prev,
        ),
    )
    session.add(ev)
    session.flush()
    return ev


@dataclass(frozen=True, slots=True)
class VerifyResult:
    rows: int
    head: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_rows(rows: Iterable[AuditEvent], expect_head: str | None = None) -> VerifyResult:
    """Check the chain: dense ids from 1, each row's hash, and each link to the row before."""
    problems: list[str] = []
    prev = GENESIS
    expected_id = 1
    n = 0
    for ev in rows:
        n += 1
        if ev.id != expected_id:
            problems.append(f"row {ev.id}: expected id {expected_id} (rows deleted or inserted)")
            expected_id = ev.id
        if ev.prev_hash != prev:
            problems.append(f"row {ev.id}: prev_hash does not match the hash of the row before")
        recomputed = row_hash(
            id=ev.id,
            at=ev.at,
            actor=ev.actor,
            action=ev.action,
            entity_type=ev.entity_type,
            entity_id=ev.entity_id,
            detail=ev.detail,
            prev_hash=ev.prev_hash,
        )
        if recomputed != ev.hash:
            problems.append(f"row {ev.id}: contents do not match its hash (edited)")
        prev = ev.hash
        expected_id += 1
    if expect_head is not None and prev != expect_head:
        problems.append(
            f"head hash {prev} is not the expected {expect_head} (newest rows removed or added)"
        )
    return VerifyResult(rows=n, head=prev, problems=tuple(problems))


def verify(session: Session, expect_head: str | None = None) -> VerifyResult:
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
    return verify_rows(rows, expect_head)


def diff(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """What changed between two JSON values, as ``{"field", "from", "to"}`` entries."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[dict[str, Any]] = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            out.extend(diff(before.get(key), after.get(key), sub))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            out.extend(diff(b, a, f"{path}[{i}]"))
        return out
    if before == after:
        return []
    return [{"field": path, "from": before, "to": after}]
