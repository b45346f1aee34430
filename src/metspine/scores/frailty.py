"""Frailty indices: mFI-5 (subramaniam2018_mfi5) and MSTFI (delagarzaramos2016_mstfi), higher is worse.

mFI-5: one point each for diabetes, hypertension on medication, COPD or current pneumonia, congestive
heart failure, and partially or totally dependent functional status (0-5); frail from the Policy cut-off
(default ≥ 2); the four-tier reading 0 / 1 / 2 / ≥3 used in spine-tumour NSQIP work (kazim2022_mfi5) is
named in the notes.

MSTFI, the published 9-item version: anaemia, chronic lung disease, coagulopathy, electrolyte
abnormality, pulmonary circulation disorder, renal failure, malnutrition, emergent/urgent admission,
anterior or combined surgical approach; 1 point each (item weights unconfirmed [U]); 0 not frail,
1 mild, 2 moderate, ≥3 severe. Two items describe the encounter and the planned operation, so before a
surgical plan exists the score is reported as a range.
"""

from __future__ import annotations

from metspine.model.assessment import ScoreResult
from metspine.model.case import Patient
from metspine.model.policy import Policy
from metspine.scores._tally import Band, Tally

MFI5_ITEMS = (
    "diabetes",
    "hypertension_treated",
    "copd_or_pneumonia",
    "chf",
    "dependent_functional_status",
)
MSTFI_COMORBIDITY_ITEMS = (
    "anemia",
    "chronic_lung_disease",
    "coagulopathy",
    "electrolyte_abnormality",
    "pulmonary_circulation_disorder",
    "renal_failure",
    "malnutrition",
)
MSTFI_BANDS = (
    Band(0, 0, "not_frail"),
    Band(1, 1, "mild"),
    Band(2, 2, "moderate"),
    Band(3, 9, "severe"),
)
_MFI5_TIERS = {0: "not frail", 1: "pre-frail", 2: "frail"}


def mfi5(patient: Patient, policy: Policy) -> ScoreResult:
    cut = policy.mfi5_frail_min
    bands = (Band(0, cut - 1, "not_frail"), Band(cut, 5, "frail"))
    t = Tally("mFI-5", "subramaniam2018", "higher_worse", ["subramaniam2018_mfi5"], bands)
    for item in MFI5_ITEMS:
        v = getattr(patient.comorbidities, item)
        if v is None:
            t.add_unknown(item, f"patient.comorbidities.{item}", (0, 1))
        else:
            t.add(item, "yes" if v else "no", 1 if v else 0)
    known = [c["points"] for c in t.components]
    if None not in known:
        total = int(sum(p for p in known if isinstance(p, int | float)))
        tier = _MFI5_TIERS.get(total, "severely frail")
        t.notes.append(f"Four-tier reading (kazim2022_mfi5): {tier}.")
        t.references.append("kazim2022_mfi5")
    return t.result()


def mstfi(patient: Patient, policy: Policy) -> ScoreResult:
    t = Tally(
        "MSTFI",
        "delagarzaramos2016-9item",
        "higher_worse",
        ["delagarzaramos2016_mstfi"],
        MSTFI_BANDS,
    )
    for item in MSTFI_COMORBIDITY_ITEMS:
        v = getattr(patient.comorbidities, item)
        if v is None:
            t.add_unknown(item, f"patient.comorbidities.{item}", (0, 1))
        else:
            t.add(item, "yes" if v else "no", 1 if v else 0)
    if patient.admission is None:
        t.add_unknown("emergent_or_urgent_admission", "patient.admission", (0, 1))
    else:
        urgent = patient.admission in ("urgent", "emergency")
        t.add("emergent_or_urgent_admission", patient.admission, 1 if urgent else 0)
    approach = patient.anterior_or_combined_approach_planned
    if approach is None:
        t.add_unknown(
            "anterior_or_combined_approach",
            "patient.anterior_or_combined_approach_planned",
            (0, 1),
            "a property of the planned operation",
        )
    else:
        t.add("anterior_or_combined_approach", "yes" if approach else "no", 1 if approach else 0)
    t.notes.append(
        "Item weights of the published MSTFI are unconfirmed; one point per item is used."
    )
    return t.result()
