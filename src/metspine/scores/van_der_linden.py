"""van der Linden score (vanderlinden2005), 0-6, higher is better.

KPS 80-100: 2, 50-70: 1, 10-40: 0; primary breast 3, prostate 2, lung 1, other 0; visceral metastases
absent 1, present 0. Groups: A 0-3 (median survival 3.0 months), B 4-5 (9.0 months), C 6 (18.7 months).
"""

from __future__ import annotations

from metspine.knowledge.histology import histology
from metspine.model.assessment import ScoreResult
from metspine.model.case import Case
from metspine.model.policy import Policy
from metspine.scores import performance
from metspine.scores._tally import Band, Tally

NAME = "van der Linden"
VERSION = "vanderlinden2005"
REFERENCES = ["vanderlinden2005"]
BANDS = (Band(0, 3, "A"), Band(4, 5, "B"), Band(6, 6, "C"))
_INTERPRETATION = {
    "A": "Group A: median survival 3.0 months.",
    "B": "Group B: median survival 9.0 months.",
    "C": "Group C: median survival 18.7 months.",
}


def kps_points(kps: int) -> int:
    if kps >= 80:
        return 2
    if kps >= 50:
        return 1
    return 0


def van_der_linden(case: Case, policy: Policy) -> ScoreResult:
    t = Tally(NAME, VERSION, "higher_better", list(REFERENCES), BANDS)
    pv = performance.kps(case.patient, policy)
    if pv.values is None:
        t.add_unknown("kps", "patient.kps", (0, 1, 2))
    else:
        shown = f"KPS {'/'.join(str(v) for v in sorted(pv.values))}"
        t.add_range("kps", shown, {kps_points(v) for v in pv.values}, pv.missing_field, pv.note)
    c = case.cancer
    if c.primary is None:
        t.add_unknown("primary", "cancer.primary", (0, 1, 2, 3))
    else:
        pts = histology(c.primary).vdl_primary
        if pts is None:
            t.add_unknown("primary", "cancer.primary", (0, 1, 2, 3))
        else:
            t.add("primary", c.primary, pts)
    v = c.visceral_metastases
    if v is None:
        t.add_unknown("no_visceral_metastases", "cancer.visceral_metastases", (0, 1))
    else:
        t.add("no_visceral_metastases", v, 1 if v == "none" else 0)
    return t.result(interpretation=_INTERPRETATION.__getitem__)
