"""Safety-flag builders: codes and severities of contract §3."""

from __future__ import annotations

from datetime import date

from metspine.radiation import (
    Course,
    PlannedCourse,
    RadiationPolicy,
    assess_reirradiation,
    lq_extrapolation_flag,
    reirradiation_flag,
    vcf_flag,
    vcf_risk,
)

POLICY = RadiationPolicy()
CLEAN = {"lytic": False, "baseline_vcf": False, "misalignment": False}


def test_reirradiation_flag_severities() -> None:
    ok = assess_reirradiation([Course(20, 5, date(2026, 3, 27))], date(2026, 11, 27), POLICY)
    flag = reirradiation_flag(ok)
    assert (flag.code, flag.severity) == ("reirradiation", "info")
    assert "sahgal2012_reirradiation" in flag.references
    early = assess_reirradiation([Course(20, 5, date(2026, 9, 1))], date(2026, 11, 27), POLICY)
    assert reirradiation_flag(early).severity == "critical"
    spent = assess_reirradiation(
        [Course(50, 25, date(2024, 1, 1), cord_max_eqd2_gy=72.0)], date(2026, 1, 1), POLICY
    )
    assert reirradiation_flag(spent).severity == "critical"
    unknown = assess_reirradiation([Course(20, 5)], date(2026, 11, 27), POLICY)
    assert reirradiation_flag(unknown).severity == "warning"
    too_hot = assess_reirradiation(
        [Course(20, 5, date(2026, 3, 27))], date(2026, 11, 27), POLICY, PlannedCourse(2, 24, 14.0)
    )
    assert reirradiation_flag(too_hot).severity == "critical"


def test_vcf_flag() -> None:
    assert vcf_flag(vcf_risk(19, **CLEAN)) is None
    flag = vcf_flag(vcf_risk(24, **CLEAN))
    assert flag is not None and (flag.code, flag.severity) == ("vcf_risk", "warning")
    intermediate = vcf_flag(vcf_risk(20, **CLEAN))
    assert intermediate is not None and intermediate.severity == "info"
    possibly_high = vcf_flag(vcf_risk(20, lytic=None, baseline_vcf=False, misalignment=False))
    assert possibly_high is not None and possibly_high.severity == "warning"


def test_lq_extrapolation_flag() -> None:
    assert lq_extrapolation_flag(10, POLICY, purpose="course_sum") is None
    cord = lq_extrapolation_flag(12, POLICY, purpose="cord_limit")
    assert cord is not None and (cord.code, cord.severity) == ("lq_extrapolation", "info")
    summed = lq_extrapolation_flag(24, POLICY, purpose="course_sum")
    assert summed is not None and summed.severity == "warning"
    assert "brenner2008_lq" in summed.references
    assert set(summed.as_dict()) == {"code", "severity", "text", "references"}
