"""metspine.radiation: the pure radiation engine (LQ, cord limits, re-irradiation, regimens, VCF).

No I/O except its knowledge tables (``metspine.knowledge``), no clock, no randomness, no globals.
Every result carries its reasons as ``(text, references)`` pairs.
"""

from metspine.radiation._types import RadiationFlag, Reason, Severity
from metspine.radiation.limits import (
    STRUCTURE_ROLES,
    DoseLimit,
    LimitResult,
    cord_pmax_limit,
    evaluate,
    limit_rows,
    normalise_metric,
    plan_limits,
)
from metspine.radiation.lq import (
    LqReliability,
    alpha_beta,
    bed,
    bed_to_eqd2,
    dose_per_fraction_for_bed,
    dose_per_fraction_for_eqd2,
    eqd2,
    eqd2_to_bed,
    lq_reliability,
    sum_eqd2,
    total_dose_for_eqd2,
)
from metspine.radiation.policy import RadiationPolicy
from metspine.radiation.regimens import (
    RadiationDetails,
    Regimen,
    RegimenChoice,
    RegimenOption,
    Scenario,
    radiation_details,
    regimen,
    scenario_family,
    select_regimen,
)
from metspine.radiation.reirradiation import (
    Course,
    PlanFit,
    PlannedCourse,
    PriorCourseEqd2,
    ReirradiationStatus,
    RuleCheck,
    add_months,
    assess_reirradiation,
    whole_months_between,
)
from metspine.radiation.safety import lq_extrapolation_flag, reirradiation_flag, vcf_flag
from metspine.radiation.vcf import VcfRisk, dose_band, vcf_risk

__all__ = [
    "STRUCTURE_ROLES",
    "Course",
    "DoseLimit",
    "LimitResult",
    "LqReliability",
    "PlanFit",
    "PlannedCourse",
    "PriorCourseEqd2",
    "RadiationDetails",
    "RadiationFlag",
    "RadiationPolicy",
    "Reason",
    "Regimen",
    "RegimenChoice",
    "RegimenOption",
    "ReirradiationStatus",
    "RuleCheck",
    "Scenario",
    "Severity",
    "VcfRisk",
    "add_months",
    "alpha_beta",
    "assess_reirradiation",
    "bed",
    "bed_to_eqd2",
    "cord_pmax_limit",
    "dose_band",
    "dose_per_fraction_for_bed",
    "dose_per_fraction_for_eqd2",
    "eqd2",
    "eqd2_to_bed",
    "evaluate",
    "limit_rows",
    "lq_extrapolation_flag",
    "lq_reliability",
    "normalise_metric",
    "plan_limits",
    "radiation_details",
    "regimen",
    "reirradiation_flag",
    "scenario_family",
    "select_regimen",
    "sum_eqd2",
    "total_dose_for_eqd2",
    "vcf_flag",
    "vcf_risk",
    "whole_months_between",
]
