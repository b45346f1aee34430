"""Tomita score (tomita2001), 2-10, higher is worse.

Primary tumour growth: slow 1, moderate 2, rapid 4; visceral metastases: none 0, treatable 2,
untreatable 4; bone metastases (spinal and extraspinal): solitary/isolated 1, multiple 2.
Bands (treatment goal): 2-3 wide or marginal excision, 4-5 marginal or intralesional excision,
6-7 palliative surgery, 8-10 non-operative supportive care. The source names examples of each growth
class; a primary it does not name needs ``cancer.tomita_growth`` from the clinician.
"""

from __future__ import annotations

from metspine.knowledge.histology import histology
from metspine.model.assessment import ScoreResult
from metspine.model.case import Case
from metspine.scores._burden import solitary_inputs, solitary_skeletal
from metspine.scores._tally import Band, Tally

NAME = "Tomita"
VERSION = "tomita2001"
REFERENCES = ["tomita2001"]
BANDS = (
    Band(2, 3, "wide_marginal_excision"),
    Band(4, 5, "marginal_intralesional_excision"),
    Band(6, 7, "palliative_surgery"),
    Band(8, 10, "supportive_care"),
)
GROWTH_POINTS = {"slow": 1, "moderate": 2, "rapid": 4}
VISCERAL_POINTS = {"none": 0, "removable": 2, "unremovable": 4}
_INTERPRETATION = {
    "wide_marginal_excision": "Long-term local control: wide or marginal excision.",
    "marginal_intralesional_excision": "Middle-term local control: marginal or intralesional excision.",
    "palliative_surgery": "Short-term palliation: palliative surgery.",
    "supportive_care": "Terminal care: non-operative supportive care.",
}


def tomita(case: Case) -> ScoreResult:
    t = Tally(NAME, VERSION, "higher_worse", list(REFERENCES), BANDS)
    c = case.cancer
    growth = c.tomita_growth
    source = "clinician"
    if growth is None and c.primary is not None:
        growth = histology(c.primary).tomita_growth
        source = c.primary
    if growth is None:
        field = "cancer.primary" if c.primary is None else "cancer.tomita_growth"
        note = None if c.primary is None else f"Tomita names no growth class for {c.primary}"
        t.add_unknown("primary_growth", field, GROWTH_POINTS.values(), note)
    else:
        t.add("primary_growth", f"{growth} ({source})", GROWTH_POINTS[growth])

    v = c.visceral_metastases
    if v is None:
        t.add_unknown("visceral_metastases", "cancer.visceral_metastases", VISCERAL_POINTS.values())
    else:
        label = {"none": "none", "removable": "treatable", "unremovable": "untreatable"}[v]
        t.add("visceral_metastases", label, VISCERAL_POINTS[v])

    solitary = solitary_skeletal(case)
    if solitary is None:
        fields = solitary_inputs(case) or ["cancer.vertebral_metastases"]
        t.add_unknown("bone_metastases", fields[0], (1, 2))
        t.missing.extend(fields[1:])
    else:
        t.add("bone_metastases", "solitary" if solitary else "multiple", 1 if solitary else 2)
    return t.result(interpretation=_INTERPRETATION.__getitem__)
