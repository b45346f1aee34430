"""Write analytic DICOM-RT phantoms (RTDOSE + RTSTRUCT) with pydicom, for the DVH tests.

The dose is a known function sampled on a grid; the structures are polygons approximating known
shapes. Tests derive the exact DVH metrics from the shapes and the function, never from metspine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

RTDOSE = "1.2.840.10008.5.1.4.1.1.481.2"
RTSTRUCT = "1.2.840.10008.5.1.4.1.1.481.3"
FOR_UID = "1.2.826.0.1.3680043.8.498.1"

DoseField = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _base(sop_class: str, modality: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.PatientName = "Phantom^Analytic"
    ds.PatientID = "PHANTOM"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.2"
    ds.SeriesInstanceUID = generate_uid()
    return ds


def write_dose(
    path: Path,
    field_gy: DoseField,
    xs: np.ndarray,
    ys: np.ndarray,
    zs: np.ndarray,
    *,
    bits: int = 32,
    scaling: float | None = None,
    row_dir: tuple[float, float, float] = (1.0, 0.0, 0.0),
    col_dir: tuple[float, float, float] = (0.0, 1.0, 0.0),
    offsets: str = "relative",
    frames_descending: bool = False,
    units: str = "GY",
    frame_of_reference: str = FOR_UID,
    with_scaling: bool = True,
) -> Path:
    """Sample ``field_gy`` on the ascending grid (xs, ys, zs) and write it as an RTDOSE.

    ``row_dir``/``col_dir`` must be ±x or ±y; the pixel data is laid out so that pixel (r, c) sits at
    IPP + c·Δ·row_dir + r·Δ·col_dir as DICOM says. ``offsets`` is "relative" (first 0) or "absolute".
    """
    hx, hy = float(xs[1] - xs[0]), float(ys[1] - ys[0])
    row, col = np.asarray(row_dir), np.asarray(col_dir)
    r_axis, c_axis = int(np.argmax(np.abs(row))), int(np.argmax(np.abs(col)))
    coords = {0: xs, 1: ys}
    along_c = coords[r_axis] if row[r_axis] > 0 else coords[r_axis][::-1]
    along_r = coords[c_axis] if col[c_axis] > 0 else coords[c_axis][::-1]
    z_order = zs[::-1] if frames_descending else zs
    frames = []
    for z in z_order:
        if r_axis == 0:
            x, y = np.meshgrid(along_c, along_r)  # shape (rows, cols)
        else:
            y, x = np.meshgrid(along_c, along_r)
        frames.append(field_gy(x, y, np.full_like(x, z)))
    dose = np.stack(frames)
    if scaling is None:
        scaling = 1e-5 if bits == 32 else 1e-3
    stored = np.rint(dose / scaling)
    dtype = np.uint32 if bits == 32 else np.uint16
    assert stored.min() >= 0 and stored.max() <= np.iinfo(dtype).max
    ds = _base(RTDOSE, "RTDOSE")
    ds.FrameOfReferenceUID = frame_of_reference
    ds.ImagePositionPatient = [
        float(along_c[0]) if r_axis == 0 else float(along_r[0]),
        float(along_c[0]) if r_axis == 1 else float(along_r[0]),
        float(z_order[0]),
    ]
    ds.ImageOrientationPatient = [*map(float, row), *map(float, col)]
    spacing_r = hy if c_axis == 1 else hx
    spacing_c = hx if r_axis == 0 else hy
    ds.PixelSpacing = [spacing_r, spacing_c]
    normal_z = float(np.cross(row, col)[2])
    if offsets == "relative":
        ds.GridFrameOffsetVector = [float((z - z_order[0]) * normal_z) for z in z_order]
    else:
        ds.GridFrameOffsetVector = [float(z) for z in z_order]
    ds.NumberOfFrames = len(z_order)
    ds.FrameIncrementPointer = 0x3004000C
    ds.Rows, ds.Columns = dose.shape[1], dose.shape[2]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.DoseUnits = units
    ds.DoseType = "PHYSICAL"
    ds.DoseSummationType = "PLAN"
    if with_scaling:
        ds.DoseGridScaling = f"{scaling:.6g}"
    ds.PixelData = stored.astype(dtype).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


@dataclass
class Roi:
    """An ROI to write: closed contours as (z, (n, 2) xy array) pairs, plus POINT contours."""

    name: str
    contours: list[tuple[float, np.ndarray]] = field(default_factory=list)
    points: list[tuple[float, float, float]] = field(default_factory=list)


def write_struct(path: Path, rois: Sequence[Roi], *, frame_of_reference: str = FOR_UID) -> Path:
    ds = _base(RTSTRUCT, "RTSTRUCT")
    ds.StructureSetLabel = "PHANTOM"
    ref = Dataset()
    ref.FrameOfReferenceUID = frame_of_reference
    ds.ReferencedFrameOfReferenceSequence = DicomSequence([ref])
    ssroi, roic, obs = [], [], []
    for number, roi in enumerate(rois, start=1):
        item = Dataset()
        item.ROINumber = number
        item.ReferencedFrameOfReferenceUID = frame_of_reference
        item.ROIName = roi.name
        ssroi.append(item)
        contours = []
        for z, xy in roi.contours:
            c = Dataset()
            c.ContourGeometricType = "CLOSED_PLANAR"
            c.NumberOfContourPoints = len(xy)
            c.ContourData = [f"{v:.6f}" for x, y in xy for v in (float(x), float(y), float(z))]
            contours.append(c)
        for p in roi.points:
            c = Dataset()
            c.ContourGeometricType = "POINT"
            c.NumberOfContourPoints = 1
            c.ContourData = [f"{v:.6f}" for v in p]
            contours.append(c)
        rc = Dataset()
        rc.ReferencedROINumber = number
        if contours:
            rc.ContourSequence = DicomSequence(contours)
        roic.append(rc)
        o = Dataset()
        o.ObservationNumber = number
        o.ReferencedROINumber = number
        o.RTROIInterpretedType = "ORGAN"
        obs.append(o)
    ds.StructureSetROISequence = DicomSequence(ssroi)
    ds.ROIContourSequence = DicomSequence(roic)
    ds.RTROIObservationsSequence = DicomSequence(obs)
    ds.save_as(path, enforce_file_format=True)
    return path


def circle(r: float, cx: float = 0.0, cy: float = 0.0, n: int = 720) -> np.ndarray:
    """A circle as a polygon whose area equals πr² exactly (vertices on radius r·k, k ≥ 1).

    An inscribed n-gon has area (n/2)·ρ²·sin(2π/n); choosing ρ so that equals πr² removes the
    polygon's own area error from the comparisons with analytic answers.
    """
    rho = r * math.sqrt(2 * math.pi / (n * math.sin(2 * math.pi / n)))
    t = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    return np.column_stack((cx + rho * np.cos(t), cy + rho * np.sin(t)))


def grid(lo: float, hi: float, step: float) -> np.ndarray:
    return np.round(np.arange(lo, hi + step / 2, step), 6)
