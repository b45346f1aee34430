"""CDS Hooks 2.0 cards rendered from a metspine Assessment (hl7_cds_hooks_2_0, "Card Attributes").

Rendering only: every number, band, option and safety sentence comes from the Assessment; nothing
clinical is computed here. The response models hold the spec's rules (summary under 140 characters,
indicator info|warning|critical, source.label required, selectionBehavior whenever there are
suggestions) so that a card breaking them cannot leave the service.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from metspine import __version__
from metspine.knowledge import references
from metspine.knowledge.fhir_codes import fhir_codes
from metspine.model.assessment import Assessment, LesionAssessment, SafetyFlag, ScoreResult

Indicator = Literal["info", "warning", "critical"]
SUMMARY_MAX = 139  # the spec: "<140-character summary"
_RANK = {"info": 0, "warning": 1, "critical": 2}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Coding(_Model):
    code: str
    system: str | None = None
    display: str | None = None


class Source(_Model):
    label: str = Field(min_length=1)
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Action(_Model):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None
    resourceId: str | None = None  # noqa: N815 - the spec's name

    @model_validator(mode="after")
    def _conditional(self) -> Action:
        if self.type in ("create", "update") and self.resource is None:
            raise ValueError(f"a {self.type} action needs a resource")
        if self.type == "delete" and not self.resourceId:
            raise ValueError("a delete action needs a resourceId")
        return self


class Suggestion(_Model):
    label: str
    uuid: str = Field(default_factory=lambda: str(uuid.uuid4()))
    isRecommended: bool | None = None  # noqa: N815
    actions: list[Action] = Field(default_factory=list)


class Link(_Model):
    label: str
    url: str
    type: Literal["absolute", "smart"]
    appContext: str | None = None  # noqa: N815

    @model_validator(mode="after")
    def _app_context(self) -> Link:
        if self.appContext is not None and self.type != "smart":
            raise ValueError("appContext is only valid on smart links")
        return self


class Card(_Model):
    uuid: str = Field(default_factory=lambda: str(uuid.uuid4()))
    summary: str = Field(min_length=1, max_length=SUMMARY_MAX)
    detail: str | None = None
    indicator: Indicator
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None  # noqa: N815
    overrideReasons: list[Coding] | None = None  # noqa: N815
    links: list[Link] | None = None

    @model_validator(mode="after")
    def _selection(self) -> Card:
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("suggestions need a selectionBehavior")
        return self

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


# -- text helpers -------------------------------------------------------------------------------------


def clip(text: str, limit: int = SUMMARY_MAX) -> str:
    """``text`` on one line, cut at a word boundary to fit ``limit`` characters (ellipsis if cut)."""
    one = " ".join(text.split())
    if len(one) <= limit:
        return one
    cut = one[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–") + "…"


def worst(severities: list[str], floor: Indicator = "info") -> Indicator:
    best: Indicator = floor
    for s in severities:
        if s in _RANK and _RANK[s] > _RANK[best]:
            best = s  # type: ignore[assignment]
    return best


def levels_label(levels: list[str]) -> str:
    if not levels:
        return "(no level)"
    return levels[0] if len(levels) == 1 else f"{levels[0]}-{levels[-1]}"


def sins_label(s: ScoreResult | None) -> str:
    if s is None:
        return "SINS unknown"
    band = (s.band or "").replace("_", " ")
    if s.value is not None:
        return f"SINS {s.value:g}" + (f" {band}" if band else "")
    if s.range is not None:
        lo, hi = s.range
        return f"SINS {lo:g}-{hi:g} (incomplete)"
    return "SINS unknown"


def option_label(code: str) -> str:
    return fhir_codes().recommendations.get(code, code.replace("_", " "))


@cache
def _field_names() -> dict[str, str]:
    codes = fhir_codes()
    names = {f.path: f.display for f in codes.fields}
    names.update({lab.field: lab.display for lab in codes.labs})
    names.update(
        {
            "patient.kps": "Karnofsky performance status",
            "patient.ecog": "ECOG performance status",
            "cancer.primary": "Primary tumour (histology)",
            "events.steroids": "Steroids",
            "events.systemic_therapy": "Recent systemic therapy",
            "lesions": "Spinal lesions",
        }
    )
    return names


def field_label(path: str, a: Assessment) -> str:
    """A case field path in the clinic's words (``lesions[0].sins.pain`` → ``T11-T12: SINS: pain``)."""
    names = _field_names()
    if path.startswith("lesions[") and "]." in path:
        idx, rest = path[len("lesions[") :].split("].", 1)
        where = ""
        if idx.isdigit() and int(idx) < len(a.lesions):
            where = levels_label(a.lesions[int(idx)].levels) + ": "
        return where + names.get(f"lesion.{rest}", rest)
    return names.get(path, path)


def reference_links(keys: list[str], limit: int = 3) -> list[Link]:
    reg = references()
    out: list[Link] = []
    for k in dict.fromkeys(keys):
        ref = reg.get(k)
        if ref is None or not ref.doi:
            continue
        author = ref.authors.split(",")[0].split(" ")[0]
        out.append(
            Link(
                label=clip(f"{author} {ref.year}: {ref.title}", 100),
                url=f"https://doi.org/{ref.doi}",
                type="absolute",
            )
        )
        if len(out) >= limit:
            break
    return out


def source(url: str | None) -> Source:
    return Source(label=f"metspine {__version__}", url=url)


def provenance(a: Assessment) -> str:
    return (
        f"_metspine engine {a.engine_version}, knowledge {a.knowledge_version}, "
        f"policy {a.policy.name}. Decision support for the treating team; check the reasons._"
    )


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# -- patient-view -------------------------------------------------------------------------------------


