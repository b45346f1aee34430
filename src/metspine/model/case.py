"""The case file (contract §1, ``metspine.case/1``): what was observed, in the units it was observed in.

Everything except ``format``, ``id`` and each lesion's ``id``/``levels`` is optional; an absent value is
*unknown* and is never replaced by a default. Impossible values are refused with the field and the reason.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from metspine.model.levels import LEVELS, Level, is_contiguous, level_index

CASE_FORMAT = "metspine.case/1"

EsccGrade = Literal["0", "1a", "1b", "1c", "2", "3"]
ESCC_GRADES: tuple[str, ...] = ("0", "1a", "1b", "1c", "2", "3")
Ambulation = Literal["independent", "with_aid", "non_ambulatory"]
Grade5 = Literal["A", "B", "C", "D", "E"]
Admission = Literal["elective", "urgent", "emergency"]
Visceral = Literal["none", "removable", "unremovable"]
VisceralPattern = Literal["nodular", "disseminated"]
Pain = Literal["mechanical", "occasional_nonmechanical", "none"]
BoneLesion = Literal["lytic", "mixed", "blastic"]
Alignment = Literal["subluxation_translation", "de_novo_deformity", "normal"]
Collapse = Literal["gt50", "lt50", "none_gt50_involved", "none"]
Posterolateral = Literal["bilateral", "unilateral", "none"]

NonNeg = Annotated[float, Field(ge=0)]


class _Strict(BaseModel):
    """Base: unknown keys are refused (a typo must not silently become 'unknown')."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Labs(_Strict):
    """Laboratory values in the units named by each field (US conventional units)."""

    albumin_g_dl: Annotated[float, Field(ge=0.5, le=7.0)] | None = None
    crp_mg_dl: Annotated[float, Field(ge=0, le=100)] | None = None
    ldh_iu_l: Annotated[float, Field(ge=0, le=20000)] | None = None
    platelets_10e3_ul: Annotated[float, Field(ge=0, le=3000)] | None = None
    calcium_mg_dl: Annotated[float, Field(ge=2, le=25)] | None = None
    bilirubin_mg_dl: Annotated[float, Field(ge=0, le=60)] | None = None
    hemoglobin_g_dl: Annotated[float, Field(ge=1, le=25)] | None = None
    wbc_10e3_ul: Annotated[float, Field(ge=0, le=500)] | None = None


class Comorbidities(_Strict):
    """Items of mFI-5 and of the published 9-item MSTFI (spec/prognosis.md §8), each true/false/unknown."""

    diabetes: bool | None = None
    hypertension_treated: bool | None = None
    copd_or_pneumonia: bool | None = None
    chf: bool | None = None
    dependent_functional_status: bool | None = None
    anemia: bool | None = None
    chronic_lung_disease: bool | None = None
    coagulopathy: bool | None = None
    electrolyte_abnormality: bool | None = None
    pulmonary_circulation_disorder: bool | None = None
    renal_failure: bool | None = None
    malnutrition: bool | None = None


