"""A small accumulator for additive scores that keeps unknown items honest.

Each item contributes either known points or the set of points its possible values would give. The
result is complete only when every item is known; otherwise the total's range is the sum of the
items' minima and maxima (optionally capped), and a band is named only if the whole range lies in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from metspine.model.assessment import Direction, ScoreResult


@dataclass(frozen=True, slots=True)
class Band:
    lo: float
    hi: float
    code: str

    def contains(self, value: float) -> bool:
        return self.lo <= value <= self.hi


def band_of(value: float, bands: Sequence[Band]) -> str | None:
    for b in bands:
        if b.contains(value):
            return b.code
    return None


def bands_between(lo: float, hi: float, bands: Sequence[Band]) -> list[str]:
    return [b.code for b in bands if b.hi >= lo and b.lo <= hi]


class Tally:
    """Collects the components of one score."""

    __slots__ = (
        "_hi_extra", "_known", "_lo_extra", "_unknown", "bands", "components", "direction", "missing",
        "name", "notes", "references", "version",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        version: str,
        direction: Direction,
        references: list[str],
        bands: Sequence[Band],
    ) -> None:
        self.name = name
        self.version = version
        self.direction: Direction = direction
        self.references = references
        self.bands = bands
        self.components: list[dict[str, object]] = []
        self._known = 0.0
        self._lo_extra = 0.0
        self._hi_extra = 0.0
        self.missing: list[str] = []
        self.notes: list[str] = []
        self._unknown = False

    def add(self, item: str, input_: str, points: float, note: str | None = None) -> None:
        self.components.append({"item": item, "input": input_, "points": points, "note": note})
        self._known += points

    def add_unknown(
        self, item: str, missing_field: str, possible: Iterable[float], note: str | None = None
    ) -> None:
        pts = list(possible)
        self.components.append({"item": item, "input": "unknown", "points": None, "note": note})
        self._unknown = True
        self.missing.append(missing_field)
        self._lo_extra += min(pts)
        self._hi_extra += max(pts)

    def add_range(
        self,
        item: str,
        input_: str,
        possible: Iterable[float],
        missing_field: str | None,
        note: str | None = None,
    ) -> None:
        """An input that is known but maps onto more than one point value (e.g. a converted ECOG)."""
        pts = sorted(set(possible))
        if len(pts) == 1:
            self.add(item, input_, pts[0], note)
            return
        self.components.append({"item": item, "input": input_, "points": None, "note": note})
        self._unknown = True
        if missing_field is not None:
            self.missing.append(missing_field)
        self._lo_extra += pts[0]
        self._hi_extra += pts[-1]

    def result(
        self,
        transform: Callable[[float], float] | None = None,
        interpretation: Callable[[str], str] | None = None,
    ) -> ScoreResult:
        t = transform or (lambda x: x)
        lo = t(self._known + self._lo_extra)
        hi = t(self._known + self._hi_extra)
        complete = lo == hi and not self._unknown
        if complete:
            value = _num(lo)
            band = band_of(value, self.bands)
            return ScoreResult.model_validate(
                {
                    "status": "complete",
                    "value": value,
                    "range": None,
                    "band": band,
                    "possible_bands": [band] if band else [],
                    "direction": self.direction,
                    "components": self.components,
                    "missing": [],
                    "references": self.references,
                    "version": self.version,
                    "name": self.name,
                    "notes": self.notes,
                    "interpretation": interpretation(band) if (interpretation and band) else None,
                }
            )
        possible = bands_between(lo, hi, self.bands)
        band = possible[0] if len(possible) == 1 else None
        return ScoreResult.model_validate(
            {
                "status": "incomplete",
                "value": None,
                "range": (_num(lo), _num(hi)),
                "band": band,
                "possible_bands": possible,
                "direction": self.direction,
                "components": self.components,
                "missing": list(dict.fromkeys(self.missing)),
                "references": self.references,
                "version": self.version,
                "name": self.name,
                "notes": self.notes,
                "interpretation": interpretation(band) if (interpretation and band) else None,
            }
        )


def _num(x: float) -> float:
    """Integers stay integers in JSON (18, not 18.0)."""
    return int(x) if float(x).is_integer() else x


def not_applicable(
    name: str, version: str, direction: Direction, references: list[str], why: str
) -> ScoreResult:
    return ScoreResult(
        status="not_applicable",
        value=None,
        direction=direction,
        references=references,
        version=version,
        name=name,
        notes=[why],
    )
