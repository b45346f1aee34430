"""ESCC grade groups (Bilsky 2010; NOMS grouping) — spec clinical §3.1-§3.2, contract §3."""

from __future__ import annotations

import pytest

from metspine.scores.escc import escc_group, summarize, treat_1c_as

# contract §3: low (0, 1a, 1b), borderline (1c), high (2, 3).
GROUPS = [
    ("0", "low"),
    ("1a", "low"),
    ("1b", "low"),
    ("1c", "borderline"),
    ("2", "high"),
    ("3", "high"),
]


@pytest.mark.parametrize(("grade", "group"), GROUPS)
def test_group_of_each_grade(grade: str, group: str) -> None:
    assert escc_group(grade) == group


def test_unknown_grade_has_no_group() -> None:
    assert escc_group(None) is None


@pytest.mark.parametrize(("grade", "group"), GROUPS)
def test_summary_treats_low_and_high_as_their_group(build, grade: str, group: str) -> None:
    s = summarize(grade, ["T6"], None, build.policy())
    assert s.grade == grade
    assert s.group == group
    if group != "borderline":
        assert s.treated_as == group


@pytest.mark.parametrize(
    ("radiosensitive", "treated"), [(True, "low"), (False, "high"), (None, None)]
)
def test_1c_by_histology(build, radiosensitive, treated) -> None:
    # spec clinical §3.2: 1c low-grade for radiosensitive tumours; radioresistant handled toward
    # surgery/SRS (high); unknown radiosensitivity leaves it undecided.
    policy = build.policy()
    assert policy.escc_1c == "by_histology"
    assert treat_1c_as(radiosensitive, policy) == treated
    assert summarize("1c", ["T6"], radiosensitive, policy).treated_as == treated


@pytest.mark.parametrize("setting", ["low", "high"])
def test_1c_fixed_by_policy(build, setting: str) -> None:
    policy = build.policy(escc_1c=setting)
    for radiosensitive in (True, False, None):
        assert summarize("1c", ["T6"], radiosensitive, policy).treated_as == setting


@pytest.mark.parametrize(
    ("levels", "flagged"),
    [
        (["L3"], True),
        (["L5", "S1"], True),
        (["S2"], True),
        (["T12"], False),
        (["C5"], False),
    ],
)
def test_below_conus_is_read_with_lower_confidence(build, levels, flagged: bool) -> None:
    # spec clinical §3.2: ESCC not validated below the conus; flag lumbar grades [U].
    s = summarize("2", levels, None, build.policy())
    assert (s.note is not None) is flagged


def test_below_conus_flag_can_be_turned_off(build) -> None:
    s = summarize("2", ["L3"], None, build.policy(lumbar_escc_low_confidence=False))
    assert s.note is None


def test_no_grade_no_note(build) -> None:
    s = summarize(None, ["L3"], None, build.policy())
    assert s.group is None
    assert s.treated_as is None
    assert s.note is None


def test_escc_grade_must_be_a_string(build) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        build.case(lesions=[{"id": "L1", "levels": ["T6"], "escc": 2}])
