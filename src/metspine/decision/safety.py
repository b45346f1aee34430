"""Patient-safety checks around surgery and radiation (spec clinical §8, spec safety-timing; the latter
wins where they differ). Each check returns contract §3 ``safety`` entries:

- ``rt_surgery_interval``: radiation and surgery in either order against Policy.safety windows
  (itshayek2010_timing, itshayek2014_srs_timing, lee2018_rt_surgery_survey);
- ``antiangiogenic_timing``: anti-VEGF antibodies and VEGFR TKIs against their label holds before and
  after surgery and before SBRT (knowledge/drugs.toml, each keyed by drug with its label);
- ``systemic_therapy_timing``: cytotoxic chemotherapy (jarvers2021_wound), checkpoint inhibitors
  (schneider2021_asco_irae), antiresorptives (yarom2019_mronj), other targeted agents before SBRT;
- ``steroid_regimen`` and ``tissue_before_steroids`` (nice_ng234 and the trials behind it);
- ``frailty_surgical_risk`` (mFI-5, MSTFI, ECOG, ASA), ``sins_surgical_consult``,
  ``wrong_level_safeguard``, ``vte_prophylaxis``, ``readmission_risk``, ``emergency_presentation``.

Severity: critical = a window or hold is broken for an elective procedure; warning = caution, risk is
raised, or an input the check needs is missing; info = worth knowing, within the rules. Pure: dates
come from the case (``assessed_on`` and ``events``), never from the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

from metspine.decision.surgery import SURGICAL_CODES
from metspine.knowledge.surgery import Drug, SafetyRule, drug, safety_rules
from metspine.model.assessment import LesionAssessment, SafetyFlag, ScoreResult
from metspine.model.case import Case, Lesion
from metspine.model.policy import Policy

Severity = Literal["info", "warning", "critical"]
Need = Callable[[str, str], None]
_SBRT_CODES = frozenset({"sbrt", "separation_surgery_then_sbrt", "litt_then_sbrt"})
_HIGH_GRADE = frozenset({"2", "3"})


def _rule(code: str) -> SafetyRule:
    return safety_rules()[code]


def _flag(
    code: str,
    severity: Severity,
    text: str,
    refs: Iterable[str],
    lesion_id: str | None = None,
) -> SafetyFlag:
    return SafetyFlag(
        code=code,
        severity=severity,
        text=text,
        references=list(dict.fromkeys(refs)),
        lesion_id=lesion_id,
    )


def _options(lesions: list[LesionAssessment]) -> dict[str, set[str]]:
    """Per lesion id, the option codes that are not 'avoid'."""
    return {la.id: {r.code for r in la.recommendations if r.strength != "avoid"} for la in lesions}


# --- radiation and surgery -------------------------------------------------------------------------


def classify_interval(days: int, critical_below: int, caution_below: int) -> Severity:
    """<critical_below: critical; <caution_below: warning; otherwise info (policy windows)."""
    if days < critical_below:
        return "critical"
    if days < caution_below:
        return "warning"
    return "info"


def rt_surgery_interval(case: Case, policy: Policy) -> list[SafetyFlag]:
    """Radiation → surgery and surgery → radiation intervals, each against the Policy windows."""
    rule = _rule("rt_surgery_interval")
    sp = policy.safety
    ev = case.events
    crit, caution = sp.rt_surgery_critical_below_days, sp.rt_surgery_caution_below_days
    out: list[SafetyFlag] = []
    ends = [ev.last_radiation_end] if ev.last_radiation_end else []
    ends += [c.end_date for les in case.lesions for c in les.prior_radiation if c.end_date]
    last_rt = max(ends) if ends else None

    def one(what: str, days: int, caution_below: int, postop: bool) -> SafetyFlag:
        sev = classify_interval(days, crit, caution_below)
        name = {"critical": "critical", "warning": "warning", "info": "info"}[sev]
        text = rule.text(
            name, what=what, days=days, critical=crit, caution=caution_below,
            caution_last=caution_below - 1,
        )  # fmt: skip
        refs = list(rule.references)
        if sev != "info":
            text += " " + rule.text("sbrt_note")
            refs += rule.refs("sbrt_note")
            if postop and caution_below > caution:
                text += " " + rule.text("postop_conventional_note")
                refs += rule.refs("postop_conventional")
            text += " " + rule.text("no_association_note")
            refs += rule.refs("no_association")
            if case.patient.admission in ("urgent", "emergency"):
                text += " Urgent decompression may still go ahead: weigh the wound risk."
        return _flag("rt_surgery_interval", sev, text, refs)

    if ev.planned_surgery is not None and last_rt is not None and last_rt <= ev.planned_surgery:
        days = (ev.planned_surgery - last_rt).days
        out.append(one("Last radiotherapy to planned surgery", days, caution, postop=False))
    surgery = ev.last_surgery or ev.planned_surgery
    rt_start = ev.planned_radiation_start
    if surgery is not None and rt_start is not None:
        if rt_start >= surgery:
            days = (rt_start - surgery).days
            label = "Surgery to planned radiotherapy"
            out.append(one(label, days, sp.postop_rt_caution_below_days, postop=True))
        elif ev.planned_surgery is not None and rt_start < ev.planned_surgery:
            days = (ev.planned_surgery - rt_start).days
            if days < crit:
                text = rule.text("upper_bound", days=days, critical=crit)
                out.append(_flag("rt_surgery_interval", "critical", text, rule.references))
            else:
                text = rule.text("unknown_end", days=days, critical=crit, caution=caution)
                out.append(_flag("rt_surgery_interval", "warning", text, rule.references))
    return out


# --- systemic therapy -------------------------------------------------------------------------------


def _iso(d: date) -> str:
    return d.isoformat()


def antiangiogenic(
    case: Case,
    d: Drug,
    last: date | None,
    next_dose: date | None,
    surgical: bool,
    sbrt: bool,
    policy: Policy,
) -> list[SafetyFlag]:
    """One anti-VEGF antibody or VEGFR TKI against its label hold (and a stricter guideline where
    the policy asks), the restart interval after surgery, and the interval before SBRT."""
    rule = _rule("antiangiogenic_timing")
    out: list[SafetyFlag] = []
    hold = d.hold_before_surgery_days
    surgery = case.events.planned_surgery
    urgent = case.patient.admission in ("urgent", "emergency")
    name = d.display
    label_name = d.label or "label"
    if hold is not None and surgical:
        g_hold = d.guideline_hold_before_surgery_days
        stricter = policy.safety.antiangiogenic_hold == "stricter" and g_hold is not None
        refs = list(d.references) + (list(d.guideline_references) if stricter else [])
        if last is None:
            text = rule.text("no_last_dose", agent=name, hold=hold)
            out.append(_flag("antiangiogenic_timing", "warning", text, refs))
        elif surgery is None:
            top = g_hold if stricter and g_hold is not None else hold
            text = rule.text(
                "no_date", agent=name, last_dose=_iso(last), hold=top,
                earliest=_iso(last + timedelta(days=top)), label_name=label_name,
            )  # fmt: skip
            out.append(_flag("antiangiogenic_timing", "info", text, refs))
        else:
            days = (surgery - last).days
            sev: Severity
            if days < hold:
                sev = "critical"
                text = rule.text(
                    "critical", agent=name, label_name=label_name, days=days, hold=hold,
                    earliest=_iso(last + timedelta(days=hold)),
                )  # fmt: skip
            elif stricter and g_hold is not None and days < g_hold:
                sev = "warning"
                text = rule.text(
                    "guideline", agent=name, days=days, hold=hold, guideline_hold=g_hold,
                    half_life=d.half_life or "half-life not recorded",
                    earliest=_iso(last + timedelta(days=g_hold)),
                )  # fmt: skip
            else:
                sev = "info"
                text = rule.text("ok", agent=name, days=days, hold=g_hold if stricter else hold)
            if sev != "info" and urgent:
                sev = "warning"
                text += " " + rule.text("emergency")
            restart = d.restart_after_surgery_days
            if restart is not None:
                if next_dose is not None and (next_dose - surgery).days < restart:
                    gap = (next_dose - surgery).days
                    text += " " + rule.text(
                        "restart_early", agent=name, next_dose=_iso(next_dose), days=gap,
                        restart=restart,
                    )  # fmt: skip
                    if sev == "info":
                        sev = "warning"
                else:
                    text += " " + rule.text(
                        "restart", agent=name, restart=restart,
                        restart_date=_iso(surgery + timedelta(days=restart)),
                    )  # fmt: skip
            out.append(_flag("antiangiogenic_timing", sev, text, refs))
    rt_start = case.events.planned_radiation_start
    if sbrt and rt_start is not None and last is not None and last <= rt_start:
        sbrt_hold = d.hold_before_sbrt_days or policy.safety.sbrt_antiangiogenic_min_days
        days = (rt_start - last).days
        if days < sbrt_hold:
            refs = list(d.sbrt_references) or list(rule.refs("sbrt"))
            text = rule.text("sbrt", agent=name, days=days, hold=sbrt_hold)
            out.append(_flag("antiangiogenic_timing", "warning", text, refs))
    return out


def systemic_therapy(case: Case, sbrt: bool, surgical: bool, policy: Policy) -> list[SafetyFlag]:
    """Every recorded agent, by its class rule (drugs.toml + safety.toml)."""
    ag_rule = _rule("systemic_therapy_timing")
    out: list[SafetyFlag] = []
    surgery = case.events.planned_surgery
    rt_start = case.events.planned_radiation_start
    sp = policy.safety
    for agent in case.events.systemic_therapy:
        d = drug(agent.agent)
        last = agent.last_dose
        if d is None:
            if surgical or sbrt:
                text = ag_rule.text("unknown_agent", agent=agent.agent)
                out.append(_flag("systemic_therapy_timing", "warning", text, ag_rule.refs("chemo")))
            continue
        name = d.display
        cls = d.drug_class
        if cls in ("anti_vegf_antibody", "vegfr_tki"):
            if surgical or sbrt:
                out.extend(antiangiogenic(case, d, last, agent.next_dose, surgical, sbrt, policy))
            continue
        if cls == "cytotoxic" and surgical:
            hold = sp.chemotherapy_hold_days
            refs = list(ag_rule.refs("chemo"))
            if last is None:
                text = f"Cytotoxic chemotherapy ({name}): date of the last dose not recorded."
                out.append(_flag("systemic_therapy_timing", "warning", text, refs))
            elif surgery is None:
                text = ag_rule.text(
                    "chemo_no_date", agent=name, last_dose=_iso(last), hold=hold,
                    earliest=_iso(last + timedelta(days=hold)),
                )  # fmt: skip
                out.append(_flag("systemic_therapy_timing", "info", text, refs))
            else:
                days = (surgery - last).days
                if days < hold:
                    text = ag_rule.text("chemo", agent=name, days=days, hold=hold)
                    out.append(_flag("systemic_therapy_timing", "warning", text, refs))
                else:
                    text = ag_rule.text("chemo_ok", agent=name, days=days, hold=hold)
                    out.append(_flag("systemic_therapy_timing", "info", text, refs))
        elif cls == "checkpoint_inhibitor" and (surgical or sbrt):
            text = ag_rule.text("ici", agent=name)
            refs = list(ag_rule.refs("ici"))
            if sbrt:
                text += " " + ag_rule.text("ici_sbrt")
                refs += ag_rule.refs("ici_sbrt")
                if d.hold_before_sbrt_days and rt_start and last and last <= rt_start:
                    days = (rt_start - last).days
                    if days < d.hold_before_sbrt_days:
                        text += " " + ag_rule.text(
                            "other_sbrt", agent=name, days=days, hold=d.hold_before_sbrt_days
                        )
                        refs += d.sbrt_references
            out.append(_flag("systemic_therapy_timing", "info", text, refs))
        elif cls == "antiresorptive" and surgical:
            text = ag_rule.text("antiresorptive", agent=name)
            refs = list(ag_rule.refs("antiresorptive"))
            if name == "denosumab" and sp.denosumab_calcium_check:
                text += " " + ag_rule.text("denosumab_calcium")
                refs += ag_rule.refs("denosumab_calcium")
            out.append(_flag("systemic_therapy_timing", "info", text, refs))
        elif (
            cls == "other_targeted"
            and sbrt
            and d.hold_before_sbrt_days is not None
            and rt_start is not None
            and last is not None
            and last <= rt_start
        ):
            days = (rt_start - last).days
            if days < d.hold_before_sbrt_days:
                text = ag_rule.text(
                    "other_sbrt", agent=name, days=days, hold=d.hold_before_sbrt_days
                )
                out.append(_flag("systemic_therapy_timing", "warning", text, d.sbrt_references))
    return out


# --- steroids ---------------------------------------------------------------------------------------


def _signs(lesion: Lesion) -> tuple[list[str], list[str]]:
    """Neurological signs of cord compression recorded for a lesion, and the fields not recorded."""
    items = (
        ("motor deficit", "motor_deficit", lesion.motor_deficit),
        ("myelopathy", "myelopathy", lesion.myelopathy),
        ("functional radiculopathy", "functional_radiculopathy", lesion.functional_radiculopathy),
    )
    return [n for n, _, v in items if v], [f for _, f, v in items if v is None]


def steroids(case: Case, policy: Policy, need: Need) -> list[SafetyFlag]:
    """Dexamethasone for cord compression: NICE NG234 regimen by default (safety-timing §3)."""
    rule = _rule("steroid_regimen")
    sp = policy.safety
    dose = f"{sp.steroid_dexamethasone_mg_day:g}"
    signs: list[str] = []
    unknown_at: list[Lesion] = []
    compression = False
    for i, les in enumerate(case.lesions):
        s, unk = _signs(les)
        signs += [x for x in s if x not in signs]
        if les.escc in _HIGH_GRADE or les.escc == "1c":
            compression = True
            if not s and unk:
                unknown_at.append(les)
                for field in unk:
                    need(f"lesions[{i}].{field}", "steroid_regimen")
    given = case.events.steroids
    heme = case.cancer.primary in ("lymphoma", "myeloma", "plasmacytoma")
    confirmed_heme = heme and case.cancer.tissue_diagnosis is not False
    out: list[SafetyFlag] = []
    refs = list(rule.references)
    if signs:
        if given is None:
            text = rule.text("offer", signs=", ".join(signs), dose=dose)
            sev: Severity = "warning"
        else:
            text, sev, extra = _given_text(rule, given.drug, given.dose_mg_day, dose, policy)
            refs += extra
        if sp.steroid_bolus == "iv_10mg":
            text += " " + rule.text("bolus")
            refs += rule.refs("bolus")
        taper = "5-7 days" if sp.steroid_taper == "5_7_days" else "about 2 weeks"
        text += " " + rule.text("taper", taper=taper)
        text += " " + rule.text("radiotherapy")
        refs += rule.refs("radiotherapy")
        if confirmed_heme:
            text += " " + rule.text("haematological", dose=dose)
        out.append(_flag("steroid_regimen", sev, text, refs))
    elif unknown_at:
        les = unknown_at[0]
        text = rule.text("signs_unknown", lesion=les.id, grade=f"ESCC {les.escc}", dose=dose)
        out.append(_flag("steroid_regimen", "warning", text, refs))
    elif given is not None:
        text, sev, extra = _given_text(rule, given.drug, given.dose_mg_day, dose, policy)
        text = rule.text("no_signs_given") + " " + text
        out.append(_flag("steroid_regimen", "warning", text, refs + extra))
    elif compression:
        out.append(_flag("steroid_regimen", "info", rule.text("no_signs"), refs))
    return out


def _given_text(
    rule: SafetyRule, drug_name: str, mg: float, dose: str, policy: Policy
) -> tuple[str, Severity, list[str]]:
    standard = policy.safety.steroid_dexamethasone_mg_day
    if drug_name.strip().lower() != "dexamethasone":
        return rule.text("other_drug", drug=drug_name, given=f"{mg:g}"), "warning", []
    if mg >= rule.numbers["high_dose_from_mg_day"]:
        return (
            rule.text("above_standard", drug="Dexamethasone", given=f"{mg:g}", dose=dose)
            + " "
            + rule.text("high_dose", given=f"{mg:g}"),
            "warning",
            list(rule.refs("above_standard")) + list(rule.refs("high_dose")),
        )
    if mg > standard:
        text = rule.text("above_standard", drug="Dexamethasone", given=f"{mg:g}", dose=dose)
        return text, "warning", list(rule.refs("above_standard"))
    return rule.text("current_standard", given=f"{mg:g}", dose=dose), "info", []


def tissue_first(case: Case, policy: Policy) -> list[SafetyFlag]:
    """Suspected lymphoma without tissue: a prompt to discuss biopsy first, never a block when there
    is a neurological deficit (safety-timing §3)."""
    if not policy.safety.tissue_before_steroids_prompt:
        return []
    c = case.cancer
    suspected = c.suspected_lymphoma is True or (
        c.primary == "lymphoma" and c.tissue_diagnosis is False
    )
    if not suspected or c.tissue_diagnosis is True:
        return []
    rule = _rule("tissue_before_steroids")
    deficit = any(les.motor_deficit or les.myelopathy for les in case.lesions)
    if deficit:
        return [_flag("tissue_before_steroids", "warning", rule.text("deficit"), rule.references)]
    return [_flag("tissue_before_steroids", "warning", rule.text("stable"), rule.references)]


# --- the patient as a surgical candidate ------------------------------------------------------------


def frailty(case: Case, scores: Mapping[str, ScoreResult], policy: Policy) -> SafetyFlag:
    """mFI-5, MSTFI, ECOG and ASA turned into one surgical-risk statement."""
    return _frailty(
        _vb(scores.get("mfi5")),
        _vb(scores.get("mstfi")),
        _vb(scores.get("ecog"))[0],
        case.patient.asa,
        policy.mfi5_frail_min,
        policy.surgery_max_ecog,
        policy.surgery_max_asa,
    )


@lru_cache(maxsize=4096)
def _frailty(
    mfi: tuple[object, object],
    mst: tuple[object, object],
    ecog: object,
    asa: int | None,
    mfi_cut: int,
    max_ecog: int,
    max_asa: int,
) -> SafetyFlag:
    rule = _rule("frailty_surgical_risk")
    items: list[str] = []
    unknown: list[str] = []
    refs: list[str] = []
    high = False
    if isinstance(mfi[0], int | float):
        frail = mfi[1] == "frail"
        high |= frail
        name = "mfi5_frail" if frail else "mfi5_ok"
        items.append(rule.text(name, value=f"{mfi[0]:g}", cut=mfi_cut))
        refs += rule.refs("mfi5")
    else:
        unknown.append("mFI-5")
    if isinstance(mst[0], int | float):
        band = str(mst[1] or "not_frail")
        name = {"severe": "mstfi_severe", "moderate": "mstfi_moderate", "mild": "mstfi_mild"}.get(
            band, "mstfi_none"
        )
        high |= band in ("severe", "moderate")
        items.append(rule.text(name, value=f"{mst[0]:g}"))
        refs += rule.refs("mstfi")
    else:
        unknown.append("MSTFI")
    if isinstance(ecog, int | float):
        e = int(ecog)
        bad = e > max_ecog
        high |= bad
        items.append(rule.text("ecog_high" if bad else "ecog_ok", value=e, max=max_ecog))
        refs += rule.refs("performance")
    else:
        unknown.append("ECOG/KPS")
    if asa is not None:
        bad = asa > max_asa
        high |= bad
        items.append(rule.text("asa_high" if bad else "asa_ok", value=asa, max=max_asa))
        refs += rule.refs("performance")
    else:
        unknown.append("ASA")
    listed = "; ".join(items) or "no risk item recorded"
    if high:
        return _flag("frailty_surgical_risk", "warning", rule.text("high", items=listed), refs)
    if unknown:
        text = rule.text("incomplete", items=listed, unknown=", ".join(unknown))
        return _flag("frailty_surgical_risk", "warning", text, refs or rule.refs("mstfi"))
    return _flag("frailty_surgical_risk", "info", rule.text("usual", items=listed), refs)


def sins_consult(la: LesionAssessment, policy: Policy) -> SafetyFlag | None:
    """SINS 7-12 prompts a surgical opinion (10-12 more strongly); 13-18 before any radiotherapy."""
    s = la.scores["sins"]
    return _sins_consult(
        la.id, s.value, s.range, tuple(s.missing), policy.sins_consider_stabilization_min
    )


@lru_cache(maxsize=4096)
def _sins_consult(
    lesion_id: str,
    value: int | float | None,
    range_: tuple[int | float, int | float] | None,
    missing: tuple[str, ...],
    low: int,
) -> SafetyFlag | None:
    rule = _rule("sins_surgical_consult")
    la_id = lesion_id
    if value is not None:
        v = int(value)
        if v >= 13:
            return _flag("sins_surgical_consult", "critical", rule.text("unstable", value=v),
                         rule.references, la_id)  # fmt: skip
        if v >= low:
            text = rule.text("upper_grey_zone", value=v, low=low)
            return _flag("sins_surgical_consult", "warning", text, rule.refs("upper_grey_zone"),
                         la_id)  # fmt: skip
        if v >= 7:
            return _flag("sins_surgical_consult", "info",
                         rule.text("potentially_unstable", value=v), rule.references, la_id)  # fmt: skip
        return None
    if range_ is not None and range_[1] >= 7:
        text = rule.text(
            "possibly", range=f"{range_[0]:g}-{range_[1]:g}", missing=", ".join(missing)
        )
        sev: Severity = "warning" if range_[0] >= 7 else "info"
        return _flag("sins_surgical_consult", sev, text, rule.references, la_id)
    return None


def wrong_level(la: LesionAssessment) -> SafetyFlag | None:
    """Thoracic target: level confirmation plan and fiducial marking (mody2008_wrong_level)."""
    return _wrong_level(la.id, tuple(la.levels))


@lru_cache(maxsize=4096)
def _wrong_level(lesion_id: str, levels: tuple[str, ...]) -> SafetyFlag | None:
    thoracic = [lv for lv in levels if lv.startswith("T")]
    if not thoracic:
        return None
    rule = _rule("wrong_level_safeguard")
    text = rule.text("text", levels="-".join(dict.fromkeys((thoracic[0], thoracic[-1]))))
    return _flag("wrong_level_safeguard", "warning", text, rule.references, lesion_id)


def _vb(res: ScoreResult | None) -> tuple[object, object]:
    return (None, None) if res is None else (res.value, res.band)


def emergency(case: Case) -> SafetyFlag | None:
    adm = case.patient.admission
    if adm not in ("urgent", "emergency"):
        return None
    rule = _rule("emergency_presentation")
    sev: Severity = "warning" if adm == "emergency" else "info"
    return _flag("emergency_presentation", sev, rule.text(adm), rule.references)


@lru_cache(maxsize=8)
def _reminder(code: str) -> SafetyFlag:
    r = _rule(code)
    return _flag(code, "info", r.text("text"), r.references)


def safety_flags(
    case: Case,
    scores: Mapping[str, ScoreResult],
    lesions: list[LesionAssessment],
    policy: Policy,
    need: Need,
) -> list[SafetyFlag]:
    """Every safety check of this module for one case, in checklist order."""
    opts = _options(lesions)
    surgical_ids = [lid for lid, codes in opts.items() if codes & SURGICAL_CODES]
    surgical = bool(surgical_ids) or case.events.planned_surgery is not None
    sbrt = any(codes & _SBRT_CODES for codes in opts.values())
    out: list[SafetyFlag] = []
    em = emergency(case)
    if em is not None:
        out.append(em)
    out += rt_surgery_interval(case, policy)
    out += systemic_therapy(case, sbrt, surgical, policy)
    out += steroids(case, policy, need)
    out += tissue_first(case, policy)
    if surgical:
        out.append(frailty(case, scores, policy))
    for la in lesions:
        f = sins_consult(la, policy)
        if f is not None:
            out.append(f)
    for la in lesions:
        if la.id in surgical_ids:
            w = wrong_level(la)
            if w is not None:
                out.append(w)
    if surgical and policy.safety.vte_reminder:
        out.append(_reminder("vte_prophylaxis"))
    if surgical and policy.safety.readmission_reminder:
        out.append(_reminder("readmission_risk"))
    return out
