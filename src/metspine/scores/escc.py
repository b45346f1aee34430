"""ESCC — epidural spinal cord compression scale (bilsky2010_escc) and its NOMS grouping.

Grades 0, 1a, 1b, 1c, 2, 3 on axial T2 MRI at the level of worst compression. NOMS groups 0-1b as
low grade and 2-3 as high grade (laufer2013_noms); 1c is the grey zone whose handling is a Policy
choice (spec clinical §3.2, §4.2 R9 [U]).
"""

from __future__ import annotations

from typing import Literal

from metspine.model.assessment import EsccSummary
from metspine.model.policy import Policy

EsccGroup = Literal["low", "borderline", "high"]

GROUP: dict[str, EsccGroup] = {
    "0": "low",
    "1a": "low",
    "1b": "low",
    "1c": "borderline",
    "2": "high",
    "3": "high",
}

DESCRIPTION = {
    "0": "bone-only disease",
    "1a": "epidural impingement without deformation of the thecal sac",
    "1b": "thecal sac deformed, cord not abutted",
    "1c": "thecal sac deformed and cord abutted, without cord compression",
    "2": "cord compressed, CSF still visible around the cord",
    "3": "cord compressed, no CSF visible around the cord",
}

# Levels below the conus: ESCC was validated on cervical and thoracic cases only (bilsky2010_escc).
BELOW_CONUS = {"L2", "L3", "L4", "L5", "S1", "S2", "S3", "S4", "S5"}


def escc_group(grade: str | None) -> EsccGroup | None:
    return None if grade is None else GROUP[grade]


def treat_1c_as(radiosensitive: bool | None, policy: Policy) -> Literal["low", "high"] | None:
    """How a 1c lesion enters the NOMS rules under the policy (None when it depends on unknowns)."""
    if policy.escc_1c == "low":
        return "low"
    if policy.escc_1c == "high":
        return "high"
    # by_histology: low grade for radiosensitive tumours; for radioresistant tumours 1c is handled as
    # high grade (separation surgery unless SBRT can meet cord constraints) — spec clinical §3.2.
    if radiosensitive is None:
        return None
    return "low" if radiosensitive else "high"


def summarize(
    grade: str | None, levels: list[str], radiosensitive: bool | None, policy: Policy
) -> EsccSummary:
    group = escc_group(grade)
    treated: Literal["low", "high"] | None
    if group == "borderline":
        treated = treat_1c_as(radiosensitive, policy)
    elif group is None:
        treated = None
    else:
        treated = "low" if group == "low" else "high"
    note = None
    if grade is not None and policy.lumbar_escc_low_confidence and set(levels) <= BELOW_CONUS:
        note = (
            "ESCC was validated on cervical and thoracic cases; below the conus (cauda equina) read "
            "the grade with lower confidence."
        )
    return EsccSummary(grade=grade, group=group, treated_as=treated, note=note)
