"""Cumulative DVH plots as PNG files (matplotlib with the Agg backend, imported only when plotting)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from metspine.dosimetry.dvh import StructureDVH


@dataclass(frozen=True, slots=True)
class LimitMarker:
    """A dose limit to mark on the plot: a point (dose_gy, volume) or, with no volume, a line.

    ``volume_cc`` None draws a vertical line at ``dose_gy`` (a point-max limit); otherwise a marker
    at (``dose_gy``, ``volume_cc``), e.g. TG-101's "< 0.35 cc above 10 Gy".
    """

    label: str
    dose_gy: float
    volume_cc: float | None = None
    passed: bool | None = None


def plot_dvh(
    dvhs: Sequence[StructureDVH],
    path: str | os.PathLike[str],
    *,
    limits: Sequence[LimitMarker] = (),
    relative_volume: bool = False,
    title: str | None = None,
    dpi: int = 120,
) -> Path:
    """Write a PNG of the cumulative DVHs of ``dvhs`` (empty structures are skipped) and return it.

    Volumes are in cm³, or in % of each structure's in-grid volume with ``relative_volume``. Limit
    markers are drawn red when failed, green when passed, grey when not judged.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    out = Path(path)
    fig, ax = plt.subplots(figsize=(8, 5))
    try:
        units = "Gy"
        for sd in dvhs:
            if sd.dvh is None:
                continue
            units = "Gy" if sd.units == "GY" else "relative dose"
            dose, volume = sd.dvh.curve(400)
            if relative_volume:
                volume = 100.0 * volume / sd.dvh.volume_cc
            ax.plot(dose, volume, label=f"{sd.name} ({sd.volume_in_grid_cc:.2f} cm³)")
        for limit in limits:
            colour = "grey" if limit.passed is None else ("green" if limit.passed else "red")
            if limit.volume_cc is None:
                ax.axvline(limit.dose_gy, color=colour, linestyle="--", label=limit.label)
            else:
                ax.plot(
                    [limit.dose_gy],
                    [limit.volume_cc],
                    marker="x",
                    markersize=10,
                    color=colour,
                    linestyle="none",
                    label=limit.label,
                )
        ax.set_xlabel(f"Dose ({units})")
        ax.set_ylabel("Volume (%)" if relative_volume else "Volume (cm³)")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        if title:
            ax.set_title(title)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
        fig.tight_layout()
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=dpi)
    finally:
        plt.close(fig)
    return out