class Patient(_Strict):
    age_years: Annotated[int, Field(ge=0, le=120)] | None = None
    kps: Annotated[int, Field(ge=0, le=100)] | None = None
    ecog: Annotated[int, Field(ge=0, le=5)] | None = None
    ambulation: Ambulation | None = None
    frankel: Grade5 | None = None
    asia: Grade5 | None = None
    asa: Annotated[int, Field(ge=1, le=6)] | None = None
    medically_operable: bool | None = None
    clinician_survival_estimate_months: Annotated[float, Field(ge=0, le=600)] | None = None
    labs: Labs = Field(default_factory=Labs)
    comorbidities: Comorbidities = Field(default_factory=Comorbidities)
    admission: Admission | None = None
    anterior_or_combined_approach_planned: bool | None = None
    mri_surveillance_planned: bool | None = None

    @field_validator("kps")
    @classmethod
    def _kps_steps(cls, v: int | None) -> int | None:
        if v is not None and v % 10 != 0:
            raise ValueError("KPS is recorded in steps of 10 (0, 10, …, 100)")
        return v

    @field_validator("labs", "comorbidities", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        return {} if v is None else v


class Cancer(_Strict):
    primary: str | None = None
    hormone_dependent: bool | None = None
    targeted_therapy: bool | None = None
    months_since_diagnosis: NonNeg | None = None
    visceral_metastases: Visceral | None = None
    visceral_pattern: VisceralPattern | None = None
    brain_metastases: bool | None = None
    extraspinal_bone_metastases: Annotated[int, Field(ge=0, le=1000)] | None = None
    vertebral_metastases: Annotated[int, Field(ge=0, le=29)] | None = None
    pathological_fracture: bool | None = None
    prior_chemotherapy: bool | None = None
    prior_systemic_therapy: bool | None = None
    tomita_growth: Literal["slow", "moderate", "rapid"] | None = None
    katagiri_growth: Literal["slow", "moderate", "rapid"] | None = None
    tissue_diagnosis: bool | None = None
    suspected_lymphoma: bool | None = None

    @field_validator("primary")
    @classmethod
    def _known_histology(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from metspine.knowledge.histology import histology_codes

        codes = histology_codes()
        if v not in codes:
            raise ValueError(f"unknown histology code {v!r}; expected one of: {', '.join(codes)}")
        return v

    @model_validator(mode="after")
    def _pattern_needs_visceral(self) -> Cancer:
        # Katagiri grades "visceral or cerebral" metastases, so brain-only disease may carry a pattern.
        if (
            self.visceral_pattern is not None
            and self.visceral_metastases == "none"
            and self.brain_metastases is not True
        ):
            raise ValueError(
                "visceral_pattern is given but there are no visceral or brain metastases"
            )
        return self


class SinsInputs(_Strict):
    """The five SINS items read from the history and imaging; location comes from the levels."""

    pain: Pain | None = None
    bone_lesion: BoneLesion | None = None
    alignment: Alignment | None = None
    collapse: Collapse | None = None
    posterolateral: Posterolateral | None = None


class PriorRadiation(_Strict):
    """One earlier radiation course that covered this segment."""

    dose_gy: Annotated[float, Field(gt=0, le=120)]
    fractions: Annotated[int, Field(ge=1, le=60)]
    end_date: date | None = None
    cord_max_eqd2_gy: Annotated[float, Field(ge=0, le=200)] | None = None


class Lesion(_Strict):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    levels: list[Level] = Field(min_length=1)
    sins: SinsInputs = Field(default_factory=SinsInputs)
    escc: EsccGrade | None = None
    myelopathy: bool | None = None
    functional_radiculopathy: bool | None = None
    mechanical_radiculopathy: bool | None = None
    motor_deficit: bool | None = None
    motor_deficit_onset_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    posterior_wall_involved: bool | None = None
    prior_radiation: list[PriorRadiation] = Field(default_factory=list)
    prior_surgery: bool | None = None
    solitary: bool | None = None
    deformity_needs_in_situ_contouring: bool | None = None

    @field_validator("escc", mode="before")
    @classmethod
    def _escc_is_string(cls, v: Any) -> Any:
        if v is not None and not isinstance(v, str):
            raise ValueError(
                f'ESCC grade must be a quoted string ("0", "1a", "1b", "1c", "2" or "3"), got {v!r}'
            )
        return v

    @field_validator("sins", mode="before")
    @classmethod
    def _sins_none(cls, v: Any) -> Any:
        return {} if v is None else v

    @field_validator("prior_radiation", mode="before")
    @classmethod
    def _prior_none(cls, v: Any) -> Any:
        return [] if v is None else v

    @field_validator("levels")
    @classmethod
    def _levels_contiguous(cls, v: list[str]) -> list[str]:
        if not is_contiguous(v):
            raise ValueError(
                "levels must be distinct and contiguous (one segment or an unbroken range); "
                "enter separate lesions for non-contiguous levels"
            )
        return sorted(v, key=level_index)

    @model_validator(mode="after")
    def _onset_needs_deficit(self) -> Lesion:
        if self.motor_deficit_onset_days is not None and self.motor_deficit is False:
            raise ValueError("motor_deficit_onset_days is given but motor_deficit is false")
        return self


class Steroids(_Strict):
    drug: Annotated[str, Field(min_length=1)]
    dose_mg_day: Annotated[float, Field(gt=0, le=1000)]


class SystemicAgent(_Strict):
    agent: Annotated[str, Field(min_length=1)]
    last_dose: date | None = None
    next_dose: date | None = None


class Events(_Strict):
    last_radiation_end: date | None = None
    planned_surgery: date | None = None
    planned_radiation_start: date | None = None
    last_surgery: date | None = None
    steroids: Steroids | None = None
    systemic_therapy: list[SystemicAgent] = Field(default_factory=list)

    @field_validator("systemic_therapy", mode="before")
    @classmethod
    def _agents_none(cls, v: Any) -> Any:
        return [] if v is None else v


class Case(_Strict):
    """One patient's case as the tumor board sees it (contract §1)."""

    format: Literal["metspine.case/1"]
    id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
    assessed_on: date | None = None
    patient: Patient = Field(default_factory=Patient)
    cancer: Cancer = Field(default_factory=Cancer)
    lesions: list[Lesion] = Field(default_factory=list)
    events: Events = Field(default_factory=Events)

    @field_validator("patient", "cancer", "events", mode="before")
    @classmethod
    def _section_none(cls, v: Any) -> Any:
        return {} if v is None else v

    @field_validator("lesions", mode="before")
    @classmethod
    def _lesions_none(cls, v: Any) -> Any:
        return [] if v is None else v

    @model_validator(mode="after")
    def _cross_checks(self) -> Case:
        ids = [lesion.id for lesion in self.lesions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"lesion ids must be unique; repeated: {', '.join(dupes)}")
        seen: dict[str, str] = {}
        for lesion in self.lesions:
            for lv in lesion.levels:
                if lv in seen:
                    raise ValueError(
                        f"level {lv} appears in lesions {seen[lv]} and {lesion.id}; "
                        "each segment belongs to one lesion"
                    )
                seen[lv] = lesion.id
        n_levels = len(seen)
        vm = self.cancer.vertebral_metastases
        if vm is not None and vm < n_levels:
            raise ValueError(
                f"cancer.vertebral_metastases is {vm} but the lesions cover {n_levels} vertebral "
                "levels; the count must include every involved level"
            )
        if self.assessed_on is not None:
            today = self.assessed_on
            for i, lesion in enumerate(self.lesions):
                for j, course in enumerate(lesion.prior_radiation):
                    if course.end_date is not None and course.end_date > today:
                        raise ValueError(
                            f"lesions[{i}].prior_radiation[{j}].end_date {course.end_date} is after "
                            f"assessed_on {today}; a prior course must have ended"
                        )
            ev = self.events
            if ev.last_radiation_end is not None and ev.last_radiation_end > today:
                raise ValueError("events.last_radiation_end is after assessed_on")
            if ev.last_surgery is not None and ev.last_surgery > today:
                raise ValueError("events.last_surgery is after assessed_on")
            for k, agent in enumerate(ev.systemic_therapy):
                if agent.last_dose is not None and agent.last_dose > today:
                    raise ValueError(
                        f"events.systemic_therapy[{k}].last_dose is after assessed_on; "
                        "record future doses as next_dose"
                    )
        return self


__all__ = [
    "CASE_FORMAT",
    "ESCC_GRADES",
    "LEVELS",
    "Cancer",
    "Case",
    "Comorbidities",
    "EsccGrade",
    "Events",
    "Labs",
    "Lesion",
    "Patient",
    "PriorRadiation",
    "SinsInputs",
    "Steroids",
    "SystemicAgent",
]
