"""Per-lesion options: evaluate the NOMS rules over every state the known inputs allow, then merge.

An option present in every possible state keeps its strength; one present in only some becomes
'consider' and says which unknown decides it. For each option the counterfactuals that would remove it
are listed in ``would_change`` (e.g. "if the patient could not tolerate surgery: cebrt").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from metspine.decision.rules import (
    MBand,
    NGroup,
    Option,
    OSens,
    R,
    SState,
    State,
    Strength,
    decide_cached,
    with_,
)
from metspine.model.assessment import Reason, Recommendation

STRENGTH_ORDER = {"recommended": 0, "consider": 1, "avoid": 2}
# Within one strength: fix the spine first, then the cord, then radiation, then the rest (R6/R7 say
# stabilization or cement comes before radiation).
CODE_ORDER = [
    "stabilization",
    "cement_augmentation",
    "separation_surgery_then_sbrt",
    "decompression_then_rt",
    "litt_then_sbrt",
    "endoscopic_decompression",
    "en_bloc_resection",
    "preoperative_embolization",
    "ablation",
    "sbrt",
    "cebrt",
    "systemic_therapy",
    "best_supportive_care",
    "mdt_review",
]

SUMMARY = {
    "cebrt": "Conventional external beam radiotherapy",
    "sbrt": "Stereotactic body radiotherapy (SBRT)",
    "separation_surgery_then_sbrt": "Separation surgery, then postoperative SBRT",
    "decompression_then_rt": "Decompressive surgery, then radiotherapy",
    "stabilization": "Surgical stabilization",
    "cement_augmentation": "Cement augmentation (vertebroplasty or kyphoplasty)",
    "ablation": "Thermal ablation",
    "litt_then_sbrt": "Laser interstitial thermal therapy, then SBRT",
    "endoscopic_decompression": "Endoscopic decompression",
    "en_bloc_resection": "En bloc resection",
    "preoperative_embolization": "Preoperative embolization",
    "systemic_therapy": "Systemic therapy as the main lever",
    "best_supportive_care": "Best supportive care",
    "mdt_review": "Tumor board discussion",
}

DIM_LABEL = {
    "n": ("ESCC", {"low": "low grade (0-1b)", "high": "high grade (2-3)"}),
    "o": ("histology", {"sensitive": "radiosensitive", "resistant": "radioresistant"}),
    "m": (
        "SINS",
        {
            "stable": "stable (0-6)",
            "potentially_unstable": "potentially unstable (7-12)",
            "unstable": "unstable (13-18)",
        },
    ),
    "s": (
        "surgical tolerance",
        {
            "can": "able to tolerate surgery",
            "cannot": "unable to tolerate surgery",
            "uncertain": "uncertain",
        },
    ),
    "mech_pain": ("mechanical pain", {True: "present", False: "absent"}),
}


@dataclass(frozen=True, slots=True)
class Inputs:
    """The possible values of each pillar for one lesion (one value = known)."""

    n: tuple[NGroup, ...]
    o: tuple[OSens, ...]
    m: tuple[MBand, ...]
    s: SState
    mech_pain: tuple[bool, ...]
    translation: bool
    collapse: bool
    mech_radiculopathy: bool
    sins_favours_stabilization: bool
    escc_1c: bool
    short_survival: bool
    mdt_1c: bool
    missing_labels: tuple[tuple[str, str], ...]  # (dim, field that would settle it)


def _states(inp: Inputs) -> list[State]:
    return [
        State(
            n=n,
            o=o,
            m=m,
            s=inp.s,
            mech_pain=mp,
            translation=inp.translation,
            collapse=inp.collapse,
            mech_radiculopathy=inp.mech_radiculopathy,
            sins_favours_stabilization=inp.sins_favours_stabilization,
            escc_1c=inp.escc_1c,
            short_survival=inp.short_survival,
            mdt_1c=inp.mdt_1c,
        )
        for n, o, m, mp in itertools.product(inp.n, inp.o, inp.m, inp.mech_pain)
    ]


def _label(dim: str, value: object) -> str:
    name, values = DIM_LABEL[dim]
    return f"{name} {values[value]}"  # type: ignore[index]


DetailsFn = Callable[[str], dict[str, Any]]
ExtraReasonsFn = Callable[[str], list[Reason | dict[str, Any]]]


class Skeleton(NamedTuple):
    """One merged option before the case-specific details are attached."""

    code: str
    strength: Strength
    reasons: tuple[tuple[str, tuple[str, ...]], ...]
    alternatives: tuple[str, ...]
    would_change: tuple[str, ...]
    rules: tuple[str, ...]


@lru_cache(maxsize=32768)
def skeleton(inp: Inputs) -> tuple[Skeleton, ...]:
    """The merged options for one set of pillar possibilities, strongest first.

    A pure function of ``inp`` (hashable, a few thousand distinct values in practice), memoised:
    the cache changes speed, never a result.
    """
    states = _states(inp)
    per_state = [decide_cached(st) for st in states]
    codes: dict[str, list[tuple[State, Option]]] = {}
    for st, opts in zip(states, per_state, strict=True):
        for opt in opts:
            codes.setdefault(opt.code, []).append((st, opt))
    labels = dict(inp.missing_labels)
    out: list[Skeleton] = []
    memo: dict[tuple[str, object], list[Option]] = {}
    for code, hits in codes.items():
        strengths = {o.strength for _, o in hits}
        present_states = {s for s, _ in hits}
        in_all = all(s in present_states for s in states)
        strength: Strength
        if strengths == {"avoid"}:
            strength = "avoid"
        elif in_all and strengths == {"recommended"}:
            strength = "recommended"
        else:
            strength = "consider"
        reasons: list[tuple[str, tuple[str, ...]]] = []
        seen: set[str] = set()
        rules: list[str] = []
        alternatives: list[str] = []
        for _, opt in hits:
            for text, refs in opt.reasons:
                if text not in seen:
                    seen.add(text)
                    reasons.append((text, tuple(refs)))
            for r in opt.rules:
                if r not in rules:
                    rules.append(r)
            for a in opt.alternatives:
                if a not in alternatives and a != code:
                    alternatives.append(a)
        would_change: list[str] = []
        if not in_all:
            # Which unknown decides it: dims whose values differ between present and absent states.
            for dim in ("n", "o", "m", "mech_pain"):
                vals_present = {getattr(s, dim) for s in present_states}
                vals_all = {getattr(s, dim) for s in states}
                if vals_present != vals_all:
                    shown = " or ".join(_label(dim, v) for v in sorted(vals_present, key=str))
                    field = labels.get(dim, "")
                    text = f"Applies only if {shown}; not yet known" + (
                        f" ({field})." if field else "."
                    )
                    reasons.append((text, ()))
        else:
            would_change = _counterfactuals(code, states[0], memo)
        for r in rules:
            reasons.append((f"Rule {R[r]}.", ("laufer2013_noms",)))
        out.append(
            Skeleton(
                code,
                strength,
                tuple(reasons),
                tuple(alternatives),
                tuple(would_change),
                tuple(rules),
            )
        )
    out.sort(key=lambda k: (STRENGTH_ORDER[k.strength], CODE_ORDER.index(k.code)))
    return tuple(out)


def plan(
    inp: Inputs,
    details: DetailsFn | None = None,
    extra_reasons: ExtraReasonsFn | None = None,
) -> list[Recommendation]:
    """Recommendations for one lesion: the memoised skeleton plus case-specific details."""
    recs: list[Recommendation] = []
    for sk in skeleton(inp):
        reasons: list[Reason | dict[str, Any]] = [
            {"text": text, "references": list(refs)} for text, refs in sk.reasons
        ]
        if extra_reasons is not None:
            # Reason instances pass through validation as they are; dicts are validated once.
            reasons.extend(extra_reasons(sk.code))
        recs.append(
            Recommendation.model_validate(
                {
                    "code": sk.code,
                    "strength": sk.strength,
                    "summary": SUMMARY[sk.code],
                    "reasons": reasons,
                    "details": details(sk.code) if details else {},
                    "alternatives": list(sk.alternatives),
                    "would_change": list(sk.would_change),
                    "rules": list(sk.rules),
                }
            )
        )
    return recs


def _counterfactuals(
    code: str, st: State, memo: dict[tuple[str, object], list[Option]]
) -> list[str]:
    """Single changes of one pillar that would drop this option, and what would replace it."""
    out: list[str] = []
    alts: dict[str, tuple[Any, ...]] = {
        "n": ("low", "high"),
        "o": ("sensitive", "resistant"),
        "m": ("stable", "potentially_unstable", "unstable"),
        "s": ("can", "cannot", "uncertain"),
        "mech_pain": (True, False),
    }
    for dim, values in alts.items():
        for v in values:
            if v == getattr(st, dim):
                continue
            key = (dim, v)
            if key not in memo:
                memo[key] = list(decide_cached(with_(st, **{dim: v})))
            other = memo[key]
            other_codes = [o.code for o in other if o.strength == "recommended"]
            if code not in {o.code for o in other}:
                instead = ", ".join(other_codes) if other_codes else "no firm option"
                out.append(f"If {_label(dim, v)}: {instead}.")
    return out
