"""FHIR R4 (mCODE) import: a case from a Bundle file or from a FHIR server's resources for one patient.

Reads what metspine's export writes (losslessly) and what a hospital's mCODE data holds: primary and
secondary cancer conditions (the vertebral levels from body sites), ECOG and Karnofsky Observations, labs by
LOINC (with the listed unit conversions), radiotherapy course summaries, and metspine's SINS, ESCC and
input Observations. It never invents a value: what it cannot find stays absent in the case and is listed
in ``ImportResult.not_found``; what it found but could not use is explained in ``notes``.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metspine.io.fhir import FhirError
from metspine.knowledge.fhir_codes import FhirCodes, Field, fhir_codes
from metspine.knowledge.histology import histology_codes
from metspine.model.case import CASE_FORMAT, ESCC_GRADES, Case
from metspine.model.levels import LEVELS, is_contiguous, level_index
from metspine.model.validation import case_from_dict

Json = dict[str, Any]

__all__ = [
    "ImportResult",
    "case_from_bundle",
    "created_ids",
    "fetch_patient_bundle",
    "import_file",
    "import_server",
    "post_transaction",
    "read_bundle_file",
]

_SKIP_STATUS = {"entered-in-error", "cancelled"}
_LOCAL_LINK = re.compile(r"([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
_CASE_ID = re.compile(r"[^A-Za-z0-9._:-]")


@dataclass
class ImportResult:
    """The imported case, the case fields not found, and what was found but not used (with why)."""

    case: Case
    source: str
    not_found: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# -- reading a Bundle -----------------------------------------------------------------------------


def read_bundle_file(path: str | Path) -> Json:
    """Read a FHIR JSON Bundle; FhirError names the file and what is wrong with it."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FhirError(f"{p}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise FhirError(f"{p}: cannot read the file: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise FhirError(f"{p}: not FHIR JSON (invalid JSON: {exc})") from exc
    if not isinstance(data, dict) or "resourceType" not in data:
        raise FhirError(f"{p}: not a FHIR resource (no resourceType)")
    if data["resourceType"] != "Bundle":
        raise FhirError(f"{p}: expected a FHIR Bundle, got a {data['resourceType']}")
    return data


class _Index:
    """Resources of a Bundle, addressable by fullUrl and by Type/id."""

    def __init__(self, bundle: Json) -> None:
        self.resources: list[Json] = []
        self.by_key: dict[str, Json] = {}
        self.keys: dict[int, set[str]] = {}
        entries = bundle.get("entry") or []
        if not isinstance(entries, list):
            raise FhirError("Bundle.entry is not a list")
        for e in entries:
            r = e.get("resource") if isinstance(e, dict) else None
            if not isinstance(r, dict) or "resourceType" not in r:
                continue
            keys: set[str] = set()
            if isinstance(e.get("fullUrl"), str):
                keys.add(e["fullUrl"])
                m = _LOCAL_LINK.search(e["fullUrl"])
                if m:
                    keys.add(f"{m.group(1)}/{m.group(2)}")
            if isinstance(r.get("id"), str):
                keys.add(f"{r['resourceType']}/{r['id']}")
            self.resources.append(r)
            self.keys[id(r)] = keys
            for k in keys:
                self.by_key.setdefault(k, r)

    def resolve(self, ref: Any) -> Json | None:
        if not isinstance(ref, dict) or not isinstance(ref.get("reference"), str):
            return None
        s = ref["reference"]
        if s in self.by_key:
            return self.by_key[s]
        m = _LOCAL_LINK.search(s)
        return self.by_key.get(f"{m.group(1)}/{m.group(2)}") if m else None

    def of_type(self, rtype: str) -> Iterator[Json]:
        return (r for r in self.resources if r["resourceType"] == rtype)

    def label(self, r: Json) -> str:
        rid = r.get("id")
        if rid:
            return f"{r['resourceType']}/{rid}"
        keys = sorted(self.keys.get(id(r), ()))
        return f"{r['resourceType']} {keys[0]}" if keys else r["resourceType"]


def _codings(cc: Any) -> list[tuple[str, str]]:
    if not isinstance(cc, dict):
        return []
    out = []
    for c in cc.get("coding") or []:
        if isinstance(c, dict) and isinstance(c.get("code"), str):
            out.append((str(c.get("system", "")), c["code"]))
    return out


def _has(cc: Any, system: str, code: str) -> bool:
    return (system, code) in _codings(cc)


def _profiles(r: Json) -> list[str]:
    meta = r.get("meta") or {}
    return [str(p).split("|")[0] for p in meta.get("profile") or []]


def _when(r: Json) -> str:
    for k in ("effectiveDateTime", "issued"):
        if isinstance(r.get(k), str):
            return str(r[k])
    period = r.get("effectivePeriod") or {}
    return str(period.get("end") or period.get("start") or "")


# -- the mapping ----------------------------------------------------------------------------------


class _Reader:
    def __init__(self, index: _Index, patient: Json, codes: FhirCodes) -> None:
        self.ix, self.patient, self.codes = index, patient, codes
        self.notes: list[str] = []
        self.pkeys = index.keys.get(id(patient), set())
        self.level_by_snomed = {c.code: lv for lv, c in codes.levels.items()}
        self.ours = codes.url

    def belongs(self, r: Json) -> bool:
        for k in ("subject", "patient"):
            target = self.ix.resolve(r.get(k))
            if target is not None:
                return target is self.patient
        return False

    def mine(self, rtype: str) -> list[Json]:
        return [
            r
            for r in self.ix.of_type(rtype)
            if self.belongs(r) and r.get("status") not in _SKIP_STATUS
        ]

    def our_code(self, cc: Any, prefix: str = "") -> str | None:
        for system, code in _codings(cc):
            if system == self.ours and code.startswith(prefix):
                return code
        return None

    # levels from body sites
    def levels(self, sites: list[Any]) -> list[str]:
        found: list[str] = []
        for cc in sites:
            lv: str | None = None
            for system, code in _codings(cc):
                if system == self.ours and code.startswith("level."):
                    lv = code.removeprefix("level.")
                elif system == self.codes.systems["snomed"] and code in self.level_by_snomed:
                    lv = self.level_by_snomed[code]
                if lv in LEVELS:
                    break
            if lv in LEVELS and lv not in found:
                found.append(lv)
        return sorted(found, key=level_index)

    # primary cancer
    def primary(self, conds: list[Json]) -> str | None:
        codes = self.codes
        found: dict[str, str] = {}
        for c in conds:
            label = self.ix.label(c)
            ours = self.our_code(c.get("code"), "primary.")
            if ours and ours.removeprefix("primary.") in histology_codes():
                found[label] = ours.removeprefix("primary.")
                continue
            icds = [
                code
                for system, code in _codings(c.get("code"))
                if system == codes.systems["icd10cm"]
            ]
            best: tuple[int, str] | None = None
            for icd in icds:
                for h, row in codes.primary.items():
                    for prefix in row.import_prefixes:
                        if icd.startswith(prefix) and (best is None or len(prefix) > best[0]):
                            best = (len(prefix), h)
            if best is not None:
                found[label] = best[1]
            else:
                shown = ", ".join(f"{s}|{k}" for s, k in _codings(c.get("code"))) or "no coding"
                self.notes.append(
                    f"{label}: primary cancer coded {shown}, which does not fix a histology "
                    "code of the catalogue; set cancer.primary by hand"
                )
        distinct = set(found.values())
        if len(distinct) > 1:
            self.notes.append(
                "several primary cancers ("
                + ", ".join(f"{k}: {v}" for k, v in sorted(found.items()))
                + "); cancer.primary left unset"
            )
            return None
        return distinct.pop() if distinct else None

    def is_secondary(self, c: Json) -> bool:
        if self.codes.profiles["secondary_cancer"] in _profiles(c):
            return True
        std = self.codes.standard["secondary_cancer"]
        if _has(c.get("code"), std.system, std.code):
            return True
        return any(
            s == self.codes.systems["icd10cm"] and k.startswith(("C77", "C78", "C79", "C7B"))
            for s, k in _codings(c.get("code"))
        )

    def is_primary(self, c: Json) -> bool:
        if self.codes.profiles["primary_cancer"] in _profiles(c):
            return True
        if self.our_code(c.get("code"), "primary."):
            return True
        return any(
            s == self.codes.systems["icd10cm"] and re.match(r"C[0-9]", k) is not None
            for s, k in _codings(c.get("code"))
        ) and not self.is_secondary(c)

    # values
    def value(self, f: Field, obj: Json, label: str) -> Any:
        if f.type == "boolean":
            v = obj.get("valueBoolean")
            return v if isinstance(v, bool) else self._unreadable(f, label)
        if f.type == "date":
            v = obj.get("valueDateTime")
            return v[:10] if isinstance(v, str) else self._unreadable(f, label)
        if f.type == "code":
            code = self.our_code(obj.get("valueCodeableConcept"), f.code + ".")
            value = code.removeprefix(f.code + ".") if code else None
            return value if value in f.values else self._unreadable(f, label)
        if "valueInteger" in obj:
            return obj["valueInteger"]
        q = obj.get("valueQuantity")
        if isinstance(q, dict) and isinstance(q.get("value"), int | float):
            unit = q.get("code") or q.get("unit")
            if f.unit and unit not in (None, f.unit):
                self.notes.append(
                    f"{label}: {f.path} in unit {unit!r}, expected {f.unit!r}; not read"
                )
                return None
            v = q["value"]
            return int(v) if f.type == "integer" and float(v).is_integer() else v
        return self._unreadable(f, label)

    def _unreadable(self, f: Field, label: str) -> None:
        self.notes.append(f"{label}: no readable {f.type} value for {f.path}; not read")
        return None


def _latest(rs: list[Json]) -> Json:
    return max(rs, key=_when)


def _set(d: Json, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        d = d.setdefault(p, {})
    d[parts[-1]] = value


def _choose(rs: list[Json], what: str, reader: _Reader) -> Json:
    if len(rs) > 1:
        pick = _latest(rs)
        reader.notes.append(
            f"{len(rs)} values for {what}; used the latest ({reader.ix.label(pick)}"
            + (f", {_when(pick)}" if _when(pick) else "")
            + ")"
        )
        return pick
    return rs[0]


def case_from_bundle(bundle: Json, source: str, patient_id: str | None = None) -> ImportResult:
    """Build a case from the resources of one patient in a Bundle (any Bundle type)."""
    codes = fhir_codes()
    if bundle.get("resourceType") != "Bundle":
        raise FhirError(f"{source}: expected a FHIR Bundle")
    ix = _Index(bundle)
    patients = list(ix.of_type("Patient"))
    if patient_id is not None:
        patients = [p for p in patients if p.get("id") == patient_id]
        if not patients:
            raise FhirError(f"{source}: no Patient with id {patient_id!r}")
    if not patients:
        raise FhirError(f"{source}: the Bundle holds no Patient resource")
    if len(patients) > 1:
        ids = ", ".join(ix.label(p) for p in patients)
        raise FhirError(f"{source}: the Bundle holds {len(patients)} Patients ({ids}); pick one")
    patient = patients[0]
    rd = _Reader(ix, patient, codes)
    data: Json = {"format": CASE_FORMAT}

    # case id: our identifier, else the Patient's id
    case_id = next(
        (
            i.get("value")
            for i in patient.get("identifier") or []
            if i.get("system") == codes.identifier_system("case-id")
        ),
        None,
    )
    if not case_id:
        raw = patient.get("id")
        if not raw:
            raise FhirError(f"{source}: the Patient has neither a metspine case id nor an id")
        case_id = _CASE_ID.sub("-", str(raw))[:128]
        rd.notes.append(f"case id taken from {ix.label(patient)}")
    data["id"] = case_id

    # conditions
    conds = [
        c
        for c in ix.of_type("Condition")
        if rd.belongs(c)
        and not any(
            k in ("entered-in-error", "refuted") for _, k in _codings(c.get("verificationStatus"))
        )
    ]
    primary = rd.primary([c for c in conds if rd.is_primary(c)])
    if primary is not None:
        _set(data, "cancer.primary", primary)

    lesions: list[Json] = []
    lesion_of: dict[int, Json] = {}  # id(Condition) -> lesion dict
    for n, c in enumerate((c for c in conds if rd.is_secondary(c)), start=1):
        label = ix.label(c)
        levels = rd.levels(c.get("bodySite") or [])
        if not levels:
            rd.notes.append(
                f"{label}: secondary cancer without a vertebral level; not a spinal lesion"
            )
            continue
        if not is_contiguous(levels):
            rd.notes.append(
                f"{label}: levels {', '.join(levels)} are not contiguous; enter them as "
                "separate lesions (not imported)"
            )
            continue
        lid = next(
            (
                i.get("value")
                for i in c.get("identifier") or []
                if i.get("system") == codes.identifier_system("lesion-id")
            ),
            None,
        ) or (c.get("id") or f"lesion-{n}")
        lesion: Json = {"id": str(lid)[:64], "levels": levels}
        lesions.append(lesion)
        lesion_of[id(c)] = lesion

    def lesion_for(r: Json) -> Json | None:
        for ref in [*(r.get("focus") or []), *(r.get("reasonReference") or [])]:
            target = ix.resolve(ref)
            if target is not None and id(target) in lesion_of:
                return lesion_of[id(target)]
        sites = r.get("bodySite")
        levels = rd.levels(sites if isinstance(sites, list) else [sites] if sites else [])
        hits = [les for les in lesions if set(levels) & set(les["levels"])]
        return hits[0] if len(hits) == 1 else None

    # observations, grouped by what they carry
    by_field: dict[tuple[int, str], list[Json]] = {}
    for obs in rd.mine("Observation"):
        code = obs.get("code")
        ours = rd.our_code(code)
        target: str | None = None
        for f in codes.fields:
            if f.carrier == "observation" and (
                ours == f.code or (f.standard and _has(code, f.standard.system, f.standard.code))
            ):
                target = f.path
        for lab in codes.labs:
            if _has(code, codes.systems["loinc"], lab.loinc):
                target = lab.field
        for which in ("kps", "ecog"):
            for key in (which, f"{which}_snomed"):
                std = codes.standard[key]
                if _has(code, std.system, std.code):
                    target = f"patient.{which}"
        for which in ("sins", "escc"):
            std = codes.standard[which]
            if ours == which or _has(code, std.system, std.code):
                target = f"lesion.{which}"
        if target is None:
            continue
        owner = 0
        if target.startswith("lesion."):
            les = lesion_for(obs)
            if les is None:
                rd.notes.append(
                    f"{ix.label(obs)}: {target} not linked to a spinal lesion; not read"
                )
                continue
            owner = id(les)
        by_field.setdefault((owner, target), []).append(obs)

    lesion_by_owner = {id(les): les for les in lesions}
    for (owner, target), rs in by_field.items():
        les = lesion_by_owner.get(owner)
        what = f"{target} of lesion {les['id']}" if les else target
        obs = _choose(rs, what, rd)
        label = ix.label(obs)
        if target in ("patient.kps", "patient.ecog"):
            value = _performance(obs, target.removeprefix("patient."), codes)
            if value is None:
                rd.notes.append(f"{label}: no readable {target} value; not read")
            else:
                _set(data, target, value)
        elif target.startswith("patient.labs."):
            lab = next(lb for lb in codes.labs if lb.field == target)
            q = obs.get("valueQuantity") or {}
            unit = q.get("code") or q.get("unit")
            v = q.get("value")
            if not isinstance(v, int | float):
                rd.notes.append(f"{label}: {target} has no numeric value; not read")
            elif unit == lab.unit:
                _set(data, target, v)
            elif unit in lab.convert:
                _set(data, target, round(v * lab.convert[unit], 4))
                rd.notes.append(f"{label}: {target} converted from {v} {unit} to {lab.unit}")
            else:
                rd.notes.append(
                    f"{label}: {target} in unit {unit!r} that metspine does not convert"
                )
        elif target == "lesion.sins" and les is not None:
            sins: Json = {}
            for comp in obs.get("component") or []:
                cc = rd.our_code(comp.get("code"), "lesion.sins.")
                if cc is None:
                    continue
                f = codes.field(cc)
                if "valueCodeableConcept" in comp:
                    value = rd.value(f, comp, label)
                    if value is not None:
                        sins[f.key.removeprefix("sins.")] = value
            if sins:
                les["sins"] = sins
        elif target == "lesion.escc" and les is not None:
            grade = _escc(obs, rd)
            if grade is None:
                rd.notes.append(
                    f"{label}: no readable ESCC grade (a coded or text grade); not read"
                )
            else:
                les["escc"] = grade
        else:
            f = codes.field(target)
            value = rd.value(f, obs, label)
            if value is not None:
                _set(les if les is not None else data, f.key if les else f.path, value)

    # radiotherapy courses
    for proc in rd.mine("Procedure"):
        std = codes.standard["radiotherapy_course"]
        if not (
            codes.profiles["radiotherapy_course"] in _profiles(proc)
            or _has(proc.get("code"), std.system, std.code)
        ):
            continue
        label = ix.label(proc)
        les = lesion_for(proc)
        if les is None:
            rd.notes.append(f"{label}: radiotherapy course not linked to a spinal lesion; not read")
            continue
        course = _course(proc, label, rd)
        if course is not None:
            les.setdefault("prior_radiation", []).append(course)

    # medications
    for med in rd.mine("MedicationStatement"):
        kind = rd.our_code(med.get("category"), "medication.")
        label = ix.label(med)
        drug = _drug(med)
        if kind == "medication.steroids":
            dose = _dose_mg_day(med)
            if drug is None or dose is None:
                rd.notes.append(
                    f"{label}: steroid without a readable drug and daily dose; not read"
                )
            elif "steroids" in data.get("events", {}):
                rd.notes.append(f"{label}: a second steroid statement; not read")
            else:
                _set(data, "events.steroids", {"drug": drug, "dose_mg_day": dose})
        elif kind == "medication.systemic_therapy":
            if drug is None:
                rd.notes.append(f"{label}: systemic agent without a name; not read")
                continue
            agent: Json = {"agent": drug}
            period = med.get("effectivePeriod") or {}
            last = period.get("end") or med.get("effectiveDateTime")
            if isinstance(last, str):
                agent["last_dose"] = last[:10]
            for ext in med.get("extension") or []:
                if ext.get("url") == codes.extension("next-dose") and ext.get("valueDate"):
                    agent["next_dose"] = ext["valueDate"]
            data.setdefault("events", {}).setdefault("systemic_therapy", []).append(agent)

    if lesions:
        data["lesions"] = lesions
    case = case_from_dict(data, source)
    return ImportResult(case, source, _not_found(case, codes), rd.notes)


def _performance(obs: Json, which: str, codes: FhirCodes) -> int | None:
    if isinstance(obs.get("valueInteger"), int):
        return int(obs["valueInteger"])
    q = obs.get("valueQuantity")
    if isinstance(q, dict) and isinstance(q.get("value"), int | float):
        return int(q["value"]) if float(q["value"]).is_integer() else None
    answers = codes.ecog_answers if which == "ecog" else codes.kps_answers
    reverse = {v: k for k, v in answers.items()}
    if which == "kps":
        reverse["LA9627-6"] = 0  # LA9627-6 is 0 on the KPS list and 5 on the ECOG list
    for system, code in _codings(obs.get("valueCodeableConcept")):
        if system == codes.systems["loinc"] and code in reverse:
            return reverse[code]
    return None


def _escc(obs: Json, rd: _Reader) -> str | None:
    if "valueInteger" in obs or "valueQuantity" in obs:
        rd.notes.append(f"{rd.ix.label(obs)}: ESCC given as a number; a grade is a code, not read")
        return None
    cc = obs.get("valueCodeableConcept")
    code = rd.our_code(cc, "lesion.escc.")
    if code:
        grade = code.removeprefix("lesion.escc.")
        return grade if grade in ESCC_GRADES else None
    text = (cc or {}).get("text") if isinstance(cc, dict) else None
    return text if text in ESCC_GRADES else None


def _course(proc: Json, label: str, rd: _Reader) -> Json | None:
    codes = rd.codes
    dose_gy: float | None = None
    fractions: int | None = None
    cord: float | None = None
    for ext in proc.get("extension") or []:
        if ext.get("url") == codes.profiles["rt_dose_delivered"]:
            for sub in ext.get("extension") or []:
                if sub.get("url") == "totalDoseDelivered":
                    q = sub.get("valueQuantity") or {}
                    unit = q.get("code") or q.get("unit")
                    if isinstance(q.get("value"), int | float) and unit in ("cGy", "Gy"):
                        dose_gy = q["value"] / 100 if unit == "cGy" else q["value"]
                elif sub.get("url") == "fractionsDelivered":
                    fractions = sub.get("valueUnsignedInt")
        elif ext.get("url") == codes.extension("cord-max-eqd2"):
            q = ext.get("valueQuantity") or {}
            if (q.get("code") or q.get("unit")) == "Gy":
                cord = q.get("value")
    if dose_gy is None or fractions is None:
        rd.notes.append(f"{label}: radiotherapy course without total dose (cGy/Gy) and fractions")
        return None
    course: Json = {"dose_gy": round(dose_gy, 4), "fractions": fractions}
    period = proc.get("performedPeriod") or {}
    end = period.get("end") or proc.get("performedDateTime")
    if isinstance(end, str):
        course["end_date"] = end[:10]
    if cord is not None:
        course["cord_max_eqd2_gy"] = cord
    return course


def _drug(med: Json) -> str | None:
    cc = med.get("medicationCodeableConcept") or {}
    if cc.get("text"):
        return str(cc["text"])
    for c in cc.get("coding") or []:
        if c.get("display"):
            return str(c["display"])
    return None


def _dose_mg_day(med: Json) -> float | None:
    for dosage in med.get("dosage") or []:
        rep = (dosage.get("timing") or {}).get("repeat") or {}
        for dr in dosage.get("doseAndRate") or []:
            q = dr.get("doseQuantity") or {}
            if (q.get("code") or q.get("unit")) != "mg" or not isinstance(
                q.get("value"), int | float
            ):
                continue
            freq, period, unit = rep.get("frequency"), rep.get("period"), rep.get("periodUnit")
            if unit == "d" and isinstance(freq, int) and isinstance(period, int | float) and period:
                return float(q["value"] * freq / period)
    return None


def _not_found(case: Case, codes: FhirCodes) -> list[str]:
    """Every case field that the import left unknown (lists count as not found when empty)."""
    from metspine.io.fhir import get_path

    out: list[str] = []
    case_paths = [f.path for f in codes.fields if f.scope == "case"]
    case_paths += ["patient.kps", "patient.ecog", "cancer.primary", "events.steroids"]
    case_paths += [lab.field for lab in codes.labs]
    for path in sorted(case_paths, key=_order):
        if get_path(case, path) is None:
            out.append(path)
    if not case.events.systemic_therapy:
        out.append("events.systemic_therapy")
    if not case.lesions:
        out.append("lesions")
    for i, lesion in enumerate(case.lesions):
        for f in codes.fields:
            if f.scope == "lesion" and get_path(lesion, f.key) is None:
                out.append(f"lesions[{i}].{f.key}")
        if not lesion.prior_radiation:
            out.append(f"lesions[{i}].prior_radiation")
    return out


def _order(path: str) -> tuple[int, str]:
    sections = ("assessed_on", "patient", "cancer", "events")
    return (next((i for i, s in enumerate(sections) if path.startswith(s)), 9), path)


# -- a FHIR server --------------------------------------------------------------------------------

_TIMEOUT_S = 30.0
_MAX_PAGES = 100


def _request(url: str, body: Json | None = None, method: str = "GET") -> Json:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/fhir+json")
    if data is not None:
        req.add_header("Content-Type", "application/fhir+json")
    try:
        with urllib.request.urlopen(req, timeout=_TIMEOUT_S) as resp:
            payload = resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        raise FhirError(f"{method} {url}: HTTP {exc.code} {exc.reason}. {detail}".strip()) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FhirError(f"cannot reach the FHIR server at {url}: {reason}") from exc
    try:
        out = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise FhirError(f"{method} {url}: the answer is not FHIR JSON") from exc
    if not isinstance(out, dict):
        raise FhirError(f"{method} {url}: the answer is not a FHIR resource")
    return out


def fetch_patient_bundle(base_url: str, patient_id: str) -> Json:
    """One patient's Patient, Conditions, Observations, Procedures and MedicationStatements."""
    base = base_url.rstrip("/")
    pid = urllib.parse.quote(patient_id, safe="")
    patient = _request(f"{base}/Patient/{pid}")
    if patient.get("resourceType") != "Patient":
        raise FhirError(f"{base}/Patient/{pid}: not a Patient ({patient.get('resourceType')})")
    entries: list[Json] = [{"fullUrl": f"{base}/Patient/{pid}", "resource": patient}]
    for rtype in ("Condition", "Observation", "Procedure", "MedicationStatement"):
        url: str | None = f"{base}/{rtype}?patient={pid}&_count=200"
        for _ in range(_MAX_PAGES):
            if url is None:
                break
            page = _request(url)
            for e in page.get("entry") or []:
                if (e.get("search") or {}).get("mode", "match") == "match" and "resource" in e:
                    entries.append({"fullUrl": e.get("fullUrl"), "resource": e["resource"]})
            url = next(
                (lk.get("url") for lk in page.get("link") or [] if lk.get("relation") == "next"),
                None,
            )
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def post_transaction(base_url: str, bundle: Json) -> Json:
    """POST a transaction Bundle; returns the transaction-response Bundle."""
    resp = _request(base_url.rstrip("/"), bundle, method="POST")
    if resp.get("resourceType") != "Bundle":
        raise FhirError(f"{base_url}: the transaction answer is a {resp.get('resourceType')}")
    return resp


def import_file(path: str | Path, patient_id: str | None = None) -> ImportResult:
    return case_from_bundle(read_bundle_file(path), str(path), patient_id)


def import_server(base_url: str, patient_id: str) -> ImportResult:
    bundle = fetch_patient_bundle(base_url, patient_id)
    source = f"{base_url.rstrip('/')}/Patient/{patient_id}"
    return case_from_bundle(bundle, source, patient_id)


def created_ids(response: Json, rtype: str) -> list[str]:
    """The server ids of the resources of one type that a transaction created."""
    out: list[str] = []
    for e in response.get("entry") or []:
        loc = (e.get("response") or {}).get("location") or ""
        m = re.search(rf"{rtype}/([A-Za-z0-9\-.]{{1,64}})", str(loc))
        if m:
            out.append(m.group(1))
    return out
