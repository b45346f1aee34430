"""Policy: the choices the literature leaves open ([U] items), each with a cited default.

An institution supplies its own TOML file (``metspine assess --policy FILE``); every Assessment records
the policy name and the SHA-256 of its canonical JSON, so two runs can be told apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable
from typing import Annotated, Any, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from metspine.knowledge.histology import Radiosensitivity, catalogue
from metspine.radiation.policy import RadiationPolicy

T = TypeVar("T")


def _disputed_radiosensitivity() -> dict[str, Radiosensitivity]:
    """Defaults for histologies whose cEBRT radiosensitivity the sources dispute (clinical.md §4.3)."""
    return {
        h.code: h.radiosensitivity
        for h in catalogue().values()
        if h.radiosensitivity_disputed and h.radiosensitivity is not None
    }


class SurgeryPolicy(BaseModel):
    """Surgical choices the sources leave open ([U] in spec clinical §4.2, §5, §6)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    long_survival_months: Annotated[float, Field(ge=3, le=120)] = Field(
        12.0,
        description=(
            "Expected survival counted as 'long' for en bloc resection and for preferring "
            "carbon-fibre PEEK implants. The sheets give no number (clinical §5, §6 [U]); default "
            "12 months, the revised Tokuhashi band (12-15 points, ≥12 months) for which excisional "
            "surgery was proposed (tokuhashi2005; tomita2001 likewise reserves wide excision for "
            "the best-prognosis band)."
        ),
    )
    en_bloc_allow_removable_visceral: bool = Field(
        True,
        description=(
            "Whether removable (treatable) visceral metastases still allow en bloc resection of a "
            "solitary spinal lesion. Tomita scores treatable visceral disease lower than "
            "untreatable (tomita2001); unremovable visceral disease always excludes it [U]."
        ),
    )


