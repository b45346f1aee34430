"""Typed access to the histology catalogue (``histology.toml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from metspine.knowledge import KnowledgeError, load_toml

Growth = Literal["slow", "moderate", "rapid"]
KatagiriGrowth = Literal["slow", "moderate", "rapid", "hormone", "targeted"]
Radiosensitivity = Literal["sensitive", "resistant"]


@dataclass(frozen=True, slots=True)
class Histology:
    code: str
    label: str
    radiosensitivity: Radiosensitivity | None
    radiosensitivity_disputed: bool
    radiosensitivity_refs: tuple[str, ...]
    hypervascular: bool | None
    tokuhashi_primary: int | None
    tokuhashi_note: str | None
    tomita_growth: Growth | None
    bauer_favourable: bool | None
    bauer_lung: bool | None
    katagiri_growth: KatagiriGrowth | None
    vdl_primary: int | None


_ALLOWED = {
    "label",
    "radiosensitivity",
    "radiosensitivity_disputed",
    "radiosensitivity_refs",
    "hypervascular",
    "tokuhashi_primary",
    "tokuhashi_note",
    "tomita_growth",
    "bauer_favourable",
    "bauer_lung",
    "katagiri_growth",
    "vdl_primary",
}


@cache
def catalogue() -> dict[str, Histology]:
    """All histologies, code -> Histology."""
    out: dict[str, Histology] = {}
    for code, row in load_toml("histology.toml").items():
        unknown = set(row) - _ALLOWED
        if unknown:
            raise KnowledgeError(f"histology {code}: unknown fields {sorted(unknown)}")
        out[code] = Histology(
            code=code,
            label=row["label"],
            radiosensitivity=row.get("radiosensitivity"),
            radiosensitivity_disputed=bool(row.get("radiosensitivity_disputed", False)),
            radiosensitivity_refs=tuple(row.get("radiosensitivity_refs", ())),
            hypervascular=row.get("hypervascular"),
            tokuhashi_primary=row.get("tokuhashi_primary"),
            tokuhashi_note=row.get("tokuhashi_note"),
            tomita_growth=row.get("tomita_growth"),
            bauer_favourable=row.get("bauer_favourable"),
            bauer_lung=row.get("bauer_lung"),
            katagiri_growth=row.get("katagiri_growth"),
            vdl_primary=row.get("vdl_primary"),
        )
    return out


@cache
def histology_codes() -> tuple[str, ...]:
    return tuple(catalogue())


def histology(code: str) -> Histology:
    try:
        return catalogue()[code]
    except KeyError as exc:
        raise KnowledgeError(f"unknown histology code {code!r}") from exc
