"""Small shared value types of the radiation engine: reasons and safety flags."""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

Severity = Literal["info", "warning", "critical"]


class Reason(NamedTuple):
    """One sentence in the clinic's words and the reference keys it rests on."""

    text: str
    references: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "references": list(self.references)}


class RadiationFlag(NamedTuple):
    """A safety flag as contract §3 prints it: ``(code, severity, text, references)``."""

    code: str
    severity: Severity
    text: str
    references: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "text": self.text,
            "references": list(self.references),
        }


def unique_refs(*groups: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Reference keys of several reasons, in first-seen order, without repeats."""
    seen: dict[str, None] = {}
    for group in groups:
        for key in group:
            seen.setdefault(key, None)
    return tuple(seen)


def require_fractions(fractions: object, field: str = "fractions") -> int:
    """A fraction count is a whole number >= 1 (bool is refused)."""
    if isinstance(fractions, bool) or not isinstance(fractions, int):
        raise ValueError(f"{field}: must be a whole number of fractions, got {fractions!r}")
    if fractions < 1:
        raise ValueError(f"{field}: must be at least 1, got {fractions}")
    return fractions


def require_dose(value: object, field: str, *, positive: bool = False) -> float:
    """A dose in Gy is a finite number >= 0 (> 0 when ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field}: must be a number of Gy, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{field}: must be finite, got {value!r}")
    if number < 0 or (positive and number == 0):
        bound = "greater than 0" if positive else "0 or more"
        raise ValueError(f"{field}: must be {bound} Gy, got {value!r}")
    return number


def floor2(value: float) -> float:
    """Round a limit down to 0.01 Gy, so a printed limit never allows more than the exact one."""
    return math.floor(value * 100 + 1e-9) / 100
