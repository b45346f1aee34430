"""NOMS_REFS decision rules R1-R9 (laufer2013_noms; spec clinical §4.2) over definite pillar states.

``decide`` maps one combination of pillar states to the options it implies. When a pillar is unknown,
``plan.py`` evaluates every possible state and keeps what they share, so a missing input never becomes
a guessed default.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, NamedTuple

NGroup = Literal["low", "high"]
OSens = Literal["sensitive", "resistant"]
MBand = Literal["stable", "potentially_unstable", "unstable"]
SState = Literal["can", "cannot", "uncertain"]
Strength = Literal["recommended", "consider", "avoid"]

R = {
    "R1": "R1: low-grade ESCC, radiosensitive, stable → cEBRT",
    "R2": "R2: low-grade ESCC, radioresistant, stable → SBRT",
    "R3": "R3: high-grade ESCC, radiosensitive → cEBRT whatever the compression",
    "R4": "R4: high-grade ESCC, radioresistant, operable → separation surgery then SBRT",
    "R5": "R5: high-grade ESCC, radioresistant, not operable → palliative cEBRT",
    "R6": "R6: gross mechanical instability → stabilization, then radiation per R1-R5",
    "R7": "R7: mechanical pain without gross instability → cement augmentation, then radiation",
    "R8": "R8: poor tolerance or short survival → least morbid effective option",
    "R9": "R9: ESCC 1c → per policy, with MDT discussion",
}


class State(NamedTuple):
    n: NGroup
    o: OSens
    m: MBand
    s: SState
    mech_pain: bool
    translation: bool
    collapse: bool
    mech_radiculopathy: bool
    sins_favours_stabilization: bool
    escc_1c: bool
    short_survival: bool
    mdt_1c: bool = True


class Option(NamedTuple):
    code: str
    strength: Strength
    rules: tuple[str, ...]
    reasons: tuple[tuple[str, tuple[str, ...]], ...]
    alternatives: tuple[str, ...] = ()


NOMS_REFS = ("laufer2013_noms",)


@lru_cache(maxsize=8192)
def decide_cached(st: State) -> tuple[Option, ...]:
    """``decide`` memoised. The rules are a pure function of a small, hashable state (at most a few
    thousand combinations), so the cache changes speed, never a result."""
    return tuple(decide(st))


def decide(st: State) -> list[Option]:
    out: list[Option] = []
    operable = st.s == "can"

    # Mechanical pillar: an independent surgical indication (R6, R7).
    if st.m == "unstable":
        strength: Strength = "recommended" if operable else "consider"
        why = [
            (
                "SINS 13-18: the spine is unstable; stabilization comes before radiation whatever "
                "the neurological and oncological findings.",
                ("laufer2013_noms", "fisher2010_sins"),
            )
        ]
        if not operable:
            why.append(
                (
                    "Surgical tolerance is limited: only the least morbid fixation "
                    "(percutaneous) is worth weighing.",
                    ("laufer2013_noms", "zuckerman2016_mis"),
                )
            )
        out.append(
            Option(
                "stabilization",
                strength,
                ("R6",) + (() if operable else ("R8",)),
                tuple(why),
                ("cement_augmentation",) if not st.translation else (),
            )
        )
    elif (
        st.m == "potentially_unstable"
        and (st.sins_favours_stabilization or st.mech_radiculopathy)
        and st.s != "cannot"
    ):
        why2 = []
        if st.sins_favours_stabilization:
            why2.append(
                (
                    "SINS 10-12 lies in the upper grey zone where stabilization before "
                    "radiotherapy is favoured.",
                    ("sins_intermediate_meta2024",),
                )
            )
        if st.mech_radiculopathy:
            why2.append(
                (
                    "Mechanical radiculopathy signals instability that radiation does not treat.",
                    NOMS_REFS,
                )
            )
        out.append(
            Option("stabilization", "consider", ("R6",), tuple(why2), ("cement_augmentation",))
        )
    if st.m != "unstable" and st.mech_pain:
        if st.translation:
            out.append(
                Option(
                    "cement_augmentation",
                    "avoid",
                    ("R7",),
                    (
                        (
                            "Cement augmentation treats axial-load pain from a fracture but cannot correct "
                            "subluxation or translation.",
                            ("laufer2013_noms", "fisher2010_sins"),
                        ),
                    ),
                    ("stabilization",),
                )
            )
            if not any(o.code == "stabilization" for o in out) and st.s != "cannot":
                out.append(
                    Option(
                        "stabilization",
                        "consider",
                        ("R6",),
                        (
                            (
                                "Mechanical pain with translation needs fixation, not cement.",
                                NOMS_REFS,
                            ),
                        ),
                        (),
                    )
                )
        else:
            strength = "recommended" if st.collapse else "consider"
            why3 = [
                (
                    "Mechanical pain without gross instability: percutaneous cement augmentation "
                    "(vertebroplasty or kyphoplasty), then radiation.",
                    NOMS_REFS,
                )
            ]
            if st.collapse:
                why3.append(
                    (
                        "A painful pathological compression fracture: kyphoplasty reduced "
                        "back-pain disability against non-surgical care (CAFE).",
                        ("berenson2011_cafe",),
                    )
                )
            out.append(
                Option("cement_augmentation", strength, ("R7",), tuple(why3), ("stabilization",))
            )

    # Neurologic × oncologic (R1-R5), bounded by the systemic pillar.
    if st.n == "low" and st.o == "sensitive":
        out.append(
            Option(
                "cebrt",
                "recommended",
                ("R1",),
                (
                    (
                        "Low-grade compression from a radiosensitive tumour: conventional "
                        "radiotherapy controls it.",
                        NOMS_REFS,
                    ),
                ),
                ("sbrt",),
            )
        )
    elif st.n == "low" and st.o == "resistant":
        out.append(
            Option(
                "sbrt",
                "recommended",
                ("R2",),
                (
                    (
                        "Low-grade compression from a cEBRT-radioresistant tumour: high-dose "
                        "SBRT gives durable control independent of histology.",
                        ("laufer2013_noms", "yamada2017_histology"),
                    ),
                ),
                ("cebrt",),
            )
        )
    elif st.n == "high" and st.o == "sensitive":
        out.append(
            Option(
                "cebrt",
                "recommended",
                ("R3",),
                (
                    (
                        "High-grade compression from a radiosensitive tumour: cEBRT, whatever "
                        "the degree of compression or myelopathy.",
                        NOMS_REFS,
                    ),
                ),
                ("decompression_then_rt",),
            )
        )
    elif st.n == "high" and st.o == "resistant" and st.escc_1c and st.s != "cannot":
        # 1c in a radioresistant tumour: SBRT if the cord constraints can be met, otherwise separation
        # surgery (spec clinical §3.2, R9) — the dose plan decides, so both stay open.
        out.append(
            Option(
                "sbrt",
                "consider",
                ("R9", "R2"),
                (
                    (
                        "ESCC 1c from a radioresistant tumour: high-dose SBRT alone if the plan "
                        "meets the spinal cord dose limits.",
                        ("bilsky2010_escc", "laufer2013_noms"),
                    ),
                ),
                ("separation_surgery_then_sbrt",),
            )
        )
        out.append(
            Option(
                "separation_surgery_then_sbrt",
                "consider",
                ("R9", "R4"),
                (
                    (
                        "If the cord constraints cannot be met with the tumour abutting the "
                        "cord, separation surgery first, then SBRT.",
                        ("laufer2013_noms", "laufer2013_separation"),
                    ),
                ),
                ("sbrt",),
            )
        )
    elif st.n == "high" and st.o == "resistant":
        if st.s == "can":
            out.append(
                Option(
                    "separation_surgery_then_sbrt",
                    "recommended",
                    ("R4",),
                    (
                        (
                            "High-grade compression from a radioresistant tumour in a patient "
                            "fit for surgery: separate the tumour from the cord, then SBRT.",
                            ("laufer2013_noms", "laufer2013_separation"),
                        ),
                        (
                            "Goal of surgery: postoperative ESCC 0-1, which gave better local "
                            "control after SBRT.",
                            ("al_omair2013_separation",),
                        ),
                    ),
                    ("cebrt", "sbrt"),
                )
            )
        elif st.s == "cannot":
            out.append(
                Option(
                    "cebrt",
                    "recommended",
                    ("R5", "R8"),
                    (
                        (
                            "High-grade compression from a radioresistant tumour in a patient "
                            "who cannot tolerate surgery: palliative conventional "
                            "radiotherapy.",
                            NOMS_REFS,
                        ),
                    ),
                    ("sbrt",),
                )
            )
        else:
            out.append(
                Option(
                    "separation_surgery_then_sbrt",
                    "consider",
                    ("R4",),
                    (
                        (
                            "Separation surgery then SBRT if the board judges the patient fit "
                            "for surgery.",
                            ("laufer2013_noms", "laufer2013_separation"),
                        ),
                    ),
                    ("cebrt",),
                )
            )
            out.append(
                Option(
                    "cebrt",
                    "consider",
                    ("R5",),
                    (("Palliative cEBRT if the patient cannot tolerate surgery.", NOMS_REFS),),
                    ("separation_surgery_then_sbrt",),
                )
            )
            out.append(
                Option(
                    "mdt_review",
                    "recommended",
                    ("R4", "R5", "R8"),
                    (
                        (
                            "Surgical tolerance is uncertain and decides between separation "
                            "surgery and palliative radiotherapy: the board should weigh "
                            "performance, frailty and expected survival.",
                            NOMS_REFS,
                        ),
                    ),
                    (),
                )
            )
    if st.escc_1c and st.mdt_1c:
        out.append(
            Option(
                "mdt_review",
                "recommended",
                ("R9",),
                (
                    (
                        "ESCC 1c: surgery versus radiosurgery is disputed; discuss whether "
                        "SBRT can meet the cord constraints or separation surgery is needed.",
                        ("bilsky2010_escc", "laufer2013_noms"),
                    ),
                ),
                (),
            )
        )
    out = _fold_into_separation(out)
    if st.s == "cannot" and st.short_survival:
        out.append(
            Option(
                "best_supportive_care",
                "consider",
                ("R8",),
                (
                    (
                        "Short expected survival and poor tolerance: comfort-directed care "
                        "may serve the patient best; single-fraction radiotherapy palliates "
                        "pain.",
                        ("laufer2013_noms", "patchell2005"),
                    ),
                ),
                ("cebrt",),
            )
        )
    return out


def _fold_into_separation(opts: list[Option]) -> list[Option]:
    """Separation surgery includes posterior instrumentation (laufer2013_separation): when it is
    recommended, a separate stabilization or cement procedure is not offered; its mechanical reason
    travels with the separation option instead."""
    if not any(o.code == "separation_surgery_then_sbrt" for o in opts):
        return opts
    sep = next(
        (
            o
            for o in opts
            if o.code == "separation_surgery_then_sbrt" and o.strength == "recommended"
        ),
        None,
    )
    if sep is None:
        return opts
    folded = [
        o
        for o in opts
        if o.code in ("stabilization", "cement_augmentation") and o.strength != "avoid"
    ]
    if not folded:
        return opts
    extra = (
        (
            "The instrumentation of separation surgery also addresses the mechanical problem ("
            + ", ".join(o.code.replace("_", " ") for o in folded)
            + " would otherwise be "
            "indicated).",
            ("laufer2013_separation", "laufer2013_noms"),
        ),
    )
    merged = Option(
        sep.code,
        sep.strength,
        sep.rules + tuple(r for o in folded for r in o.rules if r not in sep.rules),
        sep.reasons + extra,
        sep.alternatives,
    )
    return [merged if o is sep else o for o in opts if o not in folded]


def with_(st: State, **changes: object) -> State:
    return st._replace(**changes)  # type: ignore[arg-type]
