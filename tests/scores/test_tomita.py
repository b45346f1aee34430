"""Tomita 2001. Expected values from spec prognosis §3, prognosis-verification §3 and pitfall 3;
band codes from contract §3 (2-3, 4-5, 6-7, 8-10)."""

from __future__ import annotations

import pytest

from metspine.scores.tomita import tomita

SOLITARY = {"extraspinal_bone_metastases": 0, "vertebral_metastases": 1}
MULTIPLE = {"extraspinal_bone_metastases": 2, "vertebral_metastases": 1}


def score(build, lesions=None, **cancer):
    return tomita(build.case(cancer=cancer, lesions=lesions))


def points(result, item: str):
    return next(c.points for c in result.components if c.item == item)


# Growth: slow 1 (breast, thyroid, prostate), moderate 2 (kidney, uterus), rapid 4 (lung, liver,
# stomach, colon; unknown primary per implementations [S]).
GROWTH = [
    ("breast", 1), ("thyroid", 1), ("prostate", 1),
    ("renal_cell", 2), ("uterus", 2),
    ("lung_nsclc", 4), ("liver_hcc", 4), ("stomach", 4), ("colon", 4), ("unknown_primary", 4),
]  # fmt: skip


@pytest.mark.parametrize(("primary", "pts"), GROWTH)
def test_growth_points(build, primary: str, pts: int) -> None:
    r = score(build, primary=primary, visceral_metastases="none", **SOLITARY)
    # growth + none 0 + solitary 1
    assert points(r, "primary_growth") == pts
    assert r.value == pts + 1


@pytest.mark.parametrize(("v", "pts"), [("none", 0), ("removable", 2), ("unremovable", 4)])
def test_visceral_points(build, v: str, pts: int) -> None:
    # the case file's 'removable' is Tomita's 'treatable' (contract §1)
    r = score(build, primary="breast", visceral_metastases=v, **SOLITARY)
    # slow 1 + visceral + solitary 1
    assert points(r, "visceral_metastases") == pts
    assert r.value == 2 + pts


def test_bone_metastases_points(build) -> None:
    r = score(build, primary="breast", visceral_metastases="none", **SOLITARY)
    assert points(r, "bone_metastases") == 1
    r = score(build, primary="breast", visceral_metastases="none", **MULTIPLE)
    assert points(r, "bone_metastases") == 2
    # two separate lesion entries are two spinal sites: multiple
    lesions = [build.lesion_dict(["T4"], "A"), build.lesion_dict(["L2"], "B")]
    r = score(
        build, lesions=lesions, primary="breast", visceral_metastases="none",
        extraspinal_bone_metastases=0, vertebral_metastases=2,
    )  # fmt: skip
    assert points(r, "bone_metastases") == 2


def test_contiguous_two_level_tumour_counts_as_solitary(build) -> None:
    # metspine's documented convention (_burden, pitfall 15 [U]): one contiguous tumour = solitary
    lesions = [build.lesion_dict(["T11", "T12"])]
    r = score(
        build, lesions=lesions, primary="breast", visceral_metastases="none",
        extraspinal_bone_metastases=0, vertebral_metastases=2,
    )  # fmt: skip
    assert points(r, "bone_metastases") == 1


BOUNDARIES = [
    # slow 1 + none 0 + solitary 1 = 2
    ("breast", "none", SOLITARY, 2, "wide_marginal_excision"),
    # slow 1 + none 0 + multiple 2 = 3
    ("breast", "none", MULTIPLE, 3, "wide_marginal_excision"),
    # moderate 2 + none 0 + multiple 2 = 4
    ("renal_cell", "none", MULTIPLE, 4, "marginal_intralesional_excision"),
    # rapid 4 + none 0 + solitary 1 = 5
    ("lung_nsclc", "none", SOLITARY, 5, "marginal_intralesional_excision"),
    # rapid 4 + none 0 + multiple 2 = 6
    ("lung_nsclc", "none", MULTIPLE, 6, "palliative_surgery"),
    # slow 1 + untreatable 4 + multiple 2 = 7
    ("breast", "unremovable", MULTIPLE, 7, "palliative_surgery"),
    # moderate 2 + untreatable 4 + multiple 2 = 8
    ("renal_cell", "unremovable", MULTIPLE, 8, "supportive_care"),
    # rapid 4 + untreatable 4 + multiple 2 = 10
    ("colon", "unremovable", MULTIPLE, 10, "supportive_care"),
]


@pytest.mark.parametrize(("primary", "visceral", "bone", "total", "band"), BOUNDARIES)
def test_band_boundaries(build, primary, visceral, bone, total: int, band: str) -> None:
    r = score(build, primary=primary, visceral_metastases=visceral, **bone)
    assert r.status == "complete"
    assert r.value == total
    assert r.band == band
    assert r.direction == "higher_worse"


def test_clinician_growth_class_for_a_primary_tomita_does_not_name(build) -> None:
    r = score(build, primary="melanoma", visceral_metastases="none", **SOLITARY)
    # growth unknown: {1, 2, 4} + 0 + 1 → [2, 5]
    assert r.status == "incomplete"
    assert r.range == (2, 5)
    assert r.missing == ["cancer.tomita_growth"]
    r = score(
        build, primary="melanoma", tomita_growth="rapid", visceral_metastases="none", **SOLITARY
    )
    # rapid 4 + 0 + 1 = 5
    assert r.value == 5


def test_missing_primary(build) -> None:
    r = score(build, visceral_metastases="none", **SOLITARY)
    # {1, 2, 4} + 0 + 1 → [2, 5]
    assert r.range == (2, 5)
    assert r.band is None
    assert r.possible_bands == ["wide_marginal_excision", "marginal_intralesional_excision"]
    assert r.missing == ["cancer.primary"]


def test_missing_visceral(build) -> None:
    r = score(build, primary="breast", **SOLITARY)
    # 1 + {0, 2, 4} + 1 → [2, 6]
    assert r.value is None
    assert r.range == (2, 6)
    assert r.possible_bands == [
        "wide_marginal_excision",
        "marginal_intralesional_excision",
        "palliative_surgery",
    ]
    assert r.missing == ["cancer.visceral_metastases"]


def test_missing_bone_count_across_7_8(build) -> None:
    r = score(
        build, primary="lung_nsclc", visceral_metastases="removable", extraspinal_bone_metastases=0
    )
    # rapid 4 + treatable 2 + {1, 2} → [7, 8]
    assert r.range == (7, 8)
    assert r.band is None
    assert r.possible_bands == ["palliative_surgery", "supportive_care"]
    assert r.missing == ["cancer.vertebral_metastases"]


def test_extraspinal_foci_alone_decide_multiple(build) -> None:
    # any extraspinal focus next to the spinal lesion makes the disease multiple, count or not
    r = score(build, primary="breast", visceral_metastases="none", extraspinal_bone_metastases=1)
    assert r.status == "complete"
    assert r.value == 1 + 0 + 2
