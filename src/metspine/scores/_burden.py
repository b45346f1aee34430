"""Counting the skeletal disease the prognosis scores ask about (prognosis pitfall 15).

Tokuhashi counts vertebral bodies involved and extraspinal bone foci; Tomita, Bauer and Katagiri ask
whether the skeletal disease is solitary. metspine calls it solitary when there are no extraspinal
foci and every involved vertebral body lies within one lesion entry (one contiguous tumour).
"""

from __future__ import annotations

from metspine.model.case import Case


def solitary_skeletal(case: Case) -> bool | None:
    """True/False, or None when the counts needed are unknown."""
    extraspinal = case.cancer.extraspinal_bone_metastases
    vertebral = case.cancer.vertebral_metastases
    if extraspinal is not None and extraspinal > 0:
        return False
    if len(case.lesions) > 1:
        return False
    if vertebral == 0 and extraspinal == 0:
        return None  # no skeletal metastasis recorded: "solitary" and "multiple" do not apply
    if vertebral is not None:
        n_levels = len(case.lesions[0].levels) if case.lesions else 0
        if vertebral > max(n_levels, 1):
            return False
        if extraspinal is None:
            return None
        return vertebral >= 1 and (n_levels == 0 or vertebral == n_levels)
    return None


def solitary_inputs(case: Case) -> list[str]:
    """Fields whose absence leaves 'solitary' unknown."""
    out = []
    if case.cancer.extraspinal_bone_metastases is None:
        out.append("cancer.extraspinal_bone_metastases")
    if case.cancer.vertebral_metastases is None:
        out.append("cancer.vertebral_metastases")
    return out


def min_vertebral_count(case: Case) -> int:
    """The lesions entered fix a lower bound on the vertebral count."""
    return sum(len(lesion.levels) for lesion in case.lesions)


def visceral_free(case: Case, include_brain: bool) -> bool | None:
    """No visceral (and, if asked, no brain) metastases; None when that is not known."""
    v = case.cancer.visceral_metastases
    b = case.cancer.brain_metastases
    if v is not None and v != "none":
        return False
    if include_brain and b is True:
        return False
    if v is None or (include_brain and b is None):
        return None
    return True
