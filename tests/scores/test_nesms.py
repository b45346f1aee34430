"""NESMS (Ghori 2015; Schoenfeld 2016, 2021). Expected values from spec prognosis §5,
prognosis-verification §1 (weights 2/1/1, ceiling 3, categories 0-3) and pitfall 5; band codes from
contract §3 ('0'..'3'). mBauer 'high' is ≥ 3 and normal albumin ≥ 3.5 g/dL by the Policy defaults."""

from __future__ import annotations

import pytest

from metspine.scores.nesms import nesms

# mBauer 4: breast (not lung 1 + favourable 1) + no visceral/brain 1 + solitary 1 → high
MBAUER_4 = {
    "primary": "breast",
    "visceral_metastases": "none",
    "brain_metastases": False,
    "extraspinal_bone_metastases": 0,
    "vertebral_metastases": 1,
}
# mBauer 3: prostate (not lung 1) + no visceral/brain 1 + solitary 1 → high (at the cut-off)
MBAUER_3 = {**MBAUER_4, "primary": "prostate"}
# mBauer 2: prostate 1 + no visceral/brain 1 + multiple 0 → low (one below the cut-off)
MBAUER_2 = {**MBAUER_3, "extraspinal_bone_metastases": 2}
# mBauer 1: prostate 1 + visceral 0 + multiple 0 → low
MBAUER_1 = {**MBAUER_2, "visceral_metastases": "removable"}

WALKS = "independent"
NO_WALK = "non_ambulatory"
ALB_OK = 4.0
ALB_LOW = 3.0


def score(build, cancer, ambulation=None, albumin=None, policy=None):
    patient = {} if ambulation is None else {"ambulation": ambulation}
    labs = {} if albumin is None else {"albumin_g_dl": albumin}
    return nesms(build.case(patient=patient, labs=labs, cancer=cancer), policy or build.policy())


CATEGORIES = [
    # high 2 + ambulation 1 + albumin 1 = 4, capped at 3
    (MBAUER_4, WALKS, ALB_OK, 3),
    # high 2 + ambulation 1 + low albumin 0 = 3
    (MBAUER_4, WALKS, ALB_LOW, 3),
    # high 2 + no ambulation 0 + albumin 1 = 3
    (MBAUER_4, NO_WALK, ALB_OK, 3),
    # high 2 alone = 2
    (MBAUER_4, NO_WALK, ALB_LOW, 2),
    # low 0 + ambulation 1 + albumin 1 = 2 (the second path to 2)
    (MBAUER_1, WALKS, ALB_OK, 2),
    # low 0 + ambulation 1 = 1
    (MBAUER_1, WALKS, ALB_LOW, 1),
    # low 0 + albumin 1 = 1
    (MBAUER_1, NO_WALK, ALB_OK, 1),
    # nothing = 0
    (MBAUER_1, NO_WALK, ALB_LOW, 0),
]


@pytest.mark.parametrize(("cancer", "ambulation", "albumin", "total"), CATEGORIES)
def test_categories_0_to_3(build, cancer, ambulation, albumin, total: int) -> None:
    r = score(build, cancer, ambulation, albumin)
    assert r.status == "complete"
    assert r.value == total
    assert r.band == str(total)
    assert r.direction == "higher_better"


def test_ceiling_is_3_not_4(build) -> None:
    r = score(build, MBAUER_4, WALKS, ALB_OK)
    assert r.value == 3
    assert [c.points for c in r.components] == [2, 1, 1]  # the parts still show 2 + 1 + 1


def test_uncapped_policy_reads_the_plain_sum(build) -> None:
    r = score(build, MBAUER_4, WALKS, ALB_OK, policy=build.policy(nesms_cap=4))
    assert r.value == 4


