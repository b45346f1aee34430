"""Every metspine code the CDS Hooks service emits is defined in the published CodeSystem."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from metspine.knowledge.fhir_codes import fhir_codes

ORDERS = Path(__file__).resolve().parents[2] / "src" / "metspine" / "knowledge" / "cds_orders.toml"


def _our_codes(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        if node.get("system") == "ours" and isinstance(node.get("code"), str):
            out.append(node["code"])
        for key, value in node.items():
            if key == "code" and isinstance(value, str) and value.startswith("cds."):
                out.append(value)
            else:
                out.extend(_our_codes(value))
    elif isinstance(node, list):
        for x in node:
            out.extend(_our_codes(x))
    return out


def test_cds_order_and_override_codes_are_in_the_codesystem() -> None:
    codes = _our_codes(tomllib.loads(ORDERS.read_text(encoding="utf-8")))
    assert {"order.sbrt", "order.spine_surgery_consult", "cds.override.urgent"} <= set(codes)
    defined = {c.code for c in fhir_codes().concepts()}
    assert not [c for c in codes if c not in defined]
