"""Settings from the environment; the secret key is generated once into the data directory."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from metspine.store.db import data_dir, default_db_url


def _secret_key(directory: Path) -> str:
    """``METSPINE_SECRET_KEY``, else a key generated at first run into ``<data dir>/secret_key``."""
    env = os.environ.get("METSPINE_SECRET_KEY")
    if env:
        return env
    path = directory / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key


@dataclass(frozen=True)
class Settings:
    db_url: str = field(default_factory=default_db_url)
    data_dir: Path = field(default_factory=data_dir)
    secret_key: str = ""
    max_upload_bytes: int = int(os.environ.get("METSPINE_MAX_UPLOAD_MB", "64")) * 1024 * 1024
    max_json_bytes: int = 1024 * 1024
    token_ttl: timedelta = timedelta(hours=12)
    session_ttl: timedelta = timedelta(hours=12)
    secure_cookies: bool = os.environ.get("METSPINE_SECURE_COOKIES", "") == "1"

    def with_secret(self) -> Settings:
        if self.secret_key:
            return self
        from dataclasses import replace

        return replace(self, secret_key=_secret_key(self.data_dir))
