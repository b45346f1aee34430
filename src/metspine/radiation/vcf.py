"""Vertebral compression fracture (VCF) risk after spine SBRT (sahgal2013_vcf).

Sahgal 2013 JCO (252 patients, 410 segments; VCF in 14 %, 65 % of them within 4 months) found on
multivariable analysis: dose per fraction (risk highest at >= 24 Gy, then 20-23 Gy, then <= 19 Gy),
baseline VCF, lytic tumour and spinal deformity/misalignment. The authors advise caution at >= 20 Gy
per fraction in lytic, misaligned or fractured segments.

The paper gives predictors, not a score. The engine's grading is its own plain reading of them, said
in every result:

- ``high``: >= 24 Gy per fraction, or 20-23 Gy per fraction with any structural driver;
- ``intermediate``: 20-23 Gy per fraction alone, or a structural driver at < 20 Gy per fraction;
- ``low``: < 20 Gy per fraction and no structural driver.

Dose bands are read as [0, 20), [20, 24), [24, inf) Gy (the paper's bands are whole grays).
Cement augmentation (vertebroplasty/kyphoplasty) is suggested for consideration, as expert opinion
without randomised evidence (huo2017_spine_sbrt_review), when there is a baseline VCF,
misalignment, or
a lytic lesion with > 40 % body involvement (rose2009_vcf).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

from metspine.radiation._data import vcf_table
from metspine.radiation._types import Reason, require_dose

VcfRiskLevel = Literal["low", "intermediate", "high"]
DoseBand = Literal["lt20", "20_to_23", "ge24"]
_ORDER: tuple[VcfRiskLevel, ...] = ("low", "intermediate", "high")
_STRUCTURAL = ("baseline_vcf", "lytic", "misalignment")
_GRADING_NOTE = (
    "Grading is the engine's reading of the Sahgal 2013 predictors (not a validated score): high = "
    ">= 24 Gy per fraction, or 20-23 Gy with a structural driver; intermediate = 20-23 Gy alone or "
    "a "
    "structural driver below 20 Gy; low = neither."
)


@dataclass(frozen=True, slots=True)
class VcfRisk:
    """VCF risk of a segment after SBRT. ``level`` is None when unknown inputs leave it open;
    ``level_range`` then gives the lowest and highest level the known inputs allow."""

    level: VcfRiskLevel | None
    level_range: tuple[VcfRiskLevel, VcfRiskLevel]
    dose_band: DoseBand | None
    drivers: tuple[str, ...]
    consider_cement_augmentation: bool | None
    missing: tuple[str, ...]
    reasons: tuple[Reason, ...]


def dose_band(dose_per_fraction_gy: float) -> DoseBand:
    """Sahgal 2013 dose-per-fraction band: below 20, 20 to under 24, 24 Gy or more."""
    d = require_dose(dose_per_fraction_gy, "dose_per_fraction_gy")
    table = vcf_table()
    if d >= table.high_from_gy:
        return "ge24"
    if d >= table.intermediate_from_gy:
        return "20_to_23"
    return "lt20"


def _level(band: DoseBand, structural: bool) -> VcfRiskLevel:
    if band == "ge24" or (band == "20_to_23" and structural):
        return "high"
    if band == "20_to_23" or structural:
        return "intermediate"
    return "low"


def _or3(values: list[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    if all(v is False for v in values):
        return False
    return None


def vcf_risk(
    dose_per_fraction_gy: float | None,
    *,
    lytic: bool | None,
    baseline_vcf: bool | None,
    misalignment: bool | None,
    body_involvement_gt40pct: bool | None = None,
) -> VcfRisk:
    """VCF risk for a planned SBRT dose per fraction and the segment's structural findings.

    Unknown inputs (None) are listed in ``missing``; the level is then given as a range unless every
    possible value gives the same level.
    """
    table = vcf_table()
    inputs: dict[str, bool | None] = {
        "baseline_vcf": baseline_vcf,
        "lytic": lytic,
        "misalignment": misalignment,
    }
    for name, value in (*inputs.items(), ("body_involvement_gt40pct", body_involvement_gt40pct)):
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"{name}: must be true, false or unknown, got {value!r}")
    missing = [name for name, value in inputs.items() if value is None]
    band = None if dose_per_fraction_gy is None else dose_band(dose_per_fraction_gy)
    if band is None:
        missing.insert(0, "dose_per_fraction_gy")

    bands: list[DoseBand] = [band] if band else ["lt20", "20_to_23", "ge24"]
    options = [[v] if v is not None else [False, True] for v in inputs.values()]
    levels = {_level(b, any(combo)) for b in bands for combo in itertools.product(*options)}
    low = min(levels, key=_ORDER.index)
    high = max(levels, key=_ORDER.index)
    level = low if low == high else None

    reasons: list[Reason] = []
    drivers: list[str] = []
    dose_refs = table.dose_references
    if band is not None and dose_per_fraction_gy is not None:
        words = {
            "ge24": "24 Gy or more per fraction: the highest-risk dose band",
            "20_to_23": "20-23 Gy per fraction: the intermediate dose band",
            "lt20": "below 20 Gy per fraction: the lowest-risk dose band",
        }[band]
        reasons.append(Reason(f"{dose_per_fraction_gy:g} Gy per fraction, {words}.", dose_refs))
        if band != "lt20":
            drivers.append(
                "dose_per_fraction_ge24" if band == "ge24" else "dose_per_fraction_20_23"
            )
    for name in _STRUCTURAL:
        driver = table.drivers[name]
        value = inputs[name]
        if value is True:
            drivers.append(name)
            reasons.append(Reason(f"{driver.text}: a VCF risk factor.", driver.references))
        elif value is None:
            reasons.append(Reason(f"{driver.text}: not known.", driver.references))
    reasons.append(Reason(_GRADING_NOTE, dose_refs))
    if level is None:
        reasons.append(
            Reason(
                f"With {', '.join(missing)} unknown, the risk lies between {low} and {high}.",
                dose_refs,
            )
        )
    else:
        reasons.append(Reason(f"VCF risk after SBRT: {level}.", dose_refs))
    if level != "low":
        reasons.append(Reason(table.incidence.text, table.incidence.references))

    lytic_large: bool | None
    if lytic is False or body_involvement_gt40pct is False:
        lytic_large = False
    elif lytic is True and body_involvement_gt40pct is True:
        lytic_large = True
    else:
        lytic_large = None
    cement = _or3([baseline_vcf, misalignment, lytic_large])
    if cement is None and lytic is not False and body_involvement_gt40pct is None:
        missing.append("body_involvement_gt40pct")
    if cement is True:
        reasons.append(Reason(table.cement.text, table.cement.references))
    elif cement is None:
        reasons.append(
            Reason(
                "Whether to consider cement augmentation depends on the unknown findings. "
                + table.cement.text,
                table.cement.references,
            )
        )
    return VcfRisk(
        level=level,
        level_range=(low, high),
        dose_band=band,
        drivers=tuple(drivers),
        consider_cement_augmentation=cement,
        missing=tuple(missing),
        reasons=tuple(reasons),
    )
