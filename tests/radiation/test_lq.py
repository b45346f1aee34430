"""LQ conversions against the worked numbers of radiation.md 1.3 and hand arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metspine.radiation import (
    RadiationPolicy,
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

# radiation.md 1.3: regimen (dose, fractions) -> BED10, EQD2(10), BED3, EQD2(3), BED2, EQD2(2).
# The sheet prints one decimal (its rounding is not uniform: 74.25 -> 74.2 but 78.75 -> 78.8), so
# the sheet values are compared to within 0.051 Gy.
SHEET_1_3 = [
    (8, 1, 14.4, 12.0, 29.3, 17.6, 40.0, 20.0),
    (20, 5, 28.0, 23.3, 46.7, 28.0, 60.0, 30.0),
    (30, 10, 39.0, 32.5, 60.0, 36.0, 75.0, 37.5),
    (16, 1, 41.6, 34.7, 101.3, 60.8, 144.0, 72.0),
    (18, 1, 50.4, 42.0, 126.0, 75.6, 180.0, 90.0),
    (24, 1, 81.6, 68.0, 216.0, 129.6, 312.0, 156.0),
    (24, 2, 52.8, 44.0, 120.0, 72.0, 168.0, 84.0),
    (27, 3, 51.3, 42.8, 108.0, 64.8, 148.5, 74.2),
    (30, 3, 60.0, 50.0, 130.0, 78.0, 180.0, 90.0),
    (30, 4, 52.5, 43.8, 105.0, 63.0, 142.5, 71.2),
    (30, 5, 48.0, 40.0, 90.0, 54.0, 120.0, 60.0),
    (35, 5, 59.5, 49.6, 116.7, 70.0, 157.5, 78.8),
    (40, 5, 72.0, 60.0, 146.7, 88.0, 200.0, 100.0),
]


@pytest.mark.parametrize(("dose", "n", "b10", "e10", "b3", "e3", "b2", "e2"), SHEET_1_3)
def test_worked_numbers_of_the_sheet(
    dose: float, n: int, b10: float, e10: float, b3: float, e3: float, b2: float, e2: float
) -> None:
    for ab, b, e in ((10.0, b10, e10), (3.0, b3, e3), (2.0, b2, e2)):
        assert bed(dose, n, ab) == pytest.approx(b, abs=0.051)
        assert eqd2(dose, n, ab) == pytest.approx(e, abs=0.051)


def test_hand_arithmetic_exact() -> None:
    # 20 Gy/5 at alpha/beta 2: d = 4; EQD2 = 20 * (4 + 2) / (2 + 2) = 30; BED = 20 * (1 + 4/2) = 60.
    assert eqd2(20, 5, 2) == pytest.approx(30.0)
    assert bed(20, 5, 2) == pytest.approx(60.0)
    # 27 Gy/3 at 2: d = 9; EQD2 = 27 * 11 / 4 = 74.25 (the sheet prints 74.2).
    assert eqd2(27, 3, 2) == pytest.approx(74.25)
    # 8 Gy x 1 at 3: BED = 8 * (1 + 8/3) = 29.333...; EQD2 = 8 * 11 / 5 = 17.6.
    assert bed(8, 1, 3) == pytest.approx(8 * (1 + 8 / 3))
    assert eqd2(8, 1, 3) == pytest.approx(17.6)
    # 37.5 Gy/15 at 2: d = 2.5; EQD2 = 37.5 * 4.5 / 4 = 42.1875 (sheet 42.2); 40/20 -> 40.
    assert eqd2(37.5, 15, 2) == pytest.approx(42.1875)
    assert eqd2(40, 20, 2) == pytest.approx(40.0)


@pytest.mark.parametrize(
    ("dose", "n", "expected_bed2"),
    # Sahgal's de novo Pmax limits are an iso-effect family at BED2 about 89.0-89.3 Gy:
    # 12.4*(1+6.2)=89.28; 17*(1+4.25)=89.25; 20.3*(1+3.3833)=88.98; 23*(1+2.875)=89.125;
    # 25.3*(1+2.53)=89.309.
    [(12.4, 1, 89.28), (17.0, 2, 89.25), (20.3, 3, 88.98), (23.0, 4, 89.125), (25.3, 5, 89.309)],
)
def test_sahgal_limits_are_iso_effective(dose: float, n: int, expected_bed2: float) -> None:
    assert bed(dose, n, 2) == pytest.approx(expected_bed2, abs=0.005)
    assert 44.45 <= eqd2(dose, n, 2) <= 44.7


def test_tg101_cord_dmax_check_values() -> None:
    # radiation.md 1.3: 14/1 -> 56.0; 21.9/3 -> 50.9; 30/5 -> 60.0 (EQD2, alpha/beta 2).
    assert eqd2(14, 1, 2) == pytest.approx(56.0)
    assert eqd2(21.9, 3, 2) == pytest.approx(50.9, abs=0.05)
    assert eqd2(30, 5, 2) == pytest.approx(60.0)


@pytest.mark.parametrize(
    ("n", "pmax"),
    # Physical Pmax equal to 25 Gy EQD2 (alpha/beta 2), radiation.md 1.3.
    [(1, 9.05), (2, 12.28), (3, 14.58), (4, 16.40), (5, 17.91)],
)
def test_inverse_reaches_the_reirradiation_cap(n: int, pmax: float) -> None:
    assert total_dose_for_eqd2(25, n, 2) == pytest.approx(pmax, abs=0.006)


def test_inverse_by_hand() -> None:
    # n*d^2 + n*ab*d - E*(2+ab) = 0 with E = 25, n = 1, ab = 2: d^2 + 2d - 100 = 0,
    # d = (-2 + sqrt(4 + 400)) / 2 = 9.04988.
    assert dose_per_fraction_for_eqd2(25, 1, 2) == pytest.approx((-2 + 404**0.5) / 2)
    # BED 60 in 5 fractions at ab 2 -> d = 4 (20 Gy/5).
    assert dose_per_fraction_for_bed(60, 5, 2) == pytest.approx(4.0)


def test_summation_adds_eqd2() -> None:
    # 20/5 (30.0) + 8/1 (20.0) at alpha/beta 2 = 50.0
    assert sum_eqd2([(20, 5), (8, 1)], 2) == pytest.approx(50.0)
    assert sum_eqd2([], 2) == 0.0


def test_bed_eqd2_conversions() -> None:
    assert bed_to_eqd2(60, 2) == pytest.approx(30)
    assert eqd2_to_bed(30, 2) == pytest.approx(60)


def test_alpha_beta_values_and_sources() -> None:
    assert alpha_beta("cord").value == 2.0
    assert alpha_beta("tumour").value == 10.0
    assert alpha_beta("late_tissue").value == 3.0
    assert "sahgal2012_reirradiation" in alpha_beta("cord").references


@pytest.mark.parametrize(
    ("dose", "n", "ab", "field"),
    [
        (-1, 1, 2, "dose_gy"),
        (10, 0, 2, "fractions"),
        (10, 1, 0, "alpha_beta_gy"),
        (10, True, 2, "fractions"),
        (float("nan"), 1, 2, "dose_gy"),
        (10, 1.5, 2, "fractions"),
    ],
)
def test_impossible_inputs_are_refused(dose: float, n: int, ab: float, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        eqd2(dose, n, ab)


doses = st.floats(min_value=0.0, max_value=200.0, allow_nan=False)
fractions = st.integers(min_value=1, max_value=40)
alpha_betas = st.floats(min_value=0.5, max_value=20.0, allow_nan=False)


@given(doses, fractions, alpha_betas)
def test_inverse_round_trip_eqd2(dose: float, n: int, ab: float) -> None:
    target = eqd2(dose, n, ab)
    assert dose_per_fraction_for_eqd2(target, n, ab) * n == pytest.approx(dose, rel=1e-9, abs=1e-9)


@given(doses, fractions, alpha_betas)
def test_inverse_round_trip_bed(dose: float, n: int, ab: float) -> None:
    target = bed(dose, n, ab)
    assert dose_per_fraction_for_bed(target, n, ab) * n == pytest.approx(dose, rel=1e-9, abs=1e-9)


@given(doses, fractions, alpha_betas)
def test_eqd2_is_bed_normalised(dose: float, n: int, ab: float) -> None:
    assert eqd2(dose, n, ab) == pytest.approx(bed(dose, n, ab) / (1 + 2 / ab), rel=1e-12)


@given(st.floats(min_value=0.1, max_value=100), fractions, alpha_betas)
def test_more_fractions_less_effect(dose: float, n: int, ab: float) -> None:
    # Splitting the same total dose into more fractions never raises EQD2.
    assert eqd2(dose, n + 1, ab) <= eqd2(dose, n, ab) + 1e-12


def test_lq_reliability_threshold_boundary() -> None:
    policy = RadiationPolicy()
    assert policy.lq_max_reliable_dose_per_fraction_gy == 10.0  # radiation.md 1.4; Brenner 2008
    assert not lq_reliability(10.0, policy).extrapolated
    assert lq_reliability(10.01, policy).extrapolated
    assert lq_reliability(24, policy).reasons[0].references == (
        "brenner2008_lq",
        "kirkpatrick2008_lq",
    )
    strict = RadiationPolicy(lq_max_reliable_dose_per_fraction_gy=8.0)
    assert lq_reliability(9.0, strict).extrapolated
