"""CDS Hooks ``patient-view`` latency over loopback with concurrent clients; prints p50/p95/p99.

    python benchmarks/bench_cds.py [--requests 2000] [--concurrency 8] [--workers 1]

Starts ``metspine serve`` on a free 127.0.0.1 port with a throwaway data directory and a CDS trust
configuration whose issuer key is generated here (RS384). Every request carries its own signed JWT
(unique ``jti``; tokens are signed before the clock starts, so client-side signing is not measured) and
the full prefetch of a demo case (Patient, Conditions, Observations, Procedures, MedicationStatements,
rotating over the eight demo cases), so the figures include JWT verification, prefetch parsing, the FHIR
import, the assessment and the cards. The request count is bounded; traffic goes only to 127.0.0.1.
Target (issue): p99 under 100 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from metspine.io.casefile import load_case
from metspine.io.fhir import export_bundle

ROOT = Path(__file__).resolve().parents[1]
ISS = "https://ehr.bench/"
SERVICE = "metspine-patient-view"


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prefetch(case_file: Path, patient_id: str) -> dict[str, Any]:
    """The prefetch an EHR would send: the case's FHIR export with server ids, grouped by template."""
    bundle = export_bundle(load_case(case_file))
    refs: dict[str, str] = {}
    for n, e in enumerate(bundle["entry"]):
        rt = e["resource"]["resourceType"]
        rid = patient_id if rt == "Patient" else f"{rt.lower()}-{n}"
        refs[e["fullUrl"]] = f"{rt}/{rid}"
        e["resource"]["id"] = rid
    text = json.dumps([e["resource"] for e in bundle["entry"]])
    for urn, ref in refs.items():
        text = text.replace(f'"{urn}"', f'"{ref}"')
    rs = json.loads(text)

    def bundle_of(rt: str) -> dict[str, Any] | None:
        found = [r for r in rs if r["resourceType"] == rt]
        if not found:
            return None
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {"fullUrl": f"https://ehr.bench/fhir/{rt}/{r['id']}", "resource": r,
                 "search": {"mode": "match"}}
                for r in found
            ],
        }  # fmt: skip

    return {
        "patient": next(r for r in rs if r["resourceType"] == "Patient"),
        "conditions": bundle_of("Condition"),
        "observations": bundle_of("Observation"),
        "procedures": bundle_of("Procedure"),
        "medications": bundle_of("MedicationStatement"),
    }


def start(folder: Path, port: int, workers: int, key: rsa.RSAPrivateKey) -> subprocess.Popen[bytes]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="bench-1", alg="RS384", use="sig")
    (folder / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    (folder / "cds.toml").write_text(
        f'base_url = "http://127.0.0.1:{port}"\n'
        f'[[issuer]]\niss = "{ISS}"\njwks_file = "jwks.json"\nalgorithms = ["RS384"]\n'
    )
    env = dict(os.environ)
    env.update(
        METSPINE_CDS_CONFIG=str(folder / "cds.toml"),
        METSPINE_DATA_DIR=str(folder),
        METSPINE_DB_URL=f"sqlite:///{folder / 'bench.db'}",
        METSPINE_SECRET_KEY="bench",
    )
    exe = Path(sys.executable).with_name("metspine")
    cmd = [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("the server did not start:\n" + (folder / "server.log").read_text()[-2000:])


async def run(
    url: str, bodies: list[bytes], tokens: list[str], concurrency: int
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(tokens)):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            headers = {"Authorization": f"Bearer {tokens[i]}", "Content-Type": "application/json"}
            t0 = time.perf_counter()
            r = await client.post(url, content=bodies[i % len(bodies)], headers=headers)
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200 or not r.json().get("cards"):
                errors += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return latencies, errors, elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = sorted((ROOT / "examples").glob("*.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        folder, port = Path(tmp), free_port()
        proc = start(folder, port, args.workers, key)
        try:
            url = f"http://127.0.0.1:{port}/cds-services/{SERVICE}"
            bodies = [
                json.dumps({
                    "hook": "patient-view", "hookInstance": str(uuid.uuid4()),
                    "context": {"userId": "Practitioner/1", "patientId": "p-1"},
                    "prefetch": prefetch(c, "p-1"),
                }).encode()
                for c in cases
            ]  # fmt: skip
            now = int(time.time())

            def token() -> str:
                claims = {
                    "iss": ISS,
                    "aud": url,
                    "iat": now,
                    "exp": now + 290,
                    "jti": str(uuid.uuid4()),
                }
                return jwt.encode(claims, key, algorithm="RS384", headers={"kid": "bench-1"})

            n = args.warmup + args.requests
            tokens = [token() for _ in range(n)]
            size = statistics.fmean(len(b) for b in bodies) / 1024
            print(
                f"patient-view over loopback: {len(cases)} demo cases, prefetch ~{size:.0f} KiB/request, "
                f"{args.concurrency} concurrent clients, {args.workers} worker(s), {os.cpu_count()} CPUs"
            )
            asyncio.run(run(url, bodies, tokens[: args.warmup], args.concurrency))
            lat, errors, elapsed = asyncio.run(
                run(url, bodies, tokens[args.warmup :], args.concurrency)
            )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    ms = [1000 * x for x in lat]
    print(
        f"n={len(ms)} errors={errors}  p50={percentile(ms, 50):.1f} ms  p95={percentile(ms, 95):.1f} ms  "
        f"p99={percentile(ms, 99):.1f} ms  max={max(ms):.1f} ms  throughput={len(ms) / elapsed:.1f} req/s"
    )
    target = percentile(ms, 99) < 100
    print(f"target p99 < 100 ms: {'met' if target else 'NOT met'}")


if __name__ == "__main__":
    main()
