"""`metspine fhir export|import|codesystem`: FHIR R4 (mCODE) Bundle out, case in, our CodeSystem."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from metspine.cli._app import app
from metspine.cli.commands import fail, load_policy

fhir_app = typer.Typer(
    name="fhir",
    help="FHIR R4 (mCODE): export an assessed case as a Bundle, import a case from FHIR.",
    no_args_is_help=True,
)
app.add_typer(fhir_app, name="fhir")

err = Console(stderr=True, soft_wrap=True, highlight=False)


def _write(out: Path | None, text: str) -> None:
    """Write the whole file or nothing; stdout when no file is named."""
    if out is None:
        sys.stdout.write(text)
        return
    tmp = out.with_name(out.name + ".part")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise fail(f"cannot write {out}: {exc}") from exc


@fhir_app.command("export")
def export(
    case: Annotated[Path, typer.Argument(help="Case file (YAML or JSON, metspine.case/1)")],
    out: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the Bundle here")
    ] = None,
    policy: Annotated[Path | None, typer.Option("--policy", help="Policy TOML file")] = None,
    server: Annotated[
        str | None, typer.Option("--server", help="Also POST the Bundle (transaction) to this base")
    ] = None,
) -> None:
    """Assess CASE and write the case and its assessment as a FHIR R4 transaction Bundle (JSON)."""
    from metspine.io.casefile import load_case
    from metspine.io.fhir import FhirError, export_bundle, validate_bundle
    from metspine.io.fhir_import import created_ids, post_transaction
    from metspine.model.validation import CaseError

    pol = load_policy(policy)
    try:
        c = load_case(case)
    except CaseError as exc:
        raise fail(str(exc)) from exc
    bundle = export_bundle(c, pol)
    try:
        validate_bundle(bundle)
    except FhirError as exc:  # a bug, not the user's: still never write an invalid Bundle
        err.print(f"error: {exc}")
        raise typer.Exit(1) from exc
    if server:
        try:
            resp = post_transaction(server, bundle)
        except FhirError as exc:
            raise fail(str(exc)) from exc
        ids = created_ids(resp, "Patient")
        err.print(
            f"posted {len(bundle['entry'])} resources to {server}"
            + (f"; Patient/{ids[0]}" if ids else "")
        )
        if out is None:
            return
    _write(out, json.dumps(bundle, indent=2, ensure_ascii=False) + "\n")


@fhir_app.command("import")
def import_(
    source: Annotated[
        Path | None, typer.Argument(help="A FHIR Bundle (JSON) file; or use --server/--patient")
    ] = None,
    server: Annotated[str | None, typer.Option("--server", help="FHIR base URL")] = None,
    patient: Annotated[str | None, typer.Option("--patient", help="Patient id")] = None,
    out: Annotated[Path | None, typer.Option("-o", "--output", help="Write the case here")] = None,
) -> None:
    """Build a case (YAML) from FHIR; list on stderr every case field it could not find."""
    import yaml

    from metspine.io.fhir import FhirError
    from metspine.io.fhir_import import import_file, import_server
    from metspine.model.validation import CaseError

    try:
        if server is not None:
            if source is not None:
                raise fail("give either a Bundle file or --server, not both")
            if not patient:
                raise fail("--server needs --patient ID")
            result = import_server(server, patient)
        elif source is not None:
            result = import_file(source, patient)
        else:
            raise fail("give a Bundle file, or --server URL --patient ID")
    except FhirError as exc:
        raise fail(str(exc)) from exc
    except CaseError as exc:
        raise fail(f"the FHIR data give an invalid case: {exc}") from exc
    data = result.case.model_dump(mode="json", exclude_none=True)
    if out is not None and out.suffix.lower() == ".json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    _write(out, text)
    for note in result.notes:
        err.print(f"note: {note}")
    if result.not_found:
        err.print("could not find: " + ", ".join(result.not_found))
    else:
        err.print("every case field was found")


@fhir_app.command("codesystem")
def codesystem(
    out: Annotated[Path | None, typer.Option("-o", "--output", help="Write here")] = None,
) -> None:
    """Print metspine's own FHIR CodeSystem (codes without LOINC/SNOMED/RadElement)."""
    _write(out, codesystem_json())


def codesystem_json() -> str:
    """The CodeSystem as published in docs/codesystem.json."""
    from metspine.knowledge.fhir_codes import fhir_codes

    return json.dumps(fhir_codes().codesystem(), indent=2, ensure_ascii=False) + "\n"
