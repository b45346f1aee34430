"""CDS Hooks 2.0 face (hl7_cds_hooks_2_0): discovery, ``patient-view``, ``order-select``, feedback.

    GET  /cds-services                         discovery (no patient data; no token needed)
    POST /cds-services/{id}                    a hook call: signed JWT, prefetch or fhirServer → cards
    POST /cds-services/{id}/feedback           what the user did with a card (signed JWT)

A call builds a Case with the FHIR import (``io.fhir_import.case_from_bundle``) from the prefetched
resources, fetching from ``fhirServer`` (with ``fhirAuthorization``) any template the EHR did not
satisfy; when a required template can be had neither way the answer is 412. The Case is assessed by
``metspine.assess`` and the cards render that Assessment (``api.cds_cards``). ``order-select`` reads
``context.draftOrders``: orders are classified by ``knowledge/cds_orders.toml``; a dated surgery or
radiotherapy order becomes the case's planned date (``events.planned_surgery`` /
``planned_radiation_start``) so that the engine, not this face, checks the radiation–surgery interval.

Errors are problem details (RFC 9457); refusals of the JWT are 401. Nothing about the patient is logged.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import re
import urllib.parse
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, Literal

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from metspine.api import cds_cards as cc
from metspine.api.cds_auth import AuthError, CdsConfig, Verifier
from metspine.api.problems import problem_response
from metspine.engine import assess
from metspine.io.fhir import FhirError
from metspine.io.fhir_import import case_from_bundle
from metspine.knowledge.cds_orders import CdsOrders, cds_orders
from metspine.knowledge.fhir_codes import fhir_codes
from metspine.model.assessment import Assessment, SafetyFlag
from metspine.model.case import Case
from metspine.model.levels import LEVELS, level_index
from metspine.model.validation import CaseError, case_from_dict

Json = dict[str, Any]
log = logging.getLogger("metspine.cds")
router = APIRouter(tags=["cds-hooks"])

_MAX_PAGES = 20
_CARD_MEMORY = 10_000


class CdsProblem(Exception):  # noqa: N818 - becomes a problem details response
    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers


# -- services and prefetch templates ---------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    key: str
    query: str
    required: bool
    why: str


@cache
def _observation_codes() -> str:
    """The Observation codes the import reads: standard codes, then any code of our CodeSystem."""
    codes = fhir_codes()
    tokens: list[str] = []
    for key in ("ecog", "kps", "ecog_snomed", "kps_snomed", "sins", "escc"):
        std = codes.standard[key]
        tokens.append(f"{std.system}|{std.code}")
    tokens += [f"{codes.systems['loinc']}|{lab.loinc}" for lab in codes.labs]
    tokens += [f"{f.standard.system}|{f.standard.code}" for f in codes.fields if f.standard]
    tokens.append(f"{codes.url}|")
    return ",".join(dict.fromkeys(tokens))


@cache
def templates() -> tuple[Template, ...]:
    codes = fhir_codes()
    rt = codes.standard["radiotherapy_course"]
    pid = "{{context.patientId}}"
    return (
        Template("patient", f"Patient/{pid}", True, "the patient"),
        Template(
            "conditions",
            f"Condition?patient={pid}",
            True,
            "primary and secondary (spinal) cancer conditions",
        ),
        Template(
            "observations",
            f"Observation?patient={pid}&code={_observation_codes()}",
            True,
            "ECOG/KPS, labs, SINS, ESCC and metspine's inputs",
        ),
        Template(
            "procedures",
            f"Procedure?patient={pid}&code={rt.system}|{rt.code}",
            True,
            "radiotherapy courses (re-irradiation, radiation-surgery interval)",
        ),
        Template(
            "medications",
            f"MedicationStatement?patient={pid}",
            True,
            "steroids and systemic therapy (drug holds)",
        ),
    )


CONSULTS = Template(
    "consults",
    "ServiceRequest?patient={{context.patientId}}",
    False,
    "spine surgery consultations already requested or done",
)


@dataclass(frozen=True)
class Service:
    id: str
    hook: Literal["patient-view", "order-select"]
    title: str
    description: str
    prefetch: tuple[Template, ...]

    def discovery(self) -> Json:
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": {t.key: t.query for t in self.prefetch},
            "usageRequirements": (
                "Signed JWT (RS/PS/ES) from a configured issuer; aud = this endpoint's URL. Prefetch "
                "or fhirServer with read access to Patient, Condition, Observation, Procedure, "
                "MedicationStatement"
                + (", ServiceRequest" if self.hook == "order-select" else "")
                + "."
            ),
        }


@cache
def services() -> dict[str, Service]:
    base = templates()
    return {
        "metspine-patient-view": Service(
            "metspine-patient-view",
            "patient-view",
            "metspine: metastatic spine NOMS summary",
            "Per spinal lesion: SINS, ESCC, the NOMS pillars and the treatment options with their "
            "strength, and the safety checks; a card naming the data still missing.",
            base,
        ),
        "metspine-order-select": Service(
            "metspine-order-select",
            "order-select",
            "metspine: spine radiotherapy and surgery order checks",
            "Warns when radiotherapy/SBRT is ordered for a lesion with SINS 7 or more and no spine "
            "surgery consultation on record, or when spine surgery or radiotherapy is ordered inside "
            "the radiation-surgery interval of the metspine policy.",
            (*base, CONSULTS),
        ),
    }


# -- request models ----------------------------------------------------------------------------------


class FhirAuthorization(BaseModel):
    model_config = ConfigDict(extra="allow")
    access_token: str = Field(min_length=1)
    token_type: str = "Bearer"
    expires_in: int | None = None
    scope: str | None = None
    subject: str | None = None


class HookRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    hook: str
    hookInstance: str = Field(min_length=1)  # noqa: N815
    fhirServer: str | None = None  # noqa: N815
    fhirAuthorization: FhirAuthorization | None = None  # noqa: N815
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _server_with_token(self) -> HookRequest:
        if self.fhirAuthorization is not None and not self.fhirServer:
            raise ValueError("fhirAuthorization needs a fhirServer")
        return self


class AcceptedSuggestion(BaseModel):
    id: str


class OverrideReason(BaseModel):
    model_config = ConfigDict(extra="allow")
    reason: cc.Coding | None = None
    userComment: str | None = None  # noqa: N815


class FeedbackItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    card: str = Field(min_length=1)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = None  # noqa: N815
    overrideReason: OverrideReason | None = None  # noqa: N815
    outcomeTimestamp: datetime  # noqa: N815

    @model_validator(mode="after")
    def _accepted_needs_suggestions(self) -> FeedbackItem:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("an accepted outcome lists acceptedSuggestions")
        return self


class Feedback(BaseModel):
    model_config = ConfigDict(extra="allow")
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=500)


# -- state -------------------------------------------------------------------------------------------


@dataclass
class CdsState:
    """Per application: trust configuration, JWT verifier, issued cards, feedback counts."""

    config: CdsConfig
    verifier: Verifier
    cards: OrderedDict[str, tuple[str, str]] = field(default_factory=OrderedDict)
    warm: bool = False
    feedback: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def remember(self, service_id: str, kind: str, card: cc.Card) -> None:
        self.cards[card.uuid] = (service_id, kind)
        while len(self.cards) > _CARD_MEMORY:
            self.cards.popitem(last=False)


def install(app: FastAPI, config: CdsConfig | None = None) -> None:
    """Mount the CDS Hooks routes; the configuration defaults to ``METSPINE_CDS_CONFIG``."""
    cfg = config if config is not None else CdsConfig.from_env()
    app.state.cds = CdsState(cfg, Verifier(cfg))
    app.include_router(router)


def _state(request: Request) -> CdsState:
    st: CdsState = request.app.state.cds
    return st


def _problem(request: Request, p: CdsProblem) -> Response:
    return problem_response(request, p.status, p.detail, p.errors, p.headers)


def _endpoint(request: Request, config: CdsConfig, path: str) -> str:
    base = config.base_url or str(request.base_url)
    return base.rstrip("/") + path


async def _verify(request: Request, st: CdsState, audiences: list[str]) -> dict[str, Any]:
    try:
        return await st.verifier.verify(request.headers.get("authorization"), audiences)
    except AuthError as exc:
        log.info("cds token refused: %s", exc)
        raise CdsProblem(
            401,
            f"CDS Hooks JWT refused: {exc}",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from exc


async def _json_body(request: Request, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise CdsProblem(413, f"the request body is larger than {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise CdsProblem(413, f"the request body is larger than {limit} bytes")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CdsProblem(400, "the request body is not JSON") from exc


def _invalid(exc: ValidationError) -> CdsProblem:
    errors = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ())),
            "message": str(e.get("msg", "invalid")),
        }
        for e in exc.errors()
    ]
    return CdsProblem(
        400, "invalid CDS Hooks request: " + ", ".join(e["field"] for e in errors), errors
    )


# -- prefetch and the FHIR server ---------------------------------------------------------------------


def _render(query: str, patient_id: str) -> str:
    return query.replace("{{context.patientId}}", urllib.parse.quote(patient_id, safe=""))


async def _fetch(client: httpx.AsyncClient, url: str) -> Json:
    r = await client.get(url)
    if r.status_code == 404 and "?" not in url:
        return {}  # a read of a missing resource: no data (the prefetch null)
    r.raise_for_status()
    out = r.json()
    if not isinstance(out, dict) or "resourceType" not in out:
        raise ValueError("not a FHIR resource")
    if out["resourceType"] != "Bundle":
        return out
    entries = list(out.get("entry") or [])
    nxt = next(
        (lk.get("url") for lk in out.get("link") or [] if lk.get("relation") == "next"), None
    )
    for _ in range(_MAX_PAGES):
        if not nxt:
            break
        page = (await client.get(nxt)).raise_for_status().json()
        entries += page.get("entry") or []
        nxt = next(
            (lk.get("url") for lk in page.get("link") or [] if lk.get("relation") == "next"), None
        )
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


async def gather(
    svc: Service, req: HookRequest, patient_id: str, claims: dict[str, Any], config: CdsConfig
) -> tuple[dict[str, Any], list[str]]:
    """The prefetch values for every template (fetched where absent) and the optional keys left unknown.

    A key sent as null means "no data" (CDS Hooks 2.0); a key not sent was not satisfied.
    """
    given = dict(req.prefetch or {})
    absent = [t for t in svc.prefetch if t.key not in given]
    unknown: list[str] = []
    if not absent:
        return given, unknown
    if not req.fhirServer:
        required = [t.key for t in absent if t.required]
        if required:
            raise CdsProblem(
                412,
                "prefetch " + ", ".join(required) + " missing and no fhirServer to fetch it from",
                [{"field": f"prefetch.{k}", "message": "missing"} for k in required],
            )
        return given, [t.key for t in absent]
    server = req.fhirServer.rstrip("/")
    issuer = config.issuer(str(claims.get("iss")))
    if issuer is not None and issuer.fhir_servers and server not in issuer.fhir_servers:
        raise CdsProblem(412, "fhirServer is not a FHIR server this issuer may point to")
    headers = {"Accept": "application/fhir+json"}
    if req.fhirAuthorization is not None:
        headers["Authorization"] = f"Bearer {req.fhirAuthorization.access_token}"
    async with httpx.AsyncClient(timeout=config.fhir_timeout_s, headers=headers) as client:
        results = await asyncio.gather(
            *(_fetch(client, f"{server}/{_render(t.query, patient_id)}") for t in absent),
            return_exceptions=True,
        )
    failed: list[str] = []
    for t, res in zip(absent, results, strict=True):
        if isinstance(res, BaseException):
            if t.required:
                failed.append(t.key)
            else:
                unknown.append(t.key)
        else:
            given[t.key] = res or None
    if failed:
        raise CdsProblem(
            412,
            "could not fetch " + ", ".join(failed) + " from the fhirServer",
            [
                {
                    "field": f"prefetch.{k}",
                    "message": "not prefetched; the FHIR server did not answer",
                }
                for k in failed
            ],
        )
    return given, unknown


def prefetch_bundle(values: dict[str, Any], keys: list[str]) -> Json:
    """One collection Bundle of the prefetched resources (search outcomes dropped)."""
    entries: list[Json] = []
    for key in keys:
        v = values.get(key)
        if v is None:
            continue
        if not isinstance(v, dict) or "resourceType" not in v:
            raise CdsProblem(
                400,
                f"prefetch.{key} is not a FHIR resource",
                [{"field": f"prefetch.{key}", "message": "not a FHIR resource"}],
            )
        if v["resourceType"] == "Bundle":
            for e in v.get("entry") or []:
                if not isinstance(e, dict) or not isinstance(e.get("resource"), dict):
                    continue
                if (e.get("search") or {}).get("mode") == "outcome":
                    continue
                entry: Json = {"resource": e["resource"]}
                if isinstance(e.get("fullUrl"), str):
                    entry["fullUrl"] = e["fullUrl"]
                entries.append(entry)
        elif v["resourceType"] != "OperationOutcome":
            entries.append({"resource": v})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def build_case(bundle: Json, patient_id: str, today: date) -> Case:
    """The FHIR import's Case; ``assessed_on`` is today's date when the data do not say (a live call)."""
    case = case_from_bundle(bundle, "CDS Hooks prefetch", patient_id).case
    if case.assessed_on is None:
        case = case.model_copy(update={"assessed_on": today})
    return case


# -- orders ------------------------------------------------------------------------------------------

_LEVEL_TEXT = re.compile(
    r"(?<![A-Za-z0-9])([CTLS])(\d{1,2})(?:\s*[-–]\s*([CTLS])?(\d{1,2}))?(?![0-9])"
)


def _codings(cc_: Any) -> list[tuple[str, str]]:
    if not isinstance(cc_, dict):
        return []
    return [
        (str(c.get("system", "")), str(c["code"]))
        for c in cc_.get("coding") or []
        if isinstance(c, dict) and isinstance(c.get("code"), str)
    ]


def _texts(cc_: Any) -> list[str]:
    if not isinstance(cc_, dict):
        return []
    out = [str(cc_["text"])] if isinstance(cc_.get("text"), str) else []
    out += [
        str(c["display"])
        for c in cc_.get("coding") or []
        if isinstance(c, dict) and c.get("display")
    ]
    return out


def _levels_in_text(text: str) -> list[str]:
    found: list[str] = []
    for m in _LEVEL_TEXT.finditer(text):
        first = f"{m.group(1)}{int(m.group(2))}"
        if first not in LEVELS:
            continue
        last = first
        if m.group(4):
            last = f"{m.group(3) or m.group(1)}{int(m.group(4))}"
            if last not in LEVELS:
                last = first
        lo, hi = sorted((level_index(first), level_index(last)))
        found += [lv for lv in LEVELS if lo <= level_index(lv) <= hi]
    return found


@dataclass
class Order:
    ref: str  # "ServiceRequest/id" (or the type alone when it has no id)
    classes: set[str]
    text: str
    on: date | None
    levels: list[str]
    conditions: list[str]  # "Condition/id" of reasonReference
    status: str | None
    has_site: bool = False  # a bodySite is given (spinal or not)


def read_order(r: Json, orders: CdsOrders) -> Order:
    codes = fhir_codes()
    by_snomed = {c.code: lv for lv, c in codes.levels.items()}
    codings = _codings(r.get("code"))
    texts = _texts(r.get("code"))
    classes = orders.classify(codings, texts)
    levels: list[str] = []
    sites = r.get("bodySite") or []
    for site in sites if isinstance(sites, list) else [sites]:
        for system, code in _codings(site):
            if system == codes.url and code.startswith("level."):
                levels.append(code.removeprefix("level."))
            elif system == codes.systems["snomed"] and code in by_snomed:
                levels.append(by_snomed[code])
        levels += _levels_in_text(" ".join(_texts(site)))
    for t in texts:
        levels += _levels_in_text(t)
    levels = sorted({lv for lv in levels if lv in LEVELS}, key=level_index)
    when = r.get("occurrenceDateTime")
    if not isinstance(when, str):
        when = (r.get("occurrencePeriod") or {}).get("start")
    if not isinstance(when, str):
        when = r.get("performedDateTime")
    on: date | None = None
    if isinstance(when, str):
        try:
            on = date.fromisoformat(when[:10])
        except ValueError:
            on = None
    conds = [
        str(ref["reference"]).split("/_history")[0]
        for ref in r.get("reasonReference") or []
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str)
    ]
    rid = r.get("id")
    label = texts[0] if texts else ""
    if not label:
        label = orders.classes[min(classes)].display if classes else str(r["resourceType"])
    return Order(
        ref=f"{r['resourceType']}/{rid}" if rid else str(r["resourceType"]),
        classes=classes,
        text=label,
        on=on,
        levels=levels,
        conditions=["/".join(c.split("/")[-2:]) for c in conds],
        status=r.get("status") if isinstance(r.get("status"), str) else None,
        has_site=bool(sites),
    )


def _lesion_keys(bundle: Json) -> dict[str, str]:
    """``Condition/<id>`` → the lesion id the import gives that Condition (identifier, else the id)."""
    ids = fhir_codes().identifier_system("lesion-id")
    out: dict[str, str] = {}
    for e in bundle.get("entry") or []:
        r = e.get("resource") or {}
        if r.get("resourceType") != "Condition" or not r.get("id"):
            continue
        lid = next(
            (i.get("value") for i in r.get("identifier") or [] if i.get("system") == ids), None
        )
        out[f"Condition/{r['id']}"] = str(lid or r["id"])[:64]
    return out


@dataclass
class Consult:
    state: Literal["recorded", "ordered_now", "none_recorded", "unknown"]
    what: str = ""


def consult_status(
    values: dict[str, Any], unknown: list[str], drafts: list[Order], orders: CdsOrders
) -> Consult:
    if any("consult" in o.classes for o in drafts):
        return Consult("ordered_now", next(o.ref for o in drafts if "consult" in o.classes))
    if "consults" in unknown:
        return Consult("unknown")
    v = values.get("consults")
    if v is None:
        return Consult("none_recorded")
    resources = (
        [e.get("resource") or {} for e in v.get("entry") or []]
        if v.get("resourceType") == "Bundle"
        else [v]
    )
    for r in resources:
        if r.get("resourceType") not in ("ServiceRequest", "Encounter", "Procedure"):
            continue
        if r.get("status") not in orders.consult_statuses:
            continue
        o = read_order(r, orders)
        if "consult" in o.classes:
            when = f" ({o.on.isoformat()})" if o.on else ""
            return Consult("recorded", f"{o.ref}{when}")
    return Consult("none_recorded")


def what_if(case: Case, drafts: list[Order]) -> Case:
    """The case with the dated draft orders as its planned surgery / radiotherapy start."""
    surgery = sorted(o.on for o in drafts if "spine_surgery" in o.classes and o.on)
    rt = sorted(o.on for o in drafts if "radiotherapy" in o.classes and o.on)
    if not surgery and not rt:
        return case
    data = case.model_dump(mode="json", exclude_none=True)
    events = data.setdefault("events", {})
    if surgery:
        events["planned_surgery"] = surgery[0].isoformat()
    if rt:
        events["planned_radiation_start"] = rt[0].isoformat()
    return case_from_dict(data, "CDS Hooks draft orders")


_CONSULT_PHRASE = {
    "recorded": "surgical consultation on record",
    "ordered_now": "surgical consultation ordered with it",
    "none_recorded": "no spine surgery consultation on record",
    "unknown": "surgical consultation not known (no data)",
}


def _consult_order(patient_id: str, condition: str | None, orders: CdsOrders) -> Json:
    code = orders.consult_code
    sr: Json = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "code": {"coding": [code.coding()], "text": orders.consult_text},
        "subject": {"reference": f"Patient/{patient_id}"},
    }
    if condition:
        sr["reasonReference"] = [{"reference": condition}]
    return sr


def _override_reasons(orders: CdsOrders) -> list[cc.Coding]:
    return [
        cc.Coding(system=orders.ours, code=r.code, display=r.display)
        for r in orders.override_reasons
    ]


def order_select_cards(
    a: Assessment,
    drafts: list[Order],
    consult: Consult,
    lesion_of: dict[str, str],
    patient_id: str,
    config: CdsConfig,
) -> list[tuple[str, cc.Card]]:
    """Cards for the selected draft orders, each rendering an Assessment safety entry."""
    orders = cds_orders()
    out: list[tuple[str, cc.Card]] = []
    src = cc.source(config.source_url)
    flags_by_lesion: dict[str, SafetyFlag] = {
        f.lesion_id: f for f in a.safety if f.code == "sins_surgical_consult" and f.lesion_id
    }
    condition_of = {v: k for k, v in lesion_of.items()}
    consult_ok = consult.state in ("recorded", "ordered_now")
    for o in drafts:
        if "radiotherapy" not in o.classes:
            continue
        kind = "SBRT" if "sbrt" in o.classes else "Radiotherapy"
        linked = [lesion_of[c] for c in o.conditions if c in lesion_of]
        targets = [la for la in a.lesions if la.id in linked or set(la.levels) & set(o.levels)]
        named = bool(targets)
        if not named and (o.levels or linked or o.has_site):
            continue  # the order names a site, and it is none of the spinal lesions
        for la in targets if named else a.lesions:
            flag = flags_by_lesion.get(la.id)
            if flag is None:
                continue
            sins = cc.sins_label(la.scores.get("sins"))
            where = cc.levels_label(la.levels)
            if named:
                summary = f"{kind} order at {where}: {sins}; {_CONSULT_PHRASE[consult.state]}"
                indicator = "info" if consult_ok else cc.worst([flag.severity], "warning")
            else:
                summary = (
                    f"{kind} order names no spinal level; {where} has {sins}; "
                    f"{_CONSULT_PHRASE[consult.state]}"
                )
                indicator = "info"
            rows = [f"**{flag.text}**", ""]
            rows.append(
                {
                    "recorded": f"Surgical consultation on record: {consult.what}.",
                    "ordered_now": "A spine surgery consultation is among the orders being placed.",
                    "none_recorded": "No spine surgery consultation was found among the patient's "
                    "ServiceRequests.",
                    "unknown": "Whether a spine surgery consultation took place is unknown: the EHR sent "
                    "no consultation data and none could be fetched.",
                }[consult.state]
            )
            if la.recommendations:
                rows += ["", f"**metspine options for {where}, strongest first**", ""]
                rows += [
                    f"{i}. {cc.option_label(r.code)} ({r.strength})"
                    for i, r in enumerate(la.recommendations[:4], start=1)
                ]
            rows += ["", cc.provenance(a)]
            suggestions: list[cc.Suggestion] = []
            if not consult_ok:
                suggestions.append(
                    cc.Suggestion(
                        label="Order a spine surgery consultation",
                        isRecommended=True,
                        actions=[
                            cc.Action(
                                type="create",
                                description=orders.consult_text,
                                resource=_consult_order(
                                    patient_id, condition_of.get(la.id), orders
                                ),
                            )
                        ],
                    )
                )
            if "/" in o.ref and not consult_ok:
                suggestions.append(
                    cc.Suggestion(
                        label=f"Remove the draft {kind.lower()} order",
                        actions=[
                            cc.Action(
                                type="delete", description=f"Remove {o.text}", resourceId=o.ref
                            )
                        ],
                    )
                )
            card = cc.Card(
                summary=cc.clip(summary),
                detail="\n".join(rows),
                indicator=indicator,
                source=src,
                suggestions=suggestions or None,
                selectionBehavior="any" if suggestions else None,
                overrideReasons=_override_reasons(orders) if not consult_ok else None,
                links=cc.reference_links(flag.references) or None,
            )
            out.append(("sins_surgical_consult", card))
    # The radiation-surgery interval: the engine's flags on the case with the draft orders' dates.
    surgery = [o for o in drafts if "spine_surgery" in o.classes]
    rt_orders = [o for o in drafts if "radiotherapy" in o.classes]
    anchor: Order | None = (surgery or rt_orders)[0] if (surgery or rt_orders) else None
    if anchor is not None:
        seen: set[str] = set()
        for f in a.safety:
            if f.code != "rt_surgery_interval" or f.severity == "info" or f.text in seen:
                continue
            seen.add(f.text)
            suggestions = []
            if "/" in anchor.ref:
                suggestions.append(
                    cc.Suggestion(
                        label="Remove the draft order (to reschedule)",
                        actions=[
                            cc.Action(
                                type="delete",
                                description=f"Remove {anchor.text}",
                                resourceId=anchor.ref,
                            )
                        ],
                    )
                )
            card = cc.Card(
                summary=cc.clip(f"Radiation-surgery interval: {f.text}"),
                detail="\n".join(
                    [f"**{f.text}**", "", f"Order: {anchor.text}.", "", cc.provenance(a)]
                ),
                indicator=f.severity,
                source=src,
                suggestions=suggestions or None,
                selectionBehavior="at-most-one" if suggestions else None,
                overrideReasons=_override_reasons(orders),
                links=cc.reference_links(f.references) or None,
            )
            out.append(("rt_surgery_interval", card))
        undated = [o for o in surgery if o.on is None]
        if (
            undated
            and a.assessed_on is not None
            and not any(k == "rt_surgery_interval" for k, _ in out)
        ):
            out.append(
                (
                    "undated_surgery",
                    cc.Card(
                        summary=cc.clip(
                            f"Spine surgery order without a date: the radiation-surgery "
                            f"interval cannot be checked ({undated[0].text})"
                        ),
                        detail="Give the order a date (occurrenceDateTime) and metspine checks it against the "
                        "last radiotherapy and the planned radiotherapy start.",
                        indicator="info",
                        source=src,
                    ),
                )
            )
    return out


# -- routes ------------------------------------------------------------------------------------------


@router.get("/cds-services", summary="CDS Hooks discovery")
async def discovery() -> JSONResponse:
    return JSONResponse({"services": [s.discovery() for s in services().values()]})


@router.post("/cds-services/{service_id}", summary="Call a CDS Hooks service")
async def call_service(service_id: str, request: Request) -> Response:
    try:
        return JSONResponse(await _call(service_id, request))
    except CdsProblem as p:
        return _problem(request, p)


def _warm_up(st: CdsState) -> None:
    """Once per process: load the tables, then move the start-up heap out of the collector's way.

    A full (generation 2) collection walks every live object; with the app, the engine's tables and
    their caches that took ~100 ms and stalled about 1 call in 100. ``gc.freeze`` after a collection
    leaves those long-lived objects alone, so later collections only walk what calls create.
    """
    st.warm = True
    services()
    cds_orders()
    cc.source(None)
    if st.config.gc_freeze:
        gc.collect()
        gc.freeze()


async def _call(service_id: str, request: Request) -> Json:
    st = _state(request)
    if not st.warm:
        _warm_up(st)
    svc = services().get(service_id)
    if svc is None:
        raise CdsProblem(404, f"no CDS service {service_id!r}; see GET /cds-services")
    claims = await _verify(request, st, [_endpoint(request, st.config, f"/cds-services/{svc.id}")])
    raw = await _json_body(request, st.config.max_body_bytes)
    try:
        req = HookRequest.model_validate(raw)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    if req.hook != svc.hook:
        raise CdsProblem(
            400,
            f"service {svc.id} answers the {svc.hook} hook, not {req.hook!r}",
            [{"field": "hook", "message": f"expected {svc.hook}"}],
        )
    patient_id = req.context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id:
        raise CdsProblem(
            400,
            "context.patientId is required",
            [{"field": "context.patientId", "message": "required"}],
        )
    values, unknown = await gather(svc, req, patient_id, claims, st.config)
    bundle = prefetch_bundle(values, [t.key for t in templates()])
    today = datetime.now(UTC).date()
    cards: list[tuple[str, cc.Card]]
    try:
        case = build_case(bundle, patient_id, today)
        if svc.hook == "patient-view":
            a = assess(case)
            cards = cc.patient_view_cards(a, st.config.source_url, st.config.smart_launch_url)
        else:
            cards = _order_select(req, case, bundle, values, unknown, patient_id, st.config)
    except CaseError as exc:
        cards = [
            (
                "unreadable",
                cc.unreadable_card(
                    [f"{p.field or '(case)'}: {p.message}" for p in exc.problems],
                    st.config.source_url,
                ),
            )
        ]
    except FhirError as exc:
        cards = [("unreadable", cc.unreadable_card([str(exc)], st.config.source_url))]
    for kind, card in cards:
        st.remember(svc.id, kind, card)
    log.info("cds %s: %d card(s) %s", svc.id, len(cards), ",".join(k for k, _ in cards))
    return {"cards": [card.as_json() for _, card in cards]}


def _order_select(
    req: HookRequest,
    case: Case,
    bundle: Json,
    values: dict[str, Any],
    unknown: list[str],
    patient_id: str,
    config: CdsConfig,
) -> list[tuple[str, cc.Card]]:
    orders = cds_orders()
    draft = req.context.get("draftOrders")
    if not isinstance(draft, dict) or draft.get("resourceType") != "Bundle":
        raise CdsProblem(
            400,
            "context.draftOrders must be a FHIR Bundle",
            [{"field": "context.draftOrders", "message": "a Bundle is required"}],
        )
    selections = req.context.get("selections")
    chosen = set(selections) if isinstance(selections, list) and selections else None
    all_orders: list[Order] = []
    selected: list[Order] = []
    for e in draft.get("entry") or []:
        r = (e or {}).get("resource")
        if not isinstance(r, dict) or "resourceType" not in r:
            continue
        o = read_order(r, orders)
        all_orders.append(o)
        if chosen is None or o.ref in chosen:
            selected.append(o)
    relevant = [o for o in selected if o.classes & {"radiotherapy", "spine_surgery"}]
    if not relevant:
        return []
    a = assess(what_if(case, relevant))
    consult = consult_status(values, unknown, all_orders, orders)
    return order_select_cards(a, relevant, consult, _lesion_keys(bundle), patient_id, config)


@router.post("/cds-services/{service_id}/feedback", summary="CDS Hooks feedback")
async def feedback(service_id: str, request: Request) -> Response:
    try:
        st = _state(request)
        if service_id not in services():
            raise CdsProblem(404, f"no CDS service {service_id!r}; see GET /cds-services")
        path = f"/cds-services/{service_id}"
        await _verify(
            request,
            st,
            [
                _endpoint(request, st.config, path + "/feedback"),
                _endpoint(request, st.config, path),
            ],
        )
        raw = await _json_body(request, 1024 * 1024)
        try:
            fb = Feedback.model_validate(raw)
        except ValidationError as exc:
            raise _invalid(exc) from exc
        known = 0
        for item in fb.feedback:
            issued = st.cards.get(item.card)
            kind = "unknown_card"
            if issued is not None and issued[0] == service_id:
                kind, known = issued[1], known + 1
            st.feedback[(service_id, kind, item.outcome)] += 1
            reason = (
                item.overrideReason.reason.code
                if item.overrideReason and item.overrideReason.reason
                else "-"
            )
            # The user's comment may hold patient data: it is neither kept nor logged.
            log.info("cds feedback %s %s %s reason=%s", service_id, kind, item.outcome, reason)
        return JSONResponse({"received": len(fb.feedback), "known_cards": known})
    except CdsProblem as p:
        return _problem(request, p)


__all__ = [
    "CdsProblem",
    "CdsState",
    "Service",
    "Template",
    "build_case",
    "gather",
    "install",
    "prefetch_bundle",
    "read_order",
    "router",
    "services",
    "templates",
]
