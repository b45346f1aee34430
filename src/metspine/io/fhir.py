"""FHIR R4 (mCODE) export: a case and its Assessment as one transaction Bundle.

The Bundle carries two things. The case's inputs, losslessly, so that ``fhir_import`` gives the same case
back: mCODE resources where a profile exists (CancerPatient, Primary/SecondaryCancerCondition with the
vertebral levels as body sites, ECOG and Karnofsky Observations, labs by LOINC, RadiotherapyCourseSummary
procedures), metspine's SINS and ESCC Observations, and one Observation per remaining input coded in
metspine's CodeSystem. And the Assessment, rendered, never recomputed: one Observation per score with its
components, a NOMS Observation and a CarePlan of options (with reasons and references) per lesion, a
DetectedIssue per safety flag, and a Provenance naming engine, knowledge and policy versions.

Every code comes from ``metspine.knowledge.fhir_codes`` (spec/interop.md §2.1, §3).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from metspine.engine import assess
from metspine.knowledge import KNOWLEDGE_VERSION, references
from metspine.knowledge.fhir_codes import Code, FhirCodes, Field, fhir_codes
from metspine.knowledge.histology import catalogue
from metspine.model.assessment import Assessment, Finding, Recommendation, ScoreResult
from metspine.model.case import Case, Lesion
from metspine.model.policy import Policy

Json = dict[str, Any]
_NS = uuid.UUID("6f1d7c1e-3d0b-5b8e-9a57-6d6574737069")  # fixed: the same case gives the same ids

__all__ = ["FhirError", "export_bundle", "get_path", "validate_bundle"]


class FhirError(ValueError):
    """A FHIR payload that cannot be read or written; the message names the file or resource."""


def get_path(obj: Any, dotted: str) -> Any:
    """Follow a dotted attribute path on a pydantic model (``patient.labs.albumin_g_dl``)."""
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _cc(*codings: Code, text: str | None = None) -> Json:
    out: Json = {"coding": [c.coding() for c in codings]}
    if text:
        out["text"] = text
    return out


def _qty(value: float | int, unit: str, codes: FhirCodes) -> Json:
    return {"value": value, "unit": unit, "system": codes.systems["ucum"], "code": unit}


class _Builder:
    """Collects entries with deterministic urn:uuid ids."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.codes = fhir_codes()
        self.entries: list[Json] = []

    def urn(self, key: str) -> str:
        return f"urn:uuid:{uuid.uuid5(_NS, f'{self.case.id}/{key}')}"

    def add(self, key: str, resource: Json) -> str:
        url = self.urn(key)
        self.entries.append(
            {
                "fullUrl": url,
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
        )
        return url

    # -- shared pieces ---------------------------------------------------------------------------
    def ours(self, code: str, display: str | None = None) -> Code:
        return self.codes.ours(code, display)

    def body_sites(self, levels: Iterable[str]) -> list[Json]:
        return [
            _cc(self.codes.levels[lv], self.ours(self.codes.level_code(lv)), text=lv)
            for lv in levels
        ]

    def site(self, levels: Sequence[str]) -> Json:
        """Observation.bodySite (0..1): the level's code for one level, else vertebral body + text."""
        if len(levels) == 1:
            return self.body_sites(levels)[0]
        text = f"{levels[0]}-{levels[-1]}"
        return _cc(self.codes.standard["vertebral_body"], text=text)

    def effective(self) -> Json:
        on = self.case.assessed_on
        return {"effectiveDateTime": on.isoformat()} if on else {}

    def observation(
        self,
        code: Json,
        patient: str,
        *,
        focus: str | None = None,
        category: str | None = None,
        profile: str | None = None,
        status: str = "final",
    ) -> Json:
        obs: Json = {"resourceType": "Observation", "status": status}
        if profile:
            obs["meta"] = {"profile": [profile]}
        if category:
            obs["category"] = [_cc(Code(self.codes.systems["observation_category"], category))]
        obs["code"] = code
        obs["subject"] = {"reference": patient}
        if focus:
            obs["focus"] = [{"reference": focus}]
        obs.update(self.effective())
        return obs


def _field_value(field: Field, value: Any, b: _Builder) -> Json:
    """The value[x] of an input Observation, by the field's declared type."""
    if field.type == "boolean":
        return {"valueBoolean": bool(value)}
    if field.type == "date":
        return {"valueDateTime": value.isoformat()}
    if field.type == "code":
        return {"valueCodeableConcept": _cc(b.ours(field.value_code(str(value))), text=str(value))}
    if field.unit:
        return {"valueQuantity": _qty(value, field.unit, b.codes)}
    return {"valueInteger": int(value)}


def _field_obs(field: Field, value: Any, patient: str, b: _Builder, focus: str | None) -> Json:
    codings = [b.ours(field.code, field.display)]
    if field.standard:
        codings.insert(0, field.standard)
    obs = b.observation(_cc(*codings, text=field.display), patient, focus=focus)
    obs.update(_field_value(field, value, b))
    return obs


def _points_ext(points: int | float | None, b: _Builder) -> list[Json]:
    if points is None:
        return []
    key = "valueInteger" if float(points).is_integer() else "valueDecimal"
    val: int | float = int(points) if key == "valueInteger" else float(points)
    return [{"url": b.codes.extension("score-points"), key: val}]


def _score_value(s: ScoreResult) -> Json:
    if s.value is not None:
        if float(s.value).is_integer():
            return {"valueInteger": int(s.value)}
        return {"valueQuantity": {"value": float(s.value)}}
    if s.range is not None:
        return {"valueRange": {"low": {"value": s.range[0]}, "high": {"value": s.range[1]}}}
    return {"dataAbsentReason": {"coding": [{"system": _DAR, "code": "unknown"}]}}


_DAR = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


def _score_common(obs: Json, code: str, s: ScoreResult, b: _Builder) -> None:
    """Status, band, interpretation text, references and version of a score Observation."""
    obs["status"] = "final" if s.status == "complete" else "preliminary"
    if s.band is not None:
        obs["interpretation"] = [
            _cc(b.ours(b.codes.band_code(code, s.band)), text=s.interpretation or s.band)
        ]
    notes = [*s.notes]
    if s.missing:
        notes.append("Missing inputs: " + ", ".join(s.missing))
    if s.possible_bands and s.band is None:
        notes.append("Possible bands: " + ", ".join(s.possible_bands))
    if notes:
        obs["note"] = [{"text": n} for n in notes]
    ext = [{"url": b.codes.extension("score-version"), "valueString": s.version}]
    ext += [{"url": b.codes.extension("reference-key"), "valueString": k} for k in s.references]
    ext.append({"url": b.codes.extension("score-direction"), "valueCode": s.direction})
    obs["extension"] = ext


def _score_obs(code: str, s: ScoreResult, patient: str, b: _Builder) -> Json:
    sc = b.codes.scores[code]
    obs = b.observation(_cc(b.ours(code, sc.display), text=s.name or sc.display), patient,
                        category="survey")  # fmt: skip
    obs.update(_score_value(s))
    _score_common(obs, code, s, b)
    comps: list[Json] = []
    for c in s.components:
        comp: Json = {"code": _cc(b.ours(b.codes.item_code(code, c.item)), text=c.item)}
        ext = [{"url": b.codes.extension("score-input"), "valueString": c.input}]
        if c.note:
            ext.append({"url": b.codes.extension("score-note"), "valueString": c.note})
        comp["extension"] = ext
        if c.points is None:
            comp["dataAbsentReason"] = {"coding": [{"system": _DAR, "code": "unknown"}]}
        elif float(c.points).is_integer():
            comp["valueInteger"] = int(c.points)
        else:
            comp["valueQuantity"] = {"value": float(c.points)}
        comps.append(comp)
    if comps:
        obs["component"] = comps
    return obs


def _performance_obs(which: str, value: int, s: ScoreResult, patient: str, b: _Builder) -> Json:
    """ECOG or KPS as measured, on its mCODE profile (valueInteger, LOINC answer as interpretation)."""
    codes = b.codes
    answers = codes.ecog_answers if which == "ecog" else codes.kps_answers
    obs = b.observation(
        _cc(codes.standard[which], codes.standard[f"{which}_snomed"]),
        patient,
        category="survey",
        profile=codes.profiles[which],
    )
    obs["valueInteger"] = value
    if value in answers:
        obs["interpretation"] = [_cc(Code(codes.systems["loinc"], answers[value]))]
    obs["extension"] = [{"url": codes.extension("score-version"), "valueString": s.version}] + [
        {"url": codes.extension("reference-key"), "valueString": k} for k in s.references
    ]
    return obs


def _sins_obs(lesion: Lesion, s: ScoreResult | None, cond: str, patient: str, b: _Builder) -> Json:
    """SINS for one lesion: the five coded inputs (lossless) and location, with points per item."""
    codes = b.codes
    obs = b.observation(
        _cc(codes.standard["sins"], b.ours("sins", codes.scores["sins"].display), text="SINS"),
        patient,
        focus=cond,
        category="imaging",
    )
    obs["bodySite"] = b.site(lesion.levels)
    points = {c.item: c for c in s.components} if s else {}
    comps: list[Json] = []
    loc = points.get("location")
    comps.append(
        {
            "code": _cc(b.ours(codes.item_code("sins", "location"))),
            "valueString": loc.input if loc else "-".join(lesion.levels),
            "extension": _points_ext(loc.points if loc else None, b),
        }
    )
    for f in codes.fields:
        if f.carrier != "sins":
            continue
        item = f.key.removeprefix("sins.")
        comp: Json = {"code": _cc(b.ours(f.code, f.display))}
        value = getattr(lesion.sins, item)
        if value is None:
            comp["dataAbsentReason"] = {"coding": [{"system": _DAR, "code": "unknown"}]}
        else:
            comp["valueCodeableConcept"] = _cc(b.ours(f.value_code(value)), text=value)
        pts = points.get(item)
        ext = _points_ext(pts.points if pts else None, b)
        if ext:
            comp["extension"] = ext
        comps.append(comp)
    for c in comps:
        if not c.get("extension"):
            c.pop("extension", None)
    obs["component"] = comps
    if s is not None:
        obs.update(_score_value(s))
        _score_common(obs, "sins", s, b)
    return obs


def _levels_text(lesion: Lesion) -> str:
    lv = lesion.levels
    return lv[0] if len(lv) == 1 else f"{lv[0]}-{lv[-1]}"


def _finding_component(pillar: str, f: Finding, b: _Builder) -> Json:
    comp: Json = {
        "code": _cc(b.ours(f"noms.{pillar}")),
        "valueCodeableConcept": _cc(b.ours(f"noms.{pillar}.{f.status}"), text=f.summary),
    }
    ext = [{"url": b.codes.extension("reason"), "valueString": r.text} for r in f.reasons]
    ext += [{"url": b.codes.extension("reference-key"), "valueString": k} for k in f.references]
    if ext:
        comp["extension"] = ext
    return comp


def _reason_cc(text: str, keys: list[str], b: _Builder) -> Json:
    cc: Json = {"text": text}
    if keys:
        cc["extension"] = [
            {"url": b.codes.extension("reference-key"), "valueString": k} for k in keys
        ]
    return cc


def _activity(rec: Recommendation, b: _Builder) -> Json:
    codes = b.codes
    display = codes.recommendations.get(rec.code)
    detail: Json = {
        "kind": "ServiceRequest",
        "code": _cc(b.ours(rec.code, display), text=rec.summary),
        "status": "not-started",
        "doNotPerform": rec.strength == "avoid",
        "description": rec.summary,
    }
    if rec.reasons:
        detail["reasonCode"] = [_reason_cc(r.text, r.references, b) for r in rec.reasons]
    ext: list[Json] = [
        {
            "url": codes.extension("recommendation-strength"),
            "valueCodeableConcept": _cc(b.ours(f"strength.{rec.strength}"), text=rec.strength),
        }
    ]
    ext += [
        {"url": codes.extension("alternative"), "valueCodeableConcept": _cc(b.ours(a), text=a)}
        for a in rec.alternatives
    ]
    ext += [{"url": codes.extension("would-change"), "valueString": w} for w in rec.would_change]
    ext += [{"url": codes.extension("rule"), "valueString": r} for r in rec.rules]
    if rec.details:
        ext.append(
            {
                "url": codes.extension("recommendation-details"),
                "valueString": json.dumps(rec.details, sort_keys=True, ensure_ascii=False),
            }
        )
    detail["extension"] = ext
    return {"detail": detail}


def _rt_course(lesion: Lesion, j: int, cond: str, volume: str, patient: str, b: _Builder) -> Json:
    """One prior course as an mCODE RadiotherapyCourseSummary (dose in cGy, fractions delivered)."""
    codes = b.codes
    course = lesion.prior_radiation[j]
    dose_ext: list[Json] = [
        {"url": "volume", "valueReference": {"reference": volume}},
        {"url": "totalDoseDelivered", "valueQuantity": _qty(course.dose_gy * 100, "cGy", codes)},
        {"url": "fractionsDelivered", "valueUnsignedInt": course.fractions},
    ]
    ext: list[Json] = [{"url": codes.profiles["rt_dose_delivered"], "extension": dose_ext}]
    if course.cord_max_eqd2_gy is not None:
        ext.append(
            {
                "url": codes.extension("cord-max-eqd2"),
                "valueQuantity": _qty(course.cord_max_eqd2_gy, "Gy", codes),
            }
        )
    proc: Json = {
        "resourceType": "Procedure",
        "meta": {"profile": [codes.profiles["radiotherapy_course"]]},
        "extension": ext,
        "status": "completed",
        "code": _cc(codes.standard["radiotherapy_course"]),
        "subject": {"reference": patient},
        "reasonReference": [{"reference": cond}],
        "bodySite": b.body_sites(lesion.levels),
    }
    if course.end_date is not None:
        proc["performedPeriod"] = {"end": course.end_date.isoformat()}
    return proc


def _medication(category: str, text: str, patient: str, b: _Builder) -> Json:
    return {
        "resourceType": "MedicationStatement",
        "status": "active",
        "category": _cc(b.ours(f"medication.{category}")),
        "medicationCodeableConcept": {"text": text},
        "subject": {"reference": patient},
    }


def export_bundle(
    case: Case,
    policy: Policy | None = None,
    *,
    recorded: datetime | None = None,
    assessment: Assessment | None = None,
) -> Json:
    """The case and its Assessment as a FHIR R4 transaction Bundle (JSON-ready dict).

    ``assessment`` may be passed when the caller already has it; otherwise ``assess`` is called.
    ``recorded`` is the Provenance time (default: now, UTC): the only clock reading, and it is the
    adapter's, never the engine's.
    """
    a = assessment if assessment is not None else assess(case, policy)
    b = _Builder(case)
    codes = b.codes
    ids = codes.identifier_system

    patient = b.add(
        "Patient",
        {
            "resourceType": "Patient",
            "meta": {"profile": [codes.profiles["cancer_patient"]]},
            "identifier": [{"system": ids("case-id"), "value": case.id}],
        },
    )

    # Primary cancer
    primary_ref: str | None = None
    if case.cancer.primary is not None:
        h = case.cancer.primary
        label = catalogue()[h].label
        codings = [b.ours(codes.primary_code(h), label)]
        icd = codes.primary[h].icd10cm if h in codes.primary else None
        if icd:
            codings.append(Code(codes.systems["icd10cm"], icd))
        primary_ref = b.add(
            "Condition/primary",
            {
                "resourceType": "Condition",
                "meta": {"profile": [codes.profiles["primary_cancer"]]},
                "category": [_cc(Code(codes.systems["condition_category"], "encounter-diagnosis"))],
                "code": _cc(*codings, text=label),
                "subject": {"reference": patient},
            },
        )

    # Lesions: SecondaryCancerCondition with the levels as body sites
    lesion_refs: dict[str, str] = {}
    for lesion in case.lesions:
        cond: Json = {
            "resourceType": "Condition",
            "meta": {"profile": [codes.profiles["secondary_cancer"]]},
            "identifier": [{"system": ids("lesion-id"), "value": lesion.id}],
            "category": [_cc(Code(codes.systems["condition_category"], "encounter-diagnosis"))],
            "code": _cc(
                codes.standard["secondary_cancer"],
                codes.standard["secondary_bone"],
                text=f"Spinal metastasis {_levels_text(lesion)}",
            ),
            "bodySite": b.body_sites(lesion.levels),
            "subject": {"reference": patient},
        }
        if primary_ref:
            cond["extension"] = [
                {
                    "url": codes.profiles["related_primary"],
                    "valueReference": {"reference": primary_ref},
                }
            ]
        lesion_refs[lesion.id] = b.add(f"Condition/lesion/{lesion.id}", cond)

    # Case-level inputs
    for field in codes.fields:
        if field.scope != "case":
            continue
        value = get_path(case, field.path)
        if value is not None:
            b.add(f"Observation/{field.path}", _field_obs(field, value, patient, b, None))
    p = case.patient
    for which, value in (("kps", p.kps), ("ecog", p.ecog)):
        if value is not None:
            obs = _performance_obs(which, value, a.scores[which], patient, b)
            b.add(f"Observation/{which}", obs)
    for lab in codes.labs:
        value = get_path(case, lab.field)
        if value is None:
            continue
        obs = b.observation(
            _cc(Code(codes.systems["loinc"], lab.loinc, lab.display)),
            patient,
            category="laboratory",
        )
        obs["valueQuantity"] = _qty(value, lab.unit, codes)
        b.add(f"Observation/{lab.field}", obs)

    # Per-lesion inputs and results
    for idx, lesion in enumerate(case.lesions):
        cond_ref = lesion_refs[lesion.id]
        la = a.lesions[idx]
        for field in codes.fields:
            if field.scope != "lesion" or field.carrier != "observation":
                continue
            value = get_path(lesion, field.key)
            if value is not None:
                obs = _field_obs(field, value, patient, b, cond_ref)
                obs["bodySite"] = b.site(lesion.levels)
                b.add(f"Observation/{lesion.id}/{field.path}", obs)
        sins = _sins_obs(lesion, la.scores.get("sins"), cond_ref, patient, b)
        sins_ref = b.add(f"Observation/{lesion.id}/sins", sins)
        escc_ref: str | None = None
        if lesion.escc is not None:
            f = codes.field("lesion.escc")
            obs = b.observation(
                _cc(
                    codes.standard["escc"],
                    b.ours("escc", codes.scores["escc"].display),
                    text="ESCC (Bilsky)",
                ),
                patient,
                focus=cond_ref,
                category="imaging",
            )
            obs["bodySite"] = b.site(lesion.levels)
            obs["valueCodeableConcept"] = _cc(b.ours(f.value_code(lesion.escc)), text=lesion.escc)
            if la.escc.group is not None:
                obs["interpretation"] = [
                    _cc(b.ours(f"escc.group.{la.escc.group}"), text=la.escc.note or la.escc.group)
                ]
            escc_ref = b.add(f"Observation/{lesion.id}/escc", obs)
        volume: str | None = None
        for j in range(len(lesion.prior_radiation)):
            if volume is None:
                volume = b.add(
                    f"BodyStructure/{lesion.id}",
                    {
                        "resourceType": "BodyStructure",
                        "meta": {"profile": [codes.profiles["rt_volume"]]},
                        "identifier": [
                            {"system": ids("rt-volume"), "value": f"{case.id}/{lesion.id}"}
                        ],
                        "description": f"Vertebral levels {_levels_text(lesion)}",
                        "location": _cc(codes.standard["vertebral_body"]),
                        "patient": {"reference": patient},
                    },
                )
            b.add(
                f"Procedure/{lesion.id}/rt/{j}",
                _rt_course(lesion, j, cond_ref, volume, patient, b),
            )
        noms = b.observation(_cc(b.ours("noms", codes.other["noms"])), patient, focus=cond_ref)
        noms["bodySite"] = b.site(lesion.levels)
        noms["component"] = [
            _finding_component(pillar, getattr(la.noms, pillar), b)
            for pillar in ("neurologic", "oncologic", "mechanical", "systemic")
        ]
        noms_ref = b.add(f"Observation/{lesion.id}/noms", noms)
        support = [sins_ref, noms_ref] + ([escc_ref] if escc_ref else [])
        plan: Json = {
            "resourceType": "CarePlan",
            "status": "draft",
            "intent": "proposal",
            "category": [_cc(b.ours("board_plan", codes.other["board_plan"]))],
            "title": f"Options for lesion {lesion.id} ({_levels_text(lesion)}), strongest first",
            "subject": {"reference": patient},
            "addresses": [{"reference": cond_ref}],
            "supportingInfo": [{"reference": r} for r in support],
            "activity": [_activity(rec, b) for rec in la.recommendations],
        }
        if case.assessed_on:
            plan["created"] = case.assessed_on.isoformat()
        if not plan["activity"]:
            del plan["activity"]
        b.add(f"CarePlan/{lesion.id}", plan)

    # Events
    ev = case.events
    if ev.steroids is not None:
        med = _medication("steroids", ev.steroids.drug, patient, b)
        med["dosage"] = [
            {
                "text": f"{ev.steroids.dose_mg_day:g} mg per day",
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": _qty(ev.steroids.dose_mg_day, "mg", codes)}],
            }
        ]
        b.add("MedicationStatement/steroids", med)
    for k, agent in enumerate(ev.systemic_therapy):
        med = _medication("systemic_therapy", agent.agent, patient, b)
        if agent.last_dose is not None:
            med["effectivePeriod"] = {"end": agent.last_dose.isoformat()}
        if agent.next_dose is not None:
            med["extension"] = [
                {"url": codes.extension("next-dose"), "valueDate": agent.next_dose.isoformat()}
            ]
        b.add(f"MedicationStatement/systemic/{k}", med)

    # Patient-level scores (KPS/ECOG as measured are on their mCODE profiles above)
    for code, s in a.scores.items():
        if code in ("kps", "ecog") and get_path(case, f"patient.{code}") is not None:
            continue
        b.add(f"Observation/score/{code}", _score_obs(code, s, patient, b))

    # Safety flags
    severity = {"critical": "high", "warning": "moderate", "info": "low"}
    for k, flag in enumerate(a.safety):
        issue: Json = {
            "resourceType": "DetectedIssue",
            "status": "preliminary",
            "code": _cc(b.ours(f"safety.{flag.code}", codes.safety.get(flag.code))),
            "severity": severity[flag.severity],
            "patient": {"reference": patient},
            "detail": flag.text,
        }
        if flag.lesion_id in lesion_refs:
            issue["implicated"] = [{"reference": lesion_refs[flag.lesion_id]}]
        if flag.references:
            issue["extension"] = [
                {"url": codes.extension("reference-key"), "valueString": k} for k in flag.references
            ]
        b.add(f"DetectedIssue/{k}", issue)

    # Provenance: who (which engine, knowledge and policy) produced all of the above
    device = b.add(
        "Device/engine",
        {
            "resourceType": "Device",
            "deviceName": [{"name": "metspine", "type": "manufacturer-name"}],
            "version": [
                {"type": {"text": "engine"}, "value": a.engine_version},
                {"type": {"text": "knowledge"}, "value": a.knowledge_version},
                {"type": {"text": "policy"}, "value": f"{a.policy.name} sha256:{a.policy.sha256}"},
                {"type": {"text": "codesystem"}, "value": codes.version},
            ],
        },
    )
    when = (recorded or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    b.add(
        "Provenance",
        {
            "resourceType": "Provenance",
            "target": [{"reference": e["fullUrl"]} for e in b.entries],
            "recorded": when.replace("+00:00", "Z"),
            "policy": [f"urn:metspine:policy:{a.policy.name}:sha256:{a.policy.sha256}"],
            "agent": [
                {
                    "type": _cc(Code(codes.systems["provenance_agent_type"], "assembler")),
                    "who": {"reference": device, "display": f"metspine {a.engine_version}"},
                }
            ],
            "entity": [
                {
                    "role": "source",
                    "what": {
                        "display": f"knowledge {KNOWLEDGE_VERSION}; "
                        f"{len(references())} registered references"
                    },
                }
            ],
        },
    )
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "identifier": {"system": ids("case-id"), "value": case.id},
        "entry": b.entries,
    }


def validate_bundle(bundle: Json) -> None:
    """Check a Bundle against the ``fhir.resources`` R4B models; raise FhirError naming each problem."""
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:20]]
        raise FhirError("the Bundle is not valid FHIR R4B:\n" + "\n".join(lines)) from exc
