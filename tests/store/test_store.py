"""Store: migrations, users, versioned cases, immutable assessments, decisions, audit chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import Result
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from metspine.cli import app
from metspine.model.validation import CaseError
from metspine.store import ConflictError, NotFoundError, Store
from metspine.store.db import StoreError
from metspine.store.migrate import downgrade
from metspine.store.models import Base

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo-001-rcc-t11-t12.yaml"
TABLES = {
    "users",
    "auth_tokens",
    "cases",
    "case_versions",
    "assessments",
    "plan_checks",
    "decisions",
    "audit_events",
    "alembic_version",
}


def demo() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEMO.read_text())
    return data


def _migrates_to_models(store: Store) -> None:
    with store.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == TABLES
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_sqlite_empty_to_head_matches_models_and_uses_wal(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    store.migrate()
    store.migrate()  # idempotent
    _migrates_to_models(store)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    downgrade(store.engine, "base")
    with store.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == {"alembic_version"}
    store.dispose()


def test_postgresql_empty_to_head_and_round_trip(pg_url: str) -> None:
    store = Store(pg_url)
    store.migrate()
    _migrates_to_models(store)
    store.add_user("chair", "correct horse", "board_chair")
    store.create_case(demo(), actor="chair")
    data = demo()
    data["patient"]["kps"] = 60
    store.update_case("demo-001", data, expected_version=1, actor="chair")
    with pytest.raises(ConflictError):
        store.update_case("demo-001", data, expected_version=1, actor="chair")
    assert store.latest_assessment("demo-001").case_version == 2
    result = store.verify_audit()
    assert result.ok and result.rows == 5
    with store.engine.begin() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("DELETE FROM audit_events WHERE id = 2"))
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))
        conn.execute(text("UPDATE audit_events SET actor = 'someone' WHERE id = 2"))
    assert not store.verify_audit().ok
    downgrade(store.engine, "base")
    store.dispose()


def test_users_hash_passwords_and_authenticate(store: Store) -> None:
    user = store.add_user("alice", "s3cret-pass", "clinician")
    assert user.password_hash.startswith("$argon2")
    assert "s3cret-pass" not in user.password_hash
    assert store.authenticate("alice", "s3cret-pass") is not None
    assert store.authenticate("alice", "wrong-pass") is None
    assert store.authenticate("nobody", "s3cret-pass") is None
    with pytest.raises(ConflictError):
        store.add_user("alice", "another-pass", "viewer")
    with pytest.raises(StoreError, match="role"):
        store.add_user("bob", "s3cret-pass", "surgeon")


def test_case_versions_assessment_snapshots_and_history(store: Store) -> None:
    row = store.create_case(demo(), actor="alice")
    assert row.version == 1
    first = store.latest_assessment("demo-001")
    assert first.data["case_id"] == "demo-001"
    assert first.engine_version and first.knowledge_version and len(first.policy_sha256) == 64
    data = demo()
    data["patient"]["kps"] = 60
    assert store.update_case("demo-001", data, expected_version=1, actor="bob").version == 2
    with pytest.raises(ConflictError) as exc:
        store.update_case("demo-001", data, expected_version=1, actor="carol")
    assert exc.value.current_version == 2
    assert [v.version for v in store.case_versions("demo-001")] == [1, 2]
    snaps = store.assessments("demo-001")
    assert [a.case_version for a in snaps] == [1, 2]
    assert snaps[0].data == first.data  # the earlier snapshot is untouched
    update = next(e for e in store.audit_events("case", "demo-001") if e.action == "case.update")
    assert update.actor == "bob"
    assert {"field": "patient.kps", "from": 80, "to": 60} in update.detail["changes"]


def test_invalid_and_duplicate_cases_are_refused(store: Store) -> None:
    bad = demo()
    bad["lesions"][0]["escc"] = "4"
    with pytest.raises(CaseError) as exc:
        store.create_case(bad, actor="a")
    assert exc.value.problems[0].field == "lesions[0].escc"
    store.create_case(demo(), actor="a")
    with pytest.raises(ConflictError):
        store.create_case(demo(), actor="a")
    with pytest.raises(NotFoundError):
        store.get_case("nope")
    assert store.verify_audit().rows == 2


def test_decisions_name_lesion_and_who_agreed(store: Store) -> None:
    store.create_case(demo(), actor="a")
    d = store.add_decision(
        "demo-001",
        decision="separation_surgery_then_sbrt",
        lesion_id="L1",
        agreed_by=["Dr Surgeon", "Dr RadOnc"],
        notes="",
        actor="chair",
    )
    assert d.case_version == 1
    with pytest.raises(StoreError, match="lesion_id"):
        store.add_decision(
            "demo-001", decision="sbrt", lesion_id="L9", agreed_by=[], notes="", actor="chair"
        )
    assert [x.decision for x in store.decisions("demo-001")] == ["separation_surgery_then_sbrt"]


def _tamper(store: Store, sql: str) -> None:
    # A person with raw database access: drops the append-only triggers, then edits.
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
        conn.exec_driver_sql(sql)


def _cli(args: list[str], stdin: str | None = None) -> Result:
    # In-process (Typer's runner): the same command line as `metspine …`, without a new interpreter.
    return CliRunner().invoke(app, args, input=stdin)


def _verify_cli(store: Store) -> Result:
    return _cli(["audit", "verify", "--db", store.url])


def test_audit_rows_cannot_be_changed_through_sql(store: Store) -> None:
    store.create_case(demo(), actor="a")
    with store.engine.begin() as conn, pytest.raises(Exception, match="append-only"):
        conn.exec_driver_sql("UPDATE audit_events SET actor = 'x'")
    with store.engine.begin() as conn, pytest.raises(Exception, match="append-only"):
        conn.exec_driver_sql("DELETE FROM audit_events")


def test_audit_verify_detects_an_edited_row(store: Store) -> None:
    store.create_case(demo(), actor="alice")
    store.add_user("bob", "password1", "viewer")
    ok = _verify_cli(store)
    assert ok.exit_code == 0, ok.output
    assert "3 audit rows, chain intact" in ok.output
    _tamper(store, "UPDATE audit_events SET actor = 'mallory' WHERE id = 1")
    broken = _verify_cli(store)
    assert broken.exit_code == 3
    assert "row 1: contents do not match its hash" in broken.output


def test_audit_verify_detects_a_deleted_row(store: Store) -> None:
    store.create_case(demo(), actor="alice")
    store.add_user("bob", "password1", "viewer")
    head = store.verify_audit().head
    _tamper(store, "DELETE FROM audit_events WHERE id = 2")
    result = store.verify_audit()
    assert not result.ok
    assert any("expected id 2" in p for p in result.problems)
    # Removing the newest row leaves a valid shorter chain: the kept head hash catches it.
    store2 = store
    _tamper(store2, "DELETE FROM audit_events WHERE id = 3")
    assert not store2.verify_audit(expect_head=head).ok


def test_audit_verify_detects_a_rewritten_chain_link(store: Store) -> None:
    store.create_case(demo(), actor="alice")
    _tamper(store, "UPDATE audit_events SET prev_hash = hash WHERE id = 2")
    problems = store.verify_audit().problems
    assert any("row 2" in p for p in problems)


def test_user_add_cli_reads_password_from_stdin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run = _cli(["user", "add", "root", "--role", "admin", "--password-stdin", "--db", url],
               "long enough password\n")  # fmt: skip
    assert run.exit_code == 0, run.output
    store = Store(url)
    assert store.authenticate("root", "long enough password") is not None
    assert store.users()[0].role == "admin"
    store.dispose()
    bad = _cli(["user", "add", "x", "--role", "wizard", "--password-stdin", "--db", url],
               "long enough password\n")  # fmt: skip
    assert bad.exit_code == 2 and "role" in bad.output
