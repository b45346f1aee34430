"""Bauer 1995 and modified Bauer (Leithner 2008). Expected values from spec prognosis §4,
prognosis-verification §6 and pitfall 4; band codes from contract §3 (modified) and prognosis §4
(original: 0-1 poor, 2-3 moderate, 4-5 good)."""

from __future__ import annotations

import pytest

from metspine.scores.bauer import bauer, bauer_modified

SOLITARY = {"extraspinal_bone_metastases": 0, "vertebral_metastases": 1}
MULTIPLE = {"extraspinal_bone_metastases": 3, "vertebral_metastases": 2}
NO_VISCERAL = {"visceral_metastases": "none", "brain_metastases": False}
VISCERAL = {"visceral_metastases": "removable", "brain_metastases": False}


def case(build, **cancer):
    return build.case(cancer=cancer)


def points(result, item: str):
    return next(c.points for c in result.components if c.item == item)


# The two primary items: not lung (1) and breast/kidney/lymphoma/myeloma (1).
PRIMARY = [
    ("breast", 2),  # not lung 1 + favourable 1
    ("renal_cell", 2),
    ("lymphoma", 2),
    ("myeloma", 2),
    ("prostate", 1),  # not lung 1 + not favourable 0
    ("colon", 1),
    ("thyroid", 1),
    ("lung_nsclc", 0),  # lung 0 + not favourable 0
    ("lung_sclc", 0),
]


@pytest.mark.parametrize(("primary", "pts"), PRIMARY)
def test_primary_items(build, primary: str, pts: int) -> None:
    c = case(build, primary=primary, pathological_fracture=False, **NO_VISCERAL, **SOLITARY)
    # primary items + no visceral 1 + solitary 1 (+ no fracture 1 for the original)
    assert bauer_modified(c).value == pts + 2
    assert bauer(c).value == pts + 3


def test_brain_metastases_lose_the_visceral_point(build) -> None:
    c = case(build, primary="prostate", visceral_metastases="none", brain_metastases=True,
             pathological_fracture=False, **SOLITARY)  # fmt: skip
    r = bauer_modified(c)
    assert points(r, "no_visceral_or_brain_metastases") == 0
    # prostate 1 + brain 0 + solitary 1 = 2
    assert r.value == 2


def test_fracture_only_in_original(build) -> None:
    kw = dict(primary="prostate", **NO_VISCERAL, **SOLITARY)
    # prostate 1 + no visceral 1 + solitary 1 = 3 (modified); + no fracture 1 = 4 (original)
    assert bauer(case(build, pathological_fracture=False, **kw)).value == 4
    assert bauer(case(build, pathological_fracture=True, **kw)).value == 3
    assert bauer_modified(case(build, pathological_fracture=True, **kw)).value == 3
    assert bauer_modified(case(build, pathological_fracture=False, **kw)).value == 3


ORIGINAL_BOUNDARIES = [
    # lung 0 + visceral 0 + multiple 0 + fracture 0 = 0
    ({"primary": "lung_nsclc", "pathological_fracture": True, **VISCERAL, **MULTIPLE}, 0, "poor"),
    # lung 0 + visceral 0 + multiple 0 + no fracture 1 = 1
    ({"primary": "lung_nsclc", "pathological_fracture": False, **VISCERAL, **MULTIPLE}, 1, "poor"),
    # lung 0 + no visceral 1 + multiple 0 + no fracture 1 = 2
    (
        {"primary": "lung_nsclc", "pathological_fracture": False, **NO_VISCERAL, **MULTIPLE},
        2,
        "moderate",
    ),
    # prostate 1 + no visceral 1 + multiple 0 + no fracture 1 = 3
    (
        {"primary": "prostate", "pathological_fracture": False, **NO_VISCERAL, **MULTIPLE},
        3,
        "moderate",
    ),
    # prostate 1 + no visceral 1 + solitary 1 + no fracture 1 = 4
    ({"primary": "prostate", "pathological_fracture": False, **NO_VISCERAL, **SOLITARY}, 4, "good"),
    # breast 2 + no visceral 1 + solitary 1 + no fracture 1 = 5
    ({"primary": "breast", "pathological_fracture": False, **NO_VISCERAL, **SOLITARY}, 5, "good"),
]


