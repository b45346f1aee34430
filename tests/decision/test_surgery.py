"""Technique rules (spec clinical §4.4, §5, §6): each at its boundaries, expected values from the sheet.

The base case (tests/conftest.py) is a fit patient with renal cell carcinoma at T6, ESCC 1a, SINS 2.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import make_case

import metspine
from metspine.knowledge import references
from metspine.knowledge.surgery import drugs, safety_rules, surgery_table
from metspine.model.assessment import Assessment, Recommendation
from metspine.model.policy import Policy, SurgeryPolicy


def run(policy: Policy | None = None, **changes: Any) -> Assessment:
    return metspine.assess(make_case(**changes), policy)


def recs(a: Assessment) -> dict[str, Recommendation]:
    return {r.code: r for r in a.lesions[0].recommendations}


def missing(a: Assessment) -> dict[str, list[str]]:
    return {m.field: m.needed_for for m in a.missing}


HIGH_GRADE = {"lesions.0.escc": "2"}  # R4: separation surgery then SBRT (fit, radioresistant)


def test_every_surgical_and_safety_row_cites_known_references() -> None:
    reg = references()
    rows = list(surgery_table().rows.values())
    assert rows
    for row in rows:
        assert row.references and all(k in reg for k in row.references), row.text
    e = surgery_table().embolization
    assert all(k in reg for k in e.max_hours_references + e.gelfoam_references)
    for rule in safety_rules().values():
        keys = list(rule.references) + [k for v in rule.references_by_text.values() for k in v]
        assert keys and all(k in reg for k in keys), rule.code
    for d in set(drugs().values()):
        for k in d.references + d.guideline_references + d.sbrt_references:
            assert k in reg, (d.name, k)


def test_separation_surgery_states_goal_approach_and_implant() -> None:
    r = recs(run(**HIGH_GRADE))["separation_surgery_then_sbrt"]
    assert r.details["surgical_goal"] == "postoperative ESCC 0-1"
    assert r.details["approach"] == "mini_open"  # decompression + fixation (zuckerman2016_mis)
    # MRI surveillance not recorded: implant left open, and the gap is reported.
    assert r.details["implant_material"] == "either"
    assert any("Not assessable" in x.text for x in r.reasons)


def test_missing_mri_plan_is_reported_not_guessed() -> None:
    a = run(**HIGH_GRADE)
    assert missing(a)["patient.mri_surveillance_planned"] == ["implant_material"]


def test_carbon_fibre_peek_when_every_criterion_holds() -> None:
    a = run(
        **HIGH_GRADE,
        **{
            "patient.mri_surveillance_planned": True,
            "patient.clinician_survival_estimate_months": 24,
        },
    )
    r = recs(a)["separation_surgery_then_sbrt"]
    assert r.details["implant_material"] == "carbon_fibre_peek"
    texts = " ".join(x.text for x in r.reasons)
    assert "<5 % against >30 %" in texts  # nevelsky2017_cfpeek
    assert "drawbacks" in texts  # known drawbacks always shown


@pytest.mark.parametrize(
    ("months", "material"),
    [(2.9, "titanium"), (3, "either"), (11.9, "either"), (12, "carbon_fibre_peek")],
)
def test_implant_survival_horizon_boundaries(months: float, material: str) -> None:
    # short < 3 months (patchell2005); long ≥ 12 months (Policy.surgery.long_survival_months).
    a = run(
        **HIGH_GRADE,
        **{
            "patient.mri_surveillance_planned": True,
            "patient.clinician_survival_estimate_months": months,
            "patient.medically_operable": True,
        },
    )
    assert recs(a)["separation_surgery_then_sbrt"].details["implant_material"] == material


def test_titanium_when_rods_must_be_contoured_in_situ() -> None:
    a = run(
        **HIGH_GRADE,
        **{
            "patient.mri_surveillance_planned": True,
            "patient.clinician_survival_estimate_months": 24,
            "lesions.0.deformity_needs_in_situ_contouring": True,
        },
    )
    r = recs(a)["separation_surgery_then_sbrt"]
    assert r.details["implant_material"] == "titanium"
    assert any("cannot be bent" in x.text for x in r.reasons)


def test_titanium_after_stabilization_for_radiosensitive_tumour_no_sbrt() -> None:
    # Myeloma, SINS 13+ (unstable): stabilization then cEBRT, no postoperative SBRT.
    a = run(
        **{
            "cancer.primary": "myeloma",
            "lesions.0.sins.pain": "mechanical",
            "lesions.0.sins.bone_lesion": "lytic",
            "lesions.0.sins.collapse": "gt50",
            "lesions.0.sins.posterolateral": "bilateral",
            "patient.mri_surveillance_planned": True,
            "patient.clinician_survival_estimate_months": 24,
        }
    )
    # SINS: T6 1 + mechanical 3 + lytic 2 + normal 0 + gt50 3 + bilateral 3 = 12 → not unstable;
    # add de novo deformity (2) → 14, unstable.
    assert a.lesions[0].scores["sins"].value == 12
    a = run(
        **{
            "cancer.primary": "myeloma",
            "lesions.0.sins.pain": "mechanical",
            "lesions.0.sins.bone_lesion": "lytic",
            "lesions.0.sins.alignment": "de_novo_deformity",
            "lesions.0.sins.collapse": "gt50",
            "lesions.0.sins.posterolateral": "bilateral",
            "lesions.0.deformity_needs_in_situ_contouring": False,
            "patient.mri_surveillance_planned": True,
            "patient.clinician_survival_estimate_months": 24,
        }
    )
    r = recs(a)["stabilization"]
    assert r.details["implant_material"] == "titanium"
    assert r.details["approach"] == "open"  # deformity to realign


def test_percutaneous_when_tolerance_is_limited() -> None:
    # Unstable spine (SINS 18-like) in a patient who cannot tolerate open surgery (KPS 40 → ECOG 3).
    a = run(
        **{
            "patient.kps": 40,
            "lesions.0.sins.pain": "mechanical",
            "lesions.0.sins.bone_lesion": "lytic",
            "lesions.0.sins.alignment": "subluxation_translation",
            "lesions.0.sins.collapse": "gt50",
            "lesions.0.sins.posterolateral": "bilateral",
        }
    )
    r = recs(a)["stabilization"]
    assert r.strength == "consider"
    assert r.details["approach"] == "percutaneous"


def test_cement_posterior_wall_caution() -> None:
    base = {"lesions.0.sins.pain": "mechanical", "lesions.0.sins.collapse": "lt50"}
    r = recs(run(**base, **{"lesions.0.posterior_wall_involved": True}))["cement_augmentation"]
    assert any("14.2 %" in x.text for x in r.reasons)  # cianfoni2015_posterior_wall
    a = run(**base)
    assert missing(a)["lesions[0].posterior_wall_involved"] == ["cement_augmentation"]
    assert recs(a)["cement_augmentation"].details["posterior_wall_involved"] is None


@pytest.mark.parametrize(("primary", "expected"), [("renal_cell", True), ("breast", False),
                                                   ("thyroid", True), ("prostate", False)])  # fmt: skip
def test_embolization_for_hypervascular_not_for_breast(primary: str, expected: bool) -> None:
    # Radioresistant need: force operability and high grade; breast/prostate are radiosensitive
    # (cEBRT, R3), so give them an unstable spine for an open stabilization instead.
    changes = {
        "cancer.primary": primary,
        "lesions.0.escc": "2",
        "lesions.0.sins.pain": "mechanical",
        "lesions.0.sins.bone_lesion": "lytic",
        "lesions.0.sins.alignment": "subluxation_translation",
        "lesions.0.sins.collapse": "gt50",
        "lesions.0.sins.posterolateral": "bilateral",
    }
    a = run(**changes)
    has = "preoperative_embolization" in recs(a)
    assert has is expected
    if has:
        emb = recs(a)["preoperative_embolization"]
        assert emb.details["max_hours_before_surgery"] == 48  # manke2001_embolization
        assert emb.details["max_hours_before_surgery_gelfoam"] == 24


def test_no_embolization_without_open_exposure() -> None:
    assert "preoperative_embolization" not in recs(run())  # RCC, SBRT only


@pytest.mark.parametrize(
    ("changes", "offered"),
    [
        ({}, True),
        ({"lesions.0.motor_deficit": True}, False),  # LITT series excluded motor deficit
        ({"lesions.0.escc": "1c"}, False),  # 1c stays with the R9 discussion
        ({"cancer.primary": "breast"}, False),  # radiosensitive: cEBRT (R3)
        ({"patient.kps": 40}, False),  # cannot tolerate surgery
    ],
)
def test_litt_only_high_grade_radioresistant_without_motor_deficit(
    changes: dict[str, Any], offered: bool
) -> None:
    a = run(**{**HIGH_GRADE, **changes})
    assert ("litt_then_sbrt" in recs(a)) is offered


def test_litt_motor_status_unknown_is_reported() -> None:
    a = run(**{**HIGH_GRADE, "lesions.0.motor_deficit": ...})
    assert "litt_then_sbrt" not in recs(a)
    assert "litt_then_sbrt" in missing(a)["lesions[0].motor_deficit"]


EN_BLOC = {
    "lesions.0.solitary": True,
    "patient.clinician_survival_estimate_months": 36,
}


def test_en_bloc_considered_for_solitary_radioresistant_long_survival_fit() -> None:
    r = recs(run(**EN_BLOC))["en_bloc_resection"]
    assert r.strength == "consider"
    assert any("66.7 %" in x.text for x in r.reasons)  # ohashi2019 morbidity stated


@pytest.mark.parametrize(
    "changes",
    [
        {"lesions.0.solitary": False},
        {"cancer.vertebral_metastases": 3},  # other vertebrae involved
        {"cancer.primary": "breast"},  # radiosensitive histology
    ],
)
def test_en_bloc_absent_when_not_solitary_or_not_radioresistant(changes: dict[str, Any]) -> None:
    c = {**EN_BLOC, **changes}
    if "cancer.vertebral_metastases" in changes:
        c.pop("lesions.0.solitary")
    assert "en_bloc_resection" not in recs(run(**c))


@pytest.mark.parametrize(
    "changes",
    [
        {"patient.clinician_survival_estimate_months": 2},  # short
        {"patient.clinician_survival_estimate_months": 11.9},  # below the 12-month horizon
        {"patient.kps": 40},  # cannot tolerate surgery
        {"cancer.visceral_metastases": "unremovable"},
    ],
)
def test_en_bloc_refused(changes: dict[str, Any]) -> None:
    r = recs(run(**{**EN_BLOC, **changes}))["en_bloc_resection"]
    assert r.strength == "avoid"
    assert r.reasons[0].text.startswith("Not offered")


def test_en_bloc_at_12_months_and_policy_horizon() -> None:
    c = {**EN_BLOC, "patient.clinician_survival_estimate_months": 12}
    assert recs(run(**c))["en_bloc_resection"].strength == "consider"
    strict = Policy(surgery=SurgeryPolicy(long_survival_months=24))
    assert recs(run(strict, **c))["en_bloc_resection"].strength == "avoid"


def test_en_bloc_solitary_unknown_asks_the_board() -> None:
    a = run(**{"patient.clinician_survival_estimate_months": 36})
    assert "en_bloc_resection" not in recs(a)
    assert missing(a)["lesions[0].solitary"] == ["en_bloc_resection"]


@pytest.mark.parametrize(
    ("changes", "modality"),
    [
        ({}, "radiofrequency"),
        (
            {
                "lesions.0.prior_radiation": [
                    {"dose_gy": 8, "fractions": 1, "end_date": "2026-01-01"}
                ]
            },
            "cryoablation",
        ),
    ],
)
def test_ablation_modality(changes: dict[str, Any], modality: str) -> None:
    base = {
        "lesions.0.sins.pain": "occasional_nonmechanical",
        "lesions.0.sins.bone_lesion": "lytic",
    }
    r = recs(run(**{**base, **changes}))["ablation"]
    assert r.details["modality"] == modality


def test_no_ablation_for_translation_or_high_grade() -> None:
    base = {"lesions.0.sins.pain": "mechanical", "lesions.0.sins.bone_lesion": "lytic"}
    assert "ablation" not in recs(
        run(**base, **{"lesions.0.sins.alignment": "subluxation_translation"})
    )
    assert "ablation" not in recs(run(**base, **{"lesions.0.escc": "2"}))


def test_endoscopic_decompression_for_focal_radiculopathy_only_one_level() -> None:
    assert "endoscopic_decompression" in recs(run(**{"lesions.0.functional_radiculopathy": True}))
    two = run(**{"lesions.0.functional_radiculopathy": True, "lesions.0.levels": ["T6", "T7"],
                 "cancer.vertebral_metastases": 2})  # fmt: skip
    assert "endoscopic_decompression" not in recs(two)


def test_options_stay_ordered_strongest_first() -> None:
    from metspine.decision.plan import CODE_ORDER, STRENGTH_ORDER

    a = run(**HIGH_GRADE, **EN_BLOC)
    keys = [
        (STRENGTH_ORDER[r.strength], CODE_ORDER.index(r.code)) for r in a.lesions[0].recommendations
    ]
    assert keys == sorted(keys)
