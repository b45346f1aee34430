"""Revised Tokuhashi (Tokuhashi 2005). Expected values from spec prognosis §2, clinical §4.6,
prognosis-verification §4 and pitfalls §8.3 (1, 2, 6, 7); band codes from contract §3."""

from __future__ import annotations

from typing import Any

import pytest

from metspine.scores.tokuhashi import tokuhashi

# A case scoring the maximum on every item:
# KPS 80 → 2, extraspinal foci 0 → 2, vertebral bodies 1 → 2, no major-organ metastases → 2,
# breast → 5, Frankel E → 2; total 15.
FULL_PATIENT: dict[str, Any] = {"kps": 80, "frankel": "E"}
FULL_CANCER: dict[str, Any] = {
    "primary": "breast",
    "extraspinal_bone_metastases": 0,
    "vertebral_metastases": 1,
    "visceral_metastases": "none",
    "brain_metastases": False,
}


def score(build, patient=None, cancer=None, policy=None, lesions=None):
    p = {**FULL_PATIENT, **(patient or {})}
    c = {**FULL_CANCER, **(cancer or {})}
    p = {k: v for k, v in p.items() if v is not None}
    c = {k: v for k, v in c.items() if v is not None}
    case = build.case(patient=p, cancer=c, lesions=lesions)
    return tokuhashi(case, policy or build.policy())


def points(result, item: str):
    return next(c.points for c in result.components if c.item == item)


def test_maximum_is_15(build) -> None:
    r = score(build)
    # 2 + 2 + 2 + 2 + 5 + 2 = 15
    assert r.status == "complete"
    assert r.value == 15
    assert r.band == "ge_12_months"
    assert r.direction == "higher_better"


# General condition (KPS): 10-40 → 0, 50-70 → 1, 80-100 → 2; KPS 10 (and 0) still 0 (pitfall 7).
KPS_POINTS = {0: 0, 10: 0, 20: 0, 30: 0, 40: 0, 50: 1, 60: 1, 70: 1, 80: 2, 90: 2, 100: 2}


@pytest.mark.parametrize(("kps", "pts"), sorted(KPS_POINTS.items()))
def test_general_condition_points(build, kps: int, pts: int) -> None:
    r = score(build, patient={"kps": kps})
    # other items 2 + 2 + 2 + 5 + 2 = 13
    assert points(r, "general_condition_kps") == pts
    assert r.value == 13 + pts


@pytest.mark.parametrize(("n", "pts"), [(0, 2), (1, 1), (2, 1), (3, 0), (4, 0), (12, 0)])
def test_extraspinal_bone_foci_points(build, n: int, pts: int) -> None:
    r = score(build, cancer={"extraspinal_bone_metastases": n})
    assert points(r, "extraspinal_bone_metastases") == pts
    assert r.value == 13 + pts


@pytest.mark.parametrize(("n", "pts"), [(1, 2), (2, 1), (3, 0), (4, 0), (10, 0)])
def test_vertebral_body_points(build, n: int, pts: int) -> None:
    # prognosis-verification §4: ≥3 → 0, 2 → 1, 1 → 2
    r = score(build, cancer={"vertebral_metastases": n})
    assert points(r, "vertebral_metastases") == pts
    assert r.value == 13 + pts


@pytest.mark.parametrize(("v", "pts"), [("none", 2), ("removable", 1), ("unremovable", 0)])
def test_major_organ_points(build, v: str, pts: int) -> None:
    r = score(build, cancer={"visceral_metastases": v})
    assert points(r, "major_organ_metastases") == pts
    assert r.value == 13 + pts


# Primary site (prognosis §2 table; pitfall 2): 0 lung, osteosarcoma, stomach, bladder, oesophagus,
# pancreas; 1 liver, gallbladder, unidentified; 2 others; 3 kidney, uterus; 4 rectum;
# 5 thyroid, breast, prostate, carcinoid.
PRIMARY_POINTS = {
    "lung_nsclc": 0, "lung_sclc": 0, "osteosarcoma": 0, "stomach": 0, "bladder": 0,
    "esophagus": 0, "pancreas": 0,
    "liver_hcc": 1, "gallbladder": 1, "unknown_primary": 1,
    "colon": 2, "melanoma": 2, "sarcoma": 2, "ovary": 2, "head_neck": 2, "seminoma": 2,
    "germ_cell": 2, "neuroendocrine": 2,
    "renal_cell": 3, "uterus": 3,
    "rectum": 4,
    "thyroid": 5, "breast": 5, "prostate": 5, "carcinoid": 5,
}  # fmt: skip


