"""Finding the cord, thecal sac and cauda equina among a structure set's ROI names.

The synonym lists live in ``structure_names.toml`` beside this module, headed by the AAPM TG-263
standard names (reference key ``tg263``). An explicit name from the user always wins over matching.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources

from metspine.dosimetry.errors import DosimetryInputError

ROLES = ("cord", "thecal_sac", "cauda_equina")

# A trailing PRV code as TG-263 writes it ("SpinalCord_PRV05", "Cord_PRV3") or a margin suffix.
_PRV_SUFFIX = re.compile(r"(prv\d*|\d+(\.\d+)?mm|_\d{1,2})$")


def _normal(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name).casefold()


@cache
def synonyms() -> dict[str, tuple[str, ...]]:
    """Role -> synonyms (TG-263 name first), as shipped in ``structure_names.toml``."""
    text = resources.files(__package__).joinpath("structure_names.toml").read_bytes()
    data = tomllib.loads(text.decode("utf-8"))
    return {role: tuple(str(n) for n in data[role]["names"]) for role in ROLES}


@cache
def _prv_markers() -> tuple[str, ...]:
    text = resources.files(__package__).joinpath("structure_names.toml").read_bytes()
    data = tomllib.loads(text.decode("utf-8"))
    return tuple(str(m).casefold() for m in data["prv"]["markers"])


def is_prv(name: str) -> bool:
    """True when ``name`` looks like a planning-risk volume or a margin expansion of an organ."""
    folded = name.casefold()
    if any(marker in folded for marker in _prv_markers()):
        return True
    return bool(_PRV_SUFFIX.search(re.sub(r"\s+", "", folded)))


def _strip_prv(name: str) -> str:
    folded = re.sub(r"\s+", "", name.casefold())
    folded = re.sub(r"[_\-.]?(prv\d*|\+?\d+(\.\d+)?mm|plus\d*(mm)?)$", "", folded)
    return _normal(folded)


def match_structure(names: Iterable[str], role: str, *, include_prv: bool = False) -> str | None:
    """The ROI name in ``names`` that plays ``role`` ("cord", "thecal_sac", "cauda_equina").

    Synonyms are tried in order (the TG-263 name first) and compared after folding case, spaces,
    underscores, hyphens and dots. PRV/margin structures are skipped unless ``include_prv``, in
    which case a PRV of the organ is accepted when the organ itself is absent. Returns None when
    nothing matches.
    """
    if role not in ROLES:
        raise DosimetryInputError(f"unknown structure role {role!r}; expected one of {ROLES}")
    candidates: Sequence[str] = list(names)
    plain = {_normal(n): n for n in reversed(candidates) if not is_prv(n)}
    for synonym in synonyms()[role]:
        hit = plain.get(_normal(synonym))
        if hit is not None:
            return hit
    if include_prv:
        prv = {_strip_prv(n): n for n in reversed(candidates) if is_prv(n)}
        for synonym in synonyms()[role]:
            hit = prv.get(_normal(synonym))
            if hit is not None:
                return hit
    return None


def resolve_structure(
    names: Iterable[str], role: str, explicit: str | None = None, *, include_prv: bool = False
) -> str | None:
    """An explicit name if given (it must exist), else :func:`match_structure`."""
    candidates = list(names)
    if explicit is not None:
        for n in candidates:
            if n == explicit:
                return n
        folded = _normal(explicit)
        for n in candidates:
            if _normal(n) == folded:
                return n
        raise DosimetryInputError(
            f"no structure named {explicit!r} for {role}; the structure set has "
            + ", ".join(repr(n) for n in candidates)
        )
    return match_structure(candidates, role, include_prv=include_prv)
