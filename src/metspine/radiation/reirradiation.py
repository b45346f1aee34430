"""Re-irradiation of a spinal segment: the Sahgal 2012 cord rules (sahgal2012_reirradiation).

The rules, restated by HyTEC (hytec2021_spine_sbrt), on the thecal-sac point maximum in EQD2 with
alpha/beta = 2 Gy, for SBRT (1-5 fractions) after conventional radiotherapy:

1. cumulative Pmax EQD2 over all courses <= about 70 Gy
(``reirradiation_cumulative_limit_eqd2_gy``);
2. SBRT course Pmax EQD2 <= 25 Gy (20-25 Gy band; ``reirradiation_sbrt_course_limit_eqd2_gy``);
3. SBRT share of the cumulative Pmax EQD2 <= about 0.5 (``reirradiation_max_sbrt_share``);
4. at least 5 months since the previous course (``reirradiation_min_interval_months``).

So the new course's budget is min(rule 2, rule 1 - prior, prior * share / (1 - share)), never below
0
(radiation.md 2.4), and its physical Pmax for n fractions follows from the LQ inverse.

**How months are counted.** ``interval_months`` is the number of whole calendar months from the
course's ``end_date`` to ``assessed_on``: the largest N such that end_date + N months <=
assessed_on,
where adding months keeps the day of the month and clamps it to the month's last day (31 Jan + 1
month
= 28/29 Feb). So 2026-03-01 -> 2026-08-01 is 5 months and 2026-03-01 -> 2026-07-31 is 4.

Unknown inputs are never guessed: a missing end date leaves the interval unknown, a missing cord
dose
is estimated from the prescription only if the policy says so (and the reasons say it), otherwise
the
budget is reported incomplete with the missing fields listed.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from metspine.radiation._data import limits_table
from metspine.radiation._types import Reason, floor2, require_dose, require_fractions
from metspine.radiation.lq import dose_per_fraction_for_eqd2, eqd2
from metspine.radiation.policy import RadiationPolicy

RULE_REFS = ("sahgal2012_reirradiation", "hytec2021_spine_sbrt")

Rule = Literal["interval", "cumulative", "sbrt_course", "sbrt_share"]
EstimateBasis = Literal["recorded", "prescription"]


def add_months(start: date, months: int) -> date:
    """``start`` plus whole calendar months, the day clamped to the target month's last day."""
    index = start.month - 1 + months
    year, month0 = divmod(index, 12)
    year += start.year
    day = min(start.day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


def whole_months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start`` to ``end`` (``end`` must not precede ``start``)."""
    if end < start:
        raise ValueError(f"end {end.isoformat()} precedes start {start.isoformat()}")
    months = (end.year - start.year) * 12 + (end.month - start.month)
    while months > 0 and add_months(start, months) > end:
        months -= 1
    return months


@dataclass(frozen=True, slots=True)
class Course:
    """A radiotherapy course that covered the segment.

    ``cord_max_eqd2_gy``: the cord (thecal-sac) point maximum of that course as EQD2 with
    alpha/beta = 2 Gy, when the plan recorded it.
    """

    dose_gy: float
    fractions: int
    end_date: date | None = None
    cord_max_eqd2_gy: float | None = None

    def __post_init__(self) -> None:
        require_dose(self.dose_gy, "dose_gy", positive=True)
        require_fractions(self.fractions)
        if self.end_date is not None and not isinstance(self.end_date, date):
            raise ValueError(f"end_date: must be a date, got {self.end_date!r}")
        if self.cord_max_eqd2_gy is not None:
            require_dose(self.cord_max_eqd2_gy, "cord_max_eqd2_gy")

    @property
    def dose_per_fraction_gy(self) -> float:
        return self.dose_gy / self.fractions


@dataclass(frozen=True, slots=True)
class PlannedCourse:
    """The new course: its fractions and, when known, its cord (thecal-sac) Pmax in physical Gy."""

    fractions: int
    dose_gy: float | None = None
    cord_pmax_gy: float | None = None

    def __post_init__(self) -> None:
        require_fractions(self.fractions)
        if self.dose_gy is not None:
            require_dose(self.dose_gy, "dose_gy", positive=True)
        if self.cord_pmax_gy is not None:
            require_dose(self.cord_pmax_gy, "cord_pmax_gy")


@dataclass(frozen=True, slots=True)
class PriorCourseEqd2:
    """A prior course with the cord EQD2 the engine counts for it."""

    course: Course
    eqd2_gy: float | None
    basis: EstimateBasis | None
    dose_per_fraction_above_lq_threshold: bool


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """One Sahgal 2012 rule: the value checked, its limit, and whether it passes (None: unknown)."""

    rule: Rule
    passed: bool | None
    value: float | None
    limit: float
    reason: Reason


@dataclass(frozen=True, slots=True)
class PlanFit:
    """Whether a planned course fits the re-irradiation rules."""

    fractions: int
    cord_pmax_limit_gy: float | None
    planned_cord_pmax_gy: float | None
    planned_cord_eqd2_gy: float | None
    fits: bool | None
    checks: tuple[RuleCheck, ...]
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class ReirradiationStatus:
    """The re-irradiation budget of a segment (contract §3 ``reirradiation`` details and more)."""

    prior_eqd2_gy: float | None
    cumulative_limit_eqd2_gy: float
    remaining_eqd2_gy: float | None
    interval_months: int | None
    interval_ok: bool | None
    sbrt_course_limit_eqd2_gy: float
    max_sbrt_share: float
    min_interval_months: int
    alpha_beta_gy: float
    assessed_on: date
    courses: tuple[PriorCourseEqd2, ...]
    binding_rule: Rule | None
    remaining_eqd2_max_gy: float | None
    checks: tuple[RuleCheck, ...]
    plan: PlanFit | None
    missing: tuple[str, ...]
    reasons: tuple[Reason, ...]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def lq_extrapolated(self) -> bool:
        """A prior course's dose per fraction lies beyond the policy's LQ reliability threshold."""
        return any(c.dose_per_fraction_above_lq_threshold for c in self.courses)

    def cord_pmax_limit_gy(self, fractions: int) -> float | None:
        """The physical cord Pmax (Gy) the remaining budget allows in ``fractions`` fractions."""
        n = require_fractions(fractions)
        if self.remaining_eqd2_gy is None:
            return None
        if self.remaining_eqd2_gy <= 0:
            return 0.0
        return n * dose_per_fraction_for_eqd2(self.remaining_eqd2_gy, n, self.alpha_beta_gy)

    def as_details(self) -> dict[str, object]:
        """The contract §3 ``reirradiation`` block (EQD2 with alpha/beta = 2 Gy)."""
        return {
            "prior_eqd2_gy": None if self.prior_eqd2_gy is None else round(self.prior_eqd2_gy, 2),
            "cumulative_limit_eqd2_gy": self.cumulative_limit_eqd2_gy,
            "remaining_eqd2_gy": (
                None if self.remaining_eqd2_gy is None else floor2(self.remaining_eqd2_gy)
            ),
            "interval_months": self.interval_months,
            "interval_ok": self.interval_ok,
        }


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _course_eqd2(
    index: int, course: Course, policy: RadiationPolicy, ab: float
) -> tuple[PriorCourseEqd2, Reason, str | None]:
    d = course.dose_per_fraction_gy
    above = d > policy.lq_max_reliable_dose_per_fraction_gy
    ended = f", ended {course.end_date.isoformat()}" if course.end_date else ", end date unknown"
    label = (
        f"Prior course {index + 1}: {_fmt(course.dose_gy)} Gy in {course.fractions} "
        f"fractions{ended}"
    )
    if course.cord_max_eqd2_gy is not None:
        text = (
            f"{label}: recorded cord Pmax EQD2 (alpha/beta {_fmt(ab)} Gy) "
            f"{_fmt(course.cord_max_eqd2_gy)} Gy."
        )
        return (
            PriorCourseEqd2(course, course.cord_max_eqd2_gy, "recorded", above),
            Reason(text, RULE_REFS),
            None,
        )
    if policy.prior_cord_dose_when_unrecorded == "prescription":
        value = eqd2(course.dose_gy, course.fractions, ab)
        text = (
            f"{label}: cord Pmax not recorded, so the prescription is taken as the cord dose "
            f"(policy prior_cord_dose_when_unrecorded = prescription): EQD2 = "
            f"{_fmt(course.dose_gy)} x "
            f"({_fmt(d)} + {_fmt(ab)}) / (2 + {_fmt(ab)}) = {_fmt(value)} Gy. If the cord received "
            f"a "
            "hot spot above the prescription, the true budget is smaller; record the plan's cord "
            "Pmax to remove this assumption."
        )
        return (
            PriorCourseEqd2(course, value, "prescription", above),
            Reason(text, ("withers1983_eqd2", *RULE_REFS)),
            None,
        )
    text = (
        f"{label}: cord Pmax not recorded and the policy does not estimate it from the "
        f"prescription "
        "(prior_cord_dose_when_unrecorded = unknown), so the cumulative dose is unknown."
    )
    return (
        PriorCourseEqd2(course, None, None, above),
        Reason(text, RULE_REFS),
        f"prior_courses[{index}].cord_max_eqd2_gy",
    )


def _interval(
    courses: Sequence[Course], assessed_on: date, minimum: int
) -> tuple[int | None, bool | None, list[str], Reason]:
    missing = [f"prior_courses[{i}].end_date" for i, c in enumerate(courses) if c.end_date is None]
    known: list[int] = []
    for i, course in enumerate(courses):
        if course.end_date is None:
            continue
        if course.end_date > assessed_on:
            raise ValueError(
                f"prior_courses[{i}].end_date: {course.end_date.isoformat()} is after the "
                f"assessment "
                f"date {assessed_on.isoformat()}"
            )
        known.append(whole_months_between(course.end_date, assessed_on))
    shortest = min(known) if known else None
    if shortest is not None and shortest < minimum:
        months = None if missing else shortest
        text = (
            f"Only {shortest} whole months since the most recent course that has an end date; the "
            f"rule "
            f"asks for at least {minimum} months after the previous course."
        )
        return months, False, missing, Reason(text, RULE_REFS)
    if missing:
        text = (
            "The end date of a prior course is unknown, so the interval since the last course "
            "(rule: "
            f"at least {minimum} months) cannot be checked."
        )
        return None, None, missing, Reason(text, RULE_REFS)
    assert shortest is not None
    text = (
        f"{shortest} whole months since the last course ended (counted as whole calendar months to "
        f"{assessed_on.isoformat()}); the rule asks for at least {minimum}."
    )
    return shortest, True, [], Reason(text, RULE_REFS)


def _share_bound(prior: float, share: float) -> float:
    # SBRT / (prior + SBRT) <= share  <=>  SBRT <= prior * share / (1 - share)
    return prior * share / (1.0 - share)


def _plan_fit(
    planned: PlannedCourse,
    prior: float | None,
    remaining: float | None,
    interval_check: RuleCheck,
    policy: RadiationPolicy,
    ab: float,
) -> PlanFit:
    n = planned.fractions
    reasons: list[Reason] = []
    limit_gy: float | None = None
    if remaining is not None:
        limit_gy = 0.0 if remaining <= 0 else n * dose_per_fraction_for_eqd2(remaining, n, ab)
        reasons.append(
            Reason(
                f"The remaining {_fmt(remaining)} Gy EQD2 allows a thecal-sac Pmax of "
                f"{_fmt(floor2(limit_gy))} Gy in {n} fraction{'s' if n > 1 else ''} (LQ inverse, "
                f"alpha/beta {_fmt(ab)} Gy).",
                ("withers1983_eqd2", *RULE_REFS),
            )
        )
    checks: list[RuleCheck] = [interval_check]
    planned_eqd2: float | None = None
    if planned.cord_pmax_gy is not None:
        planned_eqd2 = eqd2(planned.cord_pmax_gy, n, ab)
        cap = policy.reirradiation_sbrt_course_limit_eqd2_gy
        checks.append(
            RuleCheck(
                "sbrt_course",
                planned_eqd2 <= cap + 1e-9,
                planned_eqd2,
                cap,
                Reason(
                    f"Planned cord Pmax {_fmt(planned.cord_pmax_gy)} Gy in {n} fractions = "
                    f"{_fmt(planned_eqd2)} Gy EQD2; the course limit is {_fmt(cap)} Gy.",
                    RULE_REFS,
                ),
            )
        )
        cumulative_limit = policy.reirradiation_cumulative_limit_eqd2_gy
        share = policy.reirradiation_max_sbrt_share
        if prior is None:
            unknown_rules: tuple[tuple[Rule, float], ...] = (
                ("cumulative", cumulative_limit),
                ("sbrt_share", share),
            )
            for rule, lim in unknown_rules:
                checks.append(
                    RuleCheck(
                        rule,
                        None,
                        None,
                        lim,
                        Reason(
                            "Prior cord dose unknown, so this rule cannot be checked.", RULE_REFS
                        ),
                    )
                )
        else:
            total = prior + planned_eqd2
            ratio = planned_eqd2 / total if total > 0 else 0.0
            checks.append(
                RuleCheck(
                    "cumulative",
                    total <= cumulative_limit + 1e-9,
                    total,
                    cumulative_limit,
                    Reason(
                        f"Cumulative Pmax EQD2 {_fmt(prior)} + {_fmt(planned_eqd2)} = "
                        f"{_fmt(total)} Gy; "
                        f"the limit is about {_fmt(cumulative_limit)} Gy.",
                        RULE_REFS,
                    ),
                )
            )
            checks.append(
                RuleCheck(
                    "sbrt_share",
                    ratio <= share + 1e-9,
                    ratio,
                    share,
                    Reason(
                        f"SBRT share of the cumulative Pmax EQD2 {_fmt(planned_eqd2)} / "
                        f"{_fmt(total)} = "
                        f"{ratio:.2f}; the limit is about {share:g}.",
                        RULE_REFS,
                    ),
                )
            )
    else:
        reasons.append(
            Reason(
                "The plan's cord Pmax is not given: the plan fits if its thecal-sac Pmax stays "
                "within "
                "the limit above.",
                RULE_REFS,
            )
        )
    states = [c.passed for c in checks]
    fits: bool | None
    if False in states or (limit_gy is not None and limit_gy <= 0):
        fits = False
    elif planned.cord_pmax_gy is not None and all(s is True for s in states):
        fits = True
    else:
        fits = None
    if fits is False:
        reasons.append(
            Reason("The planned course does not fit the re-irradiation rules.", RULE_REFS)
        )
    elif fits is True:
        reasons.append(Reason("The planned course fits the re-irradiation rules.", RULE_REFS))
    return PlanFit(
        n, limit_gy, planned.cord_pmax_gy, planned_eqd2, fits, tuple(checks), tuple(reasons)
    )


def assess_reirradiation(
    prior_courses: Sequence[Course],
    assessed_on: date,
    policy: RadiationPolicy,
    planned: PlannedCourse | None = None,
) -> ReirradiationStatus:
    """The cord re-irradiation budget of a segment after ``prior_courses``, on ``assessed_on``.

    ``assessed_on`` stands for the date of the new course: the interval is counted to it.
    Raises ValueError when there is no prior course or a course ends after ``assessed_on``.
    """
    if not prior_courses:
        raise ValueError("prior_courses: re-irradiation needs at least one prior course")
    if not isinstance(assessed_on, date):
        raise ValueError(f"assessed_on: must be a date, got {assessed_on!r}")
    ab = limits_table().alpha_beta["cord"].value
    cumulative_limit = policy.reirradiation_cumulative_limit_eqd2_gy
    cap = policy.reirradiation_sbrt_course_limit_eqd2_gy
    share = policy.reirradiation_max_sbrt_share
    minimum = policy.reirradiation_min_interval_months

    reasons: list[Reason] = []
    missing: list[str] = []
    courses: list[PriorCourseEqd2] = []
    for i, course in enumerate(prior_courses):
        entry, reason, gap = _course_eqd2(i, course, policy, ab)
        courses.append(entry)
        reasons.append(reason)
        if gap:
            missing.append(gap)
        if entry.dose_per_fraction_above_lq_threshold:
            reasons.append(
                Reason(
                    f"Prior course {i + 1} gave {_fmt(course.dose_per_fraction_gy)} Gy per "
                    f"fraction, "
                    f"above {_fmt(policy.lq_max_reliable_dose_per_fraction_gy)} Gy: its EQD2 is an "
                    f"LQ "
                    "extrapolation, and Sahgal 2012 derived the rules after conventional first "
                    "courses, so re-irradiation after SBRT lies outside the data.",
                    ("sahgal2012_reirradiation", "brenner2008_lq", "kirkpatrick2008_lq"),
                )
            )

    interval_months, interval_ok, interval_missing, interval_reason = _interval(
        prior_courses, assessed_on, minimum
    )
    missing.extend(interval_missing)
    reasons.append(interval_reason)
    interval_check = RuleCheck(
        "interval",
        interval_ok,
        None if interval_months is None else float(interval_months),
        float(minimum),
        interval_reason,
    )

    known = [c.eqd2_gy for c in courses if c.eqd2_gy is not None]
    prior: float | None = sum(known) if len(known) == len(courses) else None
    remaining: float | None = None
    remaining_max: float | None = None
    binding: Rule | None = None
    checks: list[RuleCheck] = [interval_check]
    if prior is not None:
        bounds: list[tuple[float, Rule]] = [
            (cap, "sbrt_course"),
            (cumulative_limit - prior, "cumulative"),
            (_share_bound(prior, share), "sbrt_share"),
        ]
        value, binding = min(bounds, key=lambda b: b[0])
        remaining = max(0.0, value)
        reasons.append(
            Reason(
                f"Prior cord Pmax EQD2 {_fmt(prior)} Gy. Budget for the new course = min(course "
                f"limit "
                f"{_fmt(cap)}; cumulative {_fmt(cumulative_limit)} - {_fmt(prior)} = "
                f"{_fmt(cumulative_limit - prior)}; share {_fmt(prior)} x {share:g} / (1 - "
                f"{share:g}) = "
                f"{_fmt(_share_bound(prior, share))}) = {_fmt(remaining)} Gy EQD2 "
                f"(binding rule: {binding.replace('_', ' ')}).",
                RULE_REFS,
            )
        )
        checks.append(
            RuleCheck(
                "cumulative",
                prior < cumulative_limit,
                prior,
                cumulative_limit,
                Reason(
                    f"Prior cord Pmax EQD2 {_fmt(prior)} Gy against a cumulative limit of about "
                    f"{_fmt(cumulative_limit)} Gy"
                    + (
                        "." if prior < cumulative_limit else ": no room is left for another course."
                    ),
                    RULE_REFS,
                ),
            )
        )
    else:
        remaining_max = max(0.0, min(cap, cumulative_limit - sum(known)))
        reasons.append(
            Reason(
                "The prior cord dose is incomplete, so the re-irradiation budget cannot be fixed; "
                "at "
                f"most {_fmt(remaining_max)} Gy EQD2 (course limit and cumulative limit minus the "
                f"known "
                "courses). Missing: " + ", ".join(m for m in missing if "cord_max" in m) + ".",
                RULE_REFS,
            )
        )
    plan_fit = (
        None
        if planned is None
        else _plan_fit(planned, prior, remaining, interval_check, policy, ab)
    )
    if plan_fit is not None:
        reasons.extend(plan_fit.reasons)
    return ReirradiationStatus(
        prior_eqd2_gy=prior,
        cumulative_limit_eqd2_gy=cumulative_limit,
        remaining_eqd2_gy=remaining,
        interval_months=interval_months,
        interval_ok=interval_ok,
        sbrt_course_limit_eqd2_gy=cap,
        max_sbrt_share=share,
        min_interval_months=minimum,
        alpha_beta_gy=ab,
        assessed_on=assessed_on,
        courses=tuple(courses),
        binding_rule=binding,
        remaining_eqd2_max_gy=remaining_max,
        checks=tuple(checks),
        plan=plan_fit,
        missing=tuple(missing),
        reasons=tuple(reasons),
    )
