"""NESMS — New England Spinal Metastasis Score (ghori2015_nesms; schoenfeld2021_nesms), 0-3, higher better.

Modified Bauer score "high" weighs 2 points, intact (independent) ambulation 1, normal serum albumin 1,
with a ceiling of three: NESMS = min(3, 2·[mBauer high] + [ambulation] + [albumin]). The ceiling is the
only reading consistent with the 0-3 categories of every later paper (prognosis-verification §1);
the mBauer cut-off (≥3), the albumin threshold (3.5 g/dL) and what counts as intact ambulation are
Policy settings. With NESMS 3 as reference, 1-year mortality OR 7.04 for 2 and 31.30 for 1
(schoenfeld2021_nesms).
"""

from __future__ import annotations

from metspine.model.assessment import ScoreResult
from metspine.model.case import Case
from metspine.model.policy import Policy
from metspine.scores._tally import Band, Tally
from metspine.scores.bauer import bauer_modified

NAME = "NESMS"
VERSION = "ghori2015-cap3"
REFERENCES = ["ghori2015_nesms", "schoenfeld2021_nesms", "leithner2008"]
BANDS = (Band(0, 0, "0"), Band(1, 1, "1"), Band(2, 2, "2"), Band(3, 3, "3"))
_INTERPRETATION = {
    "3": "NESMS 3: the reference group with the best 1-year survival.",
    "2": "NESMS 2: 1-year mortality odds 7.04× those of NESMS 3.",
    "1": "NESMS 1: 1-year mortality odds 31.30× those of NESMS 3.",
    "0": "NESMS 0: no patient survived 1 year in the prospective validation.",
}


def nesms(case: Case, policy: Policy, mbauer: ScoreResult | None = None) -> ScoreResult:
    """``mbauer`` may pass an already computed modified Bauer result for the same case."""
    t = Tally(NAME, VERSION, "higher_better", list(REFERENCES), BANDS)
    mb = mbauer if mbauer is not None else bauer_modified(case)
    cut = policy.nesms_mbauer_high_min
    if mb.value is not None:
        high = mb.value >= cut
        t.add("modified_bauer_high", f"mBauer {mb.value}", 2 if high else 0)
    else:
        assert mb.range is not None
        lo, hi = mb.range
        if lo >= cut:
            t.add("modified_bauer_high", f"mBauer {lo}-{hi}", 2)
        elif hi < cut:
            t.add("modified_bauer_high", f"mBauer {lo}-{hi}", 0)
        else:
            t.add_unknown("modified_bauer_high", mb.missing[0], (0, 2), f"mBauer {lo}-{hi}")
            t.missing.extend(mb.missing[1:])

    amb = case.patient.ambulation
    if amb is None:
        t.add_unknown("intact_ambulation", "patient.ambulation", (0, 1))
    else:
        intact = amb == "independent" or (
            amb == "with_aid" and policy.nesms_ambulation == "independent_or_with_aid"
        )
        t.add("intact_ambulation", amb, 1 if intact else 0)

    alb = case.patient.labs.albumin_g_dl
    if alb is None:
        t.add_unknown("normal_albumin", "patient.labs.albumin_g_dl", (0, 1))
    else:
        normal = alb >= policy.nesms_albumin_normal_g_dl
        t.add("normal_albumin", f"{alb} g/dL", 1 if normal else 0)

    cap = policy.nesms_cap
    return t.result(transform=lambda x: min(cap, x), interpretation=_INTERPRETATION.__getitem__)
