"""Discovery shape and the JWT rules: who may call, for which endpoint, once."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from conftest import BASE, ISS, OS, PV, Keys, Signer, auth, hook_request, prefetch_for
from metspine.api.cds_auth import CdsConfig, Issuer, ReplayCache, Verifier

DEMO = "demo-001-rcc-t11-t12.yaml"


def test_discovery_lists_both_services_with_their_prefetch(client: TestClient) -> None:
    r = client.get("/cds-services")
    assert r.status_code == 200
    services = r.json()["services"]
    assert {s["hook"] for s in services} == {"patient-view", "order-select"}
    assert len({s["id"] for s in services}) == len(services)
    for s in services:
        assert set(s) >= {"hook", "id", "description", "prefetch"}
        assert s["description"] and s["title"]
        for key, template in s["prefetch"].items():
            assert "{{context.patientId}}" in template, key
        assert s["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        obs = s["prefetch"]["observations"]
        assert "http://loinc.org|89247-1" in obs and "https://radelement.org|RDES21" in obs
    by_id = {s["id"]: s for s in services}
    assert "consults" in by_id[OS]["prefetch"] and "consults" not in by_id[PV]["prefetch"]


def _call(client: TestClient, token: str | None, service: str = PV) -> Any:
    headers = auth(token) if token is not None else {}
    body = hook_request("patient-view", prefetch_for(DEMO))
    return client.post(f"/cds-services/{service}", json=body, headers=headers)


def _refused(r: Any, why: str) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert why in r.json()["detail"], r.json()["detail"]


PATH = f"/cds-services/{PV}"


def test_a_good_token_is_accepted_rsa_and_ec(client: TestClient, sign: Signer) -> None:
    assert _call(client, sign(PATH)).status_code == 200
    assert _call(client, sign(PATH, alg="ES384")).status_code == 200
    # aud may be an array (RFC 7519)
    assert _call(client, sign(PATH, aud=[BASE + PATH, "https://other"])).status_code == 200


def test_no_token_is_refused(client: TestClient) -> None:
    _refused(_call(client, None), "Bearer")
    r = client.post(PATH, json={}, headers={"Authorization": "Bearer not-a-jwt"})
    _refused(r, "not a JWT")


@pytest.mark.parametrize(
    ("bend", "why"),
    [
        ({"exp": int(time.time()) - 120, "iat": int(time.time()) - 170}, "expired"),
        ({"aud": BASE + f"/cds-services/{OS}"}, "audience"),
        ({"aud": "https://evil.example/cds-services/" + PV}, "audience"),
        ({"iss": "https://untrusted.example/"}, "issuer is not trusted"),
        ({"drop": ("jti",)}, "jti"),
        ({"drop": ("exp",)}, "exp"),
        ({"drop": ("iat",)}, "iat"),
        ({"iat": int(time.time()) + 600, "exp": int(time.time()) + 660}, "future"),
        ({"exp": int(time.time()) + 3600}, "longer than"),
        ({"kid": "unknown-kid"}, "kid"),
        ({"headers": {"jku": "https://attacker.example/jwks"}}, "jku"),
    ],
)
def test_bad_tokens_are_refused(
    client: TestClient, sign: Signer, bend: dict[str, Any], why: str
) -> None:
    _refused(_call(client, sign(PATH, **bend)), why)


def test_a_foreign_signature_is_refused(client: TestClient, sign: Signer, keys: Keys) -> None:
    _refused(_call(client, sign(PATH, key=keys.other)), "signature")


def test_none_and_symmetric_algorithms_are_refused(client: TestClient) -> None:
    now = int(time.time())
    claims = {"iss": ISS, "aud": BASE + PATH, "iat": now, "exp": now + 60, "jti": "x-none"}
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "rsa-1"})
    _refused(_call(client, unsigned), "not accepted")
    hs = jwt.encode(claims | {"jti": "x-hs"}, "a" * 32, algorithm="HS256", headers={"kid": "rsa-1"})
    _refused(_call(client, hs), "not accepted")


def test_a_replayed_token_is_refused(client: TestClient, sign: Signer) -> None:
    token = sign(PATH)
    assert _call(client, token).status_code == 200
    _refused(_call(client, token), "replay")


def test_replay_cache_is_bounded_and_forgets_expired_tokens() -> None:
    cache = ReplayCache(size=3)
    assert cache.check_and_add("i", "a", exp=100, now=0)
    assert not cache.check_and_add("i", "a", exp=100, now=1)
    assert cache.check_and_add("j", "a", exp=100, now=1)  # per issuer
    for n in range(10):
        cache.check_and_add("i", f"n{n}", exp=100, now=2)
    assert len(cache) == 3
    assert cache.check_and_add("i", "late", exp=300, now=200)  # the expired ones are dropped
    assert len(cache) == 1


class _Jwks(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def jwks_url(keys: Keys) -> Iterator[str]:
    _Jwks.body = json.dumps(keys.jwks()).encode()
    server = HTTPServer(("127.0.0.1", 0), _Jwks)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()
    server.server_close()


def test_keys_from_an_allowed_jku_and_from_the_issuer_url(jwks_url: str, sign: Signer) -> None:
    v = Verifier(CdsConfig(base_url=BASE, issuers=(Issuer(iss=ISS, jku=(jwks_url,)),)))
    token = sign(PATH, headers={"jku": jwks_url})
    claims = asyncio.run(v.verify("Bearer " + token, [BASE + PATH]))
    assert claims["iss"] == ISS
    v2 = Verifier(CdsConfig(base_url=BASE, issuers=(Issuer(iss=ISS, jwks_url=jwks_url),)))
    token = sign(PATH, alg="ES384")
    assert asyncio.run(v2.verify("Bearer " + token, [BASE + PATH]))["iss"] == ISS


def test_config_from_toml_refuses_symmetric_algorithms(tmp_path: Any, keys: Keys) -> None:
    (tmp_path / "jwks.json").write_text(json.dumps(keys.jwks()))
    good = tmp_path / "cds.toml"
    good.write_text(
        f'base_url = "{BASE}"\nleeway_s = 10\n[[issuer]]\niss = "{ISS}"\njwks_file = "jwks.json"\n'
        'jku = ["https://ehr.test/jwks"]\n'
    )
    cfg = CdsConfig.from_toml(good)
    assert cfg.base_url == BASE and cfg.leeway_s == 10
    issuer = cfg.issuer(ISS)
    assert (
        issuer is not None and issuer.jwks is not None and issuer.jku == ("https://ehr.test/jwks",)
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[[issuer]]\niss = "{ISS}"\nalgorithms = ["HS256"]\n')
    with pytest.raises(ValueError, match="not asymmetric"):
        CdsConfig.from_toml(bad)
