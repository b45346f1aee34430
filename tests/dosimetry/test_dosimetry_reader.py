"""Reading RTDOSE/RTSTRUCT: orientations, pixel depths, frame offsets, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dosimetry_phantoms import write_dose, write_struct
from pydicom.data import get_testdata_file

from conftest import XS, YS, ZS, Phantoms, lin_x, phantom_rois
from metspine.dosimetry import (
    DosimetryInputError,
    compute_metrics,
    load_plan,
    read_dose,
    read_structures,
)


def tilted(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """A field that changes along all three axes, so any axis mix-up or flip shows."""
    return 30.0 + 0.3 * x + 0.2 * y + 0.1 * z


ORIENTATIONS = {
    "HFS": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "HFP": ((-1.0, 0.0, 0.0), (0.0, -1.0, 0.0)),
    "FFS": ((-1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "HFDL": ((0.0, -1.0, 0.0), (1.0, 0.0, 0.0)),
    "HFDR": ((0.0, 1.0, 0.0), (-1.0, 0.0, 0.0)),
}


# Absolute frame offsets are z positions, which DICOM defines for an axial normal pointing to +z;
# orientations whose normal points to -z are therefore tested with relative offsets only.
CASES = [
    (name, offsets)
    for name, (row, col) in sorted(ORIENTATIONS.items())
    for offsets in ("relative", "absolute")
    if offsets == "relative" or np.cross(row, col)[2] > 0
]


@pytest.mark.parametrize(("orientation", "offsets"), CASES)
def test_axis_aligned_orientations_read_to_the_same_grid(
    tmp_path: Path, orientation: str, offsets: str
) -> None:
    row, col = ORIENTATIONS[orientation]
    path = write_dose(
        tmp_path / "d.dcm", tilted, XS, YS, ZS, row_dir=row, col_dir=col, offsets=offsets
    )
    grid = read_dose(path)
    np.testing.assert_allclose(grid.xs, XS)
    np.testing.assert_allclose(grid.ys, YS)
    np.testing.assert_allclose(grid.zs, ZS)
    z, y, x = np.meshgrid(ZS, YS, XS, indexing="ij")
    np.testing.assert_allclose(grid.dose, tilted(x, y, z), atol=1e-4)


@pytest.mark.parametrize("bits", [16, 32])
def test_16_and_32_bit_pixels_and_dose_grid_scaling(tmp_path: Path, bits: int) -> None:
    grid = read_dose(write_dose(tmp_path / "d.dcm", lin_x, XS, YS, ZS, bits=bits))
    z, y, x = np.meshgrid(ZS, YS, XS, indexing="ij")
    # 16-bit with scaling 1e-3 stores to the nearest mGy.
    np.testing.assert_allclose(grid.dose, lin_x(x, y, z), atol=6e-4 if bits == 16 else 1e-5)
    assert grid.units == "GY"


def test_frames_in_descending_order_and_uneven_spacing(tmp_path: Path, phantoms: Phantoms) -> None:
    """Frames listed top-down with a 1 mm-spaced middle: same field, so the same metrics."""
    zs = np.concatenate((np.arange(-30, -10, 2.0), np.arange(-10, 10, 1.0), np.arange(10, 31, 2.0)))
    path = write_dose(tmp_path / "d.dcm", lin_x, XS, YS, zs, frames_descending=True)
    grid = read_dose(path)
    np.testing.assert_allclose(grid.zs, zs)
    a = compute_metrics(path, phantoms.struct, ["Cylinder", "Sphere"])
    b = compute_metrics(phantoms.lin_x, phantoms.struct, ["Cylinder", "Sphere"])
    for ma, mb in zip(a, b, strict=True):
        assert ma.mean_gy == pytest.approx(mb.mean_gy, abs=1e-3)
        assert ma.d_cc["0.03"] == pytest.approx(mb.d_cc["0.03"], abs=0.02)
        assert ma.volume_cc == pytest.approx(mb.volume_cc)


def test_oblique_orientation_is_refused(tmp_path: Path) -> None:
    c, s = np.cos(0.2), np.sin(0.2)
    path = write_dose(
        tmp_path / "d.dcm", lin_x, XS, YS, ZS, row_dir=(1.0, 0.0, 0.0), col_dir=(0.0, 1.0, 0.0)
    )
    import pydicom

    ds = pydicom.dcmread(path)
    ds.ImageOrientationPatient = [c, s, 0.0, -s, c, 0.0]
    ds.save_as(path)
    with pytest.raises(DosimetryInputError, match="oblique"):
        read_dose(path)


def test_missing_dose_grid_scaling_is_refused(tmp_path: Path) -> None:
    path = write_dose(tmp_path / "d.dcm", lin_x, XS, YS, ZS, with_scaling=False)
    with pytest.raises(DosimetryInputError, match=r"d\.dcm: DoseGridScaling is missing"):
        read_dose(path)


def test_non_dicom_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.dcm"
    path.write_text("this is a text file, not a dose grid\n" * 20)
    with pytest.raises(DosimetryInputError, match="not a DICOM file"):
        read_dose(path)
    with pytest.raises(DosimetryInputError, match=r"notes\.dcm"):
        read_structures(path)


def test_missing_file_and_wrong_modality(tmp_path: Path, phantoms: Phantoms) -> None:
    with pytest.raises(DosimetryInputError, match="not found"):
        read_dose(tmp_path / "absent.dcm")
    with pytest.raises(DosimetryInputError, match="Modality is 'RTSTRUCT', expected RTDOSE"):
        read_dose(phantoms.struct)


def test_unknown_structure_name_lists_the_available_ones(phantoms: Phantoms) -> None:
    with pytest.raises(DosimetryInputError, match=r"no structure named 'SpinalCord'.*'Cylinder'"):
        compute_metrics(phantoms.lin_x, phantoms.struct, ["SpinalCord"])


def test_structure_names_match_ignoring_case_and_spaces(phantoms: Phantoms) -> None:
    (m,) = compute_metrics(phantoms.lin_x, phantoms.struct, [" cylinder "])
    assert m.name == "Cylinder"


def test_mismatched_frame_of_reference_is_refused(tmp_path: Path, phantoms: Phantoms) -> None:
    other = write_struct(tmp_path / "s.dcm", phantom_rois(), frame_of_reference="1.2.3.4")
    with pytest.raises(DosimetryInputError, match="FrameOfReferenceUID differs"):
        compute_metrics(phantoms.lin_x, other, ["Cylinder"])


def test_relative_dose_needs_explicit_permission(tmp_path: Path, phantoms: Phantoms) -> None:
    path = write_dose(tmp_path / "rel.dcm", lin_x, XS, YS, ZS, units="RELATIVE")
    with pytest.raises(DosimetryInputError, match=r"RELATIVE.*allow_relative"):
        compute_metrics(path, phantoms.struct, ["Cylinder"])
    (m,) = compute_metrics(path, phantoms.struct, ["Cylinder"], allow_relative=True)
    assert m.dose_units == "RELATIVE"
    assert m.mean_gy == pytest.approx(30.0, abs=0.05)


@pytest.mark.parametrize("bad", [{"d_cc": (0.0,)}, {"d_pct": (101.0,)}, {"v_gy": (-1.0,)}])
def test_impossible_metric_parameters_are_refused(phantoms: Phantoms, bad: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(DosimetryInputError):
        compute_metrics(phantoms.lin_x, phantoms.struct, ["Cylinder"], **bad)


# --- pydicom's own RT test files (parser round trips; not a meaningful DVH pair) ----------------


@pytest.mark.parametrize("name", ["rtdose.dcm", "rtdose_expb.dcm", "rtdose_rle.dcm"])
def test_pydicom_rtdose_files(name: str) -> None:
    grid = read_dose(get_testdata_file(name))
    assert grid.units == "RELATIVE"
    assert grid.dose.shape == (15, 10, 10)
    np.testing.assert_allclose(np.diff(grid.zs), 5.0)
    np.testing.assert_allclose(np.diff(grid.xs), 10.0)
    assert grid.max_dose == pytest.approx(1.254, abs=1e-3)


def test_pydicom_rtdose_one_frame_with_inconsistent_offsets_is_refused() -> None:
    with pytest.raises(DosimetryInputError, match="GridFrameOffsetVector has 15 values for 1"):
        read_dose(get_testdata_file("rtdose_1frame.dcm"))


def test_pydicom_rtstruct_without_file_meta() -> None:
    ss = read_structures(get_testdata_file("rtstruct.dcm"))
    patient, iso1, iso2 = ss.structures
    assert patient.name == "patient" and len(patient.planes) == 3
    assert all(poly.shape[1] == 2 for polys in patient.planes.values() for poly in polys)
    # The isocentre ROIs hold POINT contours only: kept, empty, and counted as ignored.
    assert iso1.is_empty and iso1.ignored_contours == 1
    assert iso2.is_empty


def test_pydicom_pair_has_different_frames_of_reference() -> None:
    with pytest.raises(DosimetryInputError, match="FrameOfReferenceUID differs"):
        load_plan(
            get_testdata_file("rtdose.dcm"),
            get_testdata_file("rtstruct.dcm"),
            allow_relative=True,
        )
