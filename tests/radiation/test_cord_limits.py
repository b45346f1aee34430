"""Dose limits: every row at its boundary, fraction lookup, plan limits and evaluation.

Expected values are transcribed from radiation.md 2.1-2.3 (with safety-timing.md 2.1), not read
from the engine's table.
"""

from __future__ import annotations

from datetime import date

import pytest

from metspine.radiation import (
    Course,
    RadiationPolicy,
    assess_reirradiation,
    cord_pmax_limit,
    evaluate,
    limit_rows,
    plan_limits,
)
from metspine.radiation.limits import DoseLimit

SAHGAL_2013 = {1: 12.4, 2: 17.0, 3: 20.3, 4: 23.0, 5: 25.3}  # thecal-sac Pmax, radiation.md 2.1
# TG-101, radiation.md 2.3: (structure, metric) -> {fractions: limit}
TG101 = {
    ("cord", "d0.35cc"): {1: 10.0, 3: 18.0, 5: 23.0},
    ("cord", "d1.2cc"): {1: 7.0, 3: 12.3, 5: 14.5},
    ("cord", "d0.035cc"): {1: 14.0, 3: 21.9, 5: 30.0},
    ("cord_partial", "d10%"): {1: 10.0, 3: 18.0, 5: 23.0},
    ("cauda_equina", "d5cc"): {1: 14.0, 3: 21.9, 5: 30.0},
    ("cauda_equina", "d0.035cc"): {1: 16.0, 3: 24.0, 5: 32.0},
    ("sacral_plexus", "d5cc"): {1: 14.4, 3: 22.5, 5: 30.0},
    ("sacral_plexus", "d0.035cc"): {1: 16.0, 3: 24.0, 5: 32.0},
    ("esophagus", "d5cc"): {1: 11.9, 3: 17.7, 5: 19.5},
    ("esophagus", "d0.035cc"): {1: 15.4, 3: 25.2, 5: 35.0},
}
# safety-timing.md 2.1: 1-fraction cells corroborated only for cord and oesophagus Dmax.
TG101_UNVERIFIED = {
    (s, m, 1) for (s, m) in TG101 if (s, m) not in {("cord", "d0.035cc"), ("esophagus", "d0.035cc")}
} | {("cord_partial", "d10%", n) for n in (1, 3, 5)}

EXPECTED_ROWS = (
    {("sahgal2013", "thecal_sac", "dmax", n, v) for n, v in SAHGAL_2013.items()}
    | {("hytec2021", "cord", "dmax", n, v) for n, v in SAHGAL_2013.items()}
    | {("tg101", s, m, n, v) for (s, m), by_n in TG101.items() for n, v in by_n.items()}
)


def test_table_holds_exactly_the_sheet_rows() -> None:
    stored = {(r.limit_set, r.structure, r.metric, r.fractions, r.limit_gy) for r in limit_rows()}
    assert stored == EXPECTED_ROWS


def test_hytec_single_fraction_range() -> None:
    (row,) = [r for r in limit_rows("hytec2021") if r.fractions == 1]
    assert (row.limit_gy, row.limit_upper_gy) == (12.4, 14.0)


def test_unverified_cells_are_marked() -> None:
    unverified = {(r.structure, r.metric, r.fractions) for r in limit_rows() if not r.verified}
    assert unverified == TG101_UNVERIFIED


def _check(limit: DoseLimit, value: float) -> bool | None:
    return evaluate([limit], {limit.structure: {limit.metric: value}})[0].passed


@pytest.mark.parametrize(
    "row", limit_rows(), ids=lambda r: f"{r.limit_set}-{r.structure}-{r.metric}-{r.fractions}"
)
def test_every_row_at_its_boundary(row) -> None:  # type: ignore[no-untyped-def]
    limit = DoseLimit(
        row.structure, row.metric, row.fractions, row.limit_gy, row.endpoint, row.source,
        row.limit_set, row.structure, row.verified, (),
    )  # fmt: skip
    assert _check(limit, row.limit_gy) is True
    assert _check(limit, row.limit_gy + 0.01) is False
    result = evaluate([limit], {row.structure: {row.metric: row.limit_gy - 1.0}})[0]
    assert result.margin_gy == pytest.approx(1.0)
    assert result.source == row.source


@pytest.mark.parametrize(("n", "expected"), sorted(SAHGAL_2013.items()))
def test_cord_pmax_lookup_default_policy(n: int, expected: float) -> None:
    limit = cord_pmax_limit(n, RadiationPolicy())
    assert limit.limit_gy == expected
    assert limit.source == "hytec2021_spine_sbrt"
    assert (limit.structure, limit.metric) == ("thecal_sac", "dmax")
    assert _check(limit, expected) is True
    assert _check(limit, expected + 0.01) is False


def test_cord_pmax_lookup_other_sets_and_options() -> None:
    sahgal = RadiationPolicy(cord_limit_set="sahgal2013")
    assert cord_pmax_limit(3, sahgal).source == "sahgal2013_cord_tolerance"
    upper = RadiationPolicy(hytec_single_fraction_bound="upper")
    assert cord_pmax_limit(1, upper).limit_gy == 14.0
    assert cord_pmax_limit(2, upper).limit_gy == 17.0
    tg = RadiationPolicy(cord_limit_set="tg101")
    assert [cord_pmax_limit(n, tg).limit_gy for n in (1, 3, 5)] == [14.0, 21.9, 30.0]
    assert cord_pmax_limit(3, tg).metric == "d0.035cc"
    prv = RadiationPolicy(cord_pmax_structure="cord_prv", cord_pmax_metric="d0.035cc")
    assert (cord_pmax_limit(2, prv).structure, cord_pmax_limit(2, prv).metric) == (
        "cord_prv",
        "d0.035cc",
    )


