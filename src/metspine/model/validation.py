"""Turning pydantic's validation errors into problems a clinician can act on: field path + reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from metspine.model.case import Case


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field or '(case)'}: {self.message}"


class CaseError(ValueError):
    """A case that cannot be assessed; ``problems`` lists every field path and reason."""

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        where = f"{source}: " if source else ""
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{where}{len(problems)} problem(s) in the case\n{lines}")


def field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _clean(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def problems_from(exc: ValidationError) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # Literal/union branches add the type name to loc; drop those tags for readability.
        loc = tuple(p for p in loc if not (isinstance(p, str) and "[" in p and "]" in p))
        msg = _clean(str(err["msg"]))
        if err["type"] == "extra_forbidden":
            msg = "unknown field (not part of metspine.case/1; check the spelling)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "literal_error" and "input" in err:
            msg = f"{msg}; got {err['input']!r}"
        out.append(Problem(field=field_path(loc), message=msg))
    return out


def case_from_dict(data: Mapping[str, Any], source: str | None = None) -> Case:
    if not isinstance(data, Mapping):
        raise CaseError([Problem("", "a case must be a mapping (YAML/JSON object)")], source)
    try:
        return Case.model_validate(dict(data))
    except ValidationError as exc:
        raise CaseError(problems_from(exc), source) from exc
