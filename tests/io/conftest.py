"""A real FHIR R4 server (sekmet-fhir, in its own venv) on 127.0.0.1 for the whole session.

The server is found at $METSPINE_SEKMET, then as `sekmet` on PATH. Without it the server tests skip on a
developer machine and fail in CI (env CI set), where .ci/run installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT_S = 20.0


def _sekmet() -> str | None:
    env = os.environ.get("METSPINE_SEKMET")
    if env:
        return env if Path(env).exists() else None
    return shutil.which("sekmet")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def fhir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a freshly started, empty FHIR server; stopped after the session."""
    exe = _sekmet()
    if exe is None:
        msg = "sekmet-fhir not installed (set METSPINE_SEKMET to its `sekmet` executable)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    folder = tmp_path_factory.mktemp("fhir-server")
    port = _free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    (folder / "settings.yaml").write_text(
        f"base_url: {base}\nhost: 127.0.0.1\nport: {port}\ndata_dir: {folder / 'data'}\n"
        "simulator: {enabled: false}\nlog_inbound: false\n",
        encoding="utf-8",
    )
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [exe, "serve", "-c", str(folder / "settings.yaml")],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{base}/metadata", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                text = (folder / "server.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"the FHIR server did not start on {base}:\n{text}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
