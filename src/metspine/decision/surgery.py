"""Surgical, minimally invasive and interventional options for one lesion (spec clinical §4.4, §5, §6).

NOMS (``rules.py``/``plan.py``) says *whether* a lesion needs surgery; this module says *which*
technique fits and why:

- the stabilization approach (``percutaneous`` / ``mini_open`` / ``open``) and implant material
  (``carbon_fibre_peek`` / ``titanium`` / ``either``) as ``details`` of ``stabilization`` and
  ``separation_surgery_then_sbrt`` (zuckerman2016_mis, perna2022_ppsf; khan2023_cfpeek);
- the posterior-wall caution on ``cement_augmentation`` (cianfoni2015_posterior_wall);
- the options NOMS does not raise itself: ``ablation`` (anchala2014_rfa, tomasian2016_cryoablation),
  ``litt_then_sbrt`` (tatsui2015_litt, bastos2021_litt), ``endoscopic_decompression``
  (esssorg2023_endoscopy), ``en_bloc_resection`` (tomita2001, kato2022_metastasectomy) and
  ``preoperative_embolization`` (manke2001_embolization).

Every sentence and number is a row of ``knowledge/surgery.toml`` with its references. Pure: the lesion
is reduced to a small hashable :class:`LesionFacts`, and the results are functions of it (memoised on
the policy). A missing input is never defaulted: the option is not offered, or its detail is ``None``,
and the reason says what is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from metspine.decision import pillars
from metspine.decision.plan import CODE_ORDER, STRENGTH_ORDER, SUMMARY
from metspine.knowledge.histology import histology
from metspine.knowledge.surgery import Cited, surgery_table
from metspine.model.assessment import Reason, Recommendation, ScoreResult
from metspine.model.case import Case, Lesion
from metspine.model.policy import Policy

Outlook = Literal["short", "intermediate", "long"]
Need = Callable[[str, str], None]

# Options that open the spine (wrong-level, VTE, readmission and frailty checks apply to them).
SURGICAL_CODES = frozenset(
    {
        "stabilization",
        "separation_surgery_then_sbrt",
        "decompression_then_rt",
        "litt_then_sbrt",
        "endoscopic_decompression",
        "en_bloc_resection",
    }
)
# Options after which a hypervascular tumour would bleed (open or mini-open exposure).
_OPEN_CODES = frozenset(
    {"separation_surgery_then_sbrt", "decompression_then_rt", "en_bloc_resection"}
)
_DEFORMITY = ("subluxation_translation", "de_novo_deformity")


@dataclass(frozen=True, slots=True)
class SurvivalView:
    """Expected survival as the surgical rules read it, and how it was derived."""

    outlook: Outlook | None
    text: str
    references: tuple[str, ...]


def survival_view(
    case: Case, scores: Mapping[str, ScoreResult], systemic: pillars.SystemicView, policy: Policy
) -> SurvivalView:
    """The board's estimate when recorded, else the agreement of the prognosis scores.

    Short: below the open-surgery horizon (patchell2005) or most scores short; long: at least the
    Policy's long-survival horizon (tokuhashi2005) or at least two scores long and more long than
    short; intermediate otherwise; None when neither an estimate nor a banded score exists.
    """
    est = case.patient.clinician_survival_estimate_months
    horizon = policy.open_surgery_min_survival_months
    long_m = policy.surgery.long_survival_months
    if est is not None:
        outlook: Outlook
        if est < horizon:
            outlook = "short"
        elif est >= long_m:
            outlook = "long"
        else:
            outlook = "intermediate"
        return SurvivalView(
            outlook,
            f"clinician's estimate {est:g} months ({outlook}; short < {horizon:g}, "
            f"long ≥ {long_m:g})",
            ("patchell2005", "tokuhashi2005"),
        )
    views: list[Outlook] = []
    refs: dict[str, None] = {}
    for code, table in pillars.OUTLOOK.items():
        res = scores.get(code)
        if res is not None and res.band is not None:
            views.append(table[res.band])
            refs.update(dict.fromkeys(res.references))
    if not views:
        return SurvivalView(None, "no survival estimate and no prognosis score banded", ())
    n_short, n_long = views.count("short"), views.count("long")
    if systemic.short_survival:
        outlook = "short"
    elif n_long >= 2 and n_long > n_short:
        outlook = "long"
    else:
        outlook = "intermediate"
    return SurvivalView(
        outlook,
        f"prognosis scores: {n_long} long, {n_short} short of {len(views)} ({outlook})",
        tuple(refs),
    )


@dataclass(frozen=True, slots=True)
class LesionFacts:
    """What the surgical rules read of one lesion, hashable (memo key)."""

    index: int
    escc: str | None
    n: tuple[str, ...]  # possible ESCC groups as NOMS treats them ("low", "high")
    o: tuple[str, ...]  # possible cEBRT radiosensitivity ("sensitive", "resistant")
    m: tuple[str, ...]  # possible SINS bands
    s: str  # surgical tolerance: can | cannot | uncertain
    thoracic: tuple[str, ...]
    n_levels: int
    motor_deficit: bool | None
    functional_radiculopathy: bool | None
    alignment: str | None
    bone_lesion: str | None
    pain: str | None
    posterior_wall: bool | None
    irradiated: bool
    solitary: bool | None
    solitary_how: str
    visceral: str | None
    hypervascular: bool | None
    histology_label: str | None
    survival: Outlook | None
    survival_text: str
    mri_surveillance: bool | None
    contouring: bool | None


def solitary(case: Case, lesion: Lesion) -> tuple[bool | None, str]:
    """Whether the lesion is the only skeletal metastasis: the board's ``lesion.solitary`` when
    recorded; False when the counts show other bone metastases; otherwise unknown."""
    if lesion.solitary is not None:
        return lesion.solitary, "recorded by the board"
    vm, eb = case.cancer.vertebral_metastases, case.cancer.extraspinal_bone_metastases
    n = len(lesion.levels)
    if (vm is not None and vm > n) or (eb is not None and eb > 0) or len(case.lesions) > 1:
        return False, "other bone metastases recorded"
    # The counts can agree with a solitary lesion, but "solitary" differs between scores
    # (prognosis §8.3 pitfall 15) and en bloc turns on it: only the board's word counts.
    return None, "not recorded by the board (lesions[].solitary)"


def lesion_facts(
    case: Case,
    index: int,
    lesion: Lesion,
    n: tuple[str, ...],
    o: tuple[str, ...],
    m: tuple[str, ...],
    s: str,
    survival: SurvivalView,
) -> LesionFacts:
    primary = case.cancer.primary
    h = histology(primary) if primary is not None else None
    sol, how = solitary(case, lesion)
    return LesionFacts(
        index=index,
        escc=lesion.escc,
        n=n,
        o=o,
        m=m,
        s=s,
        thoracic=tuple(lv for lv in lesion.levels if lv.startswith("T")),
        n_levels=len(lesion.levels),
        motor_deficit=lesion.motor_deficit,
        functional_radiculopathy=lesion.functional_radiculopathy,
        alignment=lesion.sins.alignment,
        bone_lesion=lesion.sins.bone_lesion,
        pain=lesion.sins.pain,
        posterior_wall=lesion.posterior_wall_involved,
        irradiated=bool(lesion.prior_radiation),
        solitary=sol,
        solitary_how=how,
        visceral=case.cancer.visceral_metastases,
        hypervascular=None if h is None else h.hypervascular,
        histology_label=None if h is None else h.label,
        survival=survival.outlook,
        survival_text=survival.text,
        mri_surveillance=case.patient.mri_surveillance_planned,
        contouring=lesion.deformity_needs_in_situ_contouring,
    )


# --- details of the NOMS surgical options ------------------------------------------------------------


def approach(f: LesionFacts, code: str) -> Cited:
    """The stabilization approach (first matching row of surgery.toml [approach])."""
    t = surgery_table()
    separation = code in ("separation_surgery_then_sbrt", "decompression_then_rt")
    if not separation and f.s != "can":
        return t["approach.limited_tolerance"]
    if f.alignment in _DEFORMITY:
        return t["approach.realignment"]
    if f.alignment is None:
        return t["approach.unknown"]
    if separation or f.n == ("high",):
        return t["approach.decompression"]
    if f.n == ("low",):
        return t["approach.fixation_only"]
    return t["approach.unknown"]


def _postop_sbrt(f: LesionFacts, code: str) -> bool | None:
    """Is SBRT the radiation after this operation? After separation surgery always; after
    stabilization radiation follows O (laufer2013_noms): SBRT for a radioresistant tumour."""
    if code == "separation_surgery_then_sbrt":
        return True
    if f.o == ("resistant",):
        return True
    if f.o == ("sensitive",):
        return False
    return None


class Implant(NamedTuple):
    material: str
    reasons: tuple[Cited, ...]


def implant(f: LesionFacts, code: str, long_survival_months: float) -> Implant:
    """Implant material and its reasons (clinical §6 suggested rule [U]): carbon-fibre PEEK only when
    every criterion holds; titanium when one clearly fails; ``either`` when one is unknown."""
    t = surgery_table()
    drawbacks = t["implant.drawbacks"]
    if f.contouring is True:
        return Implant("titanium", (t["implant.contouring"], drawbacks))
    if f.survival == "short":
        return Implant("titanium", (t["implant.titanium_short_survival"], drawbacks))
    sbrt = _postop_sbrt(f, code)
    if sbrt is False:
        return Implant("titanium", (t["implant.titanium_no_sbrt"], drawbacks))
    if f.mri_surveillance is False:
        return Implant("titanium", (t["implant.titanium_no_mri"], drawbacks))
    unknown: list[str] = []
    if sbrt is None:
        unknown.append("the radiation after surgery (histology)")
    if f.survival is None:
        unknown.append("expected survival")
    if f.mri_surveillance is None:
        unknown.append("whether MRI surveillance is planned (patient.mri_surveillance_planned)")
    if f.contouring is None and f.alignment != "normal":
        unknown.append(
            "whether the rods must be contoured in situ "
            "(lesions[].deformity_needs_in_situ_contouring)"
        )
    if unknown:
        row = t["implant.either_unknown"]
        unknown_text = row.text.format(unknown=" and ".join(unknown))
        return Implant("either", (Cited(unknown_text, row.references, row.value), drawbacks))
    if f.survival == "intermediate":
        row = t["implant.either_intermediate"]
        text = row.text.format(months=long_survival_months)
        return Implant("either", (Cited(text, row.references, row.value), drawbacks))
    return Implant("carbon_fibre_peek", (t["implant.carbon_fibre_peek"], drawbacks))


@dataclass(frozen=True, slots=True)
class Extra:
    """Details and reasons the surgical rules add to one NOMS option."""

    details: Mapping[str, Any]
    reasons: tuple[Reason, ...]


@lru_cache(maxsize=1024)
def _reason(c: Cited, prefix: str = "") -> Reason:
    """One validated Reason per table sentence (the sentences are a fixed set)."""
    return Reason(text=prefix + c.text, references=list(c.references))


def option_extra(f: LesionFacts, code: str, long_survival_months: float) -> Extra:
    """Details and reasons for the NOMS option ``code`` of this lesion (empty when none apply).

    A pure function. It is not memoised: its facts are nearly unique per lesion, so a cache only
    costs hashing (measured: 1 % hits over 20,000 generated cases)."""
    t = surgery_table()
    if code in ("stabilization", "separation_surgery_then_sbrt"):
        ap = approach(f, code)
        material, why = implant(f, code, long_survival_months)
        reasons = [_reason(ap, "Approach: ")]
        reasons.extend(_reason(c, "Implant: ") for c in why)
        if code == "separation_surgery_then_sbrt":
            reasons.append(_reason(t["separation.regimen"]))
        if f.hypervascular and (code != "stabilization" or ap.value in ("open", "mini_open")):
            reasons.append(_reason(_embolization_note(f)))
        return Extra(
            {
                "approach": ap.value if ap is not t["approach.unknown"] else None,
                "implant_material": material,
            },
            tuple(reasons),
        )
    if code == "cement_augmentation":
        if f.posterior_wall is True:
            row = t["cement.posterior_wall_involved"]
        elif f.posterior_wall is False:
            row = t["cement.posterior_wall_intact"]
        else:
            row = t["cement.posterior_wall_unknown"]
        return Extra({"posterior_wall_involved": f.posterior_wall}, (_reason(row),))
    return Extra({}, ())


def option_needs(f: LesionFacts, codes: set[str], need: Need) -> None:
    """Missing inputs that would settle a detail of the options present."""
    path = f"lesions[{f.index}]"
    if codes & {"stabilization", "separation_surgery_then_sbrt"}:
        if f.mri_surveillance is None and f.survival != "short" and f.contouring is not True:
            need("patient.mri_surveillance_planned", "implant_material")
        if f.contouring is None and f.alignment in _DEFORMITY:
            need(f"{path}.deformity_needs_in_situ_contouring", "implant_material")
    if "cement_augmentation" in codes and f.posterior_wall is None:
        need(f"{path}.posterior_wall_involved", "cement_augmentation")


# --- options NOMS does not raise itself --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewOption:
    code: str
    strength: Literal["recommended", "consider", "avoid"]
    reasons: tuple[Cited, ...]
    details: tuple[tuple[str, Any], ...] = ()
    alternatives: tuple[str, ...] = ()


def _ablation(f: LesionFacts) -> NewOption | None:
    t = surgery_table()
    painful = f.pain in ("mechanical", "occasional_nonmechanical")
    if not (painful and f.bone_lesion == "lytic" and f.n == ("low",)):
        return None
    if f.alignment in (None, "subluxation_translation") or "unstable" in f.m:
        return None  # ablation is no answer to translation or gross instability (R6)
    mod = t["ablation.cryoablation"] if f.irradiated else t["ablation.radiofrequency"]
    return NewOption(
        "ablation",
        "consider",
        (t["ablation.indication"], mod, t["ablation.thermal_protection"]),
        (("modality", mod.value),),
        ("cement_augmentation",),
    )


def _litt(f: LesionFacts, need: Need) -> NewOption | None:
    t = surgery_table()
    # High-grade means ESCC 2-3 (contract §3 groups); 1c stays with the NOMS R9 board discussion.
    high = f.escc in ("2", "3") and f.n == ("high",)
    if not (high and f.o == ("resistant",) and f.s in ("can", "uncertain")):
        return None
    if f.motor_deficit is None:
        need(f"lesions[{f.index}].motor_deficit", "litt_then_sbrt")
        return None
    if f.motor_deficit:
        return None
    reasons = [t["litt.indication"], t["litt.outcomes"]]
    reasons.append(t["litt.thoracic"] if f.thoracic else t["litt.not_thoracic"])
    if "unstable" in f.m:
        reasons.append(t["litt.unstable"])
    return NewOption(
        "litt_then_sbrt", "consider", tuple(reasons), (), ("separation_surgery_then_sbrt",)
    )


def _endoscopic(f: LesionFacts) -> NewOption | None:
    t = surgery_table()
    if f.n_levels != 1 or "unstable" in f.m or f.s == "cannot":
        return None
    palliative = f.survival == "short" or f.s == "uncertain"
    if not (f.functional_radiculopathy is True or (f.n == ("high",) and palliative)):
        return None
    return NewOption(
        "endoscopic_decompression",
        "consider",
        (t["endoscopic.indication"], t["endoscopic.evidence"]),
        (),
        ("decompression_then_rt",),
    )


def _en_bloc(f: LesionFacts, allow_removable_visceral: bool, need: Need) -> NewOption | None:
    t = surgery_table()
    if f.o != ("resistant",):
        return None
    if f.solitary is None:
        if f.s == "can" and f.survival == "long":
            need(f"lesions[{f.index}].solitary", "en_bloc_resection")
        return None
    if not f.solitary:
        return None
    why = Cited(f"Solitary lesion: {f.solitary_how}.", ("tomita2001",))
    surv = Cited(f"Expected survival: {f.survival_text}.", ("tomita2001", "tokuhashi2005"))
    if f.s != "can":
        return NewOption("en_bloc_resection", "avoid", (t["en_bloc.refused_unfit"], why))
    visceral_bad = f.visceral == "unremovable" or (
        f.visceral == "removable" and not allow_removable_visceral
    )
    if visceral_bad:
        return NewOption("en_bloc_resection", "avoid", (t["en_bloc.refused_visceral"], why))
    if f.survival in ("short", "intermediate"):
        return NewOption("en_bloc_resection", "avoid", (t["en_bloc.refused_short"], why, surv))
    reasons = [t["en_bloc.indication"], why, t["en_bloc.morbidity"]]
    if f.hypervascular:
        reasons.append(_embolization_note(f))
    if f.survival is None:
        reasons.append(t["en_bloc.survival_unknown"])
    else:
        reasons.append(surv)
    if f.visceral is None:
        need("cancer.visceral_metastases", "en_bloc_resection")
    return NewOption(
        "en_bloc_resection",
        "consider",
        tuple(reasons),
        (),
        ("separation_surgery_then_sbrt", "sbrt"),
    )


def _embolization_note(f: LesionFacts) -> Cited:
    t = surgery_table()
    row = t["embolization_text.indication"]
    hours = t.embolization.max_hours_before_surgery
    label = f.histology_label or "This tumour"
    return Cited(
        f"{label} is hypervascular: embolize before the exposure, with surgery within {hours} "
        "hours (preoperative_embolization).",
        row.references + t.embolization.max_hours_references,
    )


def _embolization(f: LesionFacts, present: Mapping[str, str]) -> NewOption | None:
    if f.hypervascular is not True:
        return None
    t = surgery_table()
    # A separate option only once the exposure is recommended; while surgery is only considered,
    # the embolization advice travels in that option's reasons (``option_extra``).
    triggers = [c for c, s in present.items() if s == "recommended" and c in _OPEN_CODES]
    stab = present.get("stabilization") == "recommended"
    if stab and approach(f, "stabilization").value in ("open", "mini_open"):
        triggers.append("stabilization")
    if not triggers:
        return None
    strength: Literal["recommended", "consider"] = "recommended"
    e = t.embolization
    label = f.histology_label or "this histology"
    what = Cited(
        f"{label} is hypervascular; planned exposure: "
        + ", ".join(c.replace("_", " ") for c in triggers)
        + ".",
        t["embolization_text.indication"].references,
    )
    return NewOption(
        "preoperative_embolization",
        strength,
        (
            what,
            t["embolization_text.indication"],
            t["embolization_text.timing"],
            t["embolization_text.anterior_spinal_artery"],
        ),
        (
            ("max_hours_before_surgery", e.max_hours_before_surgery),
            ("max_hours_before_surgery_gelfoam", e.gelfoam_max_hours_before_surgery),
        ),
        (),
    )


def new_options(
    f: LesionFacts, present: Mapping[str, str], allow_removable_visceral: bool, need: Need
) -> list[NewOption]:
    """The technique options this lesion adds to the NOMS ones (``present``: code -> strength)."""
    out: list[NewOption] = []
    en_bloc = _en_bloc(f, allow_removable_visceral, need)
    for opt in (_ablation(f), _litt(f, need), _endoscopic(f), en_bloc):
        if opt is not None and opt.code not in present:
            out.append(opt)
    merged = dict(present)
    merged.update((o.code, o.strength) for o in out)
    emb = _embolization(f, merged)
    if emb is not None and emb.code not in present:
        out.append(emb)
    return out


def _recommendation(opt: NewOption) -> Recommendation:
    return Recommendation.model_validate(
        {
            "code": opt.code,
            "strength": opt.strength,
            "summary": SUMMARY[opt.code],
            "reasons": [{"text": c.text, "references": list(c.references)} for c in opt.reasons],
            "details": dict(opt.details),
            "alternatives": list(opt.alternatives),
            "would_change": [],
            "rules": [],
        }
    )


def _new_recommendations(
    f: LesionFacts, present: tuple[tuple[str, str], ...], allow_removable_visceral: bool
) -> tuple[tuple[Recommendation, ...], tuple[tuple[str, str], ...]]:
    """The added recommendations and the missing inputs they name (pure; not memoised, like
    :func:`option_extra`)."""
    missing: list[tuple[str, str]] = []

    def record(field: str, what: str) -> None:
        missing.append((field, what))

    opts = new_options(f, dict(present), allow_removable_visceral, record)
    return tuple(_recommendation(o) for o in opts), tuple(missing)


def add_options(
    recs: list[Recommendation], f: LesionFacts, policy: Policy, need: Need
) -> list[Recommendation]:
    """The lesion's recommendations with the technique options merged in, strongest first."""
    present = tuple(sorted((r.code, r.strength) for r in recs))
    made, missing = _new_recommendations(
        f, present, policy.surgery.en_bloc_allow_removable_visceral
    )
    for field, what in missing:
        need(field, what)
    option_needs(f, {c for c, _ in present}, need)
    if not made:
        return recs
    out = recs + list(made)
    out.sort(key=lambda r: (STRENGTH_ORDER[r.strength], CODE_ORDER.index(r.code)))
    return out
