"""mFI-5 (Subramaniam 2018) and the published 9-item MSTFI (De la Garza Ramos 2016). Expected values
from spec prognosis §8.1 and prognosis-verification §2 and §8; band codes from contract §3."""

from __future__ import annotations

import pytest

from metspine.scores.frailty import mfi5, mstfi

MFI5_ITEMS = ["diabetes", "hypertension_treated", "copd_or_pneumonia", "chf",
              "dependent_functional_status"]  # fmt: skip
MSTFI_ITEMS = ["anemia", "chronic_lung_disease", "coagulopathy", "electrolyte_abnormality",
               "pulmonary_circulation_disorder", "renal_failure", "malnutrition"]  # fmt: skip


def patient(build, true=(), unknown=(), **extra):
    items = {k: (k in true) for k in MFI5_ITEMS + MSTFI_ITEMS if k not in unknown}
    return build.case(patient=extra, comorbidities=items).patient


@pytest.mark.parametrize("item", MFI5_ITEMS)
def test_mfi5_each_item_is_one_point(build, item: str) -> None:
    r = mfi5(patient(build, [item]), build.policy())
    assert r.value == 1


def test_mfi5_ignores_mstfi_items(build) -> None:
    assert mfi5(patient(build, MSTFI_ITEMS), build.policy()).value == 0


@pytest.mark.parametrize(
    ("n", "band", "tier"),
    [(0, "not_frail", "not frail"), (1, "not_frail", "pre-frail"), (2, "frail", "frail"),
     (3, "frail", "severely frail"), (5, "frail", "severely frail")],
)  # fmt: skip
def test_mfi5_bands_and_four_tier_note(build, n: int, band: str, tier: str) -> None:
    # default frail cut-off ≥ 2 (prognosis §8.1); four tiers 0 / 1 / 2 / ≥3 (verification §8)
    r = mfi5(patient(build, MFI5_ITEMS[:n]), build.policy())
    assert r.status == "complete"
    assert r.value == n
    assert r.band == band
    assert r.direction == "higher_worse"
    assert any(note.endswith(f": {tier}.") for note in r.notes)


@pytest.mark.parametrize(("n", "band"), [(2, "not_frail"), (3, "frail")])
def test_mfi5_cut_off_moved_by_policy(build, n: int, band: str) -> None:
    r = mfi5(patient(build, MFI5_ITEMS[:n]), build.policy(mfi5_frail_min=3))
    assert r.band == band


def test_mfi5_missing_item(build) -> None:
    p = patient(build, ["diabetes"], unknown=["chf"])
    r = mfi5(p, build.policy())
    # diabetes 1 + chf 0..1 → [1, 2], across 1/2 under the default cut-off
    assert r.status == "incomplete"
    assert r.value is None
    assert r.range == (1, 2)
    assert r.band is None
    assert r.possible_bands == ["not_frail", "frail"]
    assert r.missing == ["patient.comorbidities.chf"]
    # with the cut-off at 3, 1..2 is wholly not frail
    assert mfi5(p, build.policy(mfi5_frail_min=3)).band == "not_frail"


def test_mfi5_everything_missing(build) -> None:
    r = mfi5(build.case().patient, build.policy())
    assert r.range == (0, 5)
    assert len(r.missing) == 5


ENCOUNTER = {"admission": "elective", "anterior_or_combined_approach_planned": False}


@pytest.mark.parametrize("item", MSTFI_ITEMS)
def test_mstfi_each_comorbidity_is_one_point(build, item: str) -> None:
    assert mstfi(patient(build, [item], **ENCOUNTER), build.policy()).value == 1


def test_mstfi_ignores_mfi5_items(build) -> None:
    assert mstfi(patient(build, MFI5_ITEMS, **ENCOUNTER), build.policy()).value == 0


@pytest.mark.parametrize(("admission", "pts"), [("elective", 0), ("urgent", 1), ("emergency", 1)])
def test_mstfi_admission(build, admission: str, pts: int) -> None:
    p = patient(build, admission=admission, anterior_or_combined_approach_planned=False)
    assert mstfi(p, build.policy()).value == pts


def test_mstfi_approach(build) -> None:
    p = patient(build, admission="elective", anterior_or_combined_approach_planned=True)
    assert mstfi(p, build.policy()).value == 1


@pytest.mark.parametrize(
    ("n", "band"),
    [(0, "not_frail"), (1, "mild"), (2, "moderate"), (3, "severe"), (7, "severe")],
)
def test_mstfi_bands(build, n: int, band: str) -> None:
    r = mstfi(patient(build, MSTFI_ITEMS[:n], **ENCOUNTER), build.policy())
    assert r.status == "complete"
    assert r.value == n
    assert r.band == band


def test_mstfi_maximum_9(build) -> None:
    p = patient(
        build, MSTFI_ITEMS, admission="emergency", anterior_or_combined_approach_planned=True
    )
    r = mstfi(p, build.policy())
    # 7 comorbidities + urgent admission 1 + anterior approach 1 = 9
    assert r.value == 9
    assert r.band == "severe"


def test_mstfi_before_a_surgical_plan_is_a_range(build) -> None:
    p = patient(build, ["anemia"], admission="elective")
    r = mstfi(p, build.policy())
    # anaemia 1 + approach 0..1 → [1, 2], across mild/moderate
    assert r.status == "incomplete"
    assert r.range == (1, 2)
    assert r.band is None
    assert r.possible_bands == ["mild", "moderate"]
    assert r.missing == ["patient.anterior_or_combined_approach_planned"]


def test_mstfi_range_inside_severe_names_the_band(build) -> None:
    p = patient(build, ["anemia", "coagulopathy", "malnutrition"], unknown=["renal_failure"])
    r = mstfi(p, build.policy())
    # 3 known + renal failure, admission, approach 0..1 each → [3, 6], all severe
    assert r.range == (3, 6)
    assert r.band == "severe"
