"""An app on a fresh SQLite file, one user per role, and their bearer tokens."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from apikit import PASSWORD, ROLES, Api
from fastapi.testclient import TestClient

from metspine.api import Settings, create_app
from metspine.store import Store


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once, with one user per role (argon2 hashing is slow on purpose)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    for role in ROLES:
        store.add_user(role, PASSWORD, role)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    return path


@pytest.fixture
def api(tmp_path: Path, template_db: Path) -> Iterator[Api]:
    shutil.copyfile(template_db, tmp_path / "api.db")
    store = Store(f"sqlite:///{tmp_path / 'api.db'}")
    settings = Settings(
        db_url=store.url,
        data_dir=tmp_path,
        secret_key="test-key",
        max_upload_bytes=16 * 1024 * 1024,
    )
    client = TestClient(create_app(settings, store))
    users = {u.username: u for u in store.users()}
    tokens = {role: store.issue_token(users[role], "bearer", timedelta(hours=1)) for role in ROLES}
    yield Api(client, store, tokens)
    store.dispose()
