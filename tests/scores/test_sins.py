"""SINS (Fisher 2010; bands Fourney 2011). Expected values from spec clinical §2.1-§2.4 and contract §3."""

from __future__ import annotations

import pytest

from metspine.scores.sins import sins

# Spec clinical §2.4 item 2, written out level by level: C1, C2 → 3; C3–C6 → 2; C7, T1, T2 → 3;
# T3–T10 → 1; T11, T12, L1 → 3; L2–L4 → 2; L5, S1 → 3; S2–S5 → 0.
LOCATION_POINTS = {
    "C1": 3, "C2": 3,
    "C3": 2, "C4": 2, "C5": 2, "C6": 2,
    "C7": 3, "T1": 3, "T2": 3,
    "T3": 1, "T4": 1, "T5": 1, "T6": 1, "T7": 1, "T8": 1, "T9": 1, "T10": 1,
    "T11": 3, "T12": 3, "L1": 3,
    "L2": 2, "L3": 2, "L4": 2,
    "L5": 3, "S1": 3,
    "S2": 0, "S3": 0, "S4": 0, "S5": 0,
}  # fmt: skip

# The five non-location items at their 0-point category.
ZERO = {
    "pain": "none",
    "bone_lesion": "blastic",
    "alignment": "normal",
    "collapse": "none",
    "posterolateral": "none",
}


def _points(result, item):
    return next(c.points for c in result.components if c.item == item)


def test_location_table_covers_every_level() -> None:
    from metspine.model.levels import LEVELS

    assert set(LOCATION_POINTS) == set(LEVELS)


@pytest.mark.parametrize(("level", "points"), sorted(LOCATION_POINTS.items()))
def test_location_points_per_level(build, level: str, points: int) -> None:
    # location alone; the other five items are at 0, so the total is the location points.
    r = sins(build.lesion([level], **ZERO), 0)
    assert r.status == "complete"
    assert r.value == points
    assert _points(r, "location") == points


@pytest.mark.parametrize(
    ("item", "value", "points"),
    [
        ("pain", "mechanical", 3),
        ("pain", "occasional_nonmechanical", 1),
        ("pain", "none", 0),
        ("bone_lesion", "lytic", 2),
        ("bone_lesion", "mixed", 1),
        ("bone_lesion", "blastic", 0),
        ("alignment", "subluxation_translation", 4),
        ("alignment", "de_novo_deformity", 2),
        ("alignment", "normal", 0),
        ("collapse", "gt50", 3),
        ("collapse", "lt50", 2),
        ("collapse", "none_gt50_involved", 1),
        ("collapse", "none", 0),
        ("posterolateral", "bilateral", 3),
        ("posterolateral", "unilateral", 1),
        ("posterolateral", "none", 0),
    ],
)
def test_item_points(build, item: str, value: str, points: int) -> None:
    # T5 semi-rigid 1 + the item under test + four items at 0.
    r = sins(build.lesion(["T5"], **{**ZERO, item: value}), 0)
    assert r.value == 1 + points
    assert _points(r, item) == points


def test_pain_is_3_1_0_not_the_3_2_1_transcription_error(build) -> None:
    # spec clinical §2.4 item 5: one teaching page lists 3/2/1; the source says 3/1/0.
    # S3 rigid 0 + occasional non-mechanical pain 1 + zeros = 1; pain-free = 0.
    assert sins(build.lesion(["S3"], **{**ZERO, "pain": "occasional_nonmechanical"}), 0).value == 1
    assert sins(build.lesion(["S3"], **ZERO), 0).value == 0


def test_worked_example_11(build) -> None:
    lesion = build.lesion(
        ["T11"],
        pain="mechanical",
        bone_lesion="lytic",
        alignment="normal",
        collapse="lt50",
        posterolateral="unilateral",
    )
    r = sins(lesion, 0)
    # location T11 junctional 3 + pain mechanical 3 + lytic 2 + normal 0 + <50% 2 + unilateral 1 = 11
    assert r.status == "complete"
    assert r.value == 11
    assert r.band == "potentially_unstable"
    assert r.direction == "higher_worse"
    assert r.range is None
    assert r.missing == []
    assert [c.item for c in r.components] == [
        "location",
        "pain",
        "bone_lesion",
        "alignment",
        "collapse",
        "posterolateral",
    ]
    assert [c.points for c in r.components] == [3, 3, 2, 0, 2, 1]


# Band boundaries (contract §3: stable 0-6, potentially_unstable 7-12, unstable 13-18).
BOUNDARY_CASES = [
    # S3 rigid 0 + none 0 + blastic 0 + normal 0 + no collapse 0 + none 0 = 0
    (["S3"], ZERO, 0, "stable"),
    # T11 junctional 3 + mechanical 3 + blastic 0 + normal 0 + none 0 + none 0 = 6
    (["T11"], {**ZERO, "pain": "mechanical"}, 6, "stable"),
    # T11 junctional 3 + mechanical 3 + mixed 1 + normal 0 + none 0 + none 0 = 7
    (["T11"], {**ZERO, "pain": "mechanical", "bone_lesion": "mixed"}, 7, "potentially_unstable"),
    # C1 junctional 3 + mechanical 3 + lytic 2 + de novo deformity 2 + <50% 2 + none 0 = 12
    (
        ["C1"],
        {
            "pain": "mechanical",
            "bone_lesion": "lytic",
            "alignment": "de_novo_deformity",
            "collapse": "lt50",
            "posterolateral": "none",
        },
        12,
        "potentially_unstable",
    ),
    # C1 junctional 3 + mechanical 3 + lytic 2 + de novo deformity 2 + <50% 2 + unilateral 1 = 13
    (
        ["C1"],
        {
            "pain": "mechanical",
            "bone_lesion": "lytic",
            "alignment": "de_novo_deformity",
            "collapse": "lt50",
            "posterolateral": "unilateral",
        },
        13,
        "unstable",
    ),
    # L5 junctional 3 + mechanical 3 + lytic 2 + subluxation 4 + >50% 3 + bilateral 3 = 18
    (
        ["L5"],
        {
            "pain": "mechanical",
            "bone_lesion": "lytic",
            "alignment": "subluxation_translation",
            "collapse": "gt50",
            "posterolateral": "bilateral",
        },
        18,
        "unstable",
    ),
]


