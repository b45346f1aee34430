"""The facts as data: the reference registry and the clinical tables, loaded once into frozen objects.

Every table lives in a TOML file beside this module; each row names the reference key it rests on.
The registry is split by topic under ``references/`` (one file per topic); keys are unique across files.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

KNOWLEDGE_VERSION = "2026.11"


class KnowledgeError(RuntimeError):
    """A knowledge file is malformed (a packaging bug, never a user error)."""


@dataclass(frozen=True, slots=True)
class Reference:
    """One source the engine cites."""

    key: str
    authors: str
    year: int
    title: str
    journal: str
    doi: str | None = None
    note: str | None = None

    def citation(self) -> str:
        doi = f" doi:{self.doi}" if self.doi else ""
        return f"{self.authors} {self.title}. {self.journal} ({self.year}).{doi}"


def load_toml(name: str) -> dict[str, Any]:
    """Read one TOML file shipped in this package (``name`` relative to the package)."""
    path = resources.files(__package__).joinpath(name)
    with path.open("rb") as fh:
        return tomllib.load(fh)


@cache
def references() -> dict[str, Reference]:
    """The whole reference registry, key -> Reference, merged from ``references/*.toml``."""
    registry: dict[str, Reference] = {}
    folder = resources.files(__package__).joinpath("references")
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".toml"):
            continue
        with entry.open("rb") as fh:
            data = tomllib.load(fh)
        for key, row in data.items():
            if key in registry:
                raise KnowledgeError(f"reference key {key!r} defined twice (again in {entry.name})")
            try:
                registry[key] = Reference(
                    key=key,
                    authors=str(row["authors"]),
                    year=int(row["year"]),
                    title=str(row["title"]),
                    journal=str(row["journal"]),
                    doi=row.get("doi"),
                    note=row.get("note"),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise KnowledgeError(f"reference {key!r} in {entry.name}: {exc}") from exc
    return registry


def reference(key: str) -> Reference:
    """Look one reference up; an unknown key is a packaging bug."""
    try:
        return references()[key]
    except KeyError as exc:
        raise KnowledgeError(f"unknown reference key {key!r}") from exc
