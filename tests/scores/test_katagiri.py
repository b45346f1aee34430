"""New Katagiri score (Katagiri 2014). Expected values from spec prognosis §7.5,
prognosis-verification §5 and pitfall 9; band codes from contract §3 (low 0-3, intermediate 4-6,
high 7-10)."""

from __future__ import annotations

from typing import Any

import pytest

from metspine.scores.katagiri import katagiri

NORMAL_LABS: dict[str, Any] = {
    "crp_mg_dl": 0.1,
    "ldh_iu_l": 180,
    "albumin_g_dl": 4.2,
    "platelets_10e3_ul": 250,
    "calcium_mg_dl": 9.4,
    "bilirubin_mg_dl": 0.6,
}
# Zero on every item except the primary: no visceral/brain, normal labs, ECOG 0, no chemotherapy,
# solitary skeletal metastasis.
ZERO_CANCER: dict[str, Any] = {
    "visceral_metastases": "none",
    "brain_metastases": False,
    "prior_chemotherapy": False,
    "extraspinal_bone_metastases": 0,
    "vertebral_metastases": 1,
}


def score(build, cancer=None, labs=None, patient=None, policy=None):
    c = {k: v for k, v in {**ZERO_CANCER, **(cancer or {})}.items() if v is not None}
    lab = {k: v for k, v in {**NORMAL_LABS, **(labs or {})}.items() if v is not None}
    p = {k: v for k, v in {"ecog": 0, **(patient or {})}.items() if v is not None}
    case = build.case(patient=p, labs=lab, cancer=c)
    return katagiri(case, policy or build.policy())


def points(result, item: str):
    return next(c.points for c in result.components if c.item == item)


# Primary groups (prognosis §7.5 [S]): slow 0, moderate 2, rapid 3.
PRIMARY = [
    ({"primary": "thyroid"}, 0),
    ({"primary": "myeloma"}, 0),
    ({"primary": "lymphoma"}, 0),
    ({"primary": "breast", "hormone_dependent": True}, 0),
    ({"primary": "prostate", "hormone_dependent": True}, 0),
    ({"primary": "breast", "hormone_dependent": False}, 2),
    ({"primary": "prostate", "hormone_dependent": False}, 2),
    ({"primary": "lung_nsclc", "targeted_therapy": True}, 2),
    ({"primary": "renal_cell"}, 2),
    ({"primary": "sarcoma"}, 2),
    ({"primary": "lung_nsclc", "targeted_therapy": False}, 3),
    ({"primary": "colon"}, 3),
    ({"primary": "rectum"}, 3),
    ({"primary": "stomach"}, 3),
    ({"primary": "pancreas"}, 3),
    ({"primary": "head_neck"}, 3),
    ({"primary": "esophagus"}, 3),
    ({"primary": "liver_hcc"}, 3),
    ({"primary": "melanoma"}, 3),
    ({"primary": "unknown_primary"}, 3),
]


@pytest.mark.parametrize(("cancer", "pts"), PRIMARY)
def test_primary_lesion_points(build, cancer, pts: int) -> None:
    r = score(build, cancer)
    assert points(r, "primary_lesion") == pts
    assert r.value == pts  # every other item is 0


def test_hormone_dependence_unknown(build) -> None:
    r = score(build, {"primary": "breast"})
    # slow 0 or moderate 2 → [0, 2]
    assert r.status == "incomplete"
    assert r.range == (0, 2)
    assert r.missing == ["cancer.hormone_dependent"]


def test_targeted_therapy_unknown(build) -> None:
    r = score(build, {"primary": "lung_nsclc"})
    # moderate 2 or rapid 3 → [2, 3]
    assert r.range == (2, 3)
    assert r.missing == ["cancer.targeted_therapy"]


def test_clinician_group_for_an_ungrouped_primary(build) -> None:
    r = score(build, {"primary": "other"})
    # {0, 2, 3} → [0, 3]
    assert r.range == (0, 3)
    assert r.missing == ["cancer.katagiri_growth"]
    assert score(build, {"primary": "other", "katagiri_growth": "moderate"}).value == 2


