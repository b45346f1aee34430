"""Store fixtures: a fresh SQLite file per test, and a fresh database on a real PostgreSQL server.

PostgreSQL comes from ``METSPINE_TEST_PG_URL`` (``.ci/run`` starts a server and sets it). Outside CI
the PostgreSQL tests skip when it is unset; in CI (``CI`` set) they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from metspine.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'metspine.db'}")
    s.migrate()
    yield s
    s.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    base = os.environ.get("METSPINE_TEST_PG_URL")
    if not base:
        if os.environ.get("CI"):
            pytest.fail("METSPINE_TEST_PG_URL is not set in CI (.ci/run starts PostgreSQL)")
        pytest.skip("no PostgreSQL server: set METSPINE_TEST_PG_URL (as .ci/run does)")
    import psycopg

    name = f"metspine_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    head, _, _ = base.rpartition("/")
    try:
        yield f"{head}/{name}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
