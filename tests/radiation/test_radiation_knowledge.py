"""The radiation tables cite only registered references; the policy names its sources; purity."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import metspine.radiation as radiation
from metspine.knowledge import references
from metspine.radiation import (
    Course,
    RadiationPolicy,
    Scenario,
    assess_reirradiation,
    plan_limits,
    radiation_details,
    vcf_risk,
)
from metspine.radiation._data import all_reference_keys

PACKAGE = Path(radiation.__file__).parent


def test_every_key_in_the_radiation_tables_resolves() -> None:
    registry = references()
    keys = all_reference_keys()
    assert keys, "the tables cite nothing"
    assert sorted(keys - set(registry)) == []


def test_radiation_registry_entries_are_full_citations() -> None:
    registry = references()
    text = (PACKAGE.parent / "knowledge" / "references" / "radiation.toml").read_text()
    own = re.findall(r"^\[([a-z0-9_]+)\]", text, flags=re.M)
    assert len(own) == len(set(own))
    for key in own:
        ref = registry[key]
        assert ref.authors and ref.title and ref.journal and 1980 <= ref.year <= 2026, key
        assert ref.doi and ref.doi.startswith("10."), key
        assert re.fullmatch(r"[a-z][a-z0-9_]*", key), key


def test_reasons_in_results_cite_registered_keys() -> None:
    registry = references()
    policy = RadiationPolicy()
    status = assess_reirradiation([Course(24, 2, date(2025, 1, 1))], date(2026, 1, 1), policy)
    reasons = list(status.reasons)
    for lim in plan_limits(3, policy):
        reasons.extend(lim.reasons)
    for scenario in Scenario:
        family = "sbrt" if "sbrt" in scenario.value else "cebrt"
        reasons.extend(radiation_details(family, scenario, [], date(2026, 1, 1), policy).reasons)
    reasons.extend(vcf_risk(24, lytic=True, baseline_vcf=None, misalignment=False).reasons)
    cited = {key for reason in reasons for key in reason.references}
    assert cited and cited <= set(registry)
    assert all(reason.references for reason in reasons)


def test_every_policy_field_names_a_source() -> None:
    registry = references()
    for name, field in RadiationPolicy.model_fields.items():
        description = field.description or ""
        named = set(re.findall(r"[a-z][a-z0-9]*\d{4}[a-z0-9_]*|tg101", description))
        assert named & set(registry) or "regimens.toml" in description, name


def test_policy_defaults_come_from_the_tables() -> None:
    dumped = RadiationPolicy().model_dump()
    assert RadiationPolicy.model_validate(dumped) == RadiationPolicy()
    assert dumped["lq_max_reliable_dose_per_fraction_gy"] == 10.0


def test_engine_imports_only_stdlib_pydantic_and_knowledge() -> None:
    allowed_top = {
        "__future__", "calendar", "collections", "dataclasses", "datetime", "enum", "functools",
        "itertools", "math", "re", "types", "typing", "pydantic",
    }  # fmt: skip
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                ok = name.split(".")[0] in allowed_top or name.startswith(
                    ("metspine.knowledge", "metspine.radiation")
                )
                assert ok, f"{path.name} imports {name}"
