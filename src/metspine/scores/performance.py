"""Performance status: KPS (karnofsky1949) and ECOG (oken1982_ecog), kept as measured.

There is no single KPS↔ECOG standard (prognosis §8.1, pitfall 6). The Policy picks the crosswalk:
'range' (ECOG 0 = KPS 90-100, 1 = 70-80, 2 = 50-60, 3 = 30-40, 4 = 10-20, 5 = 0), 'buccheri'
(buccheri1996_kps_ecog point values 90/80/60/40/20/0) or 'none'. A converted value is always marked,
and a crosswalk that yields several values makes the dependent score report a range, not a guess.
KPS → ECOG uses the range table, which partitions KPS (every KPS falls in exactly one ECOG grade).
"""

from __future__ import annotations

from dataclasses import dataclass

from metspine.model.assessment import Component, ScoreResult
from metspine.model.case import Patient
from metspine.model.policy import Policy

ECOG_TO_KPS_RANGE: dict[int, frozenset[int]] = {
    0: frozenset({90, 100}),
    1: frozenset({70, 80}),
    2: frozenset({50, 60}),
    3: frozenset({30, 40}),
    4: frozenset({10, 20}),
    5: frozenset({0}),
}
ECOG_TO_KPS_BUCCHERI: dict[int, frozenset[int]] = {
    0: frozenset({90}),
    1: frozenset({80}),
    2: frozenset({60}),
    3: frozenset({40}),
    4: frozenset({20}),
    5: frozenset({0}),
}
KPS_TO_ECOG: dict[int, int] = {
    kps: ecog for ecog, kpss in ECOG_TO_KPS_RANGE.items() for kps in kpss
}

KPS_REFS = ["karnofsky1949"]
ECOG_REFS = ["oken1982_ecog"]
CROSSWALK_REFS = {"range": ["oken1982_ecog"], "buccheri": ["buccheri1996_kps_ecog"], "none": []}


@dataclass(frozen=True, slots=True)
class PerfValue:
    """What a score may read for KPS or ECOG: the possible values and how they were obtained."""

    values: frozenset[int] | None  # None = unknown
    source: str  # "measured" | "converted" | "missing"
    note: str | None = None
    missing_field: str | None = None

    @property
    def known(self) -> bool:
        return self.values is not None


def kps(patient: Patient, policy: Policy) -> PerfValue:
    if patient.kps is not None:
        return PerfValue(frozenset({patient.kps}), "measured")
    if patient.ecog is not None and policy.kps_ecog_crosswalk != "none":
        table = ECOG_TO_KPS_RANGE if policy.kps_ecog_crosswalk == "range" else ECOG_TO_KPS_BUCCHERI
        vals = table[patient.ecog]
        shown = "/".join(str(v) for v in sorted(vals))
        return PerfValue(
            vals,
            "converted",
            f"KPS {shown} converted from ECOG {patient.ecog} ({policy.kps_ecog_crosswalk} crosswalk)",
            "patient.kps",
        )
    return PerfValue(None, "missing", None, "patient.kps")


def ecog(patient: Patient, policy: Policy) -> PerfValue:
    if patient.ecog is not None:
        return PerfValue(frozenset({patient.ecog}), "measured")
    if patient.kps is not None and policy.kps_ecog_crosswalk != "none":
        val = KPS_TO_ECOG[patient.kps]
        return PerfValue(
            frozenset({val}),
            "converted",
            f"ECOG {val} converted from KPS {patient.kps} (range crosswalk)",
            "patient.ecog",
        )
    return PerfValue(None, "missing", None, "patient.ecog")


def _result(name: str, pv: PerfValue, refs: list[str], policy: Policy) -> ScoreResult:
    direction = "higher_better" if name == "KPS" else "higher_worse"
    version = "karnofsky1949" if name == "KPS" else "oken1982"
    if pv.values is None:
        return ScoreResult(
            status="incomplete",
            value=None,
            range=(0, 100) if name == "KPS" else (0, 5),
            direction=direction,
            components=[Component(item=name.lower(), input="unknown", points=None)],
            missing=[pv.missing_field or ""],
            references=refs,
            version=version,
            name=name,
        )
    # KPS → ECOG always reads the range table (it partitions KPS); ECOG → KPS follows the policy.
    walk = policy.kps_ecog_crosswalk if name == "KPS" else "range"
    refs = refs + (CROSSWALK_REFS[walk] if pv.source == "converted" else [])
    refs = list(dict.fromkeys(refs))
    comp = Component(
        item=name.lower(),
        input=pv.source if pv.source == "measured" else (pv.note or "converted"),
        points=min(pv.values) if len(pv.values) == 1 else None,
        note=pv.note,
    )
    notes = [pv.note] if pv.note else []
    if len(pv.values) == 1:
        return ScoreResult(
            status="complete",
            value=next(iter(pv.values)),
            direction=direction,
            components=[comp],
            references=refs,
            version=version,
            name=name,
            notes=notes,
        )
    return ScoreResult(
        status="incomplete",
        value=None,
        range=(min(pv.values), max(pv.values)),
        direction=direction,
        components=[comp],
        missing=[pv.missing_field or ""],
        references=refs,
        version=version,
        name=name,
        notes=notes,
    )


def kps_score(patient: Patient, policy: Policy) -> ScoreResult:
    return _result("KPS", kps(patient, policy), list(KPS_REFS), policy)


def ecog_score(patient: Patient, policy: Policy) -> ScoreResult:
    return _result("ECOG", ecog(patient, policy), list(ECOG_REFS), policy)
