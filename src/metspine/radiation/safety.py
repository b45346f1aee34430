"""Safety-flag builders for the contract §3 codes reirradiation, vcf_risk and lq_extrapolation.

Each returns a :class:`RadiationFlag` ``(code, severity, text, references)`` or None when there is
nothing to flag. Severity: critical = a rule is broken or no budget is left; warning = an input is
missing, the data are extrapolated, or risk is high; info = worth knowing, within the rules.
"""

from __future__ import annotations

from typing import Literal

from metspine.radiation._data import limits_table
from metspine.radiation._types import RadiationFlag, Severity, unique_refs
from metspine.radiation.lq import lq_reliability
from metspine.radiation.policy import RadiationPolicy
from metspine.radiation.reirradiation import RULE_REFS, ReirradiationStatus
from metspine.radiation.vcf import VcfRisk

LqPurpose = Literal["cord_limit", "course_sum", "tumour_comparison"]


def reirradiation_flag(status: ReirradiationStatus) -> RadiationFlag:
    """Flag a re-irradiated segment: critical if a rule fails or no budget is left, warning if
    the budget is incomplete or a prior course is beyond the rules' data, info otherwise."""
    problems: list[str] = []
    severity: Severity = "info"
    if status.interval_ok is False:
        severity = "critical"
        problems.append(
            f"less than {status.min_interval_months} months since the last course"
            + (f" ({status.interval_months} months)" if status.interval_months is not None else "")
        )
    if status.remaining_eqd2_gy is not None and status.remaining_eqd2_gy <= 0:
        severity = "critical"
        problems.append("no cord EQD2 budget is left")
    if status.plan is not None and status.plan.fits is False and status.interval_ok is not False:
        severity = "critical"
        problems.append("the planned course does not fit the cord rules")
    if severity != "critical":
        if status.missing:
            severity = "warning"
            problems.append("budget incomplete, missing " + ", ".join(status.missing))
        if status.lq_extrapolated:
            severity = "warning"
            problems.append("a prior course was hypofractionated beyond the data of the rules")
    if status.remaining_eqd2_gy is not None:
        budget = (
            f"prior cord EQD2 {status.prior_eqd2_gy:.1f} Gy, remaining "
            f"{status.remaining_eqd2_gy:.1f}"
            f" Gy of a {status.cumulative_limit_eqd2_gy:g} Gy cumulative limit"
        )
    else:
        budget = "re-irradiation budget unknown"
    text = f"Re-irradiated segment: {budget}."
    if problems:
        text += " " + "; ".join(problems).capitalize() + "."
    refs = list(RULE_REFS)
    if status.lq_extrapolated:
        refs.extend(limits_table().lq_reliability.references)
    return RadiationFlag("reirradiation", severity, text, unique_refs(refs))


def vcf_flag(risk: VcfRisk) -> RadiationFlag | None:
    """Flag VCF risk: warning when high (or possibly high), info when intermediate, None when "
    "low."""
    top = risk.level_range[1]
    if top == "low":
        return None
    refs = unique_refs(*(r.references for r in risk.reasons))
    cement = (
        " Consider cement augmentation (expert opinion)."
        if risk.consider_cement_augmentation
        else ""
    )
    if risk.level == "high":
        text = "High VCF risk after SBRT (" + ", ".join(risk.drivers) + ")." + cement
        return RadiationFlag("vcf_risk", "warning", text, refs)
    if risk.level is None:
        text = (
            f"VCF risk after SBRT between {risk.level_range[0]} and {top}; unknown: "
            + ", ".join(risk.missing)
            + "."
            + cement
        )
        return RadiationFlag("vcf_risk", "warning" if top == "high" else "info", text, refs)
    text = "Intermediate VCF risk after SBRT (" + ", ".join(risk.drivers) + ")." + cement
    return RadiationFlag("vcf_risk", "info", text, refs)


def lq_extrapolation_flag(
    dose_per_fraction_gy: float, policy: RadiationPolicy, *, purpose: LqPurpose
) -> RadiationFlag | None:
    """Flag an LQ conversion at a dose per fraction beyond the policy threshold.

    ``cord_limit``: converting a cord limit or budget (info: the limits were derived with this very
    model, so it is a consistent unit conversion). ``course_sum``: adding courses of different
    fractionation (warning). ``tumour_comparison``: comparing tumour BED across schedules (warning:
    not a measure of efficacy across 1- and multi-fraction schedules).
    """
    check = lq_reliability(dose_per_fraction_gy, policy)
    if not check.extrapolated:
        return None
    refs = limits_table().lq_reliability.references
    base = check.reasons[0].text
    severity: Severity
    if purpose == "cord_limit":
        severity = "info"
        text = (
            base + " The cord limits were derived with the same LQ model, so this is a consistent "
            "conversion."
        )
        refs = unique_refs(refs, ("sahgal2013_cord_tolerance", "hytec2021_spine_sbrt"))
    elif purpose == "course_sum":
        severity = "warning"
        text = base + " Summing this course with others in EQD2 rests on that extrapolation."
    else:
        severity = "warning"
        text = (
            base
            + " Do not compare tumour BED across single- and multi-fraction schedules as efficacy."
        )
    return RadiationFlag("lq_extrapolation", severity, text, refs)
