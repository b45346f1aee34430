"""CDS Hooks trust: the configuration of trusted EHRs and the verification of their signed JWTs.

CDS Hooks 2.0 (hl7_cds_hooks_2_0, "Trusting CDS Clients"): every service call carries
``Authorization: Bearer <JWT>`` signed by the EHR with an asymmetric key (never ``none``, never HMAC).
metspine accepts a token only when

- ``iss`` is a configured issuer, and the key comes from that issuer's JWK Set (inline, a file, or a URL)
  or from a ``jku`` header that is on the issuer's ``jku`` allow-list;
- the header names a ``kid`` and an RS/PS/ES algorithm that the issuer allows;
- the signature verifies, ``aud`` is the URL of the endpoint being called, ``exp``, ``iat`` and ``jti``
  are present, ``exp`` has not passed and ``iat`` is not in the future (``leeway_s`` either way), and
  the token lives no longer than ``max_lifetime_s``;
- ``jti`` has not been seen before from that issuer (an in-memory replay cache, bounded, kept until
  each token's ``exp``; one per process).

Configuration: ``METSPINE_CDS_CONFIG`` names a TOML file (docs/cds-hooks.md); without it no issuer is
trusted and every service call is refused.
"""

from __future__ import annotations

import json
import os
import time
import tomllib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
_JWKS_TTL_S = 600.0
_JWKS_RETRY_S = 30.0


class AuthError(Exception):
    """A refused token; the message says why without echoing the token."""


@dataclass(frozen=True)
class Issuer:
    """One trusted EHR (JWT ``iss``) and where its public keys come from."""

    iss: str
    jwks: Mapping[str, Any] | None = None
    jwks_url: str | None = None
    jku: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = ASYMMETRIC
    fhir_servers: tuple[str, ...] = ()  # allowed fhirServer base URLs; empty = any


@dataclass(frozen=True)
class CdsConfig:
    """Settings of the CDS Hooks face."""

    base_url: str | None = None  # public base URL (aud = base_url + path); None = the request's
    issuers: tuple[Issuer, ...] = ()
    leeway_s: int = 30
    max_lifetime_s: int = 300
    replay_cache_size: int = 100_000
    fhir_timeout_s: float = 5.0
    max_body_bytes: int = 8 * 1024 * 1024
    gc_freeze: bool = True  # freeze the start-up heap at the first call (short GC pauses, see docs)
    source_url: str | None = None  # card.source.url
    smart_launch_url: str | None = None  # a SMART link on patient-view cards when set
    extra: Mapping[str, Any] = field(default_factory=dict)

    def issuer(self, iss: str) -> Issuer | None:
        return next((i for i in self.issuers if i.iss == iss), None)

    @classmethod
    def from_toml(cls, path: str | Path) -> CdsConfig:
        p = Path(path)
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
        issuers = []
        for row in raw.get("issuer", []):
            jwks = row.get("jwks")
            if isinstance(jwks, str):  # inline JSON text
                jwks = json.loads(jwks)
            if row.get("jwks_file"):
                f = Path(row["jwks_file"])
                jwks = json.loads((f if f.is_absolute() else p.parent / f).read_text("utf-8"))
            algs = tuple(row.get("algorithms", ASYMMETRIC))
            bad = [a for a in algs if a not in ASYMMETRIC]
            if bad:
                raise ValueError(f"{p}: issuer {row['iss']}: algorithms {bad} are not asymmetric")
            issuers.append(
                Issuer(
                    iss=str(row["iss"]),
                    jwks=jwks,
                    jwks_url=row.get("jwks_url"),
                    jku=tuple(row.get("jku", ())),
                    algorithms=algs,
                    fhir_servers=tuple(s.rstrip("/") for s in row.get("fhir_servers", ())),
                )
            )
        known = {f for f in cls.__dataclass_fields__ if f not in ("issuers", "extra")}
        kwargs = {k: v for k, v in raw.items() if k in known}
        return cls(issuers=tuple(issuers), **kwargs)

    @classmethod
    def from_env(cls) -> CdsConfig:
        path = os.environ.get("METSPINE_CDS_CONFIG")
        return cls.from_toml(path) if path else cls()


