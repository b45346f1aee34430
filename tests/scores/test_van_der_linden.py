"""van der Linden 2005. Expected values from spec prognosis §7.2, prognosis-verification §7 and
pitfall 7; band codes from contract §3 (A 0-3, B 4-5, C 6)."""

from __future__ import annotations

import pytest

from metspine.scores.van_der_linden import van_der_linden


def score(build, patient=None, cancer=None, policy=None):
    case = build.case(patient=patient or {}, cancer=cancer or {})
    return van_der_linden(case, policy or build.policy())


def points(result, item: str):
    return next(c.points for c in result.components if c.item == item)


# KPS 80-100 → 2, 50-70 → 1, 20-40 → 0; KPS 10 is not listed and is still 0 (pitfall 7).
KPS_POINTS = {0: 0, 10: 0, 20: 0, 30: 0, 40: 0, 50: 1, 60: 1, 70: 1, 80: 2, 90: 2, 100: 2}


@pytest.mark.parametrize(("kps", "pts"), sorted(KPS_POINTS.items()))
def test_kps_points(build, kps: int, pts: int) -> None:
    r = score(build, {"kps": kps}, {"primary": "colon", "visceral_metastases": "removable"})
    # KPS + other 0 + visceral present 0
    assert points(r, "kps") == pts
    assert r.value == pts


PRIMARY = [("breast", 3), ("prostate", 2), ("lung_nsclc", 1), ("lung_sclc", 1),
           ("renal_cell", 0), ("colon", 0), ("myeloma", 0), ("other", 0)]  # fmt: skip


@pytest.mark.parametrize(("primary", "pts"), PRIMARY)
def test_primary_points(build, primary: str, pts: int) -> None:
    r = score(build, {"kps": 40}, {"primary": primary, "visceral_metastases": "removable"})
    assert points(r, "primary") == pts
    assert r.value == pts


@pytest.mark.parametrize(("v", "pts"), [("none", 1), ("removable", 0), ("unremovable", 0)])
def test_visceral_points(build, v: str, pts: int) -> None:
    r = score(build, {"kps": 40}, {"primary": "colon", "visceral_metastases": v})
    assert r.value == pts


BOUNDARIES = [
    # KPS 40 → 0 + other 0 + visceral 0 = 0
    ({"kps": 40}, {"primary": "colon", "visceral_metastases": "removable"}, 0, "A"),
    # KPS 80 → 2 + lung 1 + visceral 0 = 3
    ({"kps": 80}, {"primary": "lung_nsclc", "visceral_metastases": "removable"}, 3, "A"),
    # KPS 80 → 2 + prostate 2 + visceral 0 = 4
    ({"kps": 80}, {"primary": "prostate", "visceral_metastases": "removable"}, 4, "B"),
    # KPS 80 → 2 + prostate 2 + none 1 = 5
    ({"kps": 80}, {"primary": "prostate", "visceral_metastases": "none"}, 5, "B"),
    # KPS 80 → 2 + breast 3 + none 1 = 6: the only way to 6 (breast, good KPS, no visceral)
    ({"kps": 80}, {"primary": "breast", "visceral_metastases": "none"}, 6, "C"),
    # KPS 70 → 1 + breast 3 + none 1 = 5
    ({"kps": 70}, {"primary": "breast", "visceral_metastases": "none"}, 5, "B"),
]


@pytest.mark.parametrize(("patient", "cancer", "total", "band"), BOUNDARIES)
def test_band_boundaries(build, patient, cancer, total: int, band: str) -> None:
    r = score(build, patient, cancer)
    assert r.status == "complete"
    assert r.value == total
    assert r.band == band
    assert r.direction == "higher_better"


def test_ecog_1_straddles_b_and_c(build) -> None:
    r = score(build, {"ecog": 1}, {"primary": "breast", "visceral_metastases": "none"})
    # KPS 70/80 → 1 or 2 + breast 3 + none 1 → [5, 6]
    assert r.status == "incomplete"
    assert r.range == (5, 6)
    assert r.band is None
    assert r.possible_bands == ["B", "C"]
    assert r.missing == ["patient.kps"]
    assert "converted" in (next(c for c in r.components if c.item == "kps").note or "")


def test_ecog_1_buccheri(build) -> None:
    policy = build.policy(kps_ecog_crosswalk="buccheri")
    r = score(build, {"ecog": 1}, {"primary": "breast", "visceral_metastases": "none"}, policy)
    # KPS 80 → 2 + 3 + 1 = 6
    assert r.value == 6
    assert r.band == "C"


def test_missing_visceral(build) -> None:
    r = score(build, {"kps": 80}, {"primary": "breast"})
    # 2 + 3 + 0..1 → [5, 6]
    assert r.range == (5, 6)
    assert r.missing == ["cancer.visceral_metastases"]


def test_missing_primary(build) -> None:
    r = score(build, {"kps": 50}, {"visceral_metastases": "removable"})
    # 1 + 0..3 + 0 → [1, 4]
    assert r.range == (1, 4)
    assert r.possible_bands == ["A", "B"]
    assert r.missing == ["cancer.primary"]


def test_missing_kps(build) -> None:
    r = score(build, {}, {"primary": "prostate", "visceral_metastases": "none"})
    # 0..2 + 2 + 1 → [3, 5]
    assert r.range == (3, 5)
    assert r.missing == ["patient.kps"]