@pytest.mark.parametrize(
    ("cancer", "pts"),
    [
        ({"visceral_metastases": "removable", "visceral_pattern": "nodular"}, 1),
        ({"visceral_metastases": "unremovable", "visceral_pattern": "disseminated"}, 2),
        (
            {"visceral_metastases": "removable", "visceral_pattern": "nodular",
             "brain_metastases": True},
            1,
        ),
    ],
)  # fmt: skip
def test_visceral_or_cerebral_points(build, cancer, pts: int) -> None:
    r = score(build, {"primary": "thyroid", **cancer})
    assert points(r, "visceral_or_cerebral_metastases") == pts
    assert r.value == pts


def test_visceral_pattern_unknown(build) -> None:
    r = score(build, {"primary": "thyroid", "visceral_metastases": "removable"})
    # nodular 1 or disseminated 2 → [1, 2]
    assert r.range == (1, 2)
    assert r.missing == ["cancer.visceral_pattern"]


def test_brain_status_unknown(build) -> None:
    r = score(build, {"primary": "thyroid", "brain_metastases": None})
    # none 0, nodular 1 or disseminated 2 → [0, 2]
    assert r.range == (0, 2)
    assert r.missing == ["cancer.brain_metastases"]


def test_brain_only_metastases_can_be_graded(build) -> None:
    # Katagiri's item is "visceral or cerebral": a nodular brain metastasis alone scores 1.
    r = score(
        build, {"primary": "thyroid", "brain_metastases": True, "visceral_pattern": "nodular"}
    )
    assert r.status == "complete"
    assert r.value == 1


# Laboratory thresholds: abnormal (1) CRP ≥ 0.4 mg/dL, LDH ≥ 250 IU/L, albumin < 3.7 g/dL;
# critical (2) platelets < 100 ×10³/µL, calcium ≥ 10.3 mg/dL, bilirubin ≥ 1.4 mg/dL.
LAB_BOUNDARIES = [
    ("crp_mg_dl", 0.39, 0), ("crp_mg_dl", 0.4, 1),
    ("ldh_iu_l", 249, 0), ("ldh_iu_l", 250, 1),
    ("albumin_g_dl", 3.7, 0), ("albumin_g_dl", 3.69, 1),
    ("platelets_10e3_ul", 100, 0), ("platelets_10e3_ul", 99, 2),
    ("calcium_mg_dl", 10.29, 0), ("calcium_mg_dl", 10.3, 2),
    ("bilirubin_mg_dl", 1.39, 0), ("bilirubin_mg_dl", 1.4, 2),
]  # fmt: skip


@pytest.mark.parametrize(("analyte", "value", "pts"), LAB_BOUNDARIES)
def test_lab_thresholds(build, analyte: str, value: float, pts: int) -> None:
    r = score(build, {"primary": "thyroid"}, labs={analyte: value})
    assert points(r, "laboratory_data") == pts
    assert r.value == pts


def test_critical_overrides_abnormal(build) -> None:
    # every abnormal and every critical analyte off: the item is 2, not 1 + 2 = 3
    labs = {"crp_mg_dl": 2.0, "ldh_iu_l": 400, "albumin_g_dl": 2.8,
            "platelets_10e3_ul": 50, "calcium_mg_dl": 11.5, "bilirubin_mg_dl": 3.0}  # fmt: skip
    r = score(build, {"primary": "thyroid"}, labs=labs)
    assert points(r, "laboratory_data") == 2
    assert r.value == 2


def test_known_critical_value_settles_the_item_despite_missing_labs(build) -> None:
    labs = {k: None for k in NORMAL_LABS} | {"platelets_10e3_ul": 60}
    r = score(build, {"primary": "thyroid"}, labs=labs)
    assert r.status == "complete"
    assert r.value == 2


def test_abnormal_known_critical_unknown(build) -> None:
    r = score(build, {"primary": "thyroid"}, labs={"crp_mg_dl": 1.0, "calcium_mg_dl": None})
    # abnormal (1) unless calcium is critical (2) → [1, 2]
    assert r.range == (1, 2)
    assert r.missing == ["patient.labs.calcium_mg_dl"]


def test_criticals_normal_abnormal_unknown(build) -> None:
    r = score(build, {"primary": "thyroid"}, labs={"ldh_iu_l": None})
    # 0 or 1 → [0, 1]
    assert r.range == (0, 1)
    assert r.missing == ["patient.labs.ldh_iu_l"]