class ReplayCache:
    """Seen ``(iss, jti)`` pairs until their ``exp``; bounded (the oldest entry goes first)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def check_and_add(self, iss: str, jti: str, exp: float, now: float) -> bool:
        """False when the pair was seen before (a replay)."""
        while self._seen:
            key, until = next(iter(self._seen.items()))
            if until >= now:
                break
            del self._seen[key]
        key = (iss, jti)
        if key in self._seen:
            return False
        self._seen[key] = exp
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._seen)


class KeyStore:
    """Public keys per issuer: inline JWK Sets, and JWK Sets fetched from URLs (cached).

    A URL's set is kept ``_JWKS_TTL_S``; an unknown ``kid`` refetches it at most every ``_JWKS_RETRY_S``
    (key rotation without letting a stream of bad tokens hammer the issuer).
    """

    def __init__(self, config: CdsConfig) -> None:
        self.config = config
        self._inline = {
            i.iss: jwt.PyJWKSet.from_dict(dict(i.jwks))
            for i in config.issuers
            if i.jwks is not None
        }
        self._fetched: dict[str, tuple[float, jwt.PyJWKSet]] = {}
        self._failed_until: dict[str, float] = {}

    async def _remote(self, url: str, now: float, refresh: bool) -> jwt.PyJWKSet | None:
        cached = self._fetched.get(url)
        if cached is not None:
            age = now - cached[0]
            if age < (_JWKS_RETRY_S if refresh else _JWKS_TTL_S):
                return cached[1]
        if self._failed_until.get(url, 0.0) > now:
            return cached[1] if cached else None
        try:
            async with httpx.AsyncClient(timeout=self.config.fhir_timeout_s) as client:
                r = await client.get(url, headers={"Accept": "application/json"})
                r.raise_for_status()
                keys = jwt.PyJWKSet.from_dict(r.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError):
            self._failed_until[url] = now + _JWKS_RETRY_S
            return cached[1] if cached else None
        self._fetched[url] = (now, keys)
        return keys

    async def key(self, issuer: Issuer, kid: str, jku: str | None, now: float) -> jwt.PyJWK:
        if jku is not None and jku not in issuer.jku:
            raise AuthError("the jku header is not on the issuer's allow-list")
        inline = self._inline.get(issuer.iss) if jku is None else None
        if inline is not None:
            for k in inline.keys:
                if k.key_id == kid:
                    return k
        url = jku if jku is not None else issuer.jwks_url
        if url:
            for refresh in (False, True):
                keyset = await self._remote(url, now, refresh)
                if keyset is None:
                    raise AuthError("the issuer's key set could not be read")
                for k in keyset.keys:
                    if k.key_id == kid:
                        return k
        raise AuthError("no key of the issuer has this kid")


class Verifier:
    """Verifies CDS Hooks JWTs against a CdsConfig (one per application)."""

    def __init__(self, config: CdsConfig) -> None:
        self.config = config
        self.keys = KeyStore(config)
        self.replay = ReplayCache(config.replay_cache_size)

    async def verify(self, authorization: str | None, audiences: list[str]) -> dict[str, Any]:
        """The verified claims, or AuthError."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError("send Authorization: Bearer <JWT signed by the EHR>")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AuthError("the bearer token is not a JWT") from exc
        alg = header.get("alg")
        if alg not in ASYMMETRIC:
            raise AuthError(f"algorithm {alg!r} is not accepted (asymmetric RS/PS/ES only)")
        if header.get("typ") not in (None, "JWT"):
            raise AuthError("the JWT header typ must be 'JWT'")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("the JWT header names no kid")
        iss = unverified.get("iss")
        issuer = self.config.issuer(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise AuthError("the issuer is not trusted")
        if alg not in issuer.algorithms:
            raise AuthError(f"algorithm {alg} is not allowed for this issuer")
        jku = header.get("jku")
        now = time.time()
        key = await self.keys.key(issuer, kid, jku if isinstance(jku, str) else None, now)
        leeway = self.config.leeway_s
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=audiences,
                issuer=issuer.iss,
                leeway=leeway,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("the JWT has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthError("the JWT audience is not this endpoint's URL") from exc
        except jwt.ImmatureSignatureError as exc:
            raise AuthError("the JWT is issued in the future") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"the JWT lacks the {exc.claim} claim") from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthError("the JWT signature does not verify") from exc
        except jwt.PyJWTError as exc:
            raise AuthError(f"the JWT is not valid: {type(exc).__name__}") from exc
        exp, iat, jti = claims["exp"], claims["iat"], claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise AuthError("the JWT jti must be a non-empty string")
        if iat > now + leeway:
            raise AuthError("the JWT is issued in the future")
        if exp - iat > self.config.max_lifetime_s:
            raise AuthError(f"the JWT lives longer than {self.config.max_lifetime_s} s")
        if not self.replay.check_and_add(issuer.iss, jti, float(exp) + leeway, now):
            raise AuthError("the JWT has been used before (jti replay)")
        return claims


__all__ = ["ASYMMETRIC", "AuthError", "CdsConfig", "Issuer", "KeyStore", "ReplayCache", "Verifier"]
