"""`metspine dvh`: DVH metrics of an RTDOSE/RTSTRUCT pair (contract §4)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from metspine.cli._app import app
from metspine.dosimetry.errors import DosimetryInputError


class DvhFormat(StrEnum):
    text = "text"
    json = "json"


def _numbers(option: str, text: str | None) -> list[float]:
    if not text:
        return []
    values: list[float] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            values.append(float(part))
        except ValueError as exc:
            raise DosimetryInputError(f"{option}: {part!r} is not a number") from exc
    return values


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(2)


@app.command("dvh")
def dvh(
    dose: Annotated[Path, typer.Option("--dose", help="RTDOSE file")],
    struct: Annotated[Path, typer.Option("--struct", help="RTSTRUCT file")],
    structure: Annotated[
        list[str] | None,
        typer.Option("--structure", help="Structure name (repeat for several; default: all)"),
    ] = None,
    d_cc: Annotated[
        str, typer.Option("--d-cc", help="D at volumes in cm³, e.g. 0.03,0.1")
    ] = "0.03",
    d_pct: Annotated[
        str, typer.Option("--d-pct", help="D at % of volume, e.g. 2,50,98")
    ] = "2,50,98",
    v_gy: Annotated[str, typer.Option("--v-gy", help="V at doses in Gy, e.g. 10,12")] = "",
    fmt: Annotated[DvhFormat, typer.Option("--format", help="Output format")] = DvhFormat.text,
    plot: Annotated[Path | None, typer.Option("--plot", help="Also write a DVH plot (PNG)")] = None,
    allow_relative: Annotated[
        bool, typer.Option("--allow-relative", help="Accept a RELATIVE dose (metrics in its units)")
    ] = False,
) -> None:
    """DVH metrics per structure: volume, min/mean/max, D at cm³ and %, V at Gy."""
    # numpy and pydicom load here, not when the CLI starts.
    from metspine.dosimetry.dvh import (
        check_metric_params,
        compute_dvhs,
        compute_metrics,
        load_plan,
        metrics_from_dvh,
    )

    try:
        dcc, dpct, vgy = (
            _numbers("--d-cc", d_cc),
            _numbers("--d-pct", d_pct),
            _numbers("--v-gy", v_gy),
        )
        check_metric_params(dcc, dpct, vgy)
        if plot is None:
            # Metrics only: a large plan is split over two processes (identical results).
            metrics = compute_metrics(
                dose, struct, structure, dcc, dpct, vgy, allow_relative=allow_relative,
                parallel=True,
            )  # fmt: skip
            is_absolute = all(m.dose_units == "GY" for m in metrics)
        else:
            grid, sset = load_plan(dose, struct, allow_relative=allow_relative)
            dvhs = compute_dvhs(grid, sset, structure)
            metrics = [metrics_from_dvh(sd, dcc, dpct, vgy) for sd in dvhs]
            is_absolute = grid.is_absolute
    except DosimetryInputError as exc:
        raise _fail(str(exc)) from exc
    for m in metrics:
        for note in m.notes:
            sys.stderr.write(f"note: {m.name}: {note}\n")
    if plot is not None:
        from metspine.dosimetry.plot import plot_dvh

        plot_dvh(dvhs, plot, title=f"{dose.name} / {struct.name}")
    if fmt is DvhFormat.json:
        sys.stdout.write(json.dumps({"structures": [m.to_dict() for m in metrics]}, indent=2))
        sys.stdout.write("\n")
        return

    from rich.console import Console
    from rich.table import Table

    unit = "Gy" if is_absolute else "rel"
    table = Table(title=f"DVH metrics ({dose.name})")
    table.add_column("structure")
    table.add_column("volume cm³", justify="right")
    for label in ("min", "mean", "max"):
        table.add_column(f"{label} {unit}", justify="right")
    for v in dcc:
        table.add_column(f"D{v:g}cc", justify="right")
    for v in dpct:
        table.add_column(f"D{v:g}%", justify="right")
    for v in vgy:
        table.add_column(f"V{v:g}{unit} cm³", justify="right")

    def cell(x: float | None) -> str:
        return "—" if x is None else f"{x:.2f}"

    for m in metrics:
        table.add_row(
            m.name,
            f"{m.volume_cc:.2f}",
            cell(m.min_gy),
            cell(m.mean_gy),
            cell(m.max_gy),
            *(cell(x) for x in m.d_cc.values()),
            *(cell(x) for x in m.d_pct.values()),
            *(cell(x) for x in m.v_gy.values()),
        )
    Console().print(table)
