"""Typed access to ``cds_orders.toml``: the order classes of the CDS Hooks order-select service.

An order is classified by code (a listed coding) or by text (the class's patterns); the file says
which standard codes were read in which source, and which are metspine's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from metspine.knowledge import KnowledgeError, load_toml
from metspine.knowledge.fhir_codes import Code, fhir_codes

CLASS_ORDER = ("consult", "sbrt", "radiotherapy", "spine_surgery")


@dataclass(frozen=True, slots=True)
class OrderClass:
    name: str
    display: str
    codes: frozenset[tuple[str, str]]
    pattern: re.Pattern[str]
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OverrideReason:
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class CdsOrders:
    ours: str
    classes: dict[str, OrderClass]
    consult_statuses: frozenset[str]
    consult_code: Code
    consult_text: str
    override_reasons: tuple[OverrideReason, ...]

    def classify(self, codings: list[tuple[str, str]], texts: list[str]) -> set[str]:
        """The classes of one order; a consultation is never also surgery or radiotherapy."""
        found: set[str] = set()
        joined = " | ".join(t for t in texts if t)
        for name in CLASS_ORDER:
            c = self.classes[name]
            if any(cd in c.codes for cd in codings) or (joined and c.pattern.search(joined)):
                found.add(name)
                if name == "consult":
                    return found
        if "sbrt" in found:
            found.add("radiotherapy")
        return found


def _system(raw: str, systems: dict[str, str], ours: str) -> str:
    if raw == "ours":
        return ours
    try:
        return systems[raw]
    except KeyError as exc:
        raise KnowledgeError(f"cds_orders.toml: unknown code system {raw!r}") from exc


@cache
def cds_orders() -> CdsOrders:
    """The order classes, loaded once."""
    raw: dict[str, Any] = load_toml("cds_orders.toml")
    systems = fhir_codes().systems
    ours = str(raw["ours"])
    classes: dict[str, OrderClass] = {}
    for name in CLASS_ORDER:
        row = raw["class"][name]
        codes = frozenset(
            (_system(c["system"], systems, ours), str(c["code"])) for c in row["codes"]
        )
        alternatives = "|".join(f"(?:{p})" for p in row["patterns"])
        cited = tuple(str(k) for k in row.get("references", ()))
        classes[name] = OrderClass(
            name=name,
            display=str(row["display"]),
            codes=codes,
            pattern=re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])", re.IGNORECASE),
            references=cited,
        )
    extra = set(raw["class"]) - set(CLASS_ORDER)
    if extra:
        raise KnowledgeError(f"cds_orders.toml: unknown order classes {sorted(extra)}")
    sugg = raw["consult"]["suggested_order"]
    code = sugg["code"]
    return CdsOrders(
        ours=ours,
        classes=classes,
        consult_statuses=frozenset(str(s) for s in raw["consult"]["statuses"]),
        consult_code=Code(
            _system(code["system"], systems, ours), str(code["code"]), code.get("display")
        ),
        consult_text=str(sugg["text"]),
        override_reasons=tuple(
            OverrideReason(str(r["code"]), str(r["display"])) for r in raw["override_reason"]
        ),
    )


__all__ = ["CLASS_ORDER", "CdsOrders", "OrderClass", "OverrideReason", "cds_orders"]
