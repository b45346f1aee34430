"""Typed access to ``fhir_codes.toml``: the FHIR codes of metspine's FHIR face, and its own CodeSystem.

Everything the FHIR adapter writes or reads as a code comes from here; the published CodeSystem
(``codesystem()``) is generated from the same rows, so a code is never typed twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from metspine.knowledge import KnowledgeError, load_toml

FieldType = Literal["integer", "decimal", "boolean", "code", "date"]
Carrier = Literal["observation", "sins", "escc"]
_TYPES = ("integer", "decimal", "boolean", "code", "date")


@dataclass(frozen=True, slots=True)
class Code:
    """One coding: system URL, code, display."""

    system: str
    code: str
    display: str | None = None

    def coding(self) -> dict[str, str]:
        out = {"system": self.system, "code": self.code}
        if self.display:
            out["display"] = self.display
        return out


@dataclass(frozen=True, slots=True)
class Field:
    """A case input carried as an Observation (or as a component of the SINS/ESCC Observation).

    ``path`` is the case path with ``lesion.`` standing for one lesion; ``code`` is the metspine code
    (the path without ``lesion.``/``patient.``/section prefixes is not used: the full path is unique).
    """

    path: str
    code: str
    display: str
    type: FieldType
    scope: Literal["case", "lesion"]
    values: tuple[str, ...]
    unit: str | None
    standard: Code | None
    carrier: Carrier

    @property
    def key(self) -> str:
        """The attribute path inside its scope (``sins.pain`` for ``lesion.sins.pain``)."""
        return self.path.removeprefix("lesion.")

    def value_code(self, value: str) -> str:
        return f"{self.code}.{value}"


@dataclass(frozen=True, slots=True)
class Lab:
    field: str
    loinc: str
    display: str
    unit: str
    convert: dict[str, float]


@dataclass(frozen=True, slots=True)
class Primary:
    code: str
    icd10cm: str | None
    import_prefixes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScoreCodes:
    code: str
    display: str
    bands: tuple[str, ...]
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Concept:
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class FhirCodes:
    url: str
    name: str
    title: str
    version: str
    status: str
    publisher: str
    description: str
    base: str
    systems: dict[str, str]
    profiles: dict[str, str]
    standard: dict[str, Code]
    ecog_answers: dict[int, str]
    kps_answers: dict[int, str]
    levels: dict[str, Code]
    primary: dict[str, Primary]
    labs: tuple[Lab, ...]
    fields: tuple[Field, ...]
    other: dict[str, str]
    scores: dict[str, ScoreCodes]
    escc_groups: dict[str, str]
    recommendations: dict[str, str]
    strengths: dict[str, str]
    noms: dict[str, tuple[str, ...]]
    safety: dict[str, str]

    # -- helpers -------------------------------------------------------------------------------
    def ours(self, code: str, display: str | None = None) -> Code:
        """A coding in the metspine CodeSystem."""
        return Code(self.url, code, display)

    def extension(self, name: str) -> str:
        return f"{self.base}/StructureDefinition/{name}"

    def identifier_system(self, name: str) -> str:
        return f"{self.base}/sid/{name}"

    def field(self, path: str) -> Field:
        for f in self.fields:
            if f.path == path:
                return f
        raise KnowledgeError(f"no FHIR field row for {path!r}")

    def level_code(self, level: str) -> str:
        return f"level.{level}"

    def primary_code(self, histology: str) -> str:
        return f"primary.{histology}"

    def band_code(self, score: str, band: str) -> str:
        return f"{score}.band.{band}"

    def item_code(self, score: str, item: str) -> str:
        return f"{score}.item.{item}"

    def concepts(self) -> list[Concept]:
        """Every concept of the metspine CodeSystem, in a stable order."""
        out: list[Concept] = []
        for f in self.fields:
            out.append(Concept(f.code, f.display))
            out.extend(Concept(f.value_code(v), f"{f.display}: {v}") for v in f.values)
        out.extend(Concept(code, display) for code, display in self.other.items())
        for level in self.levels:
            out.append(Concept(self.level_code(level), f"Vertebral level {level}"))
        for h in self.primary:
            out.append(Concept(self.primary_code(h), f"Primary tumour (histology catalogue): {h}"))
        for s in self.scores.values():
            out.append(Concept(s.code, s.display))
            out.extend(
                Concept(self.band_code(s.code, b), f"{s.display}: band {b}") for b in s.bands
            )
            out.extend(
                Concept(self.item_code(s.code, i), f"{s.display}: item {i}") for i in s.items
            )
        out.extend(Concept(f"escc.group.{g}", d) for g, d in self.escc_groups.items())
        out.extend(Concept(c, d) for c, d in self.recommendations.items())
        out.extend(Concept(f"strength.{s}", d) for s, d in self.strengths.items())
        for pillar, statuses in self.noms.items():
            out.append(Concept(f"noms.{pillar}", f"NOMS {pillar} pillar"))
            out.extend(Concept(f"noms.{pillar}.{s}", f"NOMS {pillar}: {s}") for s in statuses)
        out.extend(Concept(f"safety.{c}", d) for c, d in self.safety.items())
        return out

    def codesystem(self) -> dict[str, Any]:
        """The metspine CodeSystem as a FHIR R4 resource (JSON-ready dict)."""
        return {
            "resourceType": "CodeSystem",
            "id": "metspine",
            "url": self.url,
            "version": self.version,
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "experimental": True,
            "publisher": self.publisher,
            "description": self.description,
            "caseSensitive": True,
            "content": "complete",
            "count": len(self.concepts()),
            "concept": [{"code": c.code, "display": c.display} for c in self.concepts()],
        }


def _code(systems: dict[str, str], row: dict[str, Any], where: str) -> Code:
    try:
        return Code(systems[row["system"]], str(row["code"]), row.get("display"))
    except KeyError as exc:
        raise KnowledgeError(f"fhir_codes.toml {where}: {exc}") from exc


def _field(raw: dict[str, Any], systems: dict[str, str]) -> Field:
    path = str(raw["path"])
    ftype = raw["type"]
    if ftype not in _TYPES:
        raise KnowledgeError(f"fhir_codes.toml field {path}: unknown type {ftype!r}")
    values = tuple(str(v) for v in raw.get("values", ()))
    if (ftype == "code") != bool(values):
        raise KnowledgeError(f"fhir_codes.toml field {path}: code fields (only) list values")
    std = raw.get("standard")
    return Field(
        path=path,
        code=path,
        display=str(raw["display"]),
        type=ftype,
        scope="lesion" if path.startswith("lesion.") else "case",
        values=values,
        unit=raw.get("unit"),
        standard=_code(systems, std, path) if std else None,
        carrier=raw.get("carrier", "observation"),
    )


@cache
def fhir_codes() -> FhirCodes:
    """The FHIR code tables, loaded once."""
    raw = load_toml("fhir_codes.toml")
    cs = raw["codesystem"]
    systems = {k: str(v) for k, v in raw["systems"].items()}
    fields = tuple(_field(r, systems) for r in raw["field"])
    codes = [f.code for f in fields]
    if len(set(codes)) != len(codes):
        raise KnowledgeError("fhir_codes.toml: a field path is listed twice")
    out = FhirCodes(
        url=str(cs["url"]),
        name=str(cs["name"]),
        title=str(cs["title"]),
        version=str(cs["version"]),
        status=str(cs["status"]),
        publisher=str(cs["publisher"]),
        description=str(cs["description"]),
        base=str(cs["base"]).rstrip("/"),
        systems=systems,
        profiles={k: str(v) for k, v in raw["profiles"].items()},
        standard={k: _code(systems, v, f"standard.{k}") for k, v in raw["standard"].items()},
        ecog_answers={int(k): str(v) for k, v in raw["ecog_answers"].items()},
        kps_answers={int(k): str(v) for k, v in raw["kps_answers"].items()},
        levels={
            lv: Code(systems["snomed"], str(row[0]), str(row[1]))
            for lv, row in raw["levels"].items()
        },
        primary={
            h: Primary(h, row.get("icd10cm"), tuple(row.get("import_prefixes", ())))
            for h, row in raw["primary"].items()
        },
        labs=tuple(
            Lab(
                field=f"patient.labs.{name}",
                loinc=str(row["loinc"]),
                display=str(row["display"]),
                unit=str(row["unit"]),
                convert={str(u): float(f) for u, f in row.get("convert", {}).items()},
            )
            for name, row in raw["labs"].items()
        ),
        fields=fields,
        other={str(k): str(v) for k, v in raw["other"].items()},
        scores={
            code: ScoreCodes(
                code,
                str(row["display"]),
                tuple(str(b) for b in row["bands"]),
                tuple(str(i) for i in row["items"]),
            )
            for code, row in raw["scores"].items()
        },
        escc_groups={str(k): str(v) for k, v in raw["escc_groups"].items()},
        recommendations={str(k): str(v) for k, v in raw["recommendations"].items()},
        strengths={str(k): str(v) for k, v in raw["strengths"].items()},
        noms={str(k): tuple(str(s) for s in v) for k, v in raw["noms"].items()},
        safety={str(k): str(v) for k, v in raw["safety"].items()},
    )
    seen: set[str] = set()
    for c in out.concepts():
        if c.code in seen:
            raise KnowledgeError(f"fhir_codes.toml: concept code {c.code!r} generated twice")
        seen.add(c.code)
    return out


__all__ = ["Code", "Concept", "FhirCodes", "Field", "Lab", "Primary", "ScoreCodes", "fhir_codes"]
