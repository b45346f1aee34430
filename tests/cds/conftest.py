"""A CDS Hooks app with generated EHR keys, signed-JWT helpers, and prefetch built from the demo cases."""

from __future__ import annotations

import copy
import importlib.util
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from metspine.api import Settings, create_app
from metspine.api.cds_auth import CdsConfig, Issuer
from metspine.io.casefile import load_case
from metspine.io.fhir import export_bundle
from metspine.store import Store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ISS = "https://ehr.test/"
BASE = "https://metspine.test"
PATIENT_ID = "pat-1"
EHR_FHIR = "https://ehr.test/fhir"
PV = "metspine-patient-view"
OS = "metspine-order-select"

# The session FHIR server fixture of tests/io (sekmet-fhir on loopback), shared rather than copied.
_spec = importlib.util.spec_from_file_location(
    "_io_conftest", ROOT / "tests" / "io" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_io = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_io)
fhir_server = _io.fhir_server


class Keys:
    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP384R1())
        self.other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, k, alg in (("rsa-1", self.rsa, "RS384"), ("ec-1", self.ec, "ES384")):
            jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(k.public_key()))
            jwk.update(kid=kid, alg=alg, use="sig")
            keys.append(jwk)
        return {"keys": keys}


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="session")
def cds_config(keys: Keys) -> CdsConfig:
    return CdsConfig(
        base_url=BASE,
        issuers=(Issuer(iss=ISS, jwks=keys.jwks(), jku=("http://127.0.0.1:1/jwks-allowed",)),),
        source_url="https://metspine.test/docs/cds-hooks",
        fhir_timeout_s=2.0,
    )


@pytest.fixture(scope="session")
def client(tmp_path_factory: pytest.TempPathFactory, cds_config: CdsConfig) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("cds")
    store = Store(f"sqlite:///{folder / 'cds.db'}")
    store.migrate()
    settings = Settings(db_url=store.url, data_dir=folder, secret_key="test-key")
    with TestClient(create_app(settings, store, cds=cds_config)) as c:
        yield c
    store.dispose()


Signer = Callable[..., str]


@pytest.fixture(scope="session")
def sign(keys: Keys) -> Signer:
    """A signed CDS Hooks JWT for ``path`` (aud = BASE + path); keyword arguments bend it."""

    def make(
        path: str,
        *,
        alg: str = "RS384",
        key: Any = None,
        kid: str | None = None,
        headers: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
        **claims: Any,
    ) -> str:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": ISS,
            "aud": BASE + path,
            "iat": now,
            "exp": now + 60,
            "jti": str(uuid.uuid4()),
        }
        body.update(claims)
        for k in drop:
            body.pop(k, None)
        if key is None:
            key = keys.ec if alg.startswith("ES") else keys.rsa
        hdr = {"kid": kid or ("ec-1" if alg.startswith("ES") else "rsa-1"), "typ": "JWT"}
        hdr.update(headers or {})
        return jwt.encode(body, key, algorithm=alg, headers=hdr)

    return make


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def server_resources(name: str) -> list[dict[str, Any]]:
    """A demo case exported to FHIR, as a hospital server would hold it: ids instead of urn:uuid."""
    bundle = export_bundle(load_case(EXAMPLES / name))
    refs: dict[str, str] = {}
    counts: dict[str, int] = {}
    for e in bundle["entry"]:
        rt = e["resource"]["resourceType"]
        if rt == "Patient":
            rid = PATIENT_ID
        else:
            counts[rt] = counts.get(rt, 0) + 1
            rid = f"{rt.lower()}-{counts[rt]}"
        refs[e["fullUrl"]] = f"{rt}/{rid}"
        e["resource"]["id"] = rid
    text = json.dumps([e["resource"] for e in bundle["entry"]])
    for urn, ref in refs.items():
        text = text.replace(f'"{urn}"', f'"{ref}"')
    out: list[dict[str, Any]] = json.loads(text)
    return out


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not resources:
        return None  # CDS Hooks: a prefetch with no data is null
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {
                "fullUrl": f"{EHR_FHIR}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


def prefetch_for(name: str) -> dict[str, Any]:
    """The prefetch an EHR would send for the demo case ``name`` (patient id PATIENT_ID)."""
    rs = server_resources(name)

    def of(rt: str) -> list[dict[str, Any]]:
        return [r for r in rs if r["resourceType"] == rt]

    return {
        "patient": of("Patient")[0],
        "conditions": searchset(of("Condition")),
        "observations": searchset(of("Observation")),
        "procedures": searchset(of("Procedure")),
        "medications": searchset(of("MedicationStatement")),
    }


def hook_request(hook: str, prefetch: dict[str, Any] | None, **context: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/dr-1", "patientId": PATIENT_ID, **context},
    }
    if prefetch is not None:
        body["prefetch"] = copy.deepcopy(prefetch)
    return body