@pytest.mark.parametrize(("cancer", "total", "band"), ORIGINAL_BOUNDARIES)
def test_original_band_boundaries(build, cancer, total: int, band: str) -> None:
    r = bauer(case(build, **cancer))
    assert r.status == "complete"
    assert r.value == total
    assert r.band == band
    assert r.direction == "higher_better"


MODIFIED_BOUNDARIES = [
    # lung 0 + visceral 0 + multiple 0 = 0
    ({"primary": "lung_nsclc", **VISCERAL, **MULTIPLE}, 0, "poor"),
    # prostate 1 + visceral 0 + multiple 0 = 1
    ({"primary": "prostate", **VISCERAL, **MULTIPLE}, 1, "poor"),
    # prostate 1 + no visceral 1 + multiple 0 = 2
    ({"primary": "prostate", **NO_VISCERAL, **MULTIPLE}, 2, "moderate"),
    # prostate 1 + no visceral 1 + solitary 1 = 3
    ({"primary": "prostate", **NO_VISCERAL, **SOLITARY}, 3, "good"),
    # breast 2 + no visceral 1 + solitary 1 = 4
    ({"primary": "breast", **NO_VISCERAL, **SOLITARY}, 4, "good"),
]


@pytest.mark.parametrize(("cancer", "total", "band"), MODIFIED_BOUNDARIES)
def test_modified_band_boundaries(build, cancer, total: int, band: str) -> None:
    r = bauer_modified(case(build, **cancer))
    assert r.status == "complete"
    assert r.value == total
    assert r.band == band


def test_divergence_fracture_absent_plus_one_favourable(build) -> None:
    # pitfall 4: lung 0 + visceral 0 + solitary 1 → mBauer 1 (poor); + no fracture 1 → Bauer 2
    # (moderate)
    c = case(build, primary="lung_nsclc", pathological_fracture=False, **VISCERAL, **SOLITARY)
    b, m = bauer(c), bauer_modified(c)
    assert (b.value, b.band) == (2, "moderate")
    assert (m.value, m.band) == (1, "poor")


def test_divergence_fracture_present_plus_three_favourable(build) -> None:
    # pitfall 4: breast (not lung 1 + favourable 1) + no visceral 1 + multiple 0 = 3 in both;
    # fracture present adds nothing; Bauer 3 is moderate, mBauer 3 is good
    c = case(build, primary="breast", pathological_fracture=True, **NO_VISCERAL, **MULTIPLE)
    b, m = bauer(c), bauer_modified(c)
    assert (b.value, b.band) == (3, "moderate")
    assert (m.value, m.band) == (3, "good")


def test_missing_fracture_affects_only_the_original(build) -> None:
    c = case(build, primary="prostate", **NO_VISCERAL, **SOLITARY)
    # 1 + 1 + 1 = 3 known; fracture item 0..1 → [3, 4] across 3/4
    b = bauer(c)
    assert b.status == "incomplete"
    assert b.value is None
    assert b.range == (3, 4)
    assert b.band is None
    assert b.possible_bands == ["moderate", "good"]
    assert b.missing == ["cancer.pathological_fracture"]
    m = bauer_modified(c)
    assert (m.status, m.value, m.band) == ("complete", 3, "good")


def test_missing_brain_status(build) -> None:
    c = case(build, primary="breast", visceral_metastases="none", **SOLITARY)
    m = bauer_modified(c)
    # breast 2 + solitary 1 = 3 known; no visceral/brain 0..1 → [3, 4], both good
    assert m.status == "incomplete"
    assert m.range == (3, 4)
    assert m.band == "good"
    assert m.missing == ["cancer.brain_metastases"]


def test_missing_primary_opens_both_primary_items(build) -> None:
    c = case(build, **NO_VISCERAL, **SOLITARY)
    m = bauer_modified(c)
    # 1 + 1 known + primary 0..2 → [2, 4]
    assert m.range == (2, 4)
    assert m.possible_bands == ["moderate", "good"]
    assert m.missing == ["cancer.primary"]


def test_missing_skeletal_count(build) -> None:
    c = case(build, primary="prostate", extraspinal_bone_metastases=0, **NO_VISCERAL)
    m = bauer_modified(c)
    # prostate 1 + no visceral 1 known; solitary 0..1 → [2, 3] across 2/3
    assert m.range == (2, 3)
    assert m.band is None
    assert m.missing == ["cancer.vertebral_metastases"]


def test_everything_missing(build) -> None:
    c = build.case()
    assert bauer(c).range == (0, 5)
    assert bauer_modified(c).range == (0, 4)
