"""``assess(case, policy) -> Assessment``: the one pure entry point every face calls.

No I/O, no clock, no globals: the date "today" is the case's ``assessed_on``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import partial
from typing import Any, Literal

from metspine import __version__
from metspine.decision import pillars, surgery
from metspine.decision import safety as surgical_safety
from metspine.decision.plan import Inputs, plan
from metspine.decision.rules import MBand, NGroup, OSens, SState
from metspine.knowledge import KNOWLEDGE_VERSION
from metspine.model.assessment import (
    Assessment,
    LesionAssessment,
    MissingInput,
    Noms,
    Reason,
    SafetyFlag,
    ScoreResult,
)
from metspine.model.case import Case, Lesion
from metspine.model.policy import Policy
from metspine.radiation import RadiationFlag
from metspine.radiation import safety as rad_safety
from metspine.radiation.regimens import RadiationDetails, Scenario, radiation_details
from metspine.radiation.reirradiation import Course
from metspine.radiation.vcf import vcf_risk
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
    """Patient-level scores keyed by the contract §3 score codes.

    Scores that read only a few inputs are memoised on the (immutable) policy by exactly those
    inputs: registries repeat them often, and the memo changes speed, never a result.
    """
    p, c = case.patient, case.cancer
    memo = policy.memo
    # What Tomita and (modified) Bauer read: the primary, visceral/brain disease, the skeletal counts
    # and the lesions' extent (for "solitary"), and the fracture item.
    burden = (
        c.primary, c.tomita_growth, c.visceral_metastases, c.brain_metastases,
        c.extraspinal_bone_metastases, c.vertebral_metastases, len(case.lesions),
        len(case.lesions[0].levels) if case.lesions else 0,
    )  # fmt: skip
    mbauer = memo(("bauer_modified", burden), lambda: bauer_modified(case))
    perf = (p.kps, p.ecog)
    # Memo keys of plain values: comparing pydantic models as keys is slow.
    comorb = tuple(p.comorbidities.__dict__.values())
    return {
        "kps": memo(("kps", perf), lambda: kps_score(p, policy)),
        "ecog": memo(("ecog", perf), lambda: ecog_score(p, policy)),
        "tokuhashi_revised": tokuhashi(case, policy),
        "tomita": memo(("tomita", burden), lambda: tomita(case)),
        "bauer": memo(("bauer", burden, c.pathological_fracture), lambda: bauer(case)),
        "bauer_modified": mbauer,
        "nesms": nesms(case, policy, mbauer),
        "katagiri_new": katagiri(case, policy),
        "van_der_linden": memo(
            ("van_der_linden", perf, c.primary, c.visceral_metastases),
            lambda: van_der_linden(case, policy),
        ),
        "mfi5": memo(("mfi5", comorb), lambda: mfi5(p, policy)),
        "mstfi": memo(
            ("mstfi", comorb, p.admission, p.anterior_or_combined_approach_planned),
            lambda: mstfi(p, policy),
        ),
    }


class _RadiationSeam:
    """Regimen, cord limit and re-irradiation budget for the radiation options of one lesion."""

    def __init__(
        self,
        case: Case,
        lesion: Lesion,
        index: int,
        radiosensitive: bool | None,
        treated_as: Literal["low", "high"] | None,
        systemic: pillars.SystemicView,
        policy: Policy,
    ) -> None:
        self.lesion, self.index, self.policy = lesion, index, policy
        self.sens, self.treated_as, self.systemic = radiosensitive, treated_as, systemic
        known_date = case.assessed_on is not None
        self.courses = [
            Course(c.dose_gy, c.fractions, c.end_date if known_date else None, c.cord_max_eqd2_gy)
            for c in lesion.prior_radiation
        ]
        # Without assessed_on the interval since a prior course is unknown (never guessed).
        self.when: date = case.assessed_on or date.max
        self._cache: dict[str, RadiationDetails | None] = {}
        self.missing: list[MissingInput] = []
        if lesion.prior_radiation and not known_date:
            self.missing.append(MissingInput(field="assessed_on", needed_for=["reirradiation"]))

    def _scenario(self, code: str) -> tuple[Literal["cebrt", "sbrt"], Scenario] | None:
        reirr = bool(self.courses)
        if code == "sbrt":
            return "sbrt", Scenario.REIRRADIATION_SBRT if reirr else Scenario.DE_NOVO_SBRT
        if code == "separation_surgery_then_sbrt":
            return "sbrt", Scenario.REIRRADIATION_SBRT if reirr else Scenario.POSTOP_SBRT
        if code == "cebrt":
            if self.sens:
                return "cebrt", Scenario.RADIOSENSITIVE_CEBRT
            if self.treated_as == "high":
                return "cebrt", Scenario.MSCC_CEBRT
            return "cebrt", Scenario.PALLIATIVE_PAIN
        return None

    def get(self, code: str) -> RadiationDetails | None:
        if code not in self._cache:
            sc = self._scenario(code)
            if sc is None:
                self._cache[code] = None
            else:
                fam, scenario = sc
                poor = self.systemic.short_survival or None
                key = ("radiation_details", fam, scenario, tuple(self.courses), self.when, poor)
                self._cache[code] = self.policy.memo(
                    key,
                    lambda: radiation_details(
                        fam,
                        scenario,
                        self.courses,
                        self.when,
                        self.policy.radiation,
                        poor_prognosis=poor,
                    ),
                )
        return self._cache[code]

    def flags(self, codes: list[str]) -> list[SafetyFlag]:
        out: list[SafetyFlag] = []
        lid = self.lesion.id
        seen: set[str] = set()
        for code in codes:
            rd = self.get(code)
            if rd is None:
                continue
            if rd.reirradiation is not None and "reirradiation" not in seen:
                seen.add("reirradiation")
                out.append(_flag(rad_safety.reirradiation_flag(rd.reirradiation), lid))
            dpf = rd.regimen.dose_gy / rd.regimen.fractions
            if rd.family == "sbrt" and "vcf_risk" not in seen:
                seen.add("vcf_risk")
                s = self.lesion.sins
                lytic = None if s.bone_lesion is None else s.bone_lesion == "lytic"
                vcf = None if s.collapse is None else s.collapse in ("gt50", "lt50")
                mis = None if s.alignment is None else s.alignment != "normal"
                vf = self.policy.memo(
                    ("vcf_flag", dpf, lytic, vcf, mis), partial(_vcf_flag, dpf, lytic, vcf, mis)
                )
                if vf is not None:
                    out.append(_flag(vf, lid))
            if rd.reirradiation is not None and "lq_extrapolation" not in seen:
                lq = rad_safety.lq_extrapolation_flag(
                    dpf, self.policy.radiation, purpose="course_sum"
                )
                if lq is not None:
                    seen.add("lq_extrapolation")
                    out.append(_flag(lq, lid))
        return out


def _vcf_flag(
    dpf: float, lytic: bool | None, vcf: bool | None, mis: bool | None
) -> RadiationFlag | None:
    return rad_safety.vcf_flag(vcf_risk(dpf, lytic=lytic, baseline_vcf=vcf, misalignment=mis))


def _flag(f: RadiationFlag, lesion_id: str) -> SafetyFlag:
    return SafetyFlag(
        code=f.code,
        severity=f.severity,
        text=f.text,
        references=list(f.references),
        lesion_id=lesion_id,
    )


def _lesion(
    case: Case,
    index: int,
    lesion: Lesion,
    scores: Mapping[str, ScoreResult],
    systemic: pillars.SystemicView,
    policy: Policy,
    safety: list[SafetyFlag],
    survival: surgery.SurvivalView,
    need: surgery.Need,
) -> tuple[LesionAssessment, list[MissingInput]]:
    missing: list[MissingInput] = []
    path = f"lesions[{index}]"
    sens = pillars.radiosensitivity(case, policy)
    summary = escc_mod.summarize(lesion.escc, list(lesion.levels), sens, policy)
    sins_res = sins(lesion, index)
    noms = Noms(
        neurologic=policy.memo(
            (
                "neurologic",
                summary.grade,
                summary.group,
                summary.treated_as,
                summary.note,
                lesion.myelopathy,
                lesion.functional_radiculopathy,
                lesion.motor_deficit,
                lesion.motor_deficit_onset_days,
            ),
            lambda: pillars.neurologic(lesion, summary),
        ),
        oncologic=policy.memo(
            ("oncologic", case.cancer.primary), lambda: pillars.oncologic(case, policy)
        ),
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
        missing_labels=tuple(sorted(missing_labels.items())),
    )

    rad = _RadiationSeam(case, lesion, index, sens, summary.treated_as, systemic, policy)
    facts = surgery.lesion_facts(case, index, lesion, n, o, m, inp.s, survival)

    long_months = policy.surgery.long_survival_months

    surgical_cache: dict[str, surgery.Extra] = {}

    def surgical(code: str) -> surgery.Extra:
        # option_extra is memoised on (facts, code); hashing facts once per code is enough.
        got = surgical_cache.get(code)
        if got is None:
            got = surgical_cache[code] = surgery.option_extra(facts, code, long_months)
        return got

    def details(code: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        rd = rad.get(code)
        if rd is not None:
            out.update(rd.as_details())
        if code == "separation_surgery_then_sbrt":
            out["surgical_goal"] = "postoperative ESCC 0-1"
        out.update(surgical(code).details)
        return out

    def extra(code: str) -> list[Reason | dict[str, Any]]:
        rd = rad.get(code)
        out: list[Reason | dict[str, Any]] = list(surgical(code).reasons)
        if rd is None:
            return out
        return [{"text": r.text, "references": list(r.references)} for r in rd.reasons] + out

    recs = surgery.add_options(plan(inp, details, extra), facts, policy, need)
    safety.extend(rad.flags([r.code for r in recs if r.strength != "avoid"]))
    missing.extend(rad.missing)
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
    safety: list[SafetyFlag] = []
    survival = surgery.survival_view(case, scores, systemic, policy)
    for i, lesion in enumerate(case.lesions):
        la, miss = _lesion(case, i, lesion, scores, systemic, policy, safety, survival, need)
        lesions.append(la)
        for mi in miss:
            for w in mi.needed_for:
                need(mi.field, w)
    safety.extend(surgical_safety.safety_flags(case, scores, lesions, policy, need))
    return Assessment.model_validate(
        {
            "case_id": case.id,
            "assessed_on": case.assessed_on.isoformat() if case.assessed_on else None,
            "engine_version": __version__,
            "knowledge_version": KNOWLEDGE_VERSION,
            "policy": {"name": policy.name, "sha256": policy.sha256()},
            "scores": scores,
            "lesions": lesions,
            "safety": safety,
            "missing": [{"field": f, "needed_for": w} for f, w in missing.items()],
        }
    )