def test_abnormal_known_settles_when_criticals_are_normal(build) -> None:
    r = score(build, {"primary": "thyroid"}, labs={"albumin_g_dl": 3.0, "ldh_iu_l": None})
    # criticals normal, albumin abnormal → 1 whatever the LDH
    assert r.status == "complete"
    assert r.value == 1


@pytest.mark.parametrize(("ecog", "pts"), [(0, 0), (1, 0), (2, 0), (3, 1), (4, 1)])
def test_ecog_3_4(build, ecog: int, pts: int) -> None:
    r = score(build, {"primary": "thyroid"}, patient={"ecog": ecog})
    assert points(r, "ecog_3_4") == pts


@pytest.mark.parametrize(("kps", "pts"), [(30, 1), (40, 1), (50, 0), (60, 0), (10, 1), (20, 1)])
def test_ecog_from_kps_is_converted_and_marked(build, kps: int, pts: int) -> None:
    # mapping A: KPS 30-40 = ECOG 3, 10-20 = ECOG 4, 50-60 = ECOG 2
    r = score(build, {"primary": "thyroid"}, patient={"ecog": None, "kps": kps})
    comp = next(c for c in r.components if c.item == "ecog_3_4")
    assert comp.points == pts
    assert "converted" in comp.input


def test_ecog_missing_without_crosswalk(build) -> None:
    policy = build.policy(kps_ecog_crosswalk="none")
    r = score(build, {"primary": "thyroid"}, patient={"ecog": None, "kps": 40}, policy=policy)
    assert r.range == (0, 1)
    assert r.missing == ["patient.ecog"]


def test_chemotherapy_and_multiple_skeletal(build) -> None:
    r = score(build, {"primary": "thyroid", "prior_chemotherapy": True})
    assert r.value == 1
    r = score(build, {"primary": "thyroid", "extraspinal_bone_metastases": 1})
    assert points(r, "multiple_skeletal_metastases") == 1
    assert r.value == 1


BOUNDARIES = [
    # thyroid 0 + nothing else = 0
    ({"primary": "thyroid"}, {}, {}, 0, "low"),
    # colon 3 + nothing else = 3
    ({"primary": "colon"}, {}, {}, 3, "low"),
    # colon 3 + nodular 1 = 4
    ({"primary": "colon", "visceral_metastases": "removable", "visceral_pattern": "nodular"},
     {}, {}, 4, "intermediate"),
    # colon 3 + nodular 1 + abnormal CRP 1 + chemotherapy 1 = 6
    ({"primary": "colon", "visceral_metastases": "removable", "visceral_pattern": "nodular",
      "prior_chemotherapy": True}, {"crp_mg_dl": 1.0}, {}, 6, "intermediate"),
    # colon 3 + nodular 1 + abnormal CRP 1 + chemotherapy 1 + multiple 1 = 7
    ({"primary": "colon", "visceral_metastases": "removable", "visceral_pattern": "nodular",
      "prior_chemotherapy": True, "extraspinal_bone_metastases": 4},
     {"crp_mg_dl": 1.0}, {}, 7, "high"),
    # colon 3 + disseminated 2 + critical 2 + ECOG 3 1 + chemotherapy 1 + multiple 1 = 10
    ({"primary": "colon", "visceral_metastases": "unremovable", "visceral_pattern": "disseminated",
      "prior_chemotherapy": True, "extraspinal_bone_metastases": 4},
     {"calcium_mg_dl": 12.0, "crp_mg_dl": 1.0}, {"ecog": 3}, 10, "high"),
]  # fmt: skip


@pytest.mark.parametrize(("cancer", "labs", "patient", "total", "band"), BOUNDARIES)
def test_band_boundaries(build, cancer, labs, patient, total: int, band: str) -> None:
    r = score(build, cancer, labs, patient)
    assert r.status == "complete"
    assert r.value == total
    assert r.band == band
    assert r.direction == "higher_worse"


def test_missing_chemotherapy_across_3_4(build) -> None:
    r = score(build, {"primary": "colon", "prior_chemotherapy": None})
    # colon 3 + chemotherapy 0..1 → [3, 4]
    assert r.range == (3, 4)
    assert r.band is None
    assert r.possible_bands == ["low", "intermediate"]
    assert r.missing == ["cancer.prior_chemotherapy"]


def test_everything_missing(build) -> None:
    r = katagiri(build.case(), build.policy())
    assert r.range == (0, 10)
    assert r.possible_bands == ["low", "intermediate", "high"]