def test_mbauer_cut_off_3_is_high_2_is_low(build) -> None:
    # mBauer 3 → high 2 + 0 + 0 = 2; mBauer 2 → low 0 + 0 + 0 = 0
    assert score(build, MBAUER_3, NO_WALK, ALB_LOW).value == 2
    assert score(build, MBAUER_2, NO_WALK, ALB_LOW).value == 0
    # policy cut-off moved to 2: mBauer 2 → high 2
    assert (
        score(build, MBAUER_2, NO_WALK, ALB_LOW, build.policy(nesms_mbauer_high_min=2)).value == 2
    )


@pytest.mark.parametrize(("albumin", "pts"), [(3.5, 1), (3.49, 0), (3.4, 0), (5.0, 1)])
def test_albumin_threshold(build, albumin: float, pts: int) -> None:
    # low mBauer 0 + no ambulation 0 + albumin item
    assert score(build, MBAUER_1, NO_WALK, albumin).value == pts


def test_albumin_threshold_from_policy(build) -> None:
    policy = build.policy(nesms_albumin_normal_g_dl=3.8)
    assert score(build, MBAUER_1, NO_WALK, 3.7, policy).value == 0
    assert score(build, MBAUER_1, NO_WALK, 3.8, policy).value == 1


@pytest.mark.parametrize(
    ("ambulation", "default_pts", "with_aid_policy_pts"),
    [("independent", 1, 1), ("with_aid", 0, 1), ("non_ambulatory", 0, 0)],
)
def test_ambulation(build, ambulation, default_pts, with_aid_policy_pts) -> None:
    # low mBauer 0 + ambulation item + low albumin 0
    assert score(build, MBAUER_1, ambulation, ALB_LOW).value == default_pts
    policy = build.policy(nesms_ambulation="independent_or_with_aid")
    assert score(build, MBAUER_1, ambulation, ALB_LOW, policy).value == with_aid_policy_pts


def test_missing_albumin_under_the_ceiling_still_fixes_the_band(build) -> None:
    r = score(build, MBAUER_4, WALKS, None)
    # high 2 + ambulation 1 + albumin 0..1 → min(3, 3..4) = [3, 3]
    assert r.status == "incomplete"
    assert r.value is None
    assert r.range == (3, 3)
    assert r.band == "3"
    assert r.missing == ["patient.labs.albumin_g_dl"]


def test_missing_albumin_and_ambulation(build) -> None:
    r = score(build, MBAUER_1)
    # low 0 + 0..1 + 0..1 → [0, 2]
    assert r.range == (0, 2)
    assert r.band is None
    assert r.possible_bands == ["0", "1", "2"]
    assert r.missing == ["patient.ambulation", "patient.labs.albumin_g_dl"]


def test_mbauer_straddling_the_cut_off(build) -> None:
    cancer = {k: v for k, v in MBAUER_3.items() if k != "vertebral_metastases"}
    r = score(build, cancer, WALKS, ALB_OK)
    # mBauer prostate 1 + no visceral 1 + solitary 0..1 → 2..3, across the cut-off 3:
    # high item 0 or 2; + 1 + 1 → min(3, 2..4) = [2, 3]
    assert r.status == "incomplete"
    assert r.range == (2, 3)
    assert "cancer.vertebral_metastases" in r.missing


def test_mbauer_incomplete_but_surely_high(build) -> None:
    cancer = {k: v for k, v in MBAUER_4.items() if k != "vertebral_metastases"}
    r = score(build, cancer, NO_WALK, ALB_LOW)
    # mBauer breast 2 + no visceral 1 + solitary 0..1 → 3..4, high either way: 2 + 0 + 0 = 2
    assert r.status == "complete"
    assert r.value == 2


def test_mbauer_incomplete_but_surely_low(build) -> None:
    cancer = {k: v for k, v in MBAUER_1.items() if k != "vertebral_metastases"}
    r = score(build, cancer, WALKS, ALB_OK)
    # mBauer prostate 1 + visceral 0 + solitary 0..1 → 1..2, low either way: 0 + 1 + 1 = 2
    assert r.status == "complete"
    assert r.value == 2