@pytest.mark.parametrize(("levels", "items", "total", "band"), BOUNDARY_CASES)
def test_band_boundaries(build, levels, items, total: int, band: str) -> None:
    r = sins(build.lesion(levels, **items), 0)
    assert r.status == "complete"
    assert r.value == total
    assert r.band == band
    assert r.possible_bands == [band]


@pytest.mark.parametrize(
    ("levels", "points"),
    [
        (["T10", "T11"], 3),  # semi-rigid 1 | junctional 3 → 3
        (["T2", "T3"], 3),  # junctional 3 | semi-rigid 1 → 3
        (["C2", "C3"], 3),  # junctional 3 | mobile 2 → 3
        (["L1", "L2"], 3),  # junctional 3 | mobile 2 → 3
        (["L4", "L5"], 3),  # mobile 2 | junctional 3 → 3
        (["S1", "S2"], 3),  # junctional 3 | rigid 0 → 3
        (["C6", "C7"], 3),  # mobile 2 | junctional 3 → 3
    ],
)
def test_lesion_spanning_categories_takes_the_higher_and_says_so(build, levels, points) -> None:
    # spec clinical §2.4 item 2 [U]: suggested default is the higher-scoring category, flagged.
    r = sins(build.lesion(levels, **ZERO), 0)
    assert r.value == points
    loc = r.components[0]
    assert loc.item == "location"
    assert loc.note is not None
    assert r.notes  # the span is reported


def test_multilevel_lesion_within_one_category_is_not_flagged(build) -> None:
    r = sins(build.lesion(["T4", "T5", "T6"], **ZERO), 0)
    # T4-T6 all semi-rigid → 1
    assert r.value == 1
    assert r.components[0].note is None
    assert r.notes == []


def test_pain_unknown_gives_range_9_to_12_with_band(build) -> None:
    lesion = build.lesion(
        ["T11"],
        bone_lesion="lytic",
        alignment="de_novo_deformity",
        collapse="lt50",
        posterolateral="none",
    )
    r = sins(lesion, 0)
    # known: T11 3 + lytic 2 + de novo 2 + <50% 2 + none 0 = 9; pain 0..3 → [9, 12]
    assert r.status == "incomplete"
    assert r.value is None
    assert r.range == (9, 12)
    assert r.missing == ["lesions[0].sins.pain"]
    # 9..12 lies wholly in 7-12
    assert r.band == "potentially_unstable"
    assert r.possible_bands == ["potentially_unstable"]
    pain = next(c for c in r.components if c.item == "pain")
    assert pain.points is None


def test_pain_unknown_across_a_boundary_gives_no_band(build) -> None:
    lesion = build.lesion(["T11"], **{k: v for k, v in ZERO.items() if k != "pain"})
    r = sins(lesion, 3)
    # known: T11 3 + zeros = 3; pain 0..3 → [3, 6]: all stable
    assert r.range == (3, 6)
    assert r.band == "stable"
    assert r.missing == ["lesions[3].sins.pain"]

    lesion = build.lesion(
        ["T11"], bone_lesion="lytic", alignment="normal", collapse="none_gt50_involved"
    )
    r = sins(lesion, 0)
    # known: T11 3 + lytic 2 + normal 0 + none>50% 1 = 6;
    # pain 0..3 and posterolateral 0..3 → [6, 12] across 6/7
    assert r.range == (6, 12)
    assert r.band is None
    assert r.possible_bands == ["stable", "potentially_unstable"]
    assert r.missing == ["lesions[0].sins.pain", "lesions[0].sins.posterolateral"]


def test_alignment_unknown_range_within_unstable(build) -> None:
    lesion = build.lesion(
        ["T11"], pain="mechanical", bone_lesion="lytic", collapse="gt50", posterolateral="bilateral"
    )
    r = sins(lesion, 0)
    # known: 3 + 3 + 2 + 3 + 3 = 14; alignment 0/2/4 → [14, 18]
    assert r.range == (14, 18)
    assert r.band == "unstable"
    assert r.missing == ["lesions[0].sins.alignment"]


def test_all_imaging_and_pain_unknown(build) -> None:
    r = sins(build.lesion(["T5"]), 1)
    # T5 semi-rigid 1; the rest 0..(3+2+4+3+3 = 15) → [1, 16]
    assert r.range == (1, 16)
    assert r.band is None
    assert r.possible_bands == ["stable", "potentially_unstable", "unstable"]
    assert r.missing == [
        "lesions[1].sins.pain",
        "lesions[1].sins.bone_lesion",
        "lesions[1].sins.alignment",
        "lesions[1].sins.collapse",
        "lesions[1].sins.posterolateral",
    ]
