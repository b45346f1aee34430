"""Session fixtures: analytic DICOM-RT phantoms written once per test session (see dosimetry_phantoms)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from dosimetry_phantoms import Roi, circle, grid, write_dose, write_struct

DATA = Path(__file__).resolve().parents[1] / "data" / "dicom-rt"

# Dose grid: 2 mm in x, y and z over ±30 mm (31³ points).
XS = YS = ZS = grid(-30.0, 30.0, 2.0)

# Fields (Gy). Trilinear interpolation reproduces the linear ones exactly.
LIN_X_A, LIN_X_G = 30.0, 0.8  # D = 30 + 0.8·x: a 0.8 Gy/mm gradient across a cord-sized cylinder
LIN_Z_A, LIN_Z_G = 20.0, 0.5  # D = 20 + 0.5·z
RAD_D0, RAD_G = 40.0, 0.3  # D = 40 − 0.3·r, r the distance from the origin


def lin_x(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    return LIN_X_A + LIN_X_G * x


def lin_z(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    return LIN_Z_A + LIN_Z_G * z


def radial(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    return RAD_D0 - RAD_G * np.sqrt(x * x + y * y + z * z)


# Geometry (mm). Contour planes sit on odd z, halfway between the even-z dose frames.
CYL_R, CYL_Z = 5.0, [float(z) for z in range(-19, 20, 2)]  # 20 planes -> cylinder z ∈ [-20, 20]
SPH_R, SPH_Z = 12.0, [float(z) for z in range(-11, 12, 2)]  # 12 planes -> stack z ∈ [-12, 12]
RING_OUT, RING_IN, RING_Z = 10.0, 4.0, [float(z) for z in range(-9, 10, 2)]  # z ∈ [-10, 10]
ISLAND_R, ISLAND_X, ISLAND_Z = 3.0, 10.0, [float(z) for z in range(-5, 6, 2)]  # z ∈ [-6, 6]
SINGLE_R, SINGLE_Z = 6.0, 1.0
EDGE_R, EDGE_X, EDGE_Z = 5.0, 29.0, [-3.0, -1.0, 1.0, 3.0]  # crosses the grid edge at x = 31


def phantom_rois() -> list[Roi]:
    return [
        Roi("Cylinder", [(z, circle(CYL_R)) for z in CYL_Z]),
        Roi("Sphere", [(z, circle(math.sqrt(SPH_R**2 - z * z))) for z in SPH_Z]),
        Roi(
            "Ring",
            [(z, circle(RING_OUT)) for z in RING_Z] + [(z, circle(RING_IN)) for z in RING_Z],
        ),
        Roi(
            "Islands",
            [(z, circle(ISLAND_R, cx=-ISLAND_X)) for z in ISLAND_Z]
            + [(z, circle(ISLAND_R, cx=ISLAND_X)) for z in ISLAND_Z],
        ),
        Roi("Single", [(SINGLE_Z, circle(SINGLE_R))]),
        Roi("Edge", [(z, circle(EDGE_R, cx=EDGE_X)) for z in EDGE_Z]),
        Roi("Marker", points=[(0.0, 0.0, 0.0)]),
        Roi("Empty"),
    ]


@dataclass(frozen=True)
class Phantoms:
    struct: Path
    lin_x: Path
    lin_z: Path
    radial: Path
    folder: Path


@pytest.fixture(scope="session")
def phantoms(tmp_path_factory: pytest.TempPathFactory) -> Phantoms:
    folder = tmp_path_factory.mktemp("phantoms")
    return Phantoms(
        struct=write_struct(folder / "rtss.dcm", phantom_rois()),
        lin_x=write_dose(folder / "dose_lin_x.dcm", lin_x, XS, YS, ZS),
        lin_z=write_dose(folder / "dose_lin_z.dcm", lin_z, XS, YS, ZS),
        radial=write_dose(folder / "dose_radial.dcm", radial, XS, YS, ZS),
        folder=folder,
    )


@pytest.fixture(scope="session")
def example_plan() -> tuple[Path, Path]:
    """The dicompyler-core example plan (real TPS data), copied into tests/data/dicom-rt."""
    return DATA / "rtdose.dcm", DATA / "rtss.dcm"
