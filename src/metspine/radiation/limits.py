"""Point and volume dose limits for spine SBRT, and their check against DVH metrics.

Sources (knowledge/radiation_limits.toml): Sahgal 2013 thecal-sac Pmax (sahgal2013_cord_tolerance),
HyTEC 2021 cord Dmax (hytec2021_spine_sbrt), AAPM TG-101 (tg101; erratum tg101_erratum2012), and
for a
re-irradiated segment the Sahgal 2012 budget (sahgal2012_reirradiation).

Structure roles: ``cord``, ``cord_prv``, ``thecal_sac``, ``cord_partial`` (the cord 5-6 mm above and
below the treated level), ``cauda_equina``, ``sacral_plexus``, ``esophagus``.
Metric names map onto DVH metrics: ``dmax`` (point maximum), ``d<v>cc`` (minimum dose to the hottest
v cc, e.g. ``d0.035cc``, ``d0.35cc``, ``d5cc``) and ``d<p>%`` (minimum dose to the hottest p %).
All limits are total physical dose over the course, in Gy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from metspine.radiation._data import LimitRow, limits_table
from metspine.radiation._types import Reason, floor2, require_dose, require_fractions
from metspine.radiation.policy import RadiationPolicy
from metspine.radiation.reirradiation import RULE_REFS, ReirradiationStatus

STRUCTURE_ROLES = frozenset(
    {"cord", "cord_prv", "thecal_sac", "cord_partial", "cauda_equina", "sacral_plexus", "esophagus"}
)
_METRIC = re.compile(r"^(dmax|d\d+(\.\d+)?(cc|%))$")
_CC = re.compile(r"^d(\d+(?:\.\d+)?)cc$")
_PCT = re.compile(r"^d(\d+(?:\.\d+)?)%$")
_STRUCTURE_WORDS = {
    "cord": "spinal cord",
    "cord_prv": "cord PRV",
    "thecal_sac": "thecal sac",
    "cord_partial": "cord 5-6 mm above and below the treated level",
    "cauda_equina": "cauda equina",
    "sacral_plexus": "sacral plexus",
    "esophagus": "oesophagus",
}
_SET_WORDS = {"sahgal2013": "Sahgal 2013", "hytec2021": "HyTEC 2021", "tg101": "AAPM TG-101"}
_TOLERANCE_GY = 1e-9  # floating-point slack only; a value equal to the limit passes


def normalise_metric(name: str) -> str:
    """Lower-case a metric name and check its form (``dmax``, ``d0.35cc``, ``d10%``)."""
    metric = name.strip().lower().replace(" ", "")
    if not _METRIC.match(metric):
        raise ValueError(f"metric: {name!r} is not dmax, d<volume>cc or d<percent>%")
    return metric


@dataclass(frozen=True, slots=True)
class DoseLimit:
    """One limit to check: ``metric`` of ``structure`` must not exceed ``limit_gy`` (None: "
    "unknown)."""

    structure: str
    metric: str
    fractions: int
    limit_gy: float | None
    endpoint: str
    source: str
    limit_set: str
    derived_on: str
    verified: bool
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class LimitResult:
    """A limit checked against a plan's metric. ``passed`` is None when it could not be checked."""

    structure: str
    metric: str
    limit_gy: float | None
    value_gy: float | None
    passed: bool | None
    margin_gy: float | None
    source: str
    reasons: tuple[Reason, ...]

    def as_dict(self) -> dict[str, object]:
        """The plan-check row of contract §4."""
        return {
            "structure": self.structure,
            "metric": self.metric,
            "limit_gy": self.limit_gy,
            "value_gy": self.value_gy,
            "passed": self.passed,
            "margin_gy": None if self.margin_gy is None else round(self.margin_gy, 3),
            "source": self.source,
        }


def limit_rows(limit_set: str | None = None) -> tuple[LimitRow, ...]:
    """The stored limit rows, all or those of one set (``sahgal2013``, ``hytec2021``, ``tg101``)."""
    rows = limits_table().rows
    return rows if limit_set is None else tuple(r for r in rows if r.limit_set == limit_set)


def _row_refs(row: LimitRow) -> tuple[str, ...]:
    refs = limits_table().limit_sets[row.limit_set].references
    return (row.source, *(r for r in refs if r != row.source))


def _unverified_reason(row: LimitRow) -> tuple[Reason, ...]:
    if row.verified:
        return ()
    return (
        Reason(
            "This cell of the TG-101 table could not be corroborated against the report itself "
            "(spec safety-timing 2.1); confirm it against TG-101 Table III before relying on it.",
            _row_refs(row),
        ),
    )


def cord_pmax_limit(fractions: int, policy: RadiationPolicy) -> DoseLimit:
    """The de novo cord point-max limit for ``fractions`` fractions, per ``policy.cord_limit_set``.

    Raises ValueError when the set has no limit for that fraction count (any set: 0 or more than 5
    fractions; TG-101: 2 or 4 fractions).
    """
    n = require_fractions(fractions)
    chosen = policy.cord_limit_set
    point_metric = "d0.035cc" if chosen == "tg101" else "dmax"
    rows = [r for r in limit_rows(chosen) if r.structure in ("cord", "thecal_sac")]
    rows = [r for r in rows if r.metric == point_metric]
    match = [r for r in rows if r.fractions == n]
    if not match:
        covered = ", ".join(str(r.fractions) for r in sorted(rows, key=lambda r: r.fractions))
        raise ValueError(
            f"fractions: {_SET_WORDS[chosen]} gives no cord point-max limit for {n} fractions "
            f"(it covers {covered}); SBRT cord limits exist for 1-5 fractions only"
        )
    row = match[0]
    limit = row.limit_gy
    reasons: list[Reason] = []
    if row.limit_upper_gy is not None and policy.hytec_single_fraction_bound == "upper":
        limit = row.limit_upper_gy
    if row.limit_upper_gy is not None:
        reasons.append(
            Reason(
                f"{_SET_WORDS[chosen]} gives {row.limit_gy:g}-{row.limit_upper_gy:g} Gy for a "
                f"single "
                f"fraction; the policy uses the {policy.hytec_single_fraction_bound} bound, "
                f"{limit:g} Gy.",
                _row_refs(row),
            )
        )
    structure = policy.cord_pmax_structure
    metric = policy.cord_pmax_metric if chosen != "tg101" else point_metric
    reasons.insert(
        0,
        Reason(
            f"Cord point-max limit for {n} fraction{'s' if n > 1 else ''}: {limit:g} Gy "
            f"({_SET_WORDS[chosen]}; {row.endpoint}), checked on the "
            f"{_STRUCTURE_WORDS[structure]} as {metric}. Sahgal 2013 derived these limits on "
            "thecal-sac contours as the surrogate for the cord.",
            (*_row_refs(row), "sahgal2013_cord_tolerance"),
        ),
    )
    if n in (2, 4) and policy.include_tg101_limits:
        reasons.append(
            Reason(
                f"TG-101 has no limits for {n} fractions, so cauda equina, sacral plexus and "
                "oesophagus are not checked by this engine for this fractionation.",
                ("tg101",),
            )
        )
    reasons.extend(_unverified_reason(row))
    return DoseLimit(
        structure=structure,
        metric=metric,
        fractions=n,
        limit_gy=limit,
        endpoint=row.endpoint,
        source=row.source,
        limit_set=chosen,
        derived_on=row.structure,
        verified=row.verified,
        reasons=tuple(reasons),
    )


def _reirradiation_limit(
    fractions: int, policy: RadiationPolicy, status: ReirradiationStatus, de_novo: DoseLimit
) -> DoseLimit:
    exact = status.cord_pmax_limit_gy(fractions)
    # Rounded down to 0.01 Gy: the limit printed is the limit checked, and never above the exact one.
    value = None if exact is None else floor2(exact)
    if value is None:
        reasons = (
            Reason(
                "Re-irradiated segment: the cord limit is the remaining Sahgal 2012 budget, which "
                "cannot be fixed because " + ", ".join(status.missing) + " is missing. The plan "
                "cannot be passed on the cord until it is known.",
                RULE_REFS,
            ),
        )
    else:
        reasons = (
            Reason(
                f"Re-irradiated segment: the remaining budget of "
                f"{status.remaining_eqd2_gy:.2f} Gy EQD2 (alpha/beta 2 Gy) allows a thecal-sac "
                f"Pmax "
                f"of {value:.2f} Gy in {fractions} fractions; this is stricter than the de "
                f"novo limit of {de_novo.limit_gy:g} Gy and replaces it.",
                RULE_REFS,
            ),
        )
    return DoseLimit(
        structure=policy.cord_pmax_structure,
        metric=policy.cord_pmax_metric,
        fractions=fractions,
        limit_gy=value,
        endpoint="radiation myelopathy after re-irradiation (Sahgal 2012 rules)",
        source="sahgal2012_reirradiation",
        limit_set="sahgal2012",
        derived_on="thecal_sac",
        verified=True,
        reasons=reasons,
    )


def plan_limits(
    fractions: int,
    policy: RadiationPolicy,
    reirradiation: ReirradiationStatus | None = None,
    roles: Collection[str] | None = None,
) -> list[DoseLimit]:
    """The limits a spine SBRT plan in ``fractions`` fractions is checked against.

    - The cord point-max limit of ``policy.cord_limit_set`` (:func:`cord_pmax_limit`).
    - For a re-irradiated segment (``reirradiation`` given) the remaining Sahgal 2012 budget
    converted
      to physical Pmax for this fractionation; the stricter of it and the de novo limit applies. If
      the budget is unknown, both are returned and the re-irradiation limit is unknown (never a
      pass).
    - With ``policy.include_tg101_limits``, the TG-101 rows for this fraction count except its cord
      point max when another set gives the cord limit (TG-101's is looser at 1, 3 and 5 fractions).
    - ``roles`` keeps only limits on those structure roles (e.g. the structures contoured).
    """
    cord = cord_pmax_limit(fractions, policy)
    limits: list[DoseLimit] = []
    if reirradiation is None:
        limits.append(cord)
    else:
        reirr = _reirradiation_limit(fractions, policy, reirradiation, cord)
        if reirr.limit_gy is None:
            limits.extend((cord, reirr))
        elif cord.limit_gy is not None and reirr.limit_gy < cord.limit_gy:
            limits.append(reirr)
        else:
            note = Reason(
                "Re-irradiated segment: the remaining Sahgal 2012 budget allows "
                f"{floor2(reirr.limit_gy):.2f} Gy in {fractions} fractions, not stricter than the "
                f"de "
                "novo limit, which therefore applies.",
                RULE_REFS,
            )
            limits.append(
                DoseLimit(
                    cord.structure,
                    cord.metric,
                    cord.fractions,
                    cord.limit_gy,
                    cord.endpoint,
                    cord.source,
                    cord.limit_set,
                    cord.derived_on,
                    cord.verified,
                    (*cord.reasons, note),
                )
            )
    if policy.include_tg101_limits:
        for row in limit_rows("tg101"):
            if row.fractions != fractions:
                continue
            if (
                policy.cord_limit_set == "tg101"
                and row.structure == "cord"
                and row.metric == "d0.035cc"
            ):
                continue  # already the cord point-max limit
            if row.structure == "cord" and row.metric == "d0.035cc":
                continue  # looser than the HyTEC/Sahgal cord point max at 1, 3 and 5 fractions
            text = (
                f"TG-101, {fractions} fraction{'s' if fractions > 1 else ''}: "
                f"{_STRUCTURE_WORDS[row.structure]} {row.metric} <= {row.limit_gy:g} Gy "
                f"({row.endpoint})."
            )
            limits.append(
                DoseLimit(
                    structure=row.structure,
                    metric=row.metric,
                    fractions=row.fractions,
                    limit_gy=row.limit_gy,
                    endpoint=row.endpoint,
                    source=row.source,
                    limit_set=row.limit_set,
                    derived_on=row.structure,
                    verified=row.verified,
                    reasons=(Reason(text, _row_refs(row)), *_unverified_reason(row)),
                )
            )
    if roles is not None:
        wanted = set(roles)
        unknown = wanted - STRUCTURE_ROLES
        if unknown:
            raise ValueError(f"roles: unknown structure roles {sorted(unknown)}")
        limits = [lim for lim in limits if lim.structure in wanted]
    return limits


def _metric_value(values: Mapping[str, float], metric: str) -> float | None:
    for key, value in values.items():
        if normalise_metric(key) == metric:
            return require_dose(value, f"metrics.{key}")
    return None


def _is_volume_metric(metric: str) -> bool:
    return bool(_CC.match(metric) or _PCT.match(metric))


def evaluate(
    limits: list[DoseLimit] | tuple[DoseLimit, ...],
    metrics: Mapping[str, Mapping[str, float]],
) -> list[LimitResult]:
    """Check each limit against ``metrics`` (structure role -> metric name -> Gy).

    A value equal to the limit passes. A missing structure or metric gives ``passed=None`` with the
    reason, never a pass. One exception, because it is sound: a missing D at a volume is bounded by
    the
    point maximum, so when ``dmax`` is given and is within the limit the volume limit passes too.
    """
    results: list[LimitResult] = []
    for limit in limits:
        refs = (limit.source,)
        base = limit.reasons
        if limit.limit_gy is None:
            results.append(
                LimitResult(
                    limit.structure,
                    limit.metric,
                    None,
                    None,
                    None,
                    None,
                    limit.source,
                    (*base, Reason("The limit is unknown, so it is not passed.", refs)),
                )
            )
            continue
        structure_metrics = metrics.get(limit.structure)
        if structure_metrics is None:
            text = (
                f"No dose metrics for the {_STRUCTURE_WORDS.get(limit.structure, limit.structure)} "
                "(not contoured or not supplied); the limit is not checked."
            )
            results.append(
                LimitResult(
                    limit.structure,
                    limit.metric,
                    limit.limit_gy,
                    None,
                    None,
                    None,
                    limit.source,
                    (*base, Reason(text, refs)),
                )
            )
            continue
        value = _metric_value(structure_metrics, limit.metric)
        surrogate = False
        if value is None and _is_volume_metric(limit.metric):
            dmax = _metric_value(structure_metrics, "dmax")
            if dmax is not None and dmax <= limit.limit_gy + _TOLERANCE_GY:
                value, surrogate = dmax, True
        if value is None:
            text = (
                f"{limit.metric} of the {limit.structure} was not supplied; "
                "the limit is not checked."
            )
            results.append(
                LimitResult(
                    limit.structure,
                    limit.metric,
                    limit.limit_gy,
                    None,
                    None,
                    None,
                    limit.source,
                    (*base, Reason(text, refs)),
                )
            )
            continue
        if not math.isfinite(value):
            raise ValueError(f"metrics.{limit.structure}.{limit.metric}: not a finite dose")
        passed = value <= limit.limit_gy + _TOLERANCE_GY
        margin = limit.limit_gy - value
        verdict = "within" if passed else "over"
        text = (
            f"{limit.structure} {limit.metric} {value:g} Gy is {verdict} the {limit.limit_gy:g} Gy "
            f"limit (margin {margin:+.2f} Gy)."
        )
        if surrogate:
            text = (
                f"{limit.metric} was not supplied; the point maximum {value:g} Gy bounds it from "
                f"above "
                f"and is within the {limit.limit_gy:g} Gy limit, so the limit is met."
            )
        results.append(
            LimitResult(
                limit.structure,
                limit.metric,
                limit.limit_gy,
                value,
                passed,
                margin,
                limit.source,
                (*base, Reason(text, refs)),
            )
        )
    return results
