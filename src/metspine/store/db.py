"""The store: engine set-up, migrations, and every read and write the faces need.

Every write runs in one transaction together with its audit row. Reads return detached ORM rows
(``expire_on_commit=False``), so callers never hold a session.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, create_engine, event, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from metspine.engine import assess
from metspine.model.case import Case
from metspine.model.policy import Policy
from metspine.model.validation import case_from_dict
from metspine.store import audit
from metspine.store.errors import ConflictError, NotFoundError, StoreError
from metspine.store.models import (
    AssessmentRow,
    AuditEvent,
    AuthToken,
    CaseRow,
    CaseVersion,
    DecisionRow,
    PlanCheckRow,
    User,
)

ROLES = ("viewer", "clinician", "board_chair", "admin")
_RANK = {r: i for i, r in enumerate(ROLES)}
_HASHER = PasswordHasher()
# Verified against when the user is unknown, so both paths cost one argon2 verification.
_DUMMY_HASH = _HASHER.hash("metspine-no-such-user")


def role_at_least(role: str, needed: str) -> bool:
    return _RANK.get(role, -1) >= _RANK[needed]


def data_dir() -> Path:
    """Where the default SQLite file and the generated secret key live."""
    return Path(os.environ.get("METSPINE_DATA_DIR", "metspine-data")).resolve()


def default_db_url() -> str:
    url = os.environ.get("METSPINE_DB_URL")
    if url:
        return url
    return f"sqlite:///{data_dir() / 'metspine.db'}"


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy's default would be psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        if not memory:
            path = Path(url.split("///", 1)[1])
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            **({"poolclass": StaticPool} if memory else {"pool_size": 8, "max_overflow": 8}),
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # We issue BEGIN ourselves (below), so that writers can take the lock up front.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)


class Store:
    """One database: SQLite file (default) or PostgreSQL."""

    def __init__(
        self,
        url: str | None = None,
        *,
        policy: Policy | None = None,
        clock: Callable[[], str] = _now,
    ) -> None:
        self.url = normalise_url(url or default_db_url())
        self.engine = _make_engine(self.url)
        self.policy = policy or Policy()
        self.clock = clock
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(sqlite_immediate=True)
        self._write = sessionmaker(writer, expire_on_commit=False)

    # -- plumbing ---------------------------------------------------------------------------

    def migrate(self, revision: str = "head") -> None:
        from metspine.store.migrate import upgrade

        upgrade(self.engine, revision)

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as s:
            yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._write() as s, s.begin():
            yield s

    def _audit(
        self,
        s: Session,
        at: str,
        actor: str,
        action: str,
        entity_type: str,
        entity_id: str,
        detail: dict[str, Any],
    ) -> None:
        audit.append(
            s,
            at=at,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            detail=detail,
        )

    # -- users and tokens -------------------------------------------------------------------

    def add_user(self, username: str, password: str, role: str, *, actor: str = "system") -> User:
        if role not in ROLES:
            raise StoreError(f"role: {role!r} is not one of {', '.join(ROLES)}")
        if not username or len(username) > 64 or not username.replace("_", "").isalnum():
            raise StoreError("username: 1-64 letters, digits or underscores")
        if len(password) < 8:
            raise StoreError("password: at least 8 characters")
        at = self.clock()
        try:
            with self.write() as s:
                user = User(
                    username=username,
                    password_hash=_HASHER.hash(password),
                    role=role,
                    active=True,
                    created_at=at,
                )
                s.add(user)
                s.flush()
                self._audit(s, at, actor, "user.create", "user", username, {"role": role})
        except IntegrityError as exc:
            raise ConflictError(f"username: {username!r} already exists") from exc
        return user

    def users(self) -> list[User]:
        with self.read() as s:
            return list(s.execute(select(User).order_by(User.username)).scalars())

    def authenticate(self, username: str, password: str) -> User | None:
        with self.read() as s:
            user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
        try:
            _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or not user.active:
            return None
        return user

    def issue_token(self, user: User, kind: str, ttl: timedelta) -> str:
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self.write() as s:
            s.add(
                AuthToken(
                    token_sha256=_sha256(token),
                    user_id=user.id,
                    kind=kind,
                    created_at=now.isoformat(),
                    expires_at=(now + ttl).isoformat(),
                )
            )
        return token

    def user_for_token(self, token: str, kind: str) -> User | None:
        with self.read() as s:
            row = s.execute(
                select(User, AuthToken.expires_at)
                .join(AuthToken, AuthToken.user_id == User.id)
                .where(AuthToken.token_sha256 == _sha256(token), AuthToken.kind == kind)
            ).first()
        if row is None:
            return None
        user, expires_at = row
        if expires_at < datetime.now(UTC).isoformat() or not user.active:
            return None
        return user

    def revoke_token(self, token: str) -> None:
        with self.write() as s:
            row = s.get(AuthToken, _sha256(token))
            if row is not None:
                s.delete(row)

    # -- cases ------------------------------------------------------------------------------

    def _snapshot(self, s: Session, case: Case, version: int, at: str, actor: str) -> AssessmentRow:
        a = assess(case, self.policy)
        row = AssessmentRow(
            case_id=case.id,
            case_version=version,
            engine_version=a.engine_version,
            knowledge_version=a.knowledge_version,
            policy_name=a.policy.name,
            policy_sha256=a.policy.sha256,
            data=a.model_dump(mode="json"),
            created_at=at,
            created_by=actor,
        )
        s.add(row)
        s.flush()
        self._audit(
            s,
            at,
            actor,
            "assessment.create",
            "case",
            case.id,
            {
                "assessment_id": row.id,
                "case_version": version,
                "engine_version": row.engine_version,
                "knowledge_version": row.knowledge_version,
                "policy": {"name": row.policy_name, "sha256": row.policy_sha256},
            },
        )
        return row

    def create_case(self, data: Mapping[str, Any], *, actor: str) -> CaseRow:
        """Validate (raises ``CaseError``), store version 1, and snapshot its assessment."""
        case = case_from_dict(data)
        stored = case.model_dump(mode="json", exclude_none=True)
        at = self.clock()
        try:
            with self.write() as s:
                if s.get(CaseRow, case.id) is not None:
                    raise ConflictError(
                        f"id: a case {case.id!r} already exists", current_version=None
                    )
                row = CaseRow(
                    id=case.id,
                    version=1,
                    data=stored,
                    primary_site=case.cancer.primary,
                    assessed_on=case.assessed_on.isoformat() if case.assessed_on else None,
                    created_at=at,
                    created_by=actor,
                    updated_at=at,
                    updated_by=actor,
                )
                s.add(row)
                s.add(
                    CaseVersion(
                        case_id=case.id, version=1, data=stored, created_at=at, created_by=actor
                    )
                )
                s.flush()
                self._audit(s, at, actor, "case.create", "case", case.id, {"version": 1})
                self._snapshot(s, case, 1, at, actor)
        except IntegrityError as exc:
            raise ConflictError(f"id: a case {case.id!r} already exists") from exc
        return row

    def update_case(
        self, case_id: str, data: Mapping[str, Any], *, expected_version: int, actor: str
    ) -> CaseRow:
        """Store a new version if ``expected_version`` is still current, else raise ConflictError."""
        case = case_from_dict(data)
        if case.id != case_id:
            raise StoreError(f"id: the case's id {case.id!r} does not match {case_id!r}")
        stored = case.model_dump(mode="json", exclude_none=True)
        at = self.clock()
        with self.write() as s:
            row = s.get(CaseRow, case_id)
            if row is None:
                raise NotFoundError(f"no case {case_id!r}")
            if row.version != expected_version:
                raise ConflictError(
                    f"version: the case is at version {row.version}, not {expected_version}; "
                    "reload it and apply your change again",
                    current_version=row.version,
                )
            changes = audit.diff(row.data, stored)
            new_version = row.version + 1
            row.version = new_version
            row.data = stored
            row.primary_site = case.cancer.primary
            row.assessed_on = case.assessed_on.isoformat() if case.assessed_on else None
            row.updated_at = at
            row.updated_by = actor
            s.add(
                CaseVersion(
                    case_id=case_id,
                    version=new_version,
                    data=stored,
                    created_at=at,
                    created_by=actor,
                )
            )
            s.flush()
            self._audit(
                s, at, actor, "case.update", "case", case_id,
                {"version": new_version, "changes": changes},
            )  # fmt: skip
            self._snapshot(s, case, new_version, at, actor)
        return row

    def get_case(self, case_id: str) -> CaseRow:
        with self.read() as s:
            row = s.get(CaseRow, case_id)
        if row is None:
            raise NotFoundError(f"no case {case_id!r}")
        return row

    def case_exists(self, case_id: str) -> bool:
        with self.read() as s:
            return s.get(CaseRow, case_id) is not None

    def list_cases(self, q: str | None = None, limit: int = 50, offset: int = 0) -> list[CaseRow]:
        stmt = select(CaseRow)
        if q:
            like = f"%{q.lower()}%"
            stmt = stmt.where(
                or_(func.lower(CaseRow.id).like(like), func.lower(CaseRow.primary_site).like(like))
            )
        stmt = stmt.order_by(
            CaseRow.assessed_on.desc().nulls_last(), CaseRow.updated_at.desc(), CaseRow.id
        )
        with self.read() as s:
            return list(s.execute(stmt.limit(limit).offset(offset)).scalars())

    def case_versions(self, case_id: str) -> list[CaseVersion]:
        self.get_case(case_id)
        with self.read() as s:
            stmt = select(CaseVersion).where(CaseVersion.case_id == case_id)
            return list(s.execute(stmt.order_by(CaseVersion.version)).scalars())

    # -- assessments ------------------------------------------------------------------------

    def latest_assessment(self, case_id: str) -> AssessmentRow:
        self.get_case(case_id)
        with self.read() as s:
            row = s.execute(
                select(AssessmentRow)
                .where(AssessmentRow.case_id == case_id)
                .order_by(AssessmentRow.id.desc())
                .limit(1)
            ).scalar_one_or_none()
        if row is None:
            raise NotFoundError(f"no assessment of case {case_id!r}")
        return row

    def assessments(self, case_id: str) -> list[AssessmentRow]:
        self.get_case(case_id)
        with self.read() as s:
            stmt = select(AssessmentRow).where(AssessmentRow.case_id == case_id)
            return list(s.execute(stmt.order_by(AssessmentRow.id)).scalars())

    def reassess(self, case_id: str, *, actor: str) -> AssessmentRow:
        """A new snapshot of the current version with this engine and policy."""
        at = self.clock()
        with self.write() as s:
            row = s.get(CaseRow, case_id)
            if row is None:
                raise NotFoundError(f"no case {case_id!r}")
            return self._snapshot(s, case_from_dict(row.data), row.version, at, actor)

    # -- plan checks and decisions ----------------------------------------------------------

    def add_plan_check(
        self,
        case_id: str,
        *,
        lesion_id: str | None,
        fractions: int,
        rtdose_sha256: str,
        rtstruct_sha256: str,
        result: dict[str, Any],
        dvh_png: bytes | None,
        actor: str,
    ) -> PlanCheckRow:
        at = self.clock()
        with self.write() as s:
            if s.get(CaseRow, case_id) is None:
                raise NotFoundError(f"no case {case_id!r}")
            row = PlanCheckRow(
                case_id=case_id,
                lesion_id=lesion_id,
                fractions=fractions,
                rtdose_sha256=rtdose_sha256,
                rtstruct_sha256=rtstruct_sha256,
                result=result,
                dvh_png=dvh_png,
                created_at=at,
                created_by=actor,
            )
            s.add(row)
            s.flush()
            self._audit(
                s, at, actor, "plan_check.create", "case", case_id,
                {
                    "plan_check_id": row.id,
                    "lesion_id": lesion_id,
                    "fractions": fractions,
                    "rtdose_sha256": rtdose_sha256,
                    "rtstruct_sha256": rtstruct_sha256,
                    "passed": result.get("passed"),
                },
            )  # fmt: skip
        return row

    def plan_checks(self, case_id: str) -> list[PlanCheckRow]:
        self.get_case(case_id)
        with self.read() as s:
            stmt = select(PlanCheckRow).where(PlanCheckRow.case_id == case_id)
            return list(s.execute(stmt.order_by(PlanCheckRow.id.desc())).scalars())

    def get_plan_check(self, case_id: str, check_id: int) -> PlanCheckRow:
        with self.read() as s:
            row = s.get(PlanCheckRow, check_id)
        if row is None or row.case_id != case_id:
            raise NotFoundError(f"no plan check {check_id} on case {case_id!r}")
        return row

    def add_decision(
        self,
        case_id: str,
        *,
        decision: str,
        lesion_id: str | None,
        agreed_by: list[str],
        notes: str,
        actor: str,
    ) -> DecisionRow:
        at = self.clock()
        with self.write() as s:
            case = s.get(CaseRow, case_id)
            if case is None:
                raise NotFoundError(f"no case {case_id!r}")
            if lesion_id is not None and lesion_id not in {
                str(lesion.get("id")) for lesion in case.data.get("lesions", [])
            }:
                raise StoreError(f"lesion_id: the case has no lesion {lesion_id!r}")
            row = DecisionRow(
                case_id=case_id,
                case_version=case.version,
                lesion_id=lesion_id,
                decision=decision,
                notes=notes,
                agreed_by=agreed_by,
                created_at=at,
                created_by=actor,
            )
            s.add(row)
            s.flush()
            self._audit(
                s, at, actor, "decision.create", "case", case_id,
                {
                    "decision_id": row.id,
                    "case_version": case.version,
                    "lesion_id": lesion_id,
                    "decision": decision,
                    "agreed_by": agreed_by,
                    "notes": notes,
                },
            )  # fmt: skip
        return row

    def decisions(self, case_id: str) -> list[DecisionRow]:
        self.get_case(case_id)
        with self.read() as s:
            stmt = select(DecisionRow).where(DecisionRow.case_id == case_id)
            return list(s.execute(stmt.order_by(DecisionRow.id)).scalars())

    # -- audit ------------------------------------------------------------------------------

    def audit_events(
        self, entity_type: str | None = None, entity_id: str | None = None, limit: int = 200
    ) -> list[AuditEvent]:
        stmt = select(AuditEvent)
        if entity_type is not None:
            stmt = stmt.where(AuditEvent.entity_type == entity_type)
        if entity_id is not None:
            stmt = stmt.where(AuditEvent.entity_id == entity_id)
        with self.read() as s:
            return list(s.execute(stmt.order_by(AuditEvent.id.desc()).limit(limit)).scalars())

    def verify_audit(self, expect_head: str | None = None) -> audit.VerifyResult:
        with self.read() as s:
            return audit.verify(s, expect_head)
