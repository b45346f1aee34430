"""Bauer score (bauer1995) and modified Bauer score (leithner2008), higher is better.

One point each for: no visceral or brain metastases; solitary skeletal metastasis; primary not lung;
primary breast, kidney, lymphoma or myeloma; and (original only) no pathological fracture.
Original 0-5: 0-1 poor, 2-3 moderate, 4-5 good. Modified (without the fracture item, leithner2008)
0-4: 0-1 poor, 2 moderate, 3-4 good.
"""

from __future__ import annotations

from metspine.knowledge.histology import histology
from metspine.model.assessment import ScoreResult
from metspine.model.case import Case
from metspine.scores._burden import solitary_inputs, solitary_skeletal, visceral_free
from metspine.scores._tally import Band, Tally

BANDS_ORIGINAL = (Band(0, 1, "poor"), Band(2, 3, "moderate"), Band(4, 5, "good"))
BANDS_MODIFIED = (Band(0, 1, "poor"), Band(2, 2, "moderate"), Band(3, 4, "good"))


def _items(case: Case, t: Tally) -> None:
    c = case.cancer
    free = visceral_free(case, include_brain=True)
    if free is None:
        field = (
            "cancer.visceral_metastases"
            if c.visceral_metastases is None
            else ("cancer.brain_metastases")
        )
        t.add_unknown("no_visceral_or_brain_metastases", field, (0, 1))
    else:
        t.add("no_visceral_or_brain_metastases", "yes" if free else "no", 1 if free else 0)

    solitary = solitary_skeletal(case)
    if solitary is None:
        fields = solitary_inputs(case) or ["cancer.vertebral_metastases"]
        t.add_unknown("solitary_skeletal_metastasis", fields[0], (0, 1))
        t.missing.extend(fields[1:])
    else:
        t.add("solitary_skeletal_metastasis", "yes" if solitary else "no", 1 if solitary else 0)

    if c.primary is None:
        t.add_unknown("primary_not_lung", "cancer.primary", (0, 1))
        t.add_unknown("primary_breast_kidney_lymphoma_myeloma", "cancer.primary", (0, 1))
        return
    h = histology(c.primary)
    if h.bauer_lung is None:
        t.add_unknown("primary_not_lung", "cancer.primary", (0, 1))
    else:
        t.add("primary_not_lung", c.primary, 0 if h.bauer_lung else 1)
    if h.bauer_favourable is None:
        t.add_unknown("primary_breast_kidney_lymphoma_myeloma", "cancer.primary", (0, 1))
    else:
        t.add("primary_breast_kidney_lymphoma_myeloma", c.primary, 1 if h.bauer_favourable else 0)


def bauer(case: Case) -> ScoreResult:
    t = Tally("Bauer", "bauer1995", "higher_better", ["bauer1995"], BANDS_ORIGINAL)
    _items(case, t)
    fracture = case.cancer.pathological_fracture
    if fracture is None:
        t.add_unknown("no_pathological_fracture", "cancer.pathological_fracture", (0, 1))
    else:
        t.add("no_pathological_fracture", "no" if fracture else "yes", 0 if fracture else 1)
    return t.result()


def bauer_modified(case: Case) -> ScoreResult:
    t = Tally(
        "Modified Bauer",
        "leithner2008",
        "higher_better",
        ["leithner2008", "bauer1995"],
        BANDS_MODIFIED,
    )
    _items(case, t)
    return t.result()
