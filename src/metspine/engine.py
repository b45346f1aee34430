"""``assess(case, policy) -> Assessment``: the one pure entry point every face calls.

No I/O, no clock, no globals: the date "today" is the case's ``assessed_on``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metspine import __version__
from metspine.decision import pillars
from metspine.decision.plan import Inputs, plan
from metspine.decision.rules import MBand, NGroup, OSens, SState
from metspine.knowledge import KNOWLEDGE_VERSION
from metspine.model.assessment import (
    Assessment,
    LesionAssessment,
    MissingInput,
    Noms,
    PolicyRef,
    Reason,
    SafetyFlag,
    ScoreResult,
)
from metspine.model.case import Case, Lesion
from metspine.model.policy import Policy
from metspine.scores import escc as escc_mod
from metspine.scores.bauer import bauer, bauer_modified
from metspine.scores.frailty import mfi5, mstfi
from metspine.scores.katagiri import katagiri
from metspine.scores.nesms import nesms
from metspine.scores.performance import ecog_score, kps_score
from metspine.scores.sins import sins
from metspine.scores.tokuhashi import tokuhashi
from metspine.scores.tomita import tomita
from metspine.scores.van_der_linden import van_der_linden

DEFAULT_POLICY = Policy()
_BANDS: dict[str, MBand] = {
    "stable": "stable",
    "potentially_unstable": "potentially_unstable",
    "unstable": "unstable",
}


def patient_scores(case: Case, policy: Policy) -> dict[str, ScoreResult]:
    """Patient-level scores keyed by the contract §3 score codes."""
    return {
        "kps": kps_score(case.patient, policy),
        "ecog": ecog_score(case.patient, policy),
        "tokuhashi_revised": tokuhashi(case, policy),
        "tomita": tomita(case),
        "bauer": bauer(case),
        "bauer_modified": bauer_modified(case),
        "nesms": nesms(case, policy),
        "katagiri_new": katagiri(case, policy),
        "van_der_linden": van_der_linden(case, policy),
        "mfi5": mfi5(case.patient, policy),
        "mstfi": mstfi(case.patient, policy),
    }


def _lesion(
    case: Case,
    index: int,
    lesion: Lesion,
    scores: Mapping[str, ScoreResult],
    systemic: pillars.SystemicView,
    policy: Policy,
) -> tuple[LesionAssessment, list[MissingInput]]:
    missing: list[MissingInput] = []
    path = f"lesions[{index}]"
    sens = pillars.radiosensitivity(case, policy)
    summary = escc_mod.summarize(lesion.escc, list(lesion.levels), sens, policy)
    sins_res = sins(lesion, index)
    noms = Noms(
        neurologic=pillars.neurologic(lesion, summary),
        oncologic=pillars.oncologic(case, policy),
        mechanical=pillars.mechanical(lesion, sins_res, policy),
        systemic=systemic.finding,
    )

    # Possible pillar states, honestly widened where an input is missing.
    missing_labels: dict[str, str] = {}
    n: tuple[NGroup, ...]
    if summary.treated_as is not None:
        n = (summary.treated_as,)
    else:
        n = ("low", "high")
        missing_labels["n"] = f"{path}.escc" if lesion.escc is None else "cancer.primary"
    if lesion.escc is None:
        missing.append(MissingInput(field=f"{path}.escc", needed_for=["escc", "noms.neurologic"]))
    o: tuple[OSens, ...]
    if sens is None:
        o = ("sensitive", "resistant")
        missing_labels["o"] = "cancer.primary"
    else:
        o = ("sensitive",) if sens else ("resistant",)
    m: tuple[MBand, ...] = tuple(_BANDS[b] for b in sins_res.possible_bands) or ("stable",)
    if len(m) > 1:
        missing_labels["m"] = ", ".join(sins_res.missing)
    pain = lesion.sins.pain
    mech_pain: tuple[bool, ...] = (True, False) if pain is None else (pain == "mechanical",)
    if pain is None:
        missing_labels["mech_pain"] = f"{path}.sins.pain"
    s_map: dict[str, SState] = {
        "can_tolerate_surgery": "can",
        "cannot_tolerate_surgery": "cannot",
        "uncertain": "uncertain",
    }
    sins_lo = sins_res.value if sins_res.value is not None else (sins_res.range or (0, 0))[0]
    inp = Inputs(
        n=n,
        o=o,
        m=m,
        s=s_map[systemic.finding.status],
        mech_pain=mech_pain,
        translation=lesion.sins.alignment == "subluxation_translation",
        collapse=lesion.sins.collapse in ("gt50", "lt50"),
        mech_radiculopathy=bool(lesion.mechanical_radiculopathy),
        sins_favours_stabilization=sins_lo >= policy.sins_consider_stabilization_min,
        escc_1c=lesion.escc == "1c",
        short_survival=systemic.short_survival,
        mdt_1c=policy.escc_1c_mdt_review,
        missing_labels=missing_labels,
    )

    def details(code: str) -> dict[str, Any]:
        if code in ("cebrt", "sbrt"):
            return {"family": code}
        if code == "separation_surgery_then_sbrt":
            return {"family": "sbrt", "surgical_goal": "postoperative ESCC 0-1"}
        return {}

    def extra(code: str) -> list[Reason]:
        return []

    recs = plan(inp, details, extra)
    for f in sins_res.missing:
        missing.append(MissingInput(field=f, needed_for=["sins", "noms.mechanical"]))
    return (
        LesionAssessment(
            id=lesion.id,
            levels=list(lesion.levels),
            scores={"sins": sins_res},
            escc=summary,
            noms=noms,
            recommendations=recs,
        ),
        missing,
    )


def assess(case: Case | Mapping[str, Any], policy: Policy | None = None) -> Assessment:
    """Assess one case under a policy (default policy when None)."""
    if not isinstance(case, Case):
        from metspine.model.validation import case_from_dict

        case = case_from_dict(dict(case))
    policy = policy or DEFAULT_POLICY
    scores = patient_scores(case, policy)
    systemic = pillars.systemic(case, scores, policy)
    lesions: list[LesionAssessment] = []
    missing: dict[str, list[str]] = {}

    def need(field: str, what: str) -> None:
        lst = missing.setdefault(field, [])
        if what not in lst:
            lst.append(what)

    for code, res in scores.items():
        for f in res.missing:
            need(f, code)
    if case.cancer.primary is None:
        need("cancer.primary", "noms.oncologic")
    if systemic.finding.status == "uncertain" and case.patient.medically_operable is None:
        need("patient.medically_operable", "noms.systemic")
    for i, lesion in enumerate(case.lesions):
        la, miss = _lesion(case, i, lesion, scores, systemic, policy)
        lesions.append(la)
        for mi in miss:
            for w in mi.needed_for:
                need(mi.field, w)
    safety: list[SafetyFlag] = []
    return Assessment(
        case_id=case.id,
        assessed_on=case.assessed_on.isoformat() if case.assessed_on else None,
        engine_version=__version__,
        knowledge_version=KNOWLEDGE_VERSION,
        policy=PolicyRef(name=policy.name, sha256=policy.sha256()),
        scores=scores,
        lesions=lesions,
        safety=safety,
        missing=[MissingInput(field=f, needed_for=w) for f, w in missing.items()],
    )
