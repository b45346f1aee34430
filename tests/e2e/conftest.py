"""A real server (``metspine serve`` in a subprocess, SQLite file) and Debian's Chromium via Playwright.

Outside CI the browser tests skip when /usr/bin/chromium is absent; in CI (``CI`` set, where .ci/run
installs it) they fail instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2ekit import PASSWORD

from metspine.store import Store

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]  # fmt: skip


def _need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _need_chromium()
    data = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{data / 'e2e.db'}"
    store = Store(url)
    store.migrate()
    for name, role in (
        ("coordinator", "clinician"),
        ("chair", "board_chair"),
        ("viewer", "viewer"),
    ):
        store.add_user(name, PASSWORD, role)
    store.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, METSPINE_DATA_DIR=str(data))
    proc = subprocess.Popen(
        [sys.executable, "-m", "metspine", "serve", "--port", str(port), "--db", url],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        proc.stderr.read().decode() if proc.stderr else "no server"
                    ) from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()
