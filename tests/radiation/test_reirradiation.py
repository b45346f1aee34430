"""Re-irradiation budget: the sheet's examples and the user story, with the arithmetic written out."""

from __future__ import annotations

from datetime import date

import pytest

from metspine.radiation import (
    Course,
    PlannedCourse,
    RadiationPolicy,
    add_months,
    assess_reirradiation,
    whole_months_between,
)

POLICY = RadiationPolicy()


def test_defaults_are_the_sahgal_2012_rules() -> None:
    # radiation.md 2.4 / safety-timing.md 2.2: 70 Gy cumulative, 25 Gy SBRT, 0.5 share, 5 months.
    assert POLICY.reirradiation_cumulative_limit_eqd2_gy == 70.0
    assert POLICY.reirradiation_sbrt_course_limit_eqd2_gy == 25.0
    assert POLICY.reirradiation_max_sbrt_share == 0.5
    assert POLICY.reirradiation_min_interval_months == 5


def test_user_story_t12_after_20gy_in_5_eight_months_ago() -> None:
    """T12 treated to 20 Gy in 5 fractions eight months ago: what may a second SBRT deliver?

    Prior course, cord taken at the prescription: d = 4 Gy, EQD2(2) = 20 * (4 + 2) / (2 + 2) = 30 Gy.
    Budget = min(SBRT cap 25; cumulative 70 - 30 = 40; share 30 * 0.5 / 0.5 = 30) = 25 Gy EQD2.
    Physical thecal-sac Pmax for n fractions solves n d^2 + 2 n d - 25 * 4 = 0:
      n=1: d = (-2 + sqrt(4 + 400)) / 2        = 9.0499  -> 9.05 Gy
      n=2: d = (-2 + sqrt(4 + 200)) / 2        = 6.1414  -> 12.28 Gy
      n=3: d = (-2 + sqrt(4 + 400/3)) / 2      = 4.8595  -> 14.58 Gy
      n=4: d = (-2 + sqrt(4 + 100)) / 2        = 4.0990  -> 16.40 Gy
      n=5: d = (-2 + sqrt(4 + 80)) / 2         = 3.5826  -> 17.91 Gy
    Interval: 2026-03-27 to 2026-11-27 is 8 whole months >= 5.
    """
    status = assess_reirradiation([Course(20, 5, date(2026, 3, 27))], date(2026, 11, 27), POLICY)
    assert status.prior_eqd2_gy == pytest.approx(30.0)
    assert status.remaining_eqd2_gy == pytest.approx(25.0)
    assert status.binding_rule == "sbrt_course"
    assert status.interval_months == 8
    assert status.interval_ok is True
    expected = {1: 9.05, 2: 12.28, 3: 14.58, 4: 16.40, 5: 17.91}
    for n, pmax in expected.items():
        d = (-2 + (4 + 4 * 25 * 4 / n) ** 0.5) / 2
        assert status.cord_pmax_limit_gy(n) == pytest.approx(n * d)
        assert status.cord_pmax_limit_gy(n) == pytest.approx(pmax, abs=0.006)
    assert status.as_details() == {
        "prior_eqd2_gy": 30.0,
        "cumulative_limit_eqd2_gy": 70.0,
        "remaining_eqd2_gy": 25.0,
        "interval_months": 8,
        "interval_ok": True,
    }
    assert status.courses[0].basis == "prescription"
    assert any("prescription is taken as the cord dose" in r.text for r in status.reasons)


def test_user_story_when_the_policy_refuses_to_estimate() -> None:
    policy = RadiationPolicy(prior_cord_dose_when_unrecorded="unknown")
    status = assess_reirradiation([Course(20, 5, date(2026, 3, 27))], date(2026, 11, 27), policy)
    assert status.prior_eqd2_gy is None
    assert status.remaining_eqd2_gy is None
    assert status.cord_pmax_limit_gy(5) is None
    assert status.missing == ("prior_courses[0].cord_max_eqd2_gy",)
    assert status.remaining_eqd2_max_gy == 25.0  # at most the SBRT course cap
    assert status.interval_ok is True


def test_sheet_example_after_30gy_in_10() -> None:
    # radiation.md 2.4: prior EQD2 37.5; binding cap 25 -> Pmax <= 12.3 Gy/2 or <= 17.9 Gy/5.
    status = assess_reirradiation([Course(30, 10, date(2025, 1, 1))], date(2026, 1, 1), POLICY)
    assert status.prior_eqd2_gy == pytest.approx(37.5)
    assert status.remaining_eqd2_gy == pytest.approx(25.0)
    assert status.cord_pmax_limit_gy(2) == pytest.approx(12.3, abs=0.03)
    assert status.cord_pmax_limit_gy(5) == pytest.approx(17.9, abs=0.02)


def test_share_rule_binds_after_a_single_8gy() -> None:
    # 8 Gy x 1 -> EQD2(2) 8 * 10 / 4 = 20; share bound 20 * 0.5 / 0.5 = 20 < 25 -> budget 20.
    status = assess_reirradiation([Course(8, 1, date(2025, 1, 1))], date(2026, 1, 1), POLICY)
    assert status.remaining_eqd2_gy == pytest.approx(20.0)
    assert status.binding_rule == "sbrt_share"


