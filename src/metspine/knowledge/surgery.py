"""Typed, frozen access to ``surgery.toml`` (techniques), ``safety.toml`` (safety rules) and
``drugs.toml`` (systemic agents and their holds), loaded once.

Every sentence comes with the reference keys it rests on; a malformed table is a packaging bug and
raises :class:`metspine.knowledge.KnowledgeError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any, Literal

from metspine.knowledge import KnowledgeError, load_toml

DrugClass = Literal[
    "anti_vegf_antibody",
    "vegfr_tki",
    "cytotoxic",
    "checkpoint_inhibitor",
    "antiresorptive",
    "other_targeted",
]
DRUG_CLASSES: tuple[str, ...] = DrugClass.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Cited:
    """One sentence (or template) and its reference keys; ``value`` is the row's coded answer
    (an approach, a material, a modality) where it has one."""

    text: str
    references: tuple[str, ...]
    value: str | None = None


@dataclass(frozen=True, slots=True)
class Embolization:
    max_hours_before_surgery: int
    max_hours_references: tuple[str, ...]
    gelfoam_max_hours_before_surgery: int
    gelfoam_references: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SurgeryTable:
    rows: Mapping[str, Cited]  # "section.row" -> Cited
    embolization: Embolization

    def __getitem__(self, key: str) -> Cited:
        try:
            return self.rows[key]
        except KeyError as exc:
            raise KnowledgeError(f"surgery.toml has no row {key!r}") from exc


@dataclass(frozen=True, slots=True)
class Drug:
    name: str
    drug_class: DrugClass
    aliases: tuple[str, ...]
    hold_before_surgery_days: int | None
    restart_after_surgery_days: int | None
    label: str | None
    references: tuple[str, ...]
    guideline_hold_before_surgery_days: int | None
    guideline_restart_after_surgery_days: int | None
    guideline_references: tuple[str, ...]
    hold_before_sbrt_days: int | None
    sbrt_references: tuple[str, ...]
    half_life: str | None

    @property
    def display(self) -> str:
        return self.name.replace("_", "-")


def _refs(row: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    refs = row.get(key, [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise KnowledgeError(f"{where}: {key} must be a list of reference keys")
    return tuple(refs)


@cache
def surgery_table() -> SurgeryTable:
    data = load_toml("surgery.toml")
    rows: dict[str, Cited] = {}
    for section, body in data.items():
        if section == "embolization":
            continue
        for name, row in body.items():
            where = f"surgery.toml [{section}.{name}]"
            if "text" not in row or not _refs(row, "references", where):
                raise KnowledgeError(f"{where}: needs text and references")
            value = row.get("approach") or row.get("material") or row.get("modality")
            rows[f"{section}.{name}"] = Cited(
                str(row["text"]), _refs(row, "references", where), value
            )
    e = data["embolization"]
    emb = Embolization(
        int(e["max_hours_before_surgery"]),
        _refs(e, "max_hours_references", "embolization"),
        int(e["gelfoam_max_hours_before_surgery"]),
        _refs(e, "gelfoam_references", "embolization"),
    )
    return SurgeryTable(MappingProxyType(rows), emb)


@dataclass(frozen=True, slots=True)
class SafetyRule:
    """One safety code's templates: ``texts[name]`` with ``refs(name)`` (the name's own
    ``<name>_references`` or the rule's ``references``)."""

    code: str
    texts: Mapping[str, str]
    numbers: Mapping[str, float]
    references_by_text: Mapping[str, tuple[str, ...]]
    references: tuple[str, ...]

    def text(self, name: str, **values: object) -> str:
        try:
            template = self.texts[name]
        except KeyError as exc:
            raise KnowledgeError(f"safety.toml [{self.code}] has no text {name!r}") from exc
        return template.format(**values) if values else template

    def refs(self, name: str) -> tuple[str, ...]:
        return self.references_by_text.get(name, self.references)


@cache
def safety_rules() -> Mapping[str, SafetyRule]:
    out: dict[str, SafetyRule] = {}
    for code, body in load_toml("safety.toml").items():
        texts: dict[str, str] = {}
        numbers: dict[str, float] = {}
        by_text: dict[str, tuple[str, ...]] = {}
        for k, v in body.items():
            if k == "references":
                continue
            if k.endswith("_references"):
                by_text[k.removesuffix("_references")] = _refs(body, k, code)
            elif isinstance(v, str):
                texts[k] = v
            elif isinstance(v, int | float) and not isinstance(v, bool):
                numbers[k] = float(v)
            else:
                raise KnowledgeError(f"safety.toml [{code}].{k}: unexpected value {v!r}")
        refs = _refs(body, "references", code)
        if not refs and not by_text:
            raise KnowledgeError(f"safety.toml [{code}]: no references")
        out[code] = SafetyRule(
            code,
            MappingProxyType(texts),
            MappingProxyType(numbers),
            MappingProxyType(by_text),
            refs,
        )
    return MappingProxyType(out)


def _opt_int(row: Mapping[str, Any], key: str) -> int | None:
    v = row.get(key)
    return None if v is None else int(v)


@cache
def drugs() -> Mapping[str, Drug]:
    """Agents by every name a case file may use (generic, alias), normalised by :func:`drug_key`."""
    by_name: dict[str, Drug] = {}
    for name, row in load_toml("drugs.toml").items():
        cls = row.get("class")
        if cls not in DRUG_CLASSES:
            raise KnowledgeError(f"drugs.toml [{name}]: unknown class {cls!r}")
        refs = _refs(row, "references", name)
        d = Drug(
            name=name,
            drug_class=cls,
            aliases=tuple(row.get("aliases", ())),
            hold_before_surgery_days=_opt_int(row, "hold_before_surgery_days"),
            restart_after_surgery_days=_opt_int(row, "restart_after_surgery_days"),
            label=row.get("label"),
            references=refs,
            guideline_hold_before_surgery_days=_opt_int(row, "guideline_hold_before_surgery_days"),
            guideline_restart_after_surgery_days=_opt_int(
                row, "guideline_restart_after_surgery_days"
            ),
            guideline_references=_refs(row, "guideline_references", name),
            hold_before_sbrt_days=_opt_int(row, "hold_before_sbrt_days"),
            sbrt_references=_refs(row, "sbrt_references", name),
            half_life=row.get("half_life"),
        )
        if d.hold_before_surgery_days is not None and not d.references:
            raise KnowledgeError(f"drugs.toml [{name}]: a hold needs its label reference")
        if d.hold_before_sbrt_days is not None and not d.sbrt_references:
            raise KnowledgeError(f"drugs.toml [{name}]: an SBRT hold needs its reference")
        for key in (name, *d.aliases):
            k = drug_key(key)
            if k in by_name and by_name[k] is not d:
                raise KnowledgeError(f"drugs.toml: name {key!r} used twice")
            by_name[k] = d
    return MappingProxyType(by_name)


def drug_key(name: str) -> str:
    """Normalise a drug name as a case file may spell it: case, spaces, hyphens."""
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def drug(name: str) -> Drug | None:
    """The agent a case names, or None when the knowledge base does not know it."""
    return drugs().get(drug_key(name))
