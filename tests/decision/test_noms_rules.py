"""NOMS rules R1-R9 (laufer2013_noms; spec clinical §4.2), each with a case built for it.

The base case (tests/conftest.py) is a fit patient (KPS 80, ASA 2, ECOG 1 by crosswalk) with renal cell
carcinoma at T6, ESCC 1a and SINS 2 (semi-rigid 1 + none 0 + mixed 1 + normal 0 + none 0 + none 0 = 2).
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import make_case

import metspine
from metspine.model.assessment import Assessment, LesionAssessment
from metspine.model.policy import Policy


def lesion(a: Assessment) -> LesionAssessment:
    return a.lesions[0]


def options(a: Assessment) -> dict[str, str]:
    return {r.code: r.strength for r in lesion(a).recommendations}


def first(a: Assessment) -> str:
    return lesion(a).recommendations[0].code


def run(policy: Policy | None = None, **changes: Any) -> Assessment:
    return metspine.assess(make_case(**changes), policy)


def test_base_case_is_stable_and_operable() -> None:
    a = run()
    assert lesion(a).scores["sins"].value == 2
    assert lesion(a).noms.mechanical.status == "stable"
    assert lesion(a).noms.systemic.status == "can_tolerate_surgery"


def test_r1_low_grade_radiosensitive_stable_gets_cebrt() -> None:
    a = run(**{"cancer.primary": "lymphoma", "lesions.0.escc": "1b"})
    assert lesion(a).noms.neurologic.status == "low_grade"
    assert lesion(a).noms.oncologic.status == "radiosensitive"
    assert options(a) == {"cebrt": "recommended"}
    assert "R1" in lesion(a).recommendations[0].rules


def test_r2_low_grade_radioresistant_stable_gets_sbrt() -> None:
    a = run(**{"lesions.0.escc": "0"})
    assert options(a) == {"sbrt": "recommended"}
    assert "R2" in lesion(a).recommendations[0].rules


@pytest.mark.parametrize("grade", ["2", "3"])
def test_r3_high_grade_radiosensitive_gets_cebrt_even_with_myelopathy(grade: str) -> None:
    a = run(**{"cancer.primary": "myeloma", "lesions.0.escc": grade, "lesions.0.myelopathy": True})
    assert lesion(a).noms.neurologic.status == "high_grade"
    assert options(a)["cebrt"] == "recommended"
    assert "separation_surgery_then_sbrt" not in options(a)


@pytest.mark.parametrize("grade", ["2", "3"])
def test_r4_high_grade_radioresistant_operable_gets_separation_surgery(grade: str) -> None:
    a = run(**{"lesions.0.escc": grade})
    assert first(a) == "separation_surgery_then_sbrt"
    rec = lesion(a).recommendations[0]
    assert rec.strength == "recommended"
    assert any("ESCC 0-1" in r.text for r in rec.reasons)  # the stated surgical goal
    assert "If surgical tolerance unable to tolerate surgery: cebrt." in rec.would_change


def test_r5_high_grade_radioresistant_not_operable_gets_palliative_cebrt() -> None:
    a = run(**{"lesions.0.escc": "2", "patient.kps": 40})  # KPS 40 = ECOG 3 > 2 (cofano2020_nse)
    assert lesion(a).noms.systemic.status == "cannot_tolerate_surgery"
    assert options(a)["cebrt"] == "recommended"
    assert "separation_surgery_then_sbrt" not in options(a)
    assert "R5" in lesion(a).recommendations[0].rules


def test_r6_instability_gets_stabilization_first_whatever_n_and_o() -> None:
    # T6 semi-rigid 1 + mechanical 3 + lytic 2 + translation 4 + >50% 3 + bilateral 3 = 16
    sins = {
        "pain": "mechanical",
        "bone_lesion": "lytic",
        "alignment": "subluxation_translation",
        "collapse": "gt50",
        "posterolateral": "bilateral",
    }
    a = run(**{"cancer.primary": "lymphoma", "lesions.0.sins": sins})
    assert lesion(a).scores["sins"].value == 16
    assert lesion(a).noms.mechanical.status == "unstable"
    assert first(a) == "stabilization"
    assert options(a)["stabilization"] == "recommended"
    assert options(a)["cebrt"] == "recommended"  # radiation still follows O (R1)
    assert options(a).get("cement_augmentation") in (
        None,
        "avoid",
    )  # never the answer to translation


def test_r7_mechanical_pain_without_instability_gets_cement_then_radiation() -> None:
    # T6 semi-rigid 1 + mechanical 3 + mixed 1 + normal 0 + <50% 2 + none 0 = 7
    sins = {
        "pain": "mechanical",
        "bone_lesion": "mixed",
        "alignment": "normal",
        "collapse": "lt50",
        "posterolateral": "none",
    }
    a = run(**{"lesions.0.sins": sins})
    assert lesion(a).scores["sins"].value == 7
    assert first(a) == "cement_augmentation"
    assert options(a) == {"cement_augmentation": "recommended", "sbrt": "recommended"}


def test_r7_translation_makes_cement_an_avoid() -> None:
    # T6 1 + mechanical 3 + mixed 1 + translation 4 + none 0 + none 0 = 9 (not unstable)
    sins = {
        "pain": "mechanical",
        "bone_lesion": "mixed",
        "alignment": "subluxation_translation",
        "collapse": "none",
        "posterolateral": "none",
    }
    a = run(**{"lesions.0.sins": sins})
    assert options(a)["cement_augmentation"] == "avoid"
    assert options(a)["stabilization"] == "consider"


def test_r8_short_survival_and_poor_tolerance_adds_supportive_care() -> None:
    a = run(
        **{
            "patient.kps": 30,
            "cancer.primary": "colon",
            "cancer.visceral_metastases": "unremovable",
            "cancer.visceral_pattern": "disseminated",
            "cancer.extraspinal_bone_metastases": 4,
            "cancer.vertebral_metastases": 4,
            "patient.labs.albumin_g_dl": 2.8,
        }
    )
    assert lesion(a).noms.systemic.status == "cannot_tolerate_surgery"
    assert options(a).get("best_supportive_care") == "consider"


def test_r9_escc_1c_radiosensitive_is_low_grade_with_mdt() -> None:
    a = run(**{"cancer.primary": "lymphoma", "lesions.0.escc": "1c"})
    assert lesion(a).escc.treated_as == "low"
    assert options(a) == {"cebrt": "recommended", "mdt_review": "recommended"}


def test_r9_escc_1c_radioresistant_keeps_sbrt_and_separation_open() -> None:
    a = run(**{"lesions.0.escc": "1c"})
    assert lesion(a).escc.treated_as == "high"
    assert options(a) == {
        "mdt_review": "recommended",
        "sbrt": "consider",
        "separation_surgery_then_sbrt": "consider",
    }


def test_r9_policy_can_treat_1c_as_low_without_mdt() -> None:
    pol = Policy(escc_1c="low", escc_1c_mdt_review=False)
    a = run(pol, **{"lesions.0.escc": "1c"})
    assert options(a) == {"sbrt": "recommended"}


def test_board_judgment_overrides_scores() -> None:
    a = run(**{"lesions.0.escc": "2", "patient.kps": 40, "patient.medically_operable": True})
    assert lesion(a).noms.systemic.status == "can_tolerate_surgery"
    assert first(a) == "separation_surgery_then_sbrt"


def test_unknown_escc_with_radiosensitive_histology_still_decides() -> None:
    # R1 and R3 both give cEBRT, so the missing grade does not change the recommendation.
    a = run(**{"cancer.primary": "lymphoma", "lesions.0.escc": ...})
    assert options(a) == {"cebrt": "recommended"}
    assert any(m.field == "lesions[0].escc" for m in a.missing)


def test_unknown_escc_with_radioresistant_histology_lists_both_branches() -> None:
    a = run(**{"lesions.0.escc": ...})
    opts = options(a)
    assert opts["sbrt"] == "consider"
    assert opts["separation_surgery_then_sbrt"] == "consider"
    sep = next(r for r in lesion(a).recommendations if r.code == "separation_surgery_then_sbrt")
    assert any(
        "ESCC high grade (2-3)" in r.text and "lesions[0].escc" in r.text for r in sep.reasons
    )


def test_uncertain_tolerance_sends_high_grade_resistant_to_the_board() -> None:
    # mFI-5 frail (diabetes + hypertension = 2) with nothing else against surgery → uncertain.
    a = run(
        **{
            "lesions.0.escc": "2",
            "patient.comorbidities.diabetes": True,
            "patient.comorbidities.hypertension_treated": True,
        }
    )
    assert lesion(a).noms.systemic.status == "uncertain"
    assert options(a)["mdt_review"] == "recommended"
    assert options(a)["separation_surgery_then_sbrt"] == "consider"
    assert options(a)["cebrt"] == "consider"


def test_systemic_pillar_names_the_scores_it_used() -> None:
    a = run()
    texts = " ".join(r.text for r in lesion(a).noms.systemic.reasons)
    assert "revised Tokuhashi" in texts and "NESMS" in texts and "Katagiri" in texts
    assert "agree" in texts or "disagree" in texts


def test_sins_10_to_12_favours_stabilization_before_rt() -> None:
    # T6 1 + occasional 1 + lytic 2 + de novo deformity 2 + <50% 2 + bilateral 3 = 11
    sins = {
        "pain": "occasional_nonmechanical",
        "bone_lesion": "lytic",
        "alignment": "de_novo_deformity",
        "collapse": "lt50",
        "posterolateral": "bilateral",
    }
    a = run(**{"lesions.0.sins": sins})
    assert lesion(a).scores["sins"].value == 11
    assert options(a)["stabilization"] == "consider"
    # At 9 it does not: T6 1 + occasional 1 + lytic 2 + deformity 2 + <50% 2 + unilateral 1 = 9
    sins9 = {**sins, "posterolateral": "unilateral"}
    a9 = run(**{"lesions.0.sins": sins9})
    assert lesion(a9).scores["sins"].value == 9
    assert "stabilization" not in options(a9)
