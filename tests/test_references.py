"""Every reference key used anywhere resolves in the registry, and every rule row names one."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

from tests.conftest import EXAMPLES

import metspine
from metspine.knowledge import references
from metspine.knowledge.histology import catalogue

SRC = Path(__file__).resolve().parents[1] / "src" / "metspine"


def _strs(node: ast.AST) -> list[str]:
    return [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def _cited_in_code(path: Path) -> list[str]:
    """Reference keys as the code cites them: references=/refs= arguments, *REF* constants, and the
    (text, (keys…)) pairs of the NOMS rule table (decision/rules.py)."""
    rule_table = path.name == "rules.py" and path.parent.name == "decision"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in ("references", "refs"):
            out.extend(_strs(node.value))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and "REF" in t.id for t in targets) and node.value:
                value = node.value
                if isinstance(value, ast.Dict):  # {choice: [keys]}: only the values are keys
                    for v in value.values:
                        out.extend(_strs(v))
                else:
                    out.extend(_strs(value))
        elif (
            rule_table
            and isinstance(node, ast.Tuple)
            and len(node.elts) == 2
            and isinstance(node.elts[1], ast.Tuple | ast.List)
            and isinstance(node.elts[0], ast.Constant | ast.JoinedStr | ast.BinOp)
        ):
            out.extend(_strs(node.elts[1]))
    return out


def _toml_refs(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("source", "reference", "ref") and isinstance(v, str):
                out.append(v)
            elif k in ("references", "refs", "radiosensitivity_refs", "sources") and isinstance(
                v, list
            ):
                out.extend(str(x) for x in v)
            else:
                out.extend(_toml_refs(v))
    elif isinstance(node, list):
        for x in node:
            out.extend(_toml_refs(x))
    return out


def test_registry_loads_with_full_citations() -> None:
    reg = references()
    assert len(reg) >= 30
    for key, ref in reg.items():
        assert ref.authors and ref.title and ref.journal and 1900 < ref.year < 2030, key


def test_keys_cited_in_code_resolve() -> None:
    reg = references()
    unknown: list[str] = []
    n = 0
    for path in SRC.rglob("*.py"):
        for key in _cited_in_code(path):
            n += 1
            if key not in reg:
                unknown.append(f"{path.relative_to(SRC)}: {key}")
    assert n > 50  # the scan really finds the citations
    assert not unknown, "\n".join(unknown)


def test_knowledge_tables_cite_known_sources() -> None:
    reg = references()
    knowledge = SRC / "knowledge"
    bad: list[str] = []
    for path in knowledge.glob("*.toml"):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for key in _toml_refs(data):
            if key not in reg:
                bad.append(f"{path.name}: {key}")
    assert not bad, "\n".join(bad)


def test_every_histology_has_a_label_and_cites_its_radiosensitivity() -> None:
    for h in catalogue().values():
        assert h.label
        if h.radiosensitivity is not None:
            assert h.radiosensitivity_refs, h.code


def test_every_cited_key_in_demo_assessments_resolves() -> None:
    reg = references()
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert files
    for f in files:
        a = metspine.assess(metspine.load_case(f))
        missing = [k for k in a.cited_references() if k not in reg]
        assert not missing, f"{f.name}: {missing}"
        for lesion in a.lesions:
            for rec in lesion.recommendations:
                assert any(r.references for r in rec.reasons), (f.name, rec.code)
