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

from metspine.dosimetry.dicom import DoseGrid, Structure, StructureSet, read_dose, read_structures
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
