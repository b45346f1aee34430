"""Typed, frozen views of the radiation knowledge tables, loaded once.

The numbers live in ``metspine/knowledge/radiation_limits.toml``, ``radiation_vcf.toml`` and
``regimens.toml``; each carries its reference keys. A malformed table is a packaging bug and raises
:class:`metspine.knowledge.KnowledgeError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any, Literal

from metspine.knowledge import KnowledgeError, load_toml

LIMITS_FILE = "radiation_limits.toml"
VCF_FILE = "radiation_vcf.toml"
REGIMENS_FILE = "regimens.toml"

Family = Literal["cebrt", "sbrt"]


@dataclass(frozen=True, slots=True)
class CitedValue:
    """A number from a table with the reference keys that stand behind it."""

    value: float
    references: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class LimitRow:
    """One row of the dose-limit table, exactly as the source gives it."""

    limit_set: str
    structure: str
    metric: str
    fractions: int
    limit_gy: float
    limit_upper_gy: float | None
    endpoint: str
    source: str
    verified: bool


@dataclass(frozen=True, slots=True)
class LimitSet:
    references: tuple[str, ...]
    note: str


@dataclass(frozen=True, slots=True)
class LimitsTable:
    alpha_beta: Mapping[str, CitedValue]
    lq_reliability: CitedValue
    reirradiation: Mapping[str, CitedValue]
    limit_sets: Mapping[str, LimitSet]
    rows: tuple[LimitRow, ...]


@dataclass(frozen=True, slots=True)
class CitedText:
    text: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VcfTable:
    intermediate_from_gy: float
    high_from_gy: float
    dose_references: tuple[str, ...]
    drivers: Mapping[str, CitedText]
    incidence: CitedText
    cement: CitedText
    body_involvement_gt_pct: float
    body_involvement_references: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RegimenRow:
    id: str
    family: Family
    dose_gy: float
    fractions: int


@dataclass(frozen=True, slots=True)
class OptionRow:
    regimen: str
    role: Literal["preferred", "alternative"]
    when: str | None
    text: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScenarioRow:
    id: str
    family: Family
    label: str
    options: tuple[OptionRow, ...]


@dataclass(frozen=True, slots=True)
class RegimensTable:
    regimens: Mapping[str, RegimenRow]
    scenarios: Mapping[str, ScenarioRow]


def _refs(row: Mapping[str, Any], where: str, key: str = "references") -> tuple[str, ...]:
    refs = row.get(key)
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
        raise KnowledgeError(f"{where}: '{key}' must be a non-empty list of reference keys")
    return tuple(refs)


def _float(row: Mapping[str, Any], key: str, where: str) -> float:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KnowledgeError(f"{where}: '{key}' must be a number, got {value!r}")
    return float(value)


def _cited(row: Mapping[str, Any], key: str, where: str) -> CitedValue:
    note = row.get("note")
    return CitedValue(_float(row, key, where), _refs(row, where), str(note) if note else None)


@cache
def limits_table() -> LimitsTable:
    data = load_toml(LIMITS_FILE)
    try:
        alpha_beta = {
            name: _cited(row, "value_gy", f"{LIMITS_FILE} alpha_beta.{name}")
            for name, row in data["alpha_beta"].items()
        }
        lq = _cited(data["lq_reliability"], "max_dose_per_fraction_gy", "lq_reliability")
        reirr = {
            name: _cited(row, "value", f"{LIMITS_FILE} reirradiation.{name}")
            for name, row in data["reirradiation"].items()
        }
        sets = {
            name: LimitSet(_refs(row, f"limit_set.{name}"), str(row["note"]))
            for name, row in data["limit_set"].items()
        }
        rows = []
        for i, row in enumerate(data["limit"]):
            where = f"{LIMITS_FILE} limit[{i}]"
            upper = row.get("limit_upper_gy")
            fractions = row["fractions"]
            if not isinstance(fractions, int) or fractions < 1:
                raise KnowledgeError(f"{where}: fractions must be a whole number >= 1")
            if row["set"] not in sets:
                raise KnowledgeError(f"{where}: unknown limit set {row['set']!r}")
            rows.append(
                LimitRow(
                    limit_set=str(row["set"]),
                    structure=str(row["structure"]),
                    metric=str(row["metric"]),
                    fractions=fractions,
                    limit_gy=_float(row, "limit_gy", where),
                    limit_upper_gy=None if upper is None else _float(row, "limit_upper_gy", where),
                    endpoint=str(row["endpoint"]),
                    source=str(row["source"]),
                    verified=bool(row["verified"]),
                )
            )
    except KeyError as exc:
        raise KnowledgeError(f"{LIMITS_FILE}: missing {exc}") from exc
    keys = [(r.limit_set, r.structure, r.metric, r.fractions) for r in rows]
    if len(set(keys)) != len(keys):
        raise KnowledgeError(f"{LIMITS_FILE}: a (set, structure, metric, fractions) row repeats")
    for required in ("cumulative_limit_eqd2_gy", "sbrt_course_limit_eqd2_gy"):
        if required not in reirr:
            raise KnowledgeError(f"{LIMITS_FILE}: reirradiation.{required} missing")
    return LimitsTable(
        alpha_beta=MappingProxyType(alpha_beta),
        lq_reliability=lq,
        reirradiation=MappingProxyType(reirr),
        limit_sets=MappingProxyType(sets),
        rows=tuple(rows),
    )


@cache
def vcf_table() -> VcfTable:
    data = load_toml(VCF_FILE)
    try:
        dose = data["dose_per_fraction"]
        drivers = {
            name: CitedText(str(row["text"]), _refs(row, f"driver.{name}"))
            for name, row in data["driver"].items()
        }
        cement = data["cement"]
        table = VcfTable(
            intermediate_from_gy=_float(dose, "intermediate_from_gy", "dose_per_fraction"),
            high_from_gy=_float(dose, "high_from_gy", "dose_per_fraction"),
            dose_references=_refs(dose, "dose_per_fraction"),
            drivers=MappingProxyType(drivers),
            incidence=CitedText(
                str(data["incidence"]["text"]), _refs(data["incidence"], "incidence")
            ),
            cement=CitedText(str(cement["text"]), _refs(cement, "cement")),
            body_involvement_gt_pct=_float(cement, "body_involvement_gt_pct", "cement"),
            body_involvement_references=_refs(cement, "cement", "body_involvement_references"),
        )
    except KeyError as exc:
        raise KnowledgeError(f"{VCF_FILE}: missing {exc}") from exc
    if set(drivers) != {"baseline_vcf", "lytic", "misalignment"}:
        raise KnowledgeError(f"{VCF_FILE}: drivers must be baseline_vcf, lytic, misalignment")
    return table


def _family(value: object, where: str) -> Family:
    if value == "cebrt":
        return "cebrt"
    if value == "sbrt":
        return "sbrt"
    raise KnowledgeError(f"{where}: family must be 'cebrt' or 'sbrt', got {value!r}")


@cache
def regimens_table() -> RegimensTable:
    data = load_toml(REGIMENS_FILE)
    try:
        regimens: dict[str, RegimenRow] = {}
        for rid, row in data["regimen"].items():
            where = f"{REGIMENS_FILE} regimen.{rid}"
            fractions = row["fractions"]
            if not isinstance(fractions, int) or fractions < 1:
                raise KnowledgeError(f"{where}: fractions must be a whole number >= 1")
            regimens[rid] = RegimenRow(
                rid, _family(row["family"], where), _float(row, "dose_gy", where), fractions
            )
        scenarios: dict[str, ScenarioRow] = {}
        for sid, row in data["scenario"].items():
            where = f"{REGIMENS_FILE} scenario.{sid}"
            family = _family(row["family"], where)
            options = []
            for j, opt in enumerate(row["option"]):
                owhere = f"{where}.option[{j}]"
                rid = str(opt["regimen"])
                if rid not in regimens:
                    raise KnowledgeError(f"{owhere}: unknown regimen {rid!r}")
                role = opt["role"]
                if role not in ("preferred", "alternative"):
                    raise KnowledgeError(f"{owhere}: role must be preferred or alternative")
                when = opt.get("when")
                if when not in (None, "poor_prognosis", "vcf_risk_high"):
                    raise KnowledgeError(f"{owhere}: unknown condition {when!r}")
                if regimens[rid].family != family:
                    raise KnowledgeError(f"{owhere}: regimen family differs from the scenario's")
                options.append(
                    OptionRow(
                        rid,
                        "preferred" if role == "preferred" else "alternative",
                        when,
                        str(opt["text"]),
                        _refs(opt, owhere),
                    )
                )
            preferred = {o.regimen for o in options if o.role == "preferred"}
            if len(preferred) != 1:
                raise KnowledgeError(f"{where}: exactly one preferred regimen is required")
            scenarios[sid] = ScenarioRow(sid, family, str(row["label"]), tuple(options))
    except KeyError as exc:
        raise KnowledgeError(f"{REGIMENS_FILE}: missing {exc}") from exc
    return RegimensTable(MappingProxyType(regimens), MappingProxyType(scenarios))


def all_reference_keys() -> frozenset[str]:
    """Every reference key the radiation tables cite (for the registry test)."""
    keys: set[str] = set()
    lt = limits_table()
    for value in (*lt.alpha_beta.values(), lt.lq_reliability, *lt.reirradiation.values()):
        keys.update(value.references)
    for limit_set in lt.limit_sets.values():
        keys.update(limit_set.references)
    keys.update(row.source for row in lt.rows)
    vt = vcf_table()
    keys.update(vt.dose_references)
    keys.update(vt.body_involvement_references)
    keys.update(vt.cement.references)
    keys.update(vt.incidence.references)
    for driver in vt.drivers.values():
        keys.update(driver.references)
    for scenario in regimens_table().scenarios.values():
        for option in scenario.options:
            keys.update(option.references)
    return frozenset(keys)