@pytest.mark.parametrize(("primary", "pts"), sorted(PRIMARY_POINTS.items()))
def test_primary_site_points(build, primary: str, pts: int) -> None:
    r = score(build, cancer={"primary": primary})
    # other items 2 + 2 + 2 + 2 + 2 = 10
    assert points(r, "primary_site") == pts
    assert r.value == 10 + pts


def test_colon_2_but_rectum_4(build) -> None:
    # pitfall 2: colon is "others" (2), rectum is named (4)
    assert points(score(build, cancer={"primary": "colon"}), "primary_site") == 2
    assert points(score(build, cancer={"primary": "rectum"}), "primary_site") == 4


@pytest.mark.parametrize("primary", ["myeloma", "lymphoma", "plasmacytoma"])
def test_haematological_primaries_are_others_with_a_note(build, primary: str) -> None:
    # prognosis-verification §4: score as "others" (2) with a visible warning
    r = score(build, cancer={"primary": primary})
    comp = next(c for c in r.components if c.item == "primary_site")
    assert comp.points == 2
    assert comp.note is not None
    assert r.notes  # the warning reaches the result
    assert r.value == 12


def test_catalogue_other_is_not_guessed_but_allows_others_2(build) -> None:
    r = score(build, cancer={"primary": "other"})
    # 10 known + primary 0..5 → [10, 15]; the "others" reading (12) lies inside
    assert r.status == "incomplete"
    assert r.range == (10, 15)
    assert r.missing == ["cancer.primary"]


@pytest.mark.parametrize(("grade", "pts"), [("A", 0), ("B", 0), ("C", 1), ("D", 1), ("E", 2)])
def test_frankel_points(build, grade: str, pts: int) -> None:
    r = score(build, patient={"frankel": grade})
    assert points(r, "palsy_frankel") == pts
    assert r.value == 13 + pts


