"""Plan check: a spine SBRT plan's DVH metrics against the cord / cauda limits that apply to it.

The limits (which structure, which metric, which value for this fractionation, re-irradiation
budget) come from ``metspine.radiation``; this module only reads the plan, matches the structures to
their roles and measures the metrics each limit names. A structure that cannot be found leaves its
limit unjudged (``passed`` None), never passed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from metspine.dosimetry.dvh import (
    StructureDVH,
    StructureMetrics,
    compute_dvhs,
    load_plan,
    metrics_from_dvh,
)
from metspine.dosimetry.errors import DosimetryInputError
from metspine.dosimetry.names import resolve_structure
from metspine.radiation.limits import DoseLimit, LimitResult, evaluate, plan_limits
from metspine.radiation.policy import RadiationPolicy
from metspine.radiation.reirradiation import (
    Course,
    PlannedCourse,
    ReirradiationStatus,
    assess_reirradiation,
)

# Roles the DVH name matcher knows (TG-263 names and variants, see names.py).
MATCHED_ROLES = ("cord", "thecal_sac", "cauda_equina")
_CC = re.compile(r"^d(?P<v>[0-9.]+)cc$")
_PCT = re.compile(r"^d(?P<v>[0-9.]+)%$")


@dataclass(frozen=True, slots=True)
class PlanCheck:
    structures: list[StructureMetrics]
    roles: dict[str, str]  # role -> structure name found in the plan
    limits: list[LimitResult]
    reirradiation: ReirradiationStatus | None
    notes: list[str] = field(default_factory=list)
    dvhs: list[StructureDVH] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True only when every limit was judged and passed."""
        return bool(self.limits) and all(r.passed is True for r in self.limits)

    def as_dict(self) -> dict[str, object]:
        """Contract §4: ``{"structures", "limits", "passed"}`` plus the roles and notes."""
        return {
            "structures": [m.to_dict() for m in self.structures],
            "limits": [r.as_dict() for r in self.limits],
            "passed": self.passed,
            "roles": dict(self.roles),
            "reirradiation": None
            if self.reirradiation is None
            else self.reirradiation.as_details(),
            "notes": list(self.notes),
        }


def _metric_params(limits: Sequence[DoseLimit]) -> tuple[list[float], list[float]]:
    d_cc: set[float] = set()
    d_pct: set[float] = set()
    for lim in limits:
        if m := _CC.match(lim.metric):
            d_cc.add(float(m["v"]))
        elif m := _PCT.match(lim.metric):
            d_pct.add(float(m["v"]))
    return sorted(d_cc), sorted(d_pct)


def _role_metrics(m: StructureMetrics, wanted: set[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    if m.max_gy is not None:
        out["dmax"] = m.max_gy
    for key, value in m.d_cc.items():
        if value is not None:
            out[f"d{float(key):g}cc"] = value
    for key, value in m.d_pct.items():
        if value is not None:
            out[f"d{float(key):g}%"] = value
    return {k: v for k, v in out.items() if k in wanted or k == "dmax"}


def reirradiation_for(
    courses: Sequence[Course], assessed_on: date | None, fractions: int, policy: RadiationPolicy
) -> ReirradiationStatus | None:
    if not courses:
        return None
    when = assessed_on or date.max
    if assessed_on is None:
        courses = [Course(c.dose_gy, c.fractions, None, c.cord_max_eqd2_gy) for c in courses]
    return assess_reirradiation(courses, when, policy, PlannedCourse(fractions))


def plan_check(
    dose_path: str | os.PathLike[str],
    struct_path: str | os.PathLike[str],
    fractions: int,
    policy: RadiationPolicy,
    *,
    cord: str | None = None,
    cauda: str | None = None,
    reirradiation: ReirradiationStatus | None = None,
) -> PlanCheck:
    """Check one plan. ``cord`` names the structure for the cord point-max limit (explicit wins)."""
    if fractions < 1:
        raise DosimetryInputError("--fractions: must be at least 1")
    dose, sset = load_plan(dose_path, struct_path)
    names = list(sset.names)
    roles: dict[str, str] = {}
    notes: list[str] = []
    cord_role = policy.cord_pmax_structure
    for role in MATCHED_ROLES:
        explicit = None
        if role == "cauda_equina":
            explicit = cauda
        elif cord is not None and role in (cord_role, "cord"):
            explicit = cord
        found = resolve_structure(names, role, explicit)
        if found is not None:
            roles[role] = found
    if cord is not None and cord_role not in ("cord", "thecal_sac"):
        roles[cord_role] = resolve_structure(names, cord_role, cord) or cord
    if cord_role not in roles:
        notes.append(
            f"No {cord_role.replace('_', ' ')} structure found (pass --cord NAME): the cord "
            "point-max limit cannot be judged."
        )
    try:
        limits = plan_limits(fractions, policy, reirradiation, roles=set(roles) | {cord_role})
    except ValueError as exc:
        raise DosimetryInputError(f"--fractions: {exc}") from exc
    d_cc, d_pct = _metric_params(limits)
    chosen = sorted(set(roles.values()), key=names.index)
    dvhs = compute_dvhs(dose, sset, chosen)
    metrics = [metrics_from_dvh(sd, d_cc, d_pct, ()) for sd in dvhs]
    by_name = {m.name: m for m in metrics}
    wanted = {lim.metric for lim in limits}
    role_values = {
        role: _role_metrics(by_name[name], wanted)
        for role, name in roles.items()
        if name in by_name
    }
    results = evaluate(limits, role_values)
    return PlanCheck(metrics, roles, results, reirradiation, notes, dvhs)


def plot_plan_check(check: PlanCheck, path: str | os.PathLike[str], title: str) -> Path:
    from metspine.dosimetry.plot import LimitMarker, plot_dvh

    markers: list[LimitMarker] = []
    for r in check.limits:
        if r.limit_gy is None:
            continue
        vol = None
        if m := _CC.match(r.metric):
            vol = float(m["v"])
        label = f"{r.structure} {r.metric} ≤ {r.limit_gy:.2f} Gy"
        markers.append(LimitMarker(label, r.limit_gy, vol, r.passed))
    return plot_dvh(check.dvhs, path, limits=markers, title=title)
