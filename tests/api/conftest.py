"""An app on a fresh SQLite file, one user per role, and their bearer tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from metspine.api import Settings, create_app
from metspine.store import Store

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("viewer", "clinician", "board_chair", "admin")
PASSWORD = "correct horse battery"


def demo_case(name: str = "demo-001-rcc-t11-t12.yaml") -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "examples" / name).read_text())
    return dict(json.loads(json.dumps(data, default=str)))


@dataclass
class Api:
    client: TestClient
    store: Store
    tokens: dict[str, str]

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    store = Store(f"sqlite:///{tmp_path / 'api.db'}")
    store.migrate()
    settings = Settings(
        db_url=store.url,
        data_dir=tmp_path,
        secret_key="test-key",
        max_upload_bytes=16 * 1024 * 1024,
    )
    client = TestClient(create_app(settings, store))
    tokens = {}
    for role in ROLES:
        store.add_user(role, PASSWORD, role)
        r = client.post("/api/v1/auth/token", data={"username": role, "password": PASSWORD})
        tokens[role] = r.json()["access_token"]
    yield Api(client, store, tokens)
    store.dispose()
