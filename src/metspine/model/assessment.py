"""The assessment (contract §2, ``metspine.assessment/1``): immutable, every item with reasons and sources."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ASSESSMENT_FORMAT = "metspine.assessment/1"

Status = Literal["complete", "incomplete", "not_applicable"]
Direction = Literal["higher_better", "higher_worse"]
Strength = Literal["recommended", "consider", "avoid"]
Severity = Literal["info", "warning", "critical"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Component(_Frozen):
    """One item of a score: what was read, and the points it gave (None when the input is unknown)."""

    item: str
    input: str
    points: int | float | None
    note: str | None = None


class ScoreResult(_Frozen):
    """A published instrument's result for this case (or lesion).

    When an input is missing the score is ``incomplete``: ``value`` is None, ``range`` holds the totals
    the known inputs allow, and ``band`` is given only when every completion falls in the same band.
    """

    status: Status
    value: int | float | None
    range: tuple[int | float, int | float] | None = None
    band: str | None = None
    possible_bands: list[str] = Field(default_factory=list)
    direction: Direction
    components: list[Component] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    version: str
    name: str = ""
    notes: list[str] = Field(default_factory=list)
    interpretation: str | None = None


class Reason(_Frozen):
    """One sentence a clinician can check, with the sources behind it."""

    text: str
    references: list[str] = Field(default_factory=list)


class Finding(_Frozen):
    """One NOMS pillar for one lesion."""

    status: str
    summary: str
    reasons: list[Reason] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)


class Recommendation(_Frozen):
    code: str
    strength: Strength
    summary: str
    reasons: list[Reason] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    alternatives: list[str] = Field(default_factory=list)
    would_change: list[str] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=list)


class EsccSummary(_Frozen):
    grade: str | None
    group: Literal["low", "borderline", "high"] | None
    treated_as: Literal["low", "high"] | None = None
    note: str | None = None


class Noms(_Frozen):
    neurologic: Finding
    oncologic: Finding
    mechanical: Finding
    systemic: Finding


class LesionAssessment(_Frozen):
    id: str
    levels: list[str]
    scores: dict[str, ScoreResult]
    escc: EsccSummary
    noms: Noms
    recommendations: list[Recommendation]


class SafetyFlag(_Frozen):
    code: str
    severity: Severity
    text: str
    references: list[str] = Field(default_factory=list)
    lesion_id: str | None = None


class MissingInput(_Frozen):
    field: str
    needed_for: list[str]


class PolicyRef(_Frozen):
    name: str
    sha256: str


class Assessment(_Frozen):
    format: Literal["metspine.assessment/1"] = "metspine.assessment/1"
    case_id: str
    assessed_on: str | None = None
    engine_version: str
    knowledge_version: str
    policy: PolicyRef
    scores: dict[str, ScoreResult]
    lesions: list[LesionAssessment]
    safety: list[SafetyFlag]
    missing: list[MissingInput]

    def cited_references(self) -> list[str]:
        """Every reference key the assessment cites, in first-seen order."""
        seen: dict[str, None] = {}

        def add(keys: list[str]) -> None:
            for k in keys:
                seen.setdefault(k, None)

        for s in self.scores.values():
            add(s.references)
        for lesion in self.lesions:
            for s in lesion.scores.values():
                add(s.references)
            for f in (lesion.noms.neurologic, lesion.noms.oncologic, lesion.noms.mechanical,
                      lesion.noms.systemic):  # fmt: skip
                add(f.references)
                for r in f.reasons:
                    add(r.references)
            for rec in lesion.recommendations:
                for r in rec.reasons:
                    add(r.references)
        for flag in self.safety:
            add(flag.references)
        return list(seen)
