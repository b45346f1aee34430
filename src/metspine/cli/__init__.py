"""metspine command line: `metspine --help`."""

from __future__ import annotations

import sys

# Command modules register themselves on `app` when imported.
from metspine.cli import commands as _commands  # noqa: F401  (registration side effect)
from metspine.cli import fhir as _fhir  # noqa: F401  (registration side effect)
from metspine.cli._app import InputError, app


def main() -> None:
    """Entry point: exit 2 on invalid input, 1 on internal error."""
    try:
        app()
    except InputError as exc:  # pragma: no cover - commands normally handle this themselves
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


__all__ = ["app", "main"]