class SafetyPolicy(BaseModel):
    """Safety windows and regimens the sources leave open ([U] in spec safety-timing §1, §3, §4)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rt_surgery_critical_below_days: Annotated[int, Field(ge=0, le=60)] = Field(
        7,
        description=(
            "Radiation and surgery closer than this many days, in either order, is critical: "
            "surgery within 7 days of RT raised wound complications (itshayek2010_timing); ≥1 week "
            "either order for SRS (itshayek2014_srs_timing). Spec clinical §8.2 [U]."
        ),
    )
    rt_surgery_caution_below_days: Annotated[int, Field(ge=0, le=90)] = Field(
        14,
        description=(
            "Below this many days (and at or above the critical window) is a caution; at or above "
            "it is acceptable. Surveyed experts recommend ≥2 weeks either way "
            "(lee2018_rt_surgery_survey). Spec clinical §8.2 [U]."
        ),
    )
    postop_rt_caution_below_days: Annotated[int, Field(ge=0, le=90)] = Field(
        14,
        description=(
            "Caution window for radiotherapy AFTER surgery. Default the same 14 days "
            "(lee2018_rt_surgery_survey); 21 is the stricter profile for conventional post-operative "
            "RT (jarvers2021_wound; safety-timing §4 [U])."
        ),
    )
    antiangiogenic_hold: Literal["stricter", "label"] = Field(
        "stricter",
        description=(
            "Which hold applies when a label and a guideline differ (bevacizumab: label 28 days, "
            "bevacizumab_uspi; guideline 6 weeks, gordon2009_bevacizumab). 'stricter' (default, "
            "safety-timing §1.1 [U]): below the label is critical, between label and guideline a "
            "warning; 'label': only the label counts."
        ),
    )
    chemotherapy_hold_days: Annotated[int, Field(ge=0, le=60)] = Field(
        21,
        description=(
            "Cytotoxic chemotherapy this close before elective spine surgery is flagged: "
            "chemotherapy within 3 weeks was linked to wound revision (jarvers2021_wound; "
            "safety-timing §1.4 [U])."
        ),
    )
    sbrt_antiangiogenic_min_days: Annotated[int, Field(ge=0, le=60)] = Field(
        7,
        description=(
            "Days off a VEGF/VEGFR inhibitor before SBRT when the agent has no specific interval: "
            "OligoCare consensus ≥1 week (kroeze2023_oligocare; safety-timing §1.5 [U])."
        ),
    )
    steroid_dexamethasone_mg_day: Annotated[float, Field(gt=0, le=100)] = Field(
        16.0,
        description=(
            "Dexamethasone for cord compression with neurological signs: 16 mg at once, then "
            "16 mg/day (nice_ng234 rec 1.8.1); higher recorded doses are flagged."
        ),
    )
    steroid_bolus: Literal["none", "iv_10mg"] = Field(
        "none",
        description=(
            "Whether to advise a 10 mg IV bolus before the daily dose (common US practice; "
            "vecht1989_dexamethasone). Default none, as NICE NG234 (nice_ng234; safety-timing §3 [U])."
        ),
    )
    steroid_taper: Literal["5_7_days", "about_2_weeks"] = Field(
        "5_7_days",
        description=(
            "Taper length after surgery or the start of radiotherapy: 5-7 days (NICE CG75 wording, "
            "nice_ng234 lineage) or about 2 weeks (US practice). Safety-timing §3 [U]."
        ),
    )
    tissue_before_steroids_prompt: bool = Field(
        True,
        description=(
            "Prompt to discuss tissue diagnosis first when lymphoma is suspected and the patient "
            "has no neurological deficit; never a block when there is a deficit (nice_ng234; "
            "safety-timing §3 [U])."
        ),
    )
    denosumab_calcium_check: bool = Field(
        True,
        description=(
            "Remind to check calcium around surgery in patients on denosumab "
            "(denosumab_xgeva_label; safety-timing §1.2 [U])."
        ),
    )
    vte_reminder: bool = Field(
        True,
        description=(
            "Remind surgical candidates of VTE prophylaxis per institutional protocol "
            "(icm_vte_spine2022; clinical §8.4 [U])."
        ),
    )
    readmission_reminder: bool = Field(
        True,
        description=(
            "Remind surgical candidates of the 3-month readmission risk "
            "(chanbour2023_readmission; clinical §8.4)."
        ),
    )


class Policy(BaseModel):
    """Institutional choices; every field names the source of its default in its description."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "default"

    escc_1c: Literal["by_histology", "low", "high"] = Field(
        "by_histology",
        description=(
            "How ESCC 1c (cord abutted, not compressed) enters NOMS. 'by_histology': low-grade for "
            "radiosensitive tumours; for radioresistant tumours SBRT if cord constraints can be met, "
            "else separation surgery (bilsky2010_escc, laufer2013_noms; spec clinical §3.2 [U])."
        ),
    )
    escc_1c_mdt_review: bool = Field(
        True, description="Raise mdt_review for every ESCC 1c lesion (spec clinical §3.2, §4.2 R9)."
    )
    radiosensitivity: dict[str, Radiosensitivity] = Field(
        default_factory=_disputed_radiosensitivity,
        description=(
            "cEBRT radiosensitivity for histologies the sources dispute (breast, prostate, NSCLC, "
            "thyroid, SCLC, neuroendocrine, …). Defaults: NSCLC and thyroid radioresistant as in the "
            "NOMS papers (laufer2013_noms); the rest sensitive as in the SC.24 stratification "
            "(sc24_sahgal2021)."
        ),
    )
    open_surgery_min_survival_months: Annotated[float, Field(ge=0, le=60)] = Field(
        3.0,
        description=(
            "Expected survival below which open surgery is not offered. Patchell's trial required "
            "≥3 months (patchell2005); NOMS sets no number (spec clinical §4.2 [U])."
        ),
    )
    kps_ecog_crosswalk: Literal["range", "buccheri", "none"] = Field(
        "range",
        description=(
            "How a score that needs KPS reads a recorded ECOG (and vice versa). 'range': ECOG 0 = KPS "
            "90-100, 1 = 70-80, 2 = 50-60, 3 = 30-40, 4 = 10-20 (oken1982_ecog; prognosis §8.1 mapping A), "
            "so a straddled band gives a range; 'buccheri': point values 90/80/60/40/20 "
            "(buccheri1996_kps_ecog); 'none': never convert."
        ),
    )
    nesms_cap: Annotated[int, Field(ge=3, le=4)] = Field(
        3,
        description=(
            "NESMS ceiling: min(3, 2·[mBauer high] + ambulation + albumin), the only reading consistent "
            "with the published 0-3 range (ghori2015_nesms, schoenfeld2021_nesms; [U])."
        ),
    )
    nesms_albumin_normal_g_dl: Annotated[float, Field(ge=2.5, le=4.5)] = Field(
        3.5, description="Normal serum albumin for NESMS (ghori2015_nesms; threshold [S/U])."
    )
    nesms_mbauer_high_min: Annotated[int, Field(ge=2, le=4)] = Field(
        3,
        description="Modified Bauer total that counts as 'high' in NESMS (ghori2015_nesms; [U]).",
    )
    nesms_ambulation: Literal["independent_only", "independent_or_with_aid"] = Field(
        "independent_only",
        description=(
            "Which ambulation counts as 'intact' in NESMS: Ghori wrote intact/independent "
            "ambulation (ghori2015_nesms); whether a walker counts is [U]."
        ),
    )
    asia_as_frankel_proxy: bool = Field(
        False,
        description=(
            "Let a recorded ASIA grade stand in for a missing Frankel grade in the revised Tokuhashi "
            "palsy item. The scales differ (kirshblum2011_isncsci, frankel1969); off by default, and "
            "when on the proxy is named in the score's components."
        ),
    )
    mfi5_frail_min: Annotated[int, Field(ge=1, le=5)] = Field(
        2,
        description="mFI-5 total from which a patient is called frail (subramaniam2018_mfi5; [S]).",
    )
    sins_consider_stabilization_min: Annotated[int, Field(ge=7, le=13)] = Field(
        10,
        description=(
            "Within SINS 7-12, the total from which stabilization before radiotherapy is favoured: the "
            "odds of surgery were 6.88× higher for 10-12 than 7-9 (sins_intermediate_meta2024; [U])."
        ),
    )
    surgery_max_ecog: Annotated[int, Field(ge=1, le=4)] = Field(
        2,
        description="Highest ECOG at which surgery is considered (ECOG < 3: cofano2020_nse).",
    )
    surgery_max_asa: Annotated[int, Field(ge=2, le=5)] = Field(
        3, description="Highest ASA class at which surgery is considered (ASA < 4: cofano2020_nse)."
    )
    frailty_makes_surgery_uncertain: bool = Field(
        True,
        description=(
            "A frail mFI-5 or a severe MSTFI, with no other reason against surgery, makes surgical "
            "tolerance 'uncertain' for the board rather than 'can tolerate' (subramaniam2018_mfi5, "
            "delagarzaramos2016_mstfi; [U])."
        ),
    )
    lumbar_escc_low_confidence: bool = Field(
        True,
        description=(
            "Say that ESCC was validated on cervical and thoracic cases only when a lesion lies below "
            "the conus (bilsky2010_escc; [U])."
        ),
    )

    radiation: RadiationPolicy = Field(
        default_factory=RadiationPolicy,
        description="Radiation choices: cord limit set, re-irradiation rules, LQ threshold, regimens "
        "(see metspine.radiation.policy for each source).",
    )

    surgery: SurgeryPolicy = Field(
        default_factory=SurgeryPolicy,
        description="Surgical choices: survival horizon for en bloc and implants (see SurgeryPolicy).",
    )
    safety: SafetyPolicy = Field(
        default_factory=SafetyPolicy,
        description="Safety windows, drug holds and steroid regimen (see SafetyPolicy).",
    )

    _sha256: str = PrivateAttr(default="")
    _memo: dict[Hashable, Any] = PrivateAttr(default_factory=dict)

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Derived values that depend only on this (immutable) policy and ``key``, computed once.

        The engine uses it for results that are pure functions of the policy and a few hashable
        inputs (e.g. a regimen choice); it changes speed, never a result.
        """
        # Read the private dict directly: pydantic's __getattr__ for private attributes is slow.
        memo: dict[Hashable, Any] = self.__pydantic_private__["_memo"]  # type: ignore[index]
        try:
            return cast(T, memo[key])
        except KeyError:
            value = compute()
            if len(memo) < 16384:
                memo[key] = value
            return value

    def sha256(self) -> str:
        """SHA-256 of the canonical JSON (computed once; the policy is immutable)."""
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        digest: str = private["_sha256"]
        if not digest:
            canonical = json.dumps(
                self.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
            )
            digest = private["_sha256"] = hashlib.sha256(canonical.encode()).hexdigest()
        return digest


DEFAULT_POLICY_NAME = "default"