def lesion_flags(a: Assessment, lesion_id: str) -> list[SafetyFlag]:
    return [f for f in a.safety if f.lesion_id == lesion_id]


def lesion_card(
    a: Assessment, la: LesionAssessment, source_url: str | None, smart_url: str | None
) -> Card:
    """The NOMS summary of one lesion: SINS, ESCC, the four pillars, the options, the lesion's flags."""
    sins = la.scores.get("sins")
    escc = la.escc.grade or "unknown"
    top = la.recommendations[0] if la.recommendations else None
    head = f"{levels_label(la.levels)}: {sins_label(sins)}; ESCC {escc}"
    if top is not None:
        head += f" → {option_label(top.code)} ({top.strength})"
    flags = lesion_flags(a, la.id)
    n = la.noms
    rows = [
        f"**NOMS, lesion {_md(la.id)} ({levels_label(la.levels)})**",
        "",
        "| pillar | status | summary |",
        "|---|---|---|",
    ]
    for name, f in (
        ("Neurologic", n.neurologic),
        ("Oncologic", n.oncologic),
        ("Mechanical", n.mechanical),
        ("Systemic", n.systemic),
    ):
        rows.append(f"| {name} | {f.status.replace('_', ' ')} | {_md(f.summary)} |")
    if la.recommendations:
        rows += ["", "**Options, strongest first**", ""]
        for i, r in enumerate(la.recommendations, start=1):
            rows.append(f"{i}. **{option_label(r.code)}** ({r.strength}): {_md(r.summary)}")
    if flags:
        rows += ["", "**Safety**", ""]
        rows += [f"- {f.severity}: {_md(f.text)}" for f in flags]
    rows += ["", provenance(a)]
    links = reference_links([k for f in flags for k in f.references])
    if smart_url:
        links.insert(
            0, Link(label="Open the metspine tumor-board view", url=smart_url, type="smart")
        )
    return Card(
        summary=clip(head),
        detail="\n".join(rows),
        indicator=worst([f.severity for f in flags]),
        source=source(source_url),
        links=links or None,
    )


def case_safety_card(a: Assessment, source_url: str | None) -> Card | None:
    """Patient-level safety checks that need attention (warning or critical)."""
    flags = [f for f in a.safety if f.lesion_id is None and f.severity != "info"]
    if not flags:
        return None
    codes = fhir_codes().safety
    first = codes.get(flags[0].code, flags[0].code)
    more = f" and {len(flags) - 1} more" if len(flags) > 1 else ""
    rows = [f"- **{codes.get(f.code, f.code)}** ({f.severity}): {_md(f.text)}" for f in flags]
    return Card(
        summary=clip(f"Safety: {first}{more}"),
        detail="\n".join([*rows, "", provenance(a)]),
        indicator=worst([f.severity for f in flags]),
        source=source(source_url),
        links=reference_links([k for f in flags for k in f.references]) or None,
    )


def missing_card(a: Assessment, source_url: str | None) -> Card | None:
    """The data the engine still needs, named in the clinic's words, with what each input would settle."""
    if not a.missing:
        return None
    n = len(a.missing)
    first = field_label(a.missing[0].field, a)
    rows = ["**Missing in the EHR data** (each is left unknown, never assumed):", ""]
    for m in a.missing:
        rows.append(
            f"- {_md(field_label(m.field, a))} (`{m.field}`), needed for {', '.join(m.needed_for)}"
        )
    return Card(
        summary=clip(f"metspine: {n} input{'s' if n != 1 else ''} missing, e.g. {first}"),
        detail="\n".join([*rows, "", provenance(a)]),
        indicator="info",
        source=source(source_url),
    )


def no_lesion_card(source_url: str | None) -> Card:
    return Card(
        summary="metspine: no spinal metastasis in the EHR data, nothing to assess",
        detail=(
            "metspine looks for a secondary cancer Condition (mCODE SecondaryCancerCondition, SNOMED "
            "128462008 or ICD-10-CM C79.51) with a vertebral level as `bodySite`. None was found."
        ),
        indicator="info",
        source=source(source_url),
    )


def unreadable_card(problems: list[str], source_url: str | None) -> Card:
    rows = ["metspine could not build a case from the EHR data:", ""]
    rows += [f"- {_md(p)}" for p in problems[:20]]
    return Card(
        summary="metspine could not read the EHR data for this patient",
        detail="\n".join(rows),
        indicator="warning",
        source=source(source_url),
    )


def patient_view_cards(
    a: Assessment, source_url: str | None, smart_url: str | None
) -> list[tuple[str, Card]]:
    """(kind, card) pairs: one per lesion, the patient-level safety card, the missing-data card."""
    out: list[tuple[str, Card]] = []
    if not a.lesions:
        out.append(("no_lesion", no_lesion_card(source_url)))
    for la in a.lesions:
        out.append(("lesion", lesion_card(a, la, source_url, smart_url)))
    s = case_safety_card(a, source_url)
    if s is not None:
        out.append(("case_safety", s))
    m = missing_card(a, source_url)
    if m is not None:
        out.append(("missing", m))
    return out


__all__ = [
    "SUMMARY_MAX",
    "Action",
    "Card",
    "Coding",
    "Link",
    "Source",
    "Suggestion",
    "clip",
    "field_label",
    "levels_label",
    "option_label",
    "patient_view_cards",
    "reference_links",
    "sins_label",
    "source",
    "unreadable_card",
    "worst",
]