# Band boundaries (contract §3: lt_6_months 0-8, ge_6_months 9-11, ge_12_months 12-15). Labels must
# not be inverted (pitfall 1): 8 is "< 6 months", 12 is "≥ 12 months".
BOUNDARIES = [
    # KPS 40 → 0 + extraspinal 3 → 0 + vertebral 3 → 0 + unremovable 0 + lung 0 + Frankel A 0 = 0
    (
        {"kps": 40, "frankel": "A"},
        {"extraspinal_bone_metastases": 3, "vertebral_metastases": 3,
         "visceral_metastases": "unremovable", "primary": "lung_nsclc"},
        0,
        "lt_6_months",
    ),
    # KPS 80 → 2 + extraspinal 3 → 0 + vertebral 3 → 0 + unremovable 0 + breast 5 + Frankel C 1 = 8
    (
        {"kps": 80, "frankel": "C"},
        {"extraspinal_bone_metastases": 3, "vertebral_metastases": 3,
         "visceral_metastases": "unremovable"},
        8,
        "lt_6_months",
    ),
    # as above with Frankel E 2 = 9
    (
        {"kps": 80, "frankel": "E"},
        {"extraspinal_bone_metastases": 3, "vertebral_metastases": 3,
         "visceral_metastases": "unremovable"},
        9,
        "ge_6_months",
    ),
    # KPS 80 → 2 + extraspinal 0 → 2 + vertebral 3 → 0 + unremovable 0 + breast 5 + E 2 = 11
    (
        {"kps": 80, "frankel": "E"},
        {"extraspinal_bone_metastases": 0, "vertebral_metastases": 3,
         "visceral_metastases": "unremovable"},
        11,
        "ge_6_months",
    ),
    # KPS 80 → 2 + extraspinal 0 → 2 + vertebral 2 → 1 + unremovable 0 + breast 5 + E 2 = 12
    (
        {"kps": 80, "frankel": "E"},
        {"extraspinal_bone_metastases": 0, "vertebral_metastases": 2,
         "visceral_metastases": "unremovable"},
        12,
        "ge_12_months",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("patient", "cancer", "total", "band"), BOUNDARIES)
def test_band_boundaries(build, patient, cancer, total: int, band: str) -> None:
    r = score(build, patient=patient, cancer=cancer)
    assert r.status == "complete"
    assert r.value == total
    assert r.band == band


# Performance recorded as ECOG only. The other items: extraspinal 1 → 1, vertebral 2 → 1,
# none → 2, breast 5, Frankel C → 1: 10; KPS points decide 11 vs 12.
ECOG_ONLY_CANCER = {"extraspinal_bone_metastases": 1, "vertebral_metastases": 2}
ECOG_ONLY_PATIENT = {"kps": None, "frankel": "C"}


def test_ecog_1_straddles_70_80_and_gives_a_range(build) -> None:
    # pitfall 6: ECOG 1 = KPS 70-80 (mapping A) → 1 or 2 points → [11, 12], across 11/12
    r = score(build, patient={**ECOG_ONLY_PATIENT, "ecog": 1}, cancer=ECOG_ONLY_CANCER)
    assert r.status == "incomplete"
    assert r.value is None
    assert r.range == (11, 12)
    assert r.band is None
    assert r.possible_bands == ["ge_6_months", "ge_12_months"]
    assert "patient.kps" in r.missing
    comp = next(c for c in r.components if c.item == "general_condition_kps")
    assert comp.points is None
    assert "converted" in (comp.note or "")
    assert "ECOG 1" in (comp.note or "")


def test_ecog_1_under_buccheri_is_one_marked_value(build) -> None:
    # mapping B: ECOG 1 → KPS 80 → 2; 10 + 2 = 12
    r = score(
        build,
        patient={**ECOG_ONLY_PATIENT, "ecog": 1},
        cancer=ECOG_ONLY_CANCER,
        policy=build.policy(kps_ecog_crosswalk="buccheri"),
    )
    assert r.status == "complete"
    assert r.value == 12
    assert r.band == "ge_12_months"
    comp = next(c for c in r.components if c.item == "general_condition_kps")
    assert comp.points == 2
    assert "converted" in (comp.note or "")


def test_ecog_1_without_crosswalk_is_missing(build) -> None:
    r = score(
        build,
        patient={**ECOG_ONLY_PATIENT, "ecog": 1},
        cancer=ECOG_ONLY_CANCER,
        policy=build.policy(kps_ecog_crosswalk="none"),
    )
    # KPS unknown: 10 + 0..2 → [10, 12]
    assert r.status == "incomplete"
    assert r.range == (10, 12)
    assert r.missing == ["patient.kps"]


@pytest.mark.parametrize(("ecog", "pts"), [(0, 2), (2, 1), (3, 0), (4, 0), (5, 0)])
def test_ecog_bands_that_do_not_straddle_convert_to_one_point_value(build, ecog, pts) -> None:
    # mapping A: 0 → 90-100 (2), 2 → 50-60 (1), 3 → 30-40 (0), 4 → 10-20 (0), 5 → 0 (0)
    r = score(build, patient={**ECOG_ONLY_PATIENT, "ecog": ecog}, cancer=ECOG_ONLY_CANCER)
    assert r.status == "complete"
    assert r.value == 10 + pts
    comp = next(c for c in r.components if c.item == "general_condition_kps")
    assert comp.points == pts
    assert "converted" in (comp.note or "")


def test_measured_kps_wins_over_ecog(build) -> None:
    # KPS 60 → 1 even though ECOG 0 would convert to 2
    r = score(build, patient={"kps": 60, "ecog": 0})
    assert points(r, "general_condition_kps") == 1
    assert r.value == 14


def test_asia_is_not_equated_with_frankel_by_default(build) -> None:
    r = score(build, patient={"frankel": None, "asia": "E"})
    # 13 known + palsy 0..2 → [13, 15]
    assert r.status == "incomplete"
    assert r.range == (13, 15)
    assert r.missing == ["patient.frankel"]
    comp = next(c for c in r.components if c.item == "palsy_frankel")
    assert comp.points is None
    assert "ASIA" in (comp.note or "")


@pytest.mark.parametrize(("grade", "pts"), [("A", 0), ("B", 0), ("C", 1), ("D", 1), ("E", 2)])
def test_asia_proxy_when_policy_allows(build, grade: str, pts: int) -> None:
    r = score(
        build,
        patient={"frankel": None, "asia": grade},
        policy=build.policy(asia_as_frankel_proxy=True),
    )
    assert r.status == "complete"
    assert r.value == 13 + pts
    comp = next(c for c in r.components if c.item == "palsy_frankel")
    assert "proxy" in (comp.note or "")
    assert "kirshblum2011_isncsci" in r.references


def test_frankel_wins_over_asia_proxy(build) -> None:
    r = score(
        build,
        patient={"frankel": "E", "asia": "A"},
        policy=build.policy(asia_as_frankel_proxy=True),
    )
    assert points(r, "palsy_frankel") == 2


def test_brain_metastases_count_as_major_organ(build) -> None:
    # brain is a major organ (prognosis §2); removability not recorded → 0 or 1
    r = score(build, cancer={"brain_metastases": True})
    # 13 known + 0..1 → [13, 14]
    assert r.status == "incomplete"
    assert r.range == (13, 14)
    assert "cancer.visceral_metastases" in r.missing


def test_unknown_brain_metastases_leave_major_organ_item_open(build) -> None:
    # brain counts among Tokuhashi's major organs; with brain unknown the item is 2 (no brain
    # metastases) or 0-1 (brain metastases) → 13 + 0..2 = [13, 15], and the field is reported.
    r = score(build, cancer={"brain_metastases": None})
    assert r.status == "incomplete"
    assert r.range == (13, 15)
    assert "cancer.brain_metastases" in r.missing


def test_missing_primary(build) -> None:
    r = score(build, cancer={"primary": None})
    # 10 known + primary 0..5 → [10, 15], across 11/12
    assert r.status == "incomplete"
    assert r.value is None
    assert r.range == (10, 15)
    assert r.band is None
    assert r.possible_bands == ["ge_6_months", "ge_12_months"]
    assert r.missing == ["cancer.primary"]


def test_missing_extraspinal_and_visceral(build) -> None:
    r = score(build, cancer={"extraspinal_bone_metastases": None, "visceral_metastases": None})
    # KPS 2 + vertebral 2 + breast 5 + E 2 = 11 known; + 0..2 + 0..2 → [11, 15]
    assert r.range == (11, 15)
    assert r.missing == ["cancer.extraspinal_bone_metastases", "cancer.visceral_metastases"]


def test_missing_vertebral_count_is_bounded_by_the_lesions_entered(build) -> None:
    # 13 known (KPS 2 + extraspinal 2 + none 2 + breast 5 + E 2)
    r = score(build, cancer={"vertebral_metastases": None})
    # no lesions entered: 1 → 2, 2 → 1, ≥3 → 0 all possible → [13, 15]
    assert r.range == (13, 15)
    assert r.missing == ["cancer.vertebral_metastases"]
    lesion = build.lesion_dict(["T11", "T12"])
    r = score(build, cancer={"vertebral_metastases": None}, lesions=[lesion])
    # at least 2 bodies involved: 2 → 1 or ≥3 → 0 → [13, 14]
    assert r.range == (13, 14)
    assert r.band == "ge_12_months"


def test_everything_missing(build) -> None:
    case = build.case()
    r = tokuhashi(case, build.policy())
    assert r.status == "incomplete"
    assert r.range == (0, 15)
    assert r.possible_bands == ["lt_6_months", "ge_6_months", "ge_12_months"]
    assert set(r.missing) == {
        "patient.kps",
        "cancer.extraspinal_bone_metastases",
        "cancer.vertebral_metastases",
        "cancer.visceral_metastases",
        "cancer.primary",
        "patient.frankel",
    }
