"""RadiationPolicy: the radiation choices the literature leaves open, each with a cited default.

Embedded by the main policy as ``Policy.radiation``. Numeric defaults are read from
``knowledge/radiation_limits.toml`` (where their reference keys sit next to them); every field's
description names its source, so the policy file an institution supplies can be checked line by
line.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from metspine.radiation._data import limits_table, regimens_table

CordLimitSet = Literal["hytec2021", "sahgal2013", "tg101"]
CordStructure = Literal["thecal_sac", "cord_prv", "cord"]
PointMaxMetric = Literal["dmax", "d0.03cc", "d0.035cc"]


def _reirr(name: str) -> float:
    return limits_table().reirradiation[name].value


def _default_lq_threshold() -> float:
    return limits_table().lq_reliability.value


def _default_cumulative() -> float:
    return _reirr("cumulative_limit_eqd2_gy")


def _default_sbrt_course() -> float:
    return _reirr("sbrt_course_limit_eqd2_gy")


def _default_share() -> float:
    return _reirr("max_sbrt_share")


def _default_interval() -> int:
    return int(_reirr("min_interval_months"))


class RadiationPolicy(BaseModel):
    """Radiation settings of the policy. Defaults follow the sources named in each description."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cord_limit_set: CordLimitSet = Field(
        default="hytec2021",
        description=(
            "Which published set gives the de novo cord point-max limit. Default HyTEC 2021 "
            "(hytec2021_spine_sbrt), which restates Sahgal 2013 (sahgal2013_cord_tolerance) for "
            "1-5 "
            "fractions; 'tg101' (AAPM TG-101, tg101) is looser and has no 2- or 4-fraction limits."
        ),
    )
    hytec_single_fraction_bound: Literal["lower", "upper"] = Field(
        default="lower",
        description=(
            "HyTEC gives a single-fraction cord Dmax of 12.4-14.0 Gy (1-5 % risk). 'lower' uses "
            "12.4 Gy, "
            "the Sahgal 2013 <= 5 % value (sahgal2013_cord_tolerance); 'upper' uses 14.0 Gy "
            "(hytec2021_spine_sbrt)."
        ),
    )
    cord_pmax_structure: CordStructure = Field(
        default="thecal_sac",
        description=(
            "The structure the cord point-max limit (de novo and re-irradiation) is checked on. "
            "Default "
            "the thecal sac, on which Sahgal 2012 and 2013 derived the limits "
            "(sahgal2012_reirradiation, sahgal2013_cord_tolerance); the true cord or a cord PRV "
            "are "
            "also used in practice (redmond2017_postop_survey)."
        ),
    )
    cord_pmax_metric: PointMaxMetric = Field(
        default="dmax",
        description=(
            "Which DVH metric stands for the point maximum (Pmax) in the cord limit. Default "
            "'dmax', "
            "the point maximum of Sahgal 2013 (sahgal2013_cord_tolerance); TG-101 (tg101) defines "
            "a "
            "point as <= 0.035 cc."
        ),
    )
    include_tg101_limits: bool = Field(
        default=True,
        description=(
            "Add the AAPM TG-101 (tg101) volume limits for cord, cord subvolume, cauda equina, "
            "sacral "
            "plexus and oesophagus (1, 3 and 5 fractions) to a plan check."
        ),
    )
    lq_max_reliable_dose_per_fraction_gy: float = Field(
        default_factory=_default_lq_threshold,
        gt=0,
        description=(
            "Dose per fraction above which an LQ conversion is flagged as extrapolation. Default "
            "10 Gy: "
            "LQ is reasonably validated to about 10 Gy per fraction (brenner2008_lq); the opposing "
            "view "
            "is kirkpatrick2008_lq; radiation.md 1.4 says to flag above about 8-10 Gy."
        ),
    )
    reirradiation_cumulative_limit_eqd2_gy: float = Field(
        default_factory=_default_cumulative,
        gt=0,
        description=(
            "Cumulative thecal-sac Pmax EQD2 (alpha/beta 2 Gy) over all courses. Default 70 Gy, "
            "'approximately' in Sahgal 2012 (sahgal2012_reirradiation), restated by HyTEC "
            "(hytec2021_spine_sbrt)."
        ),
    )
    reirradiation_sbrt_course_limit_eqd2_gy: float = Field(
        default_factory=_default_sbrt_course,
        gt=0,
        description=(
            "Thecal-sac Pmax EQD2 (alpha/beta 2 Gy) of the re-irradiation SBRT course. Default 25 "
            "Gy, "
            "the upper end of Sahgal 2012's 20-25 Gy band (sahgal2012_reirradiation) and HyTEC's "
            "value (hytec2021_spine_sbrt)."
        ),
    )
    reirradiation_max_sbrt_share: float = Field(
        default_factory=_default_share,
        gt=0,
        lt=1,
        description=(
            "Largest share of the cumulative Pmax EQD2 the SBRT course may contribute. Default "
            "0.5, "
            "'approximately 50 %' in Sahgal 2012 (sahgal2012_reirradiation), 0.5 in HyTEC "
            "(hytec2021_spine_sbrt)."
        ),
    )
    reirradiation_min_interval_months: int = Field(
        default_factory=_default_interval,
        ge=0,
        description=(
            "Minimum whole calendar months from the end of the previous course to re-irradiation. "
            "Default 5 (sahgal2012_reirradiation, hytec2021_spine_sbrt)."
        ),
    )
    prior_cord_dose_when_unrecorded: Literal["prescription", "unknown"] = Field(
        default="prescription",
        description=(
            "How a prior course's cord Pmax is taken when its cord EQD2 is not recorded. "
            "'prescription' converts the prescribed dose and fractions to EQD2 (alpha/beta 2 Gy), "
            "the "
            "rule of radiation.md 2.4 step 1 and its worked example, and says so in the reasons; "
            "it "
            "under-counts if the cord received a hot spot above the prescription. 'unknown' "
            "refuses "
            "to estimate: the budget is reported incomplete with the missing field named "
            "(sahgal2012_reirradiation used thecal-sac doses)."
        ),
    )
    preferred_regimens: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Institutional choice of preferred regimen per scenario (scenario code -> regimen id "
            "of "
            "regimens.toml); each must be one of that scenario's listed options. Default: the "
            "radiation.md 3.2 mapping as stored in regimens.toml."
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> RadiationPolicy:
        if (
            self.reirradiation_sbrt_course_limit_eqd2_gy
            > self.reirradiation_cumulative_limit_eqd2_gy
        ):
            raise ValueError(
                "reirradiation_sbrt_course_limit_eqd2_gy: cannot exceed "
                "reirradiation_cumulative_limit_eqd2_gy"
            )
        table = regimens_table()
        for scenario, regimen_id in self.preferred_regimens.items():
            row = table.scenarios.get(scenario)
            if row is None:
                raise ValueError(f"preferred_regimens: unknown scenario {scenario!r}")
            if regimen_id not in {o.regimen for o in row.options}:
                raise ValueError(
                    f"preferred_regimens.{scenario}: {regimen_id!r} is not an option of that "
                    f"scenario"
                )
        return self
