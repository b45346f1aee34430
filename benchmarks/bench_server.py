"""Drive a running metspine server over loopback with concurrent clients; print latency and throughput.

    python benchmarks/bench_server.py [--rate 100] [--seconds 10] [--concurrency 16]

Starts ``metspine serve`` on a free loopback port with a throwaway SQLite file (or uses ``--url`` of a
server already running, with ``--token`` and ``--session``), loads the demo cases, then for each
target (ad hoc ``POST /api/v1/assess`` and the board page ``GET /cases/{id}``):

1. open loop: requests issued at a fixed ``--rate`` for ``--seconds`` (latency under that load);
2. closed loop: ``--concurrency`` clients back to back for ``--seconds`` (maximum throughput).

Every loop is bounded in count and time, and traffic goes only to 127.0.0.1.
Target (issue): assess p99 under 50 ms at 100 requests/s on 2 cores.
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
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def report(name: str, latencies: list[float], errors: int, elapsed: float) -> None:
    ms = [1000 * x for x in latencies]
    print(
        f"{name:<34} n={len(ms):5d} err={errors:3d}  p50={percentile(ms, 50):6.1f} ms  "
        f"p95={percentile(ms, 95):6.1f} ms  p99={percentile(ms, 99):6.1f} ms  "
        f"max={max(ms):6.1f} ms  mean={statistics.fmean(ms):6.1f} ms  "
        f"throughput={len(ms) / elapsed:7.1f} req/s"
    )


async def one(client: httpx.AsyncClient, spec: dict[str, Any], out: list[float]) -> bool:
    t0 = time.perf_counter()
    r = await client.request(spec["method"], spec["url"], **spec.get("kwargs", {}))
    out.append(time.perf_counter() - t0)
    return r.status_code == 200


async def open_loop(spec: dict[str, Any], rate: float, seconds: float, headers: dict[str, str],
                    cookies: dict[str, str]) -> None:  # fmt: skip
    lat: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(headers=headers, cookies=cookies, limits=limits, timeout=10) as c:
        for _ in range(50):  # warm-up: connections, lazy imports, the policy's memo
            await one(c, spec, [])
        n = int(rate * seconds)
        start = time.perf_counter()
        tasks = []
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(c, spec, lat)))
        results = await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    errors = sum(1 for ok in results if not ok)
    report(f"{spec['name']} @ {rate:g} req/s", lat, errors, elapsed)


async def closed_loop(spec: dict[str, Any], clients: int, seconds: float, headers: dict[str, str],
                      cookies: dict[str, str]) -> None:  # fmt: skip
    lat: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers=headers, cookies=cookies, limits=limits, timeout=10) as c:
        await one(c, spec, [])
        stop = time.perf_counter() + seconds
        start = time.perf_counter()

        async def worker() -> int:
            bad = 0
            while time.perf_counter() < stop:
                if not await one(c, spec, lat):
                    bad += 1
            return bad

        errors = sum(await asyncio.gather(*(worker() for _ in range(clients))))
        elapsed = time.perf_counter() - start
    report(f"{spec['name']} x{clients} clients", lat, errors, elapsed)


def start_server(data: Path) -> tuple[subprocess.Popen[bytes], str, str, str]:
    from metspine.cli.serve import load_demo_cases
    from metspine.store import Store

    url = f"sqlite:///{data / 'bench.db'}"
    store = Store(url)
    store.migrate()
    user = store.add_user("bench", "bench-password", "clinician")
    load_demo_cases(store, ROOT / "examples")
    token = store.issue_token(user, "bearer", timedelta(hours=1))
    session = store.issue_token(user, "session", timedelta(hours=1))
    store.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, METSPINE_DATA_DIR=str(data))
    proc = subprocess.Popen(
        [sys.executable, "-m", "metspine", "serve", "--port", str(port), "--db", url],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("server did not start") from None
            time.sleep(0.1)
    return proc, base, token, session


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rate", type=float, default=100.0, help="open-loop rate for assess (req/s)")
    ap.add_argument(
        "--board-rate", type=float, default=20.0, help="open-loop rate for the board page"
    )
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of each run")
    ap.add_argument("--concurrency", type=int, default=16, help="closed-loop clients")
    ap.add_argument("--url", help="a running server (then --token and --session are needed)")
    ap.add_argument("--token")
    ap.add_argument("--session")
    ap.add_argument("--case", default="demo-001")
    args = ap.parse_args()
    proc = None
    tmp = tempfile.TemporaryDirectory(prefix="metspine-bench-")
    if args.url:
        base, token, session = args.url.rstrip("/"), args.token, args.session
    else:
        proc, base, token, session = start_server(Path(tmp.name))
    case = json.loads(json.dumps(yaml.safe_load(
        (ROOT / "examples" / "demo-001-rcc-t11-t12.yaml").read_text()), default=str))  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    cookies = {"metspine_session": session or ""}
    assess = {"name": "POST /api/v1/assess", "method": "POST", "url": f"{base}/api/v1/assess",
              "kwargs": {"json": case}}  # fmt: skip
    board = {
        "name": "GET /cases/{id} (board page)",
        "method": "GET",
        "url": f"{base}/cases/{args.case}",
    }
    print(f"server {base}; {os.cpu_count()} cores; {args.seconds:g} s per run")
    try:
        asyncio.run(open_loop(assess, args.rate, args.seconds, headers, {}))
        asyncio.run(open_loop(board, args.board_rate, args.seconds, {}, cookies))
        asyncio.run(closed_loop(assess, args.concurrency, args.seconds, headers, {}))
        asyncio.run(closed_loop(board, args.concurrency, args.seconds, {}, cookies))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        tmp.cleanup()


if __name__ == "__main__":
    main()
