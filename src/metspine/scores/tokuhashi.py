"""Revised Tokuhashi score (tokuhashi2005), 0-15, higher is better.

Items: general condition by KPS (10-40: 0, 50-70: 1, 80-100: 2); extraspinal bone metastasis foci
(≥3: 0, 1-2: 1, 0: 2); metastases in vertebral bodies (≥3: 0, 2: 1, 1: 2); metastases to major
internal organs (unremovable 0, removable 1, none 2); primary site (0-5, histology catalogue); palsy by
Frankel (A/B 0, C/D 1, E 2). Bands: 0-8 predicted survival < 6 months, 9-11 ≥ 6 months, 12-15
≥ 12 months.
"""

from __future__ import annotations

from metspine.knowledge.histology import histology
from metspine.model.assessment import ScoreResult
from metspine.model.case import Case
from metspine.model.policy import Policy
from metspine.scores import performance
from metspine.scores._burden import min_vertebral_count
from metspine.scores._tally import Band, Tally

NAME = "Revised Tokuhashi"
VERSION = "tokuhashi2005"
REFERENCES = ["tokuhashi2005"]
BANDS = (
    Band(0, 8, "lt_6_months"),
    Band(9, 11, "ge_6_months"),
    Band(12, 15, "ge_12_months"),
)
_INTERPRETATION = {
    "lt_6_months": "Predicted survival under 6 months (conservative or palliative treatment).",
    "ge_6_months": "Predicted survival 6 months or more (palliative surgery).",
    "ge_12_months": "Predicted survival 12 months or more (excisional surgery).",
}


def kps_points(kps: int) -> int:
    """General condition: KPS 10-40 (and 0) → 0, 50-70 → 1, 80-100 → 2."""
    if kps >= 80:
        return 2
    if kps >= 50:
        return 1
    return 0


def extraspinal_points(n: int) -> int:
    return 2 if n == 0 else (1 if n <= 2 else 0)


def vertebral_points(n: int) -> int:
    return 2 if n == 1 else (1 if n == 2 else 0)


VISCERAL_POINTS = {"unremovable": 0, "removable": 1, "none": 2}
FRANKEL_POINTS = {"A": 0, "B": 0, "C": 1, "D": 1, "E": 2}


def tokuhashi(case: Case, policy: Policy) -> ScoreResult:
    t = Tally(NAME, VERSION, "higher_better", list(REFERENCES), BANDS)
    p, c = case.patient, case.cancer

    pv = performance.kps(p, policy)
    if pv.values is None:
        t.add_unknown("general_condition_kps", "patient.kps", (0, 1, 2))
    else:
        shown = f"KPS {'/'.join(str(v) for v in sorted(pv.values))}"
        t.add_range(
            "general_condition_kps",
            shown if pv.source == "measured" else (pv.note or shown),
            {kps_points(v) for v in pv.values},
            pv.missing_field,
            pv.note,
        )

    if c.extraspinal_bone_metastases is None:
        t.add_unknown(
            "extraspinal_bone_metastases", "cancer.extraspinal_bone_metastases", (0, 1, 2)
        )
    else:
        n = c.extraspinal_bone_metastases
        t.add("extraspinal_bone_metastases", str(n), extraspinal_points(n))

    if c.vertebral_metastases is None or c.vertebral_metastases == 0:
        floor = max(min_vertebral_count(case), 1)
        possible = {vertebral_points(n) for n in range(floor, floor + 3)}
        note = f"at least {floor} from the lesions entered" if case.lesions else None
        t.add_unknown("vertebral_metastases", "cancer.vertebral_metastases", possible, note)
    else:
        n = c.vertebral_metastases
        t.add("vertebral_metastases", str(n), vertebral_points(n))

    # Major internal organs include the brain (tokuhashi2005); brain metastases are recorded apart.
    v, brain = c.visceral_metastases, c.brain_metastases
    if v is None:
        t.add_unknown("major_organ_metastases", "cancer.visceral_metastases", (0, 1, 2))
    elif v == "unremovable":
        t.add("major_organ_metastases", v, 0)
    elif brain is True:
        # Removability of the brain lesions is not recorded: removable 1 or unremovable 0.
        t.add_range(
            "major_organ_metastases",
            f"{v} visceral, brain metastases (removability not recorded)",
            (0, 1),
            "cancer.visceral_metastases",
            "Tokuhashi counts the brain among major organs; record removable/unremovable",
        )
    elif brain is None:
        opts: tuple[int, ...] = (0, 1, 2) if v == "none" else (0, 1)
        t.add_unknown(
            "major_organ_metastases",
            "cancer.brain_metastases",
            opts,
            "the brain is one of Tokuhashi's major organs",
        )
    else:
        t.add("major_organ_metastases", v, VISCERAL_POINTS[v])

    if c.primary is None:
        t.add_unknown("primary_site", "cancer.primary", range(0, 6))
    else:
        h = histology(c.primary)
        if h.tokuhashi_primary is None:
            t.add_unknown("primary_site", "cancer.primary", range(0, 6), "no rule for this primary")
        else:
            t.add("primary_site", c.primary, h.tokuhashi_primary, h.tokuhashi_note)
            if h.tokuhashi_note:
                t.notes.append(f"Primary site: {h.tokuhashi_note}.")

    if p.frankel is not None:
        t.add("palsy_frankel", f"Frankel {p.frankel}", FRANKEL_POINTS[p.frankel])
    elif p.asia is not None and policy.asia_as_frankel_proxy:
        note = "ASIA grade used as a proxy for Frankel (policy asia_as_frankel_proxy)"
        t.add("palsy_frankel", f"ASIA {p.asia} (proxy)", FRANKEL_POINTS[p.asia], note)
        t.notes.append(note + ".")
        t.references.append("kirshblum2011_isncsci")
    else:
        note = (
            "ASIA is recorded but is a different scale from Frankel; not equated"
            if p.asia is not None
            else None
        )
        t.add_unknown("palsy_frankel", "patient.frankel", (0, 1, 2), note)
    return t.result(interpretation=_INTERPRETATION.__getitem__)
