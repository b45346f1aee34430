"""The case form, laid out from the case model itself (so it can never drift from the contract).

Field names are dotted paths (``patient.kps``, ``lesions.0.sins.pain``); an empty input is *unknown*
and is left out of the case, never defaulted. Booleans are three-way selects (unknown / yes / no).
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le
from pydantic import BaseModel

from metspine.knowledge.histology import histology_codes
from metspine.model.case import Cancer, Events, Lesion, Patient
from metspine.model.levels import LEVELS

_UNITS = (
    ("_g_dl", " (g/dL)"),
    ("_mg_dl", " (mg/dL)"),
    ("_iu_l", " (IU/L)"),
    ("_10e3_ul", " (10³/µL)"),
    ("_mg_day", " (mg/day)"),
    ("_gy", " (Gy)"),
    ("_days", " (days)"),
    ("_months", " (months)"),
    ("_years", " (years)"),
)
_WORDS = {
    "kps": "KPS",
    "ecog": "ECOG",
    "asa": "ASA class",
    "asia": "ASIA grade",
    "frankel": "Frankel grade",
    "escc": "ESCC grade",
    "chf": "CHF",
    "copd": "COPD",
    "crp": "CRP",
    "ldh": "LDH",
    "wbc": "WBC",
    "mri": "MRI",
    "eqd2": "EQD2",
    "max": "max",
    "rt": "RT",
}
# Repeated rows offered beyond those already filled in.
EXTRA_ROWS = 1


def label_for(name: str) -> str:
    text = name
    for suffix, unit in _UNITS:
        if text.endswith(suffix):
            text = text[: -len(suffix)] + unit
            break
    words = [_WORDS.get(w, w) for w in text.split("_")]
    out = " ".join(words)
    return out[:1].upper() + out[1:]


def dom_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


@dataclass
class FormField:
    name: str
    label: str
    kind: str  # select | tri | int | float | date | text | levels
    options: list[str] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    value: str = ""

    @property
    def id(self) -> str:
        return "f-" + dom_id(self.name)

    @property
    def marker_id(self) -> str:
        return "m-" + dom_id(self.name)


@dataclass
class Group:
    """A fieldset: its legend, its fields, and nested groups (labs, SINS, each prior course)."""

    name: str
    legend: str
    fields: list[FormField] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    repeat: str | None = None  # the list this row belongs to, e.g. "lesions"

    @property
    def id(self) -> str:
        return "g-" + dom_id(self.name)


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """Strip Optional and Annotated; return the bare type and the constraint metadata."""
    meta: list[Any] = []
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            args = get_args(annotation)
            annotation, meta = args[0], [*meta, *args[1:]]
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation, meta


def _bounds(meta: list[Any]) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in meta:
        for c in getattr(m, "metadata", [m]):
            if isinstance(c, Ge):
                lo = float(c.ge)  # type: ignore[arg-type]
            elif isinstance(c, Gt):
                lo = float(c.gt)  # type: ignore[arg-type]
            elif isinstance(c, Le):
                hi = float(c.le)  # type: ignore[arg-type]
    return lo, hi


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def _group(model: type[BaseModel], prefix: str, legend: str, data: dict[str, Any]) -> Group:
    g = Group(name=prefix, legend=legend)
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}"
        ann, meta = _unwrap(info.annotation)
        lo, hi = _bounds([*meta, *info.metadata])
        value = data.get(name)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            g.groups.append(_group(ann, path, label_for(name), value or {}))
        elif get_origin(ann) is list:
            (item,) = get_args(ann)
            item, _ = _unwrap(item)
            if isinstance(item, type) and issubclass(item, BaseModel):
                rows = list(value or [])
                for i in range(len(rows) + EXTRA_ROWS):
                    row = _group(item, f"{path}.{i}", f"{label_for(name)} {i + 1}",
                                 rows[i] if i < len(rows) else {})  # fmt: skip
                    row.repeat = path
                    g.groups.append(row)
            else:
                g.fields.append(FormField(path, label_for(name), "levels", value=_text(value)))
        elif get_origin(ann) is Literal:
            opts = [str(a) for a in get_args(ann)]
            g.fields.append(FormField(path, label_for(name), "select", opts, value=_text(value)))
        elif ann is bool:
            g.fields.append(FormField(path, label_for(name), "tri", value=_text(value)))
        elif ann is int or ann is float:
            kind = "int" if ann is int else "float"
            g.fields.append(FormField(path, label_for(name), kind, [], lo, hi, _text(value)))
        elif ann is dt.date:
            g.fields.append(FormField(path, label_for(name), "date", value=_text(value)))
        elif name == "primary":
            opts = list(histology_codes())
            g.fields.append(FormField(path, "Primary tumour", "select", opts, value=_text(value)))
        else:
            g.fields.append(FormField(path, label_for(name), "text", value=_text(value)))
    return g


def lesion_group(index: int, data: dict[str, Any] | None = None) -> Group:
    g = _group(Lesion, f"lesions.{index}", f"Lesion {index + 1}", data or {})
    g.repeat = "lesions"
    return g


def build_form(data: dict[str, Any] | None, lesion_count: int | None = None) -> list[Group]:
    """The form's sections in the clinic's order: case, patient, cancer, each lesion, events."""
    data = data or {}
    head = Group(name="case", legend="Case")
    head.fields.append(FormField("id", "Case id", "text", value=_text(data.get("id"))))
    head.fields.append(
        FormField("assessed_on", "Board date (assessed on)", "date",
                  value=_text(data.get("assessed_on")))
    )  # fmt: skip
    lesions = list(data.get("lesions") or [])
    n = max(lesion_count if lesion_count is not None else len(lesions), 1)
    lesion_groups = [lesion_group(i, lesions[i] if i < len(lesions) else {}) for i in range(n)]
    return [
        head,
        _group(Patient, "patient", "Patient", data.get("patient") or {}),
        _group(Cancer, "cancer", "Cancer", data.get("cancer") or {}),
        *lesion_groups,
        _group(Events, "events", "Events", data.get("events") or {}),
    ]


def _levels(text: str) -> list[str]:
    parts = [p for p in re.split(r"[,\s;]+", text.strip().upper()) if p]
    out: list[str] = []
    for p in parts:
        if "-" in p:
            a, _, b = p.partition("-")
            if a in LEVELS and b in LEVELS:
                i, j = LEVELS.index(a), LEVELS.index(b)
                out.extend(LEVELS[min(i, j) : max(i, j) + 1])
                continue
        out.append(p)
    return out


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [
                v for _, v in sorted(node.items(), key=lambda kv: int(kv[0])) if v not in ({}, None)
            ]
        return {k: v for k, v in node.items() if v not in ({}, [], None)}
    return node


def case_from_form(form: dict[str, str]) -> dict[str, Any]:
    """A ``metspine.case/1`` dict from the posted fields; empty inputs are left out (unknown)."""
    root: dict[str, Any] = {}
    for key, raw in form.items():
        if key.startswith("_") or key == "csrf_token" or key == "version":
            continue
        value = raw.strip()
        if value == "":
            continue
        parts = key.split(".")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        last = parts[-1]
        node[last] = _levels(value) if last == "levels" else value
    out: dict[str, Any] = _listify(root)
    out["format"] = "metspine.case/1"
    return out


def field_name(path: str) -> str:
    """An engine field path (``lesions[0].sins.pain``) as a form field name (``lesions.0.sins.pain``)."""
    return re.sub(r"\[(\d+)\]", r".\1", path)


def all_fields(groups: list[Group]) -> list[FormField]:
    out: list[FormField] = []
    for g in groups:
        out.extend(g.fields)
        out.extend(all_fields(g.groups))
    return out
