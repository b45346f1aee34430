"""The four NOMS pillars for one lesion (laufer2013_noms; spec clinical §4.1).

Each pillar is a Finding: a status code of contract §3 (or ``unknown`` when its inputs are missing), a
one-sentence summary, and the reasons with their references.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from metspine.knowledge.histology import histology
from metspine.model.assessment import EsccSummary, Finding, ScoreResult
from metspine.model.case import Case, Lesion
from metspine.model.policy import Policy
from metspine.scores import escc as escc_mod
from metspine.scores import performance

Outlook = Literal["short", "intermediate", "long"]


def _reason(text: str, references: list[str]) -> dict[str, Any]:
    """A Reason as plain data; validated once, with its Finding (faster than one model each)."""
    return {"text": text, "references": references}


def _finding(
    status: str, summary: str, reasons: list[dict[str, Any]], references: list[str]
) -> Finding:
    return Finding.model_validate(
        {"status": status, "summary": summary, "reasons": reasons, "references": references}
    )


# How each prognosis band reads as an outlook; sources are the scores' own band definitions.
OUTLOOK: dict[str, dict[str, Outlook]] = {
    "tokuhashi_revised": {
        "lt_6_months": "short",
        "ge_6_months": "intermediate",
        "ge_12_months": "long",
    },
    "tomita": {
        "supportive_care": "short",
        "palliative_surgery": "intermediate",
        "marginal_intralesional_excision": "long",
        "wide_marginal_excision": "long",
    },
    "bauer_modified": {"poor": "short", "moderate": "intermediate", "good": "long"},
    "nesms": {"0": "short", "1": "short", "2": "intermediate", "3": "long"},
    "katagiri_new": {"high": "short", "intermediate": "intermediate", "low": "long"},
    "van_der_linden": {"A": "short", "B": "intermediate", "C": "long"},
}

SCORE_LABEL = {
    "tokuhashi_revised": "revised Tokuhashi",
    "tomita": "Tomita",
    "bauer_modified": "modified Bauer",
    "nesms": "NESMS",
    "katagiri_new": "new Katagiri",
    "van_der_linden": "van der Linden",
}


def radiosensitivity(case: Case, policy: Policy) -> bool | None:
    """True = radiosensitive to cEBRT, False = radioresistant, None = unknown."""
    code = case.cancer.primary
    if code is None:
        return None
    value = policy.radiosensitivity.get(code) or histology(code).radiosensitivity
    return None if value is None else value == "sensitive"


def neurologic(lesion: Lesion, summary: EsccSummary) -> Finding:
    refs = ["bilsky2010_escc", "laufer2013_noms"]
    reasons: list[dict[str, Any]] = []
    if summary.grade is None:
        status = "unknown"
        text = "ESCC grade not recorded: the degree of epidural compression is unknown."
        reasons.append(
            _reason(
                text="Record the ESCC grade from axial T2 MRI at the level of worst compression.",
                references=["bilsky2010_escc"],
            )
        )
    else:
        g = summary.grade
        status = {"low": "low_grade", "borderline": "borderline", "high": "high_grade"}[
            summary.group or "low"
        ]
        text = f"ESCC {g} ({escc_mod.DESCRIPTION[g]}): {status.replace('_', ' ')}."
        reasons.append(
            _reason(
                text=f"ESCC {g} is {escc_mod.DESCRIPTION[g]}; NOMS groups 0-1b as low grade and 2-3 "
                "as high grade, with 1c handled case by case.",
                references=refs,
            )
        )
        if summary.group == "borderline":
            how = summary.treated_as or "undecided until the histology is known"
            reasons.append(
                _reason(
                    text=f"ESCC 1c is the grey zone between radiation and surgery; the policy "
                    f"treats it here as {how}.",
                    references=["bilsky2010_escc"],
                )
            )
        if summary.note:
            reasons.append(_reason(text=summary.note, references=["bilsky2010_escc"]))
    for flag, label in (
        (lesion.myelopathy, "myelopathy"),
        (lesion.functional_radiculopathy, "functional radiculopathy"),
        (lesion.motor_deficit, "motor deficit"),
    ):
        if flag:
            reasons.append(
                _reason(text=f"Clinical: {label} present.", references=["laufer2013_noms"])
            )
    if lesion.motor_deficit and lesion.motor_deficit_onset_days is not None:
        reasons.append(
            _reason(
                text=f"Motor deficit for {lesion.motor_deficit_onset_days} days.",
                references=[],
            )
        )
    return _finding(status=status, summary=text, reasons=reasons, references=refs)


def oncologic(case: Case, policy: Policy) -> Finding:
    code = case.cancer.primary
    if code is None:
        return _finding(
            status="unknown",
            summary="Primary histology not recorded: radiosensitivity to conventional RT is unknown.",
            reasons=[
                _reason(
                    text="Record the primary tumour (histology catalogue code).",
                    references=["laufer2013_noms"],
                )
            ],
            references=["laufer2013_noms"],
        )
    h = histology(code)
    sens = radiosensitivity(case, policy)
    if sens is None:
        return _finding(
            status="unknown",
            summary=f"{h.label}: the sources give no cEBRT radiosensitivity; the policy must set it.",
            reasons=[
                _reason(
                    text=f"No radiosensitivity rule for {code}; set "
                    f"Policy.radiosensitivity['{code}'].",
                    references=["laufer2013_noms"],
                )
            ],
            references=["laufer2013_noms"],
        )
    refs = list(h.radiosensitivity_refs) or ["laufer2013_noms"]
    word = "radiosensitive" if sens else "radioresistant"
    reasons = [
        _reason(
            text=f"{h.label} is considered {word} to conventional external beam radiotherapy.",
            references=refs,
        )
    ]
    if h.radiosensitivity_disputed or code in policy.radiosensitivity:
        reasons.append(
            _reason(
                text=f"Sources disagree on {h.label.lower()}; this follows the institution's policy "
                f"(Policy.radiosensitivity = {word}).",
                references=refs,
            )
        )
    if not sens:
        reasons.append(
            _reason(
                text="'Radioresistant' refers to cEBRT: with high-dose SBRT local control is largely "
                "independent of histology.",
                references=["yamada2017_histology"],
            )
        )
    return _finding(
        status=word,
        summary=f"{h.label}: {word} to conventional radiotherapy.",
        reasons=reasons,
        references=refs,
    )


def mechanical(lesion: Lesion, sins: ScoreResult, policy: Policy) -> Finding:
    refs = ["fisher2010_sins", "fourney2011_sins", "laufer2013_noms"]
    reasons: list[dict[str, Any]] = []
    if sins.value is not None:
        shown = f"SINS {sins.value}"
    else:
        assert sins.range is not None
        shown = f"SINS {sins.range[0]}-{sins.range[1]} (incomplete: {', '.join(sins.missing)})"
    status = sins.band or "unknown"
    reasons.append(
        _reason(
            text=f"{shown}: 0-6 stable, 7-12 potentially unstable, 13-18 unstable.",
            references=["fisher2010_sins", "fourney2011_sins"],
        )
    )
    if status in ("potentially_unstable", "unstable"):
        reasons.append(
            _reason(
                text="SINS 7-18 calls for a surgical consultation before radiation.",
                references=["fisher2014_sins_ro", "fourney2011_sins"],
            )
        )
    lo = sins.value if sins.value is not None else (sins.range[0] if sins.range else 0)
    if status == "potentially_unstable" and lo >= policy.sins_consider_stabilization_min:
        reasons.append(
            _reason(
                text=f"SINS {policy.sins_consider_stabilization_min}-12: surgery was about seven "
                "times more likely than at 7-9 in pooled series; stabilization before "
                "radiotherapy is favoured.",
                references=["sins_intermediate_meta2024"],
            )
        )
    if lesion.sins.pain == "mechanical":
        reasons.append(
            _reason(
                text="Mechanical pain (worse with movement or loading, relieved lying down) is a "
                "mechanical indication of its own.",
                references=["laufer2013_noms", "fisher2010_sins"],
            )
        )
    if lesion.mechanical_radiculopathy:
        reasons.append(
            _reason(
                text="Mechanical radiculopathy (radicular pain on axial loading) is an instability "
                "symptom that radiation does not relieve.",
                references=["laufer2013_noms"],
            )
        )
    if lesion.sins.alignment == "subluxation_translation":
        reasons.append(
            _reason(
                text="Subluxation or translation: cement augmentation cannot correct it.",
                references=["fisher2010_sins", "laufer2013_noms"],
            )
        )
    label = status.replace("_", " ")
    return _finding(status=status, summary=f"{shown}: {label}.", reasons=reasons, references=refs)


@dataclass(frozen=True, slots=True)
class SystemicView:
    finding: Finding
    short_survival: bool  # prognosis points to short survival (used for supportive-care options)


def systemic(case: Case, scores: dict[str, ScoreResult], policy: Policy) -> SystemicView:
    p = case.patient
    reasons: list[dict[str, Any]] = []
    against: list[dict[str, Any]] = []
    caution: list[dict[str, Any]] = []

    # Prognosis: which scores point where, and whether they agree.
    views: dict[str, Outlook] = {}
    for code, table in OUTLOOK.items():
        res = scores.get(code)
        if res is not None and res.band is not None:
            views[code] = table[res.band]
    if views:
        parts = [
            f"{SCORE_LABEL[c]} {scores[c].band if scores[c].value is None else scores[c].value}"
            f" ({scores[c].band}) → {o}"
            for c, o in views.items()
        ]
        outlooks = set(views.values())
        agree = "agree" if len(outlooks) == 1 else "disagree"
        refs = sorted({k for c in views for k in scores[c].references})
        reasons.append(
            _reason(
                text=f"Prognosis scores {agree} on the outlook: " + "; ".join(parts) + ".",
                references=refs,
            )
        )
    unset = [SCORE_LABEL[c] for c in OUTLOOK if c not in views]
    if unset:
        reasons.append(
            _reason(
                text="Not placed in a band for lack of data: " + ", ".join(unset) + ".",
                references=[],
            )
        )
    n_short = sum(1 for o in views.values() if o == "short")
    n_long = sum(1 for o in views.values() if o == "long")
    short_survival = n_short >= 2 and n_short > n_long

    ec = performance.ecog(p, policy)
    if ec.values is not None:
        e = next(iter(ec.values))
        src = " (converted from KPS)" if ec.source == "converted" else ""
        if e > policy.surgery_max_ecog:
            against.append(
                _reason(
                    text=f"ECOG {e}{src}: surgery is considered only up to ECOG "
                    f"{policy.surgery_max_ecog}.",
                    references=["cofano2020_nse"],
                )
            )
        else:
            reasons.append(
                _reason(
                    text=f"ECOG {e}{src}: performance allows surgery.",
                    references=["cofano2020_nse"],
                )
            )
    if p.asa is not None and p.asa > policy.surgery_max_asa:
        against.append(
            _reason(
                text=f"ASA {p.asa}: surgery is considered only up to ASA {policy.surgery_max_asa}.",
                references=["cofano2020_nse"],
            )
        )
    est = p.clinician_survival_estimate_months
    horizon = policy.open_surgery_min_survival_months
    if est is not None:
        if est < horizon:
            against.append(
                _reason(
                    text=f"Clinician's survival estimate {est:g} months is below the "
                    f"{horizon:g}-month horizon for open surgery.",
                    references=["patchell2005"],
                )
            )
        else:
            reasons.append(
                _reason(
                    text=f"Clinician's survival estimate {est:g} months meets the {horizon:g}-month "
                    "horizon for open surgery.",
                    references=["patchell2005"],
                )
            )
    if short_survival:
        caution.append(
            _reason(
                text=f"{n_short} prognosis scores point to short survival; weigh open surgery "
                f"against the {horizon:g}-month horizon.",
                references=["patchell2005", "laufer2013_noms"],
            )
        )
    mfi = scores.get("mfi5")
    mst = scores.get("mstfi")
    if mfi is not None and mfi.band == "frail":
        caution.append(
            _reason(
                text="mFI-5 in the frail range: higher complication and mortality risk after surgery.",
                references=["subramaniam2018_mfi5", "kazim2022_mfi5"],
            )
        )
    if mst is not None and mst.band == "severe":
        caution.append(
            _reason(
                text="MSTFI severe (≥3): major complications about seven times as likely.",
                references=["delagarzaramos2016_mstfi"],
            )
        )

    refs = ["laufer2013_noms"]
    if p.medically_operable is not None:
        status = "can_tolerate_surgery" if p.medically_operable else "cannot_tolerate_surgery"
        board = "can" if p.medically_operable else "cannot"
        summary = f"The board judged that the patient {board} tolerate surgery."
        first = _reason(
            text=summary + " The scores below are shown for reference.", references=refs
        )
        return SystemicView(
            _finding(
                status=status,
                summary=summary,
                reasons=[first, *against, *caution, *reasons],
                references=refs,
            ),
            short_survival,
        )
    if against:
        status = "cannot_tolerate_surgery"
        summary = "Performance, fitness or expected survival argue against surgery."
    elif ec.values is None:
        status = "uncertain"
        summary = "Performance status unknown: surgical tolerance cannot be judged."
        caution.append(
            _reason(
                text="Record KPS or ECOG, or the board's judgment (patient.medically_operable).",
                references=refs,
            )
        )
    elif short_survival or (caution and policy.frailty_makes_surgery_uncertain):
        status = "uncertain"
        summary = "Fit by performance, but frailty or prognosis makes surgical tolerance uncertain."
    else:
        status = "can_tolerate_surgery"
        summary = "Performance and prognosis allow surgery."
    return SystemicView(
        _finding(
            status=status, summary=summary, reasons=[*against, *caution, *reasons], references=refs
        ),
        short_survival,
    )
