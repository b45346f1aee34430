"""A signed-in browser-less client (TestClient with cookies) per role, on a fresh SQLite file."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from metspine.api import Settings, create_app
from metspine.store import Store

ROLES = ("viewer", "clinician", "board_chair", "admin")
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def web_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("webtemplate") / "template.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    for role in ROLES:
        store.add_user(role, PASSWORD, role)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    return path


@pytest.fixture
def web(
    tmp_path: Path, web_template_db: Path
) -> Iterator[tuple[Store, Callable[[str], TestClient]]]:
    shutil.copyfile(web_template_db, tmp_path / "web.db")
    store = Store(f"sqlite:///{tmp_path / 'web.db'}")
    app = create_app(Settings(db_url=store.url, data_dir=tmp_path, secret_key="k"), store)

    def signed_in(role: str) -> TestClient:
        client = TestClient(app)
        page = client.get("/login")
        nonce = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
        assert nonce is not None
        r = client.post("/login", data={"username": role, "password": PASSWORD,
                        "login_csrf": nonce.group(1), "next": "/"}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 303, r.text
        return client

    yield store, signed_in
    store.dispose()