def test_cumulative_rule_binds_after_a_high_prior_dose() -> None:
    # Recorded cord EQD2 50 + 5 = 55: cumulative bound 70 - 55 = 15 < 25 -> budget 15.
    courses = [
        Course(40, 20, date(2024, 1, 1), cord_max_eqd2_gy=50.0),
        Course(8, 1, date(2025, 1, 1), cord_max_eqd2_gy=5.0),
    ]
    status = assess_reirradiation(courses, date(2026, 1, 1), POLICY)
    assert status.prior_eqd2_gy == pytest.approx(55.0)
    assert status.remaining_eqd2_gy == pytest.approx(15.0)
    assert status.binding_rule == "cumulative"
    assert [c.basis for c in status.courses] == ["recorded", "recorded"]


def test_no_budget_left() -> None:
    status = assess_reirradiation(
        [Course(50, 25, date(2024, 1, 1), cord_max_eqd2_gy=72.0)], date(2026, 1, 1), POLICY
    )
    assert status.remaining_eqd2_gy == 0.0
    assert status.cord_pmax_limit_gy(3) == 0.0
    assert any(c.rule == "cumulative" and c.passed is False for c in status.checks)


def test_interval_rule_boundary() -> None:
    prior = [Course(20, 5, date(2026, 3, 1))]
    on_time = assess_reirradiation(prior, date(2026, 8, 1), POLICY)  # exactly 5 months
    assert (on_time.interval_months, on_time.interval_ok) == (5, True)
    early = assess_reirradiation(prior, date(2026, 7, 31), POLICY)  # one day short
    assert (early.interval_months, early.interval_ok) == (4, False)


def test_interval_unknown_end_date_is_missing() -> None:
    status = assess_reirradiation([Course(20, 5)], date(2026, 8, 1), POLICY)
    assert status.interval_months is None and status.interval_ok is None
    assert "prior_courses[0].end_date" in status.missing
    # A known recent course already breaks the rule even if another date is unknown.
    status = assess_reirradiation(
        [Course(20, 5), Course(8, 1, date(2026, 6, 1))], date(2026, 8, 1), POLICY
    )
    assert status.interval_ok is False and status.interval_months is None


def test_month_counting() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert whole_months_between(date(2026, 1, 31), date(2026, 2, 28)) == 1
    assert whole_months_between(date(2026, 1, 31), date(2026, 2, 27)) == 0
    assert whole_months_between(date(2025, 12, 15), date(2026, 5, 14)) == 4
    assert whole_months_between(date(2025, 12, 15), date(2026, 5, 15)) == 5
    with pytest.raises(ValueError):
        whole_months_between(date(2026, 2, 1), date(2026, 1, 1))


def test_plan_fit_with_a_planned_cord_pmax() -> None:
    prior = [Course(20, 5, date(2026, 3, 27))]
    # 12.28 Gy in 2 -> EQD2 = 12.28 * (6.14 + 2) / 4 = 24.99 <= 25: fits.
    fit = assess_reirradiation(prior, date(2026, 11, 27), POLICY, PlannedCourse(2, 24, 12.28)).plan
    assert fit is not None and fit.fits is True
    assert fit.planned_cord_eqd2_gy == pytest.approx(12.28 * (6.14 + 2) / 4)
    # 14 Gy in 2 -> EQD2 = 14 * 9 / 4 = 31.5 > 25: does not fit.
    fit = assess_reirradiation(prior, date(2026, 11, 27), POLICY, PlannedCourse(2, 24, 14.0)).plan
    assert fit is not None and fit.fits is False
    assert {c.rule: c.passed for c in fit.checks}["sbrt_course"] is False
    # Without the plan's cord dose the fit is open; the allowed Pmax is given.
    fit = assess_reirradiation(prior, date(2026, 11, 27), POLICY, PlannedCourse(5)).plan
    assert fit is not None and fit.fits is None
    assert fit.cord_pmax_limit_gy == pytest.approx(17.91, abs=0.006)


def test_prior_sbrt_course_is_flagged_as_outside_the_data() -> None:
    status = assess_reirradiation([Course(24, 2, date(2025, 1, 1))], date(2026, 1, 1), POLICY)
    assert status.lq_extrapolated is True
    assert any("outside the data" in r.text for r in status.reasons)


def test_impossible_inputs() -> None:
    with pytest.raises(ValueError, match="prior_courses"):
        assess_reirradiation([], date(2026, 1, 1), POLICY)
    with pytest.raises(ValueError, match=r"prior_courses\[0\].end_date"):
        assess_reirradiation([Course(20, 5, date(2026, 2, 1))], date(2026, 1, 1), POLICY)
    with pytest.raises(ValueError, match="dose_gy"):
        Course(0, 5)
    with pytest.raises(ValueError, match="fractions"):
        Course(20, 0)
    with pytest.raises(ValueError, match="cord_max_eqd2_gy"):
        Course(20, 5, cord_max_eqd2_gy=-1)
