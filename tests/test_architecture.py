"""The engine imports no face: no web framework, database driver, pydicom or adapter package."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "metspine"
ENGINE = ["scores", "radiation", "decision", "model", "knowledge"]
FORBIDDEN_TOP = {
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "psycopg2",
    "sqlite3",
    "pydicom",
    "jinja2",
    "weasyprint",
    "typer",
    "rich",
    "httpx",
    "requests",
    "matplotlib",
    "fhir",
    "polars",
    "yaml",
}
FORBIDDEN_INTERNAL = (
    "metspine.cli",
    "metspine.io",
    "metspine.store",
    "metspine.api",
    "metspine.web",
    "metspine.dosimetry",
)
# Pure packages must not read the clock or do I/O either.
FORBIDDEN_CALLS = {"open", "print", "input"}
FORBIDDEN_ATTRS = {("datetime", "now"), ("date", "today"), ("time", "time"), ("datetime", "today")}


def _engine_files() -> list[Path]:
    files: list[Path] = []
    for pkg in ENGINE:
        folder = SRC / pkg
        if folder.is_dir():
            files.extend(sorted(folder.rglob("*.py")))
    return files


def test_engine_packages_exist() -> None:
    names = {p.parent.name for p in _engine_files()}
    assert {"scores", "decision", "model", "knowledge"} <= names


def test_engine_imports_no_face() -> None:
    bad: list[str] = []
    for path in _engine_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            mods: list[str] = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module]
            for m in mods:
                if m.split(".")[0] in FORBIDDEN_TOP or m.startswith(FORBIDDEN_INTERNAL):
                    bad.append(f"{path.relative_to(SRC)}: imports {m}")
    assert not bad, "\n".join(bad)


def test_pure_engine_reads_no_clock_and_does_no_io() -> None:
    bad: list[str] = []
    for path in _engine_files():
        if path.parent.name == "knowledge":
            continue  # knowledge loads its packaged tables once, by design
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                if isinstance(f, ast.Name) and f.id in FORBIDDEN_CALLS:
                    bad.append(f"{path.relative_to(SRC)}:{node.lineno} calls {f.id}()")
                if (
                    isinstance(f, ast.Attribute)
                    and isinstance(f.value, ast.Name)
                    and (f.value.id, f.attr) in FORBIDDEN_ATTRS
                ):
                    bad.append(f"{path.relative_to(SRC)}:{node.lineno} reads the clock")
    assert not bad, "\n".join(bad)


def test_engine_module_itself_is_pure() -> None:
    tree = ast.parse((SRC / "engine.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert not node.module.startswith(FORBIDDEN_INTERNAL), node.module
