"""DICOM-RT dosimetry: reading RTDOSE/RTSTRUCT, accurate DVHs, structure-name matching, DVH plots.

Public API (what the CLI and the plan check use):

- :func:`compute_metrics` — DVH metrics of a plan's structures from file paths.
- :func:`match_structure` / :func:`resolve_structure` — find the cord, thecal sac or cauda equina
  by TG-263 name and common variants (reference ``tg263``).
- :func:`read_dose`, :func:`read_structures`, :func:`load_plan`, :func:`compute_dvhs` — the steps,
  for callers that want the DVH curves (e.g. :func:`metspine.dosimetry.plot.plot_dvh`).
- :class:`DosimetryInputError` — every refusal of an input, with the file or field named.

matplotlib is imported only by :mod:`metspine.dosimetry.plot`, so metrics stay quick to start.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from metspine.dosimetry.dicom import (
        DoseGrid,
        Structure,
        StructureSet,
        read_dose,
        read_structures,
    )
    from metspine.dosimetry.dvh import (
        DVH,
        StructureDVH,
        StructureMetrics,
        compute_dvhs,
        compute_metrics,
        load_plan,
        metrics_from_dvh,
        structure_dvh,
    )
    from metspine.dosimetry.errors import DosimetryInputError
    from metspine.dosimetry.names import match_structure, resolve_structure

# Names are imported on first use, so `python -m metspine.dosimetry` can configure the process
# (see __main__) before numpy loads.
_WHERE = {
    "DoseGrid": "dicom",
    "Structure": "dicom",
    "StructureSet": "dicom",
    "read_dose": "dicom",
    "read_structures": "dicom",
    "DVH": "dvh",
    "StructureDVH": "dvh",
    "StructureMetrics": "dvh",
    "compute_dvhs": "dvh",
    "compute_metrics": "dvh",
    "load_plan": "dvh",
    "metrics_from_dvh": "dvh",
    "structure_dvh": "dvh",
    "DosimetryInputError": "errors",
    "match_structure": "names",
    "resolve_structure": "names",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DVH",
    "DoseGrid",
    "DosimetryInputError",
    "Structure",
    "StructureDVH",
    "StructureMetrics",
    "StructureSet",
    "compute_dvhs",
    "compute_metrics",
    "load_plan",
    "match_structure",
    "metrics_from_dvh",
    "read_dose",
    "read_structures",
    "resolve_structure",
    "structure_dvh",
]
