"""New Katagiri score (katagiri2014), 0-10, higher is worse.

Primary lesion: slow growth 0, moderate 2, rapid 3 (breast and prostate slow when hormone-dependent,
else moderate; lung moderate with molecularly targeted therapy, else rapid). Visceral or cerebral
metastases: nodular 1, disseminated 2. Laboratory data: abnormal 1 (CRP ≥ 0.4 mg/dL, LDH ≥ 250 IU/L or
albumin < 3.7 g/dL); critical 2 (platelets < 100 × 10³/µL, calcium ≥ 10.3 mg/dL or total bilirubin
≥ 1.4 mg/dL); critical overrides abnormal. ECOG 3-4: 1. Previous chemotherapy: 1. Multiple skeletal
metastases: 1. Bands: 0-3 low (1-year survival 91%), 4-6 intermediate, 7-10 high (6-month 27%,
1-year 6%).
"""

from __future__ import annotations

from collections.abc import Callable

from metspine.knowledge.histology import histology
from metspine.model.assessment import ScoreResult
from metspine.model.case import Case, Labs
from metspine.model.policy import Policy
from metspine.scores import performance
from metspine.scores._burden import solitary_inputs, solitary_skeletal
from metspine.scores._tally import Band, Tally

NAME = "New Katagiri"
VERSION = "katagiri2014"
REFERENCES = ["katagiri2014"]
BANDS = (Band(0, 3, "low"), Band(4, 6, "intermediate"), Band(7, 10, "high"))
GROWTH_POINTS = {"slow": 0, "moderate": 2, "rapid": 3}
_INTERPRETATION = {
    "low": "Low risk: 1-year survival 91%, 2-year 78% in the derivation cohort.",
    "intermediate": "Intermediate risk.",
    "high": "High risk: 6-month survival 27%, 1-year 6% in the derivation cohort.",
}

# (field, predicate for "abnormal/critical")
ABNORMAL: tuple[tuple[str, Callable[[float], bool]], ...] = (
    ("crp_mg_dl", lambda x: x >= 0.4),
    ("ldh_iu_l", lambda x: x >= 250),
    ("albumin_g_dl", lambda x: x < 3.7),
)
CRITICAL: tuple[tuple[str, Callable[[float], bool]], ...] = (
    ("platelets_10e3_ul", lambda x: x < 100),
    ("calcium_mg_dl", lambda x: x >= 10.3),
    ("bilirubin_mg_dl", lambda x: x >= 1.4),
)


def lab_points(labs: Labs) -> tuple[set[int], list[str], list[str]]:
    """Possible lab points, the missing analytes, and the abnormal findings that drove them."""
    missing: list[str] = []
    found: list[str] = []
    crit_true = crit_unknown = abn_true = abn_unknown = False
    for name, pred in CRITICAL:
        v = getattr(labs, name)
        if v is None:
            crit_unknown = True
            missing.append(f"patient.labs.{name}")
        elif pred(v):
            crit_true = True
            found.append(f"{name} {v} (critical)")
    for name, pred in ABNORMAL:
        v = getattr(labs, name)
        if v is None:
            abn_unknown = True
            missing.append(f"patient.labs.{name}")
        elif pred(v):
            abn_true = True
            found.append(f"{name} {v} (abnormal)")
    if crit_true:
        return {2}, [], found
    lo = 1 if abn_true else 0
    hi = 2 if crit_unknown else (1 if (abn_true or abn_unknown) else 0)
    if lo == hi:
        missing = []
    return set(range(lo, hi + 1)), missing, found


def katagiri(case: Case, policy: Policy) -> ScoreResult:
    t = Tally(NAME, VERSION, "higher_worse", list(REFERENCES), BANDS)
    c, p = case.cancer, case.patient

    growth = c.katagiri_growth
    shown = "clinician"
    if growth is None and c.primary is not None:
        rule = histology(c.primary).katagiri_growth
        shown = c.primary
        if rule == "hormone":
            if c.hormone_dependent is None:
                t.add_unknown(
                    "primary_lesion",
                    "cancer.hormone_dependent",
                    (0, 2),
                    f"{c.primary}: slow if hormone-dependent, else moderate",
                )
            else:
                growth = "slow" if c.hormone_dependent else "moderate"
                shown = (
                    f"{c.primary}, hormone-{'dependent' if c.hormone_dependent else 'independent'}"
                )
        elif rule == "targeted":
            if c.targeted_therapy is None:
                t.add_unknown(
                    "primary_lesion",
                    "cancer.targeted_therapy",
                    (2, 3),
                    "lung: moderate with molecularly targeted therapy, else rapid",
                )
            else:
                growth = "moderate" if c.targeted_therapy else "rapid"
                shown = (
                    f"{c.primary}, {'with' if c.targeted_therapy else 'without'} targeted therapy"
                )
        elif rule is not None:
            growth = rule
    if growth is not None:
        t.add("primary_lesion", f"{growth} growth ({shown})", GROWTH_POINTS[growth])
    elif not any(comp["item"] == "primary_lesion" for comp in t.components):
        field = "cancer.primary" if c.primary is None else "cancer.katagiri_growth"
        note = None if c.primary is None else f"no verified Katagiri group for {c.primary}"
        t.add_unknown("primary_lesion", field, GROWTH_POINTS.values(), note)

    v, brain = c.visceral_metastases, c.brain_metastases
    if (v is not None and v != "none") or brain is True:
        if c.visceral_pattern is None:
            t.add_unknown("visceral_or_cerebral_metastases", "cancer.visceral_pattern", (1, 2))
        else:
            t.add(
                "visceral_or_cerebral_metastases",
                c.visceral_pattern,
                1 if c.visceral_pattern == "nodular" else 2,
            )
    elif v == "none" and brain is False:
        t.add("visceral_or_cerebral_metastases", "none", 0)
    else:
        field = "cancer.visceral_metastases" if v is None else "cancer.brain_metastases"
        t.add_unknown("visceral_or_cerebral_metastases", field, (0, 1, 2))

    pts, missing, found = lab_points(p.labs)
    if missing:
        t.add_unknown("laboratory_data", missing[0], pts, ", ".join(found) or None)
        t.missing.extend(missing[1:])
    else:
        t.add("laboratory_data", ", ".join(found) or "normal", next(iter(pts)))

    pv = performance.ecog(p, policy)
    if pv.values is None:
        t.add_unknown("ecog_3_4", "patient.ecog", (0, 1))
    else:
        e = next(iter(pv.values))
        t.add(
            "ecog_3_4",
            f"ECOG {e}" + (" (converted)" if pv.source == "converted" else ""),
            1 if e in (3, 4) else 0,
            pv.note,
        )

    if c.prior_chemotherapy is None:
        t.add_unknown("previous_chemotherapy", "cancer.prior_chemotherapy", (0, 1))
    else:
        t.add(
            "previous_chemotherapy",
            "yes" if c.prior_chemotherapy else "no",
            1 if c.prior_chemotherapy else 0,
        )

    solitary = solitary_skeletal(case)
    if solitary is None:
        fields = solitary_inputs(case) or ["cancer.vertebral_metastases"]
        t.add_unknown("multiple_skeletal_metastases", fields[0], (0, 1))
        t.missing.extend(fields[1:])
    else:
        t.add("multiple_skeletal_metastases", "no" if solitary else "yes", 0 if solitary else 1)
    return t.result(interpretation=_INTERPRETATION.__getitem__)
