"""Regimen selection by clinical scenario (radiation.md 3.2) and the recommendation ``details``.

The scenario -> regimen mapping lives in ``knowledge/regimens.toml`` with the trial evidence of each
option (SC.24, RTOG 0631, SCORAD III, Zelefsky/Yamada MSKCC, Laufer 2013, Al-Omair 2013, Patchell,
NOMS). It is a proposed default; the clinician overrides, and an institution can change the
preferred
regimen per scenario in ``RadiationPolicy.preferred_regimens``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from metspine.radiation._data import Family, OptionRow, regimens_table
from metspine.radiation._types import Reason, floor2
from metspine.radiation.limits import cord_pmax_limit
from metspine.radiation.policy import RadiationPolicy
from metspine.radiation.reirradiation import (
    RULE_REFS,
    Course,
    PlannedCourse,
    ReirradiationStatus,
    assess_reirradiation,
)


class Scenario(StrEnum):
    """Clinical scenarios of radiation.md 3.2 (NOMS language)."""

    PALLIATIVE_PAIN = "palliative_pain"
    """Painful, uncomplicated metastasis; poor performance status or short prognosis."""
    DE_NOVO_SBRT = "de_novo_sbrt"
    """Painful metastasis in an SC.24-like patient (good PS, SINS < 12, no symptomatic "
    "compression)."""
    DE_NOVO_SBRT_ABLATIVE = "de_novo_sbrt_ablative"
    """Radioresistant histology, oligometastatic or ablative intent; ESCC 0-1b."""
    POSTOP_SBRT = "postop_sbrt"
    """Postoperative SBRT after separation surgery."""
    POSTOP_CEBRT = "postop_cebrt"
    """Postoperative conventional RT when SBRT is unavailable."""
    REIRRADIATION_SBRT = "reirradiation_sbrt"
    """SBRT re-irradiation after prior conventional RT."""
    RADIOSENSITIVE_CEBRT = "radiosensitive_cebrt"
    """High-grade ESCC with radiosensitive histology."""
    MSCC_CEBRT = "mscc_cebrt"
    """Metastatic spinal cord compression, not a surgical candidate."""


@dataclass(frozen=True, slots=True)
class Regimen:
    """A dose-fractionation: total physical dose to the target in equal fractions."""

    id: str
    family: Family
    dose_gy: float
    fractions: int

    @property
    def dose_per_fraction_gy(self) -> float:
        return self.dose_gy / self.fractions

    def as_dict(self) -> dict[str, object]:
        return {
            "dose_gy": self.dose_gy,
            "fractions": self.fractions,
            "dose_per_fraction_gy": round(self.dose_per_fraction_gy, 4),
        }

    def label(self) -> str:
        if self.fractions == 1:
            return f"{self.dose_gy:g} Gy x 1"
        return f"{self.dose_gy:g} Gy in {self.fractions} fractions"


@dataclass(frozen=True, slots=True)
class RegimenOption:
    """A regimen offered for a scenario, with the evidence for it."""

    regimen: Regimen
    role: Literal["preferred", "alternative"]
    when: str | None
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class RegimenChoice:
    """The preferred regimen for a scenario and its alternatives."""

    scenario: Scenario
    family: Family
    preferred: RegimenOption
    alternatives: tuple[RegimenOption, ...]
    reasons: tuple[Reason, ...]


def regimen(regimen_id: str) -> Regimen:
    """A regimen of the catalogue by id (e.g. ``sbrt_24gy_2fx``)."""
    row = regimens_table().regimens.get(regimen_id)
    if row is None:
        raise ValueError(f"regimen: unknown regimen {regimen_id!r}")
    return Regimen(row.id, row.family, row.dose_gy, row.fractions)


def scenario_family(scenario: Scenario) -> Family:
    """Whether a scenario is treated with cEBRT or SBRT."""
    return regimens_table().scenarios[Scenario(scenario).value].family


def _options(scenario: Scenario) -> list[RegimenOption]:
    rows: dict[str, list[OptionRow]] = {}
    for option in regimens_table().scenarios[scenario.value].options:
        rows.setdefault(option.regimen, []).append(option)
    options = []
    for rid, group in rows.items():
        role: Literal["preferred", "alternative"] = (
            "preferred" if any(o.role == "preferred" for o in group) else "alternative"
        )
        when = next((o.when for o in group if o.when), None)
        reasons = tuple(Reason(o.text, o.references) for o in group)
        options.append(RegimenOption(regimen(rid), role, when, reasons))
    return options


def select_regimen(
    scenario: Scenario,
    policy: RadiationPolicy,
    *,
    poor_prognosis: bool | None = None,
    vcf_risk_high: bool | None = None,
) -> RegimenChoice:
    """The preferred regimen for ``scenario`` and the alternatives, each with its evidence.

    Order of choice: an option whose condition holds for this patient (``poor_prognosis``,
    ``vcf_risk_high`` is True), else the policy's preferred regimen for the scenario, else the
    table's.
    An unknown condition (None) changes nothing and is said in the reasons when it could matter.
    """
    scenario = Scenario(scenario)
    options = _options(scenario)
    row = regimens_table().scenarios[scenario.value]
    conditions = {"poor_prognosis": poor_prognosis, "vcf_risk_high": vcf_risk_high}
    reasons: list[Reason] = []
    chosen = next((o for o in options if o.when and conditions.get(o.when) is True), None)
    if chosen is not None:
        reasons.append(
            Reason(
                f"{chosen.regimen.label()} is preferred because "
                f"{(chosen.when or '').replace('_', ' ')} applies to this patient.",
                chosen.reasons[0].references,
            )
        )
    elif scenario.value in policy.preferred_regimens:
        rid = policy.preferred_regimens[scenario.value]
        chosen = next(o for o in options if o.regimen.id == rid)
        reasons.append(
            Reason(
                f"{chosen.regimen.label()} is the institution's preferred regimen for this "
                f"scenario "
                "(policy preferred_regimens).",
                chosen.reasons[0].references,
            )
        )
    else:
        chosen = next(o for o in options if o.role == "preferred")
    for option in options:
        if option.when and conditions.get(option.when) is None:
            reasons.append(
                Reason(
                    f"Whether {option.when.replace('_', ' ')} applies is unknown; if it does, "
                    f"{option.regimen.label()} would be preferred.",
                    option.reasons[0].references,
                )
            )
    reasons.insert(0, Reason(f"Scenario: {row.label}.", chosen.reasons[0].references))
    preferred = RegimenOption(chosen.regimen, "preferred", chosen.when, chosen.reasons)
    alternatives = tuple(
        RegimenOption(o.regimen, "alternative", o.when, o.reasons)
        for o in options
        if o.regimen.id != chosen.regimen.id
    )
    return RegimenChoice(scenario, row.family, preferred, alternatives, tuple(reasons))


@dataclass(frozen=True, slots=True)
class RadiationDetails:
    """What goes into a ``cebrt``/``sbrt`` recommendation's ``details`` (contract §3), with "
    "reasons."""

    family: Family
    scenario: Scenario
    regimen: Regimen
    alternatives: tuple[Regimen, ...]
    cord_pmax_gy: float | None
    limit_source: str | None
    reirradiation: ReirradiationStatus | None
    reasons: tuple[Reason, ...]
    missing: tuple[str, ...]

    def as_details(self) -> dict[str, object]:
        """JSON-ready ``details``: regimen, cord_pmax_gy, limit_source, reirradiation (if any)."""
        details: dict[str, object] = {
            "regimen": self.regimen.as_dict(),
            "cord_pmax_gy": None if self.cord_pmax_gy is None else floor2(self.cord_pmax_gy),
            "limit_source": self.limit_source,
        }
        if self.reirradiation is not None:
            details["reirradiation"] = self.reirradiation.as_details()
        details["alternative_regimens"] = [r.as_dict() for r in self.alternatives]
        return details


def radiation_details(
    family: Literal["cebrt", "sbrt"],
    scenario: Scenario,
    prior_courses: Sequence[Course],
    assessed_on: date,
    policy: RadiationPolicy,
    *,
    poor_prognosis: bool | None = None,
    vcf_risk_high: bool | None = None,
) -> RadiationDetails:
    """Regimen, cord point-max limit and (for a re-irradiated segment) the re-irradiation budget.

    ``cord_pmax_gy`` is the stricter of the de novo limit for the regimen's fraction count and, when
    there are prior courses, the remaining Sahgal 2012 budget converted to physical dose. It is None
    when no limit exists for that fractionation or the re-irradiation budget is incomplete (never
    the
    de novo limit alone in a re-irradiated segment). For cEBRT the cord is assumed to receive the
    prescription, and a re-irradiation check uses that; the reasons say so.
    """
    scenario = Scenario(scenario)
    if family not in ("cebrt", "sbrt"):
        raise ValueError(f"family: must be 'cebrt' or 'sbrt', got {family!r}")
    if scenario_family(scenario) != family:
        raise ValueError(
            f"family: scenario {scenario.value!r} is treated with {scenario_family(scenario)}, "
            f"not {family}"
        )
    choice = select_regimen(
        scenario, policy, poor_prognosis=poor_prognosis, vcf_risk_high=vcf_risk_high
    )
    chosen = choice.preferred.regimen
    reasons: list[Reason] = [*choice.reasons, *choice.preferred.reasons]
    missing: list[str] = []

    de_novo_gy: float | None = None
    de_novo_source: str | None = None
    try:
        limit = cord_pmax_limit(chosen.fractions, policy)
    except ValueError as exc:
        reasons.append(
            Reason(
                f"No de novo cord point-max limit applies to {chosen.fractions} fractions: {exc}.",
                ("hytec2021_spine_sbrt",),
            )
        )
    else:
        de_novo_gy, de_novo_source = limit.limit_gy, limit.source
        reasons.extend(limit.reasons[:1])

    status: ReirradiationStatus | None = None
    cord_gy, source = de_novo_gy, de_novo_source
    if prior_courses:
        planned_pmax = chosen.dose_gy if family == "cebrt" else None
        if family == "cebrt":
            reasons.append(
                Reason(
                    "Conventional fields usually include the cord, so its Pmax is taken as the "
                    f"prescription ({chosen.dose_gy:g} Gy) for the re-irradiation check.",
                    RULE_REFS,
                )
            )
        status = assess_reirradiation(
            prior_courses,
            assessed_on,
            policy,
            PlannedCourse(chosen.fractions, chosen.dose_gy, planned_pmax),
        )
        reasons.extend(status.reasons)
        missing.extend(status.missing)
        reirr_gy = status.cord_pmax_limit_gy(chosen.fractions)
        if reirr_gy is None:
            cord_gy, source = None, None
            reasons.append(
                Reason(
                    "The cord limit of this re-irradiated segment is unknown until the missing "
                    "inputs are supplied; the de novo limit alone would not be safe.",
                    RULE_REFS,
                )
            )
        elif de_novo_gy is None or reirr_gy < de_novo_gy:
            cord_gy, source = reirr_gy, "sahgal2012_reirradiation"
        if family == "sbrt" and scenario is not Scenario.REIRRADIATION_SBRT:
            reasons.append(
                Reason(
                    "The segment was irradiated before: the re-irradiation rules apply.",
                    RULE_REFS,
                )
            )
    elif scenario is Scenario.REIRRADIATION_SBRT:
        cord_gy, source = None, None
        missing.append("prior_courses")
        reasons.append(
            Reason(
                "Re-irradiation scenario without any prior course given: the budget cannot be "
                "computed.",
                RULE_REFS,
            )
        )
    return RadiationDetails(
        family=family,
        scenario=scenario,
        regimen=chosen,
        alternatives=tuple(o.regimen for o in choice.alternatives),
        cord_pmax_gy=cord_gy,
        limit_source=source if cord_gy is not None else None,
        reirradiation=status,
        reasons=tuple(reasons),
        missing=tuple(missing),
    )