@pytest.mark.parametrize("n", [0, 6, 10, -1])
def test_no_limit_outside_one_to_five_fractions(n: int) -> None:
    with pytest.raises(ValueError, match="fractions"):
        cord_pmax_limit(n, RadiationPolicy())


@pytest.mark.parametrize("n", [2, 4])
def test_tg101_has_no_two_or_four_fraction_limit(n: int) -> None:
    with pytest.raises(ValueError, match=r"no cord point-max limit for \d fractions"):
        cord_pmax_limit(n, RadiationPolicy(cord_limit_set="tg101"))


def test_plan_limits_de_novo_three_fractions() -> None:
    limits = plan_limits(3, RadiationPolicy())
    got = {(lim.structure, lim.metric): lim.limit_gy for lim in limits}
    assert got[("thecal_sac", "dmax")] == 20.3
    assert got[("cauda_equina", "d5cc")] == 21.9
    assert got[("esophagus", "d0.035cc")] == 25.2
    assert ("cord", "d0.035cc") not in got  # TG-101's looser cord point max is not duplicated
    assert len(limits) == 1 + 9


def test_plan_limits_two_fractions_has_no_tg101_rows() -> None:
    limits = plan_limits(2, RadiationPolicy())
    assert [(lim.structure, lim.limit_gy) for lim in limits] == [("thecal_sac", 17.0)]
    assert any("TG-101 has no limits" in r.text for r in limits[0].reasons)


def test_plan_limits_roles_filter_and_switch() -> None:
    limits = plan_limits(5, RadiationPolicy(), roles=["cauda_equina"])
    assert {lim.structure for lim in limits} == {"cauda_equina"}
    assert len(plan_limits(5, RadiationPolicy(include_tg101_limits=False))) == 1
    with pytest.raises(ValueError, match="roles"):
        plan_limits(5, RadiationPolicy(), roles=["liver"])


def test_reirradiation_replaces_the_cord_limit_when_stricter() -> None:
    # Prior 30 Gy/10 -> EQD2(2) 37.5; budget min(25, 70 - 37.5, 37.5) = 25 Gy;
    # 2 fractions: 2 d^2 + 4 d - 100 = 0 -> d = (-2 + sqrt(4 + 200)) / 2 = 6.1414 -> 12.28 Gy.
    status = assess_reirradiation(
        [Course(30, 10, date(2026, 1, 10))], date(2026, 11, 27), RadiationPolicy()
    )
    limits = plan_limits(2, RadiationPolicy(), status)
    cord = [lim for lim in limits if lim.structure == "thecal_sac"]
    assert len(cord) == 1
    assert cord[0].limit_gy == 12.28  # rounded down to 0.01 Gy
    assert cord[0].source == "sahgal2012_reirradiation"
    assert _check(cord[0], 12.28) is True
    assert _check(cord[0], 12.29) is False


def test_reirradiation_unknown_budget_is_never_a_pass() -> None:
    policy = RadiationPolicy(prior_cord_dose_when_unrecorded="unknown")
    status = assess_reirradiation([Course(30, 10, date(2026, 1, 10))], date(2026, 11, 27), policy)
    limits = plan_limits(5, policy, status)
    cord = [lim for lim in limits if lim.structure == "thecal_sac"]
    assert [lim.limit_gy for lim in cord] == [25.3, None]
    results = evaluate(cord, {"thecal_sac": {"dmax": 5.0}})
    assert [r.passed for r in results] == [True, None]


def test_evaluate_missing_structure_and_metric() -> None:
    limits = plan_limits(5, RadiationPolicy(), roles=["cord", "cauda_equina"])
    results = evaluate(limits, {"cord": {"d0.35cc": 20.0}})
    by_key = {(r.structure, r.metric): r for r in results}
    assert by_key[("cord", "d0.35cc")].passed is True
    assert by_key[("cord", "d1.2cc")].passed is None
    assert "not supplied" in by_key[("cord", "d1.2cc")].reasons[-1].text
    assert by_key[("cauda_equina", "d5cc")].passed is None
    assert by_key[("cauda_equina", "d5cc")].value_gy is None


def test_evaluate_point_max_bounds_a_missing_volume_metric() -> None:
    (limit,) = [
        lim
        for lim in plan_limits(5, RadiationPolicy(), roles=["cauda_equina"])
        if lim.metric == "d5cc"
    ]
    assert evaluate([limit], {"cauda_equina": {"dmax": 29.0}})[0].passed is True
    # A point max over the volume limit proves nothing about D5cc: unknown, not a failure.
    assert evaluate([limit], {"cauda_equina": {"Dmax": 31.0}})[0].passed is None


def test_evaluate_metric_names_are_case_insensitive_and_checked() -> None:
    limit = cord_pmax_limit(1, RadiationPolicy())
    assert evaluate([limit], {"thecal_sac": {"DMAX": 12.4}})[0].passed is True
    with pytest.raises(ValueError, match="metric"):
        evaluate([limit], {"thecal_sac": {"maximum": 12.4}})
    with pytest.raises(ValueError):
        evaluate([limit], {"thecal_sac": {"dmax": -1.0}})


def test_result_row_has_the_contract_keys() -> None:
    row = evaluate([cord_pmax_limit(1, RadiationPolicy())], {"thecal_sac": {"dmax": 11.2}})[0]
    assert set(row.as_dict()) == {
        "structure", "metric", "limit_gy", "value_gy", "passed", "margin_gy", "source"
    }  # fmt: skip
    assert row.as_dict()["margin_gy"] == pytest.approx(1.2)
