"""Reading case files (YAML or JSON, contract §1) into a validated Case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from metspine.model.case import Case
from metspine.model.validation import CaseError, Problem, case_from_dict

__all__ = ["CaseError", "case_from_dict", "load_case", "read_case_data"]


def read_case_data(path: str | Path) -> Any:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CaseError([Problem("", f"file not found: {p}")], str(p)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError([Problem("", f"cannot read the file: {exc}")], str(p)) from exc
    try:
        if p.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise CaseError([Problem("", f"not valid {p.suffix.lstrip('.') or 'YAML'}: {exc}")],
                        str(p)) from exc  # fmt: skip


def load_case(path: str | Path) -> Case:
    """Load and validate one case file; raises CaseError naming every problem."""
    data = read_case_data(path)
    return case_from_dict(data, str(path))
