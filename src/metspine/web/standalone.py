"""The report without a database: the same template the web app uses, for `metspine assess --format
html|pdf`. It renders an Assessment; it computes nothing clinical."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import SimpleNamespace

from jinja2 import Environment, FileSystemLoader, select_autoescape

from metspine import __version__
from metspine.knowledge import KNOWLEDGE_VERSION
from metspine.knowledge import references as reference_registry
from metspine.model.assessment import Assessment

HERE = Path(__file__).resolve().parent


@cache
def _env() -> Environment:
    from metspine.web import forms

    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(["html"]),
    )
    env.globals.update(
        engine_version=__version__, knowledge_version=KNOWLEDGE_VERSION, dom_id=forms.dom_id
    )
    return env


def report_html(a: Assessment, *, generated_at: datetime | None = None) -> str:
    """The board report of one assessment as a self-contained HTML page."""
    when = (generated_at or datetime.now(UTC)).isoformat(timespec="seconds")
    data = a.model_dump(mode="json")
    registry = reference_registry()
    snap = SimpleNamespace(
        created_at=when,
        created_by="metspine command line",
        engine_version=a.engine_version,
        knowledge_version=a.knowledge_version,
        policy_name=a.policy.name,
        policy_sha256=a.policy.sha256,
    )
    cited = [(k, registry[k].citation() if k in registry else k) for k in a.cited_references()]
    return (
        _env()
        .get_template("report.html")
        .render(
            case=SimpleNamespace(id=a.case_id, version="not stored"),
            snap=snap,
            a=data,
            decisions=[],
            checks=[],
            cited=cited,
            lesion_ids=[les["id"] for les in data["lesions"]],
            inline_css=(HERE / "static" / "app.css").read_text(encoding="utf-8"),
            report=True,
            request=None,
        )
    )


def report_pdf(a: Assessment) -> bytes:
    from metspine.web.report import render_pdf

    return render_pdf(report_html(a), str(HERE / "static"))
