"""The REST API (FastAPI, ``/api/v1``) and the application that also serves the web pages."""

from __future__ import annotations

from metspine.api.app import create_app
from metspine.api.settings import Settings

__all__ = ["Settings", "create_app"]
