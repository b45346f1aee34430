"""Helpers shared by the API tests (a uniquely named module: test modules import it directly)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

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
