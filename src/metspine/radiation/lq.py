"""Linear-quadratic (LQ) conversions: BED, EQD2, their inverse, and course summation.

Formulas (radiation.md 1.1; withers1983_eqd2, fowler1989_lq), n fractions of d Gy, D = n*d:

- BED  = D * (1 + d / (alpha/beta))
- EQD2 = BED / (1 + 2 / (alpha/beta)) = D * (d + alpha/beta) / (2 + alpha/beta)
- Sahgal's nBED (Gy2/2) and HyTEC's EQD2_2 are EQD2 with alpha/beta = 2 Gy.
- Courses are summed by converting each to EQD2 with the same alpha/beta and adding; no repair or
  time factor (as in sahgal2012_reirradiation).

LQ is used here for the cord because the cord limits were derived with it (alpha/beta 2 Gy), so it
is
a consistent unit conversion; beyond ``RadiationPolicy.lq_max_reliable_dose_per_fraction_gy`` the
result is flagged as an extrapolation (brenner2008_lq; kirkpatrick2008_lq).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from metspine.radiation._data import CitedValue, limits_table
from metspine.radiation._types import Reason, require_dose, require_fractions
from metspine.radiation.policy import RadiationPolicy

Tissue = Literal["cord", "tumour", "late_tissue"]

LQ_FORMULA_REFERENCES = ("withers1983_eqd2", "fowler1989_lq")


def _alpha_beta(alpha_beta_gy: float) -> float:
    value = require_dose(alpha_beta_gy, "alpha_beta_gy", positive=True)
    return value


def alpha_beta(tissue: Tissue) -> CitedValue:
    """The conventional alpha/beta (Gy) for ``tissue``, with its references (radiation.md 1.2)."""
    try:
        return limits_table().alpha_beta[tissue]
    except KeyError as exc:
        raise ValueError(f"tissue: unknown tissue {tissue!r}") from exc


def bed(dose_gy: float, fractions: int, alpha_beta_gy: float) -> float:
    """Biologically effective dose (Gy) of ``dose_gy`` total in ``fractions`` equal fractions."""
    total = require_dose(dose_gy, "dose_gy")
    n = require_fractions(fractions)
    ab = _alpha_beta(alpha_beta_gy)
    return total * (1.0 + (total / n) / ab)


def eqd2(dose_gy: float, fractions: int, alpha_beta_gy: float) -> float:
    """Equivalent dose in 2 Gy fractions (Gy) of ``dose_gy`` in ``fractions`` fractions."""
    total = require_dose(dose_gy, "dose_gy")
    n = require_fractions(fractions)
    ab = _alpha_beta(alpha_beta_gy)
    return total * (total / n + ab) / (2.0 + ab)


def bed_to_eqd2(bed_gy: float, alpha_beta_gy: float) -> float:
    """EQD2 = BED / (1 + 2 / (alpha/beta))."""
    value = require_dose(bed_gy, "bed_gy")
    ab = _alpha_beta(alpha_beta_gy)
    return value / (1.0 + 2.0 / ab)


def eqd2_to_bed(eqd2_gy: float, alpha_beta_gy: float) -> float:
    """BED = EQD2 * (1 + 2 / (alpha/beta))."""
    value = require_dose(eqd2_gy, "eqd2_gy")
    ab = _alpha_beta(alpha_beta_gy)
    return value * (1.0 + 2.0 / ab)


def dose_per_fraction_for_bed(target_bed_gy: float, fractions: int, alpha_beta_gy: float) -> float:
    """The dose per fraction d that gives ``target_bed_gy`` in ``fractions`` fractions.

    Solves n*d*(1 + d/ab) = B, i.e. d**2 + ab*d - ab*B/n = 0, taking the positive root
    d = (-ab + sqrt(ab**2 + 4*ab*B/n)) / 2, written in the cancellation-free form
    d = 2*(B/n) / (1 + sqrt(1 + 4*B/(n*ab))).
    """
    target = require_dose(target_bed_gy, "target_bed_gy")
    n = require_fractions(fractions)
    ab = _alpha_beta(alpha_beta_gy)
    per_fraction_bed = target / n
    return 2.0 * per_fraction_bed / (1.0 + math.sqrt(1.0 + 4.0 * per_fraction_bed / ab))


def dose_per_fraction_for_eqd2(
    target_eqd2_gy: float, fractions: int, alpha_beta_gy: float
) -> float:
    """The dose per fraction d that gives ``target_eqd2_gy`` in ``fractions`` fractions.

    radiation.md 1.1: n*d**2 + n*ab*d - E*(2 + ab) = 0, so
    d = [-ab + sqrt(ab**2 + 4*E*(2 + ab)/n)] / 2.
    """
    return dose_per_fraction_for_bed(
        eqd2_to_bed(target_eqd2_gy, alpha_beta_gy), fractions, alpha_beta_gy
    )


def total_dose_for_eqd2(target_eqd2_gy: float, fractions: int, alpha_beta_gy: float) -> float:
    """The total physical dose (Gy) in ``fractions`` fractions that reaches ``target_eqd2_gy``."""
    return fractions * dose_per_fraction_for_eqd2(target_eqd2_gy, fractions, alpha_beta_gy)


def sum_eqd2(courses: Iterable[tuple[float, int]], alpha_beta_gy: float) -> float:
    """Cumulative EQD2 of several ``(dose_gy, fractions)`` courses: convert each, then add."""
    return sum((eqd2(dose, n, alpha_beta_gy) for dose, n in courses), start=0.0)


@dataclass(frozen=True, slots=True)
class LqReliability:
    """Whether a dose per fraction lies beyond where LQ is considered reliable."""

    dose_per_fraction_gy: float
    threshold_gy: float
    extrapolated: bool
    reasons: tuple[Reason, ...]


def lq_reliability(dose_per_fraction_gy: float, policy: RadiationPolicy) -> LqReliability:
    """Flag a dose per fraction above ``policy.lq_max_reliable_dose_per_fraction_gy``.

    The threshold itself is not flagged (a dose per fraction equal to it is inside the range).
    """
    d = require_dose(dose_per_fraction_gy, "dose_per_fraction_gy")
    threshold = policy.lq_max_reliable_dose_per_fraction_gy
    refs = limits_table().lq_reliability.references
    if d > threshold:
        text = (
            f"{d:g} Gy per fraction is above {threshold:g} Gy, beyond where the LQ model is "
            "considered reliable; BED/EQD2 at this dose per fraction is an extrapolation (LQ tends "
            "to overstate the effect of large single fractions)."
        )
        return LqReliability(d, threshold, True, (Reason(text, refs),))
    text = (
        f"{d:g} Gy per fraction is within the range where LQ is considered reliable "
        f"(<= {threshold:g} Gy)."
    )
    return LqReliability(d, threshold, False, (Reason(text, refs),))
