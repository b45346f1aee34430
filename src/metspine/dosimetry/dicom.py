"""Reading RTDOSE and RTSTRUCT files (pydicom lives here and nowhere else in metspine).

Both readers return plain, immutable containers in patient coordinates (mm), so the DVH maths never
sees a DICOM object:

- :class:`DoseGrid`: dose in Gy (or relative units) on an axis-aligned grid whose three coordinate
  vectors are ascending, array indexed ``[z, y, x]``.
- :class:`StructureSet` with one :class:`Structure` per ROI: closed planar contours grouped by the
  axial plane they lie on.

What is refused, each with a :class:`DosimetryInputError` naming the file and the field: a file that
is not DICOM, the wrong modality, an RTDOSE without ``DoseGridScaling``, an oblique or non-axial dose
grid, a ``GridFrameOffsetVector`` that matches neither DICOM reading. DICOM PS3.3 C.8.8.3
(RT Dose module) defines the fields used here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.errors import InvalidDicomError

from metspine.dosimetry.errors import DosimetryInputError
from metspine.dosimetry.geometry import median

FloatArray = npt.NDArray[np.float64]

RTDOSE_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.2"
RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"

# Contour z values closer than this (mm) are one plane; TPS exports round z to 0.01 mm or finer.
PLANE_TOLERANCE_MM = 0.01
# Direction cosines within this of ±1/0 count as axis-aligned (exported values are often 1e-16 off).
_COSINE_TOLERANCE = 1e-4


@dataclass(frozen=True, slots=True, eq=False)
class DoseGrid:
    """A dose distribution on an axis-aligned grid in patient coordinates.

    ``dose[k, j, i]`` is the dose at ``(xs[i], ys[j], zs[k])``; the three coordinate vectors are
    strictly ascending (rows, columns and frames are reordered on reading, whatever the file's
    orientation). ``xs`` and ``ys`` are uniform; ``zs`` may be non-uniform.
    """

    path: str
    xs: FloatArray
    ys: FloatArray
    zs: FloatArray
    dose: npt.NDArray[np.float32]
    units: str
    frame_of_reference_uid: str | None
    dose_type: str | None = None
    summation_type: str | None = None
    slice_thickness_mm: float | None = None

    @property
    def is_absolute(self) -> bool:
        """True when the dose is in Gy (``DoseUnits`` GY), false for RELATIVE dose."""
        return self.units == "GY"

    @property
    def max_dose(self) -> float:
        return float(self.dose.max()) if self.dose.size else 0.0


@dataclass(frozen=True, slots=True, eq=False)
class Structure:
    """One ROI of an RTSTRUCT: its closed planar contours keyed by plane z (mm), ascending.

    ``planes[z]`` is a list of ``(n, 2)`` arrays of (x, y) vertices; several contours on a plane are
    combined by the even-odd rule (XOR), which is how holes are drawn in DICOM-RT. ``problem`` holds
    the reason the ROI cannot be used for a DVH (for example non-axial contours); it is only raised
    when that ROI is asked for, so one odd ROI does not block the others.
    """

    number: int
    name: str
    frame_of_reference_uid: str | None
    planes: dict[float, list[FloatArray]] = field(default_factory=dict)
    interpreted_type: str | None = None
    ignored_contours: int = 0
    problem: str | None = None

    @property
    def is_empty(self) -> bool:
        """An ROI with no closed planar contours (e.g. only POINTs, or none drawn)."""
        return not self.planes


@dataclass(frozen=True, slots=True, eq=False)
class StructureSet:
    """The ROIs of one RTSTRUCT file, in file order."""

    path: str
    frame_of_reference_uid: str | None
    structures: tuple[Structure, ...]

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.structures]

    def get(self, name: str) -> Structure:
        """The ROI called ``name`` (exact match first, then case- and space-insensitive)."""
        for s in self.structures:
            if s.name == name:
                return s
        folded = _fold(name)
        for s in self.structures:
            if _fold(s.name) == folded:
                return s
        raise DosimetryInputError(
            f"{self.path}: no structure named {name!r}; the structure set has "
            + ", ".join(repr(n) for n in self.names)
        )

    def typical_plane_spacing_mm(self) -> float | None:
        """The median spacing between contour planes over all ROIs (the CT slice spacing, usually)."""
        gaps: list[FloatArray] = []
        for s in self.structures:
            if len(s.planes) > 1:
                gaps.append(np.diff(np.fromiter(s.planes, dtype=np.float64)))
        if not gaps:
            return None
        all_gaps = np.concatenate(gaps)
        all_gaps = all_gaps[all_gaps > PLANE_TOLERANCE_MM]
        return median(all_gaps) if all_gaps.size else None


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def _read(path: str | os.PathLike[str], what: str) -> Any:
    p = Path(path)
    if not p.is_file():
        raise DosimetryInputError(f"{p}: {what} file not found")
    try:
        return pydicom.dcmread(p)
    except InvalidDicomError:
        pass
    except Exception as exc:  # pydicom raises many types on corrupt files
        raise DosimetryInputError(f"{p}: not a readable DICOM file ({exc})") from exc
    # Some exports (pydicom's own rtstruct.dcm, older TPS) lack the 128-byte preamble and file meta.
    try:
        ds = pydicom.dcmread(p, force=True)
        modality = ds.get("Modality")
    except Exception as exc:
        raise DosimetryInputError(f"{p}: not a DICOM file ({exc})") from exc
    if not isinstance(modality, str) or not modality:
        raise DosimetryInputError(f"{p}: not a DICOM file (no DICOM preamble and no Modality)")
    return ds


def _check_modality(ds: Any, path: str, modality: str, sop_class: str) -> None:
    found = ds.get("Modality")
    if found == modality:
        return
    if found is None and str(ds.get("SOPClassUID", "")) == sop_class:
        return
    raise DosimetryInputError(f"{path}: Modality is {found!r}, expected {modality}")


def _required(ds: Any, path: str, keyword: str) -> Any:
    value = ds.get(keyword)
    if value is None or (hasattr(value, "__len__") and len(value) == 0):
        raise DosimetryInputError(f"{path}: {keyword} is missing")
    return value


def _axis_of(cosines: FloatArray, path: str, which: str) -> tuple[int, float]:
    """(axis index 0=x 1=y, sign) of a direction cosine triple that must be ±x or ±y."""
    big = np.abs(cosines) > 1.0 - _COSINE_TOLERANCE
    small = np.abs(cosines) < _COSINE_TOLERANCE
    if big.sum() != 1 or small.sum() != 2:
        raise DosimetryInputError(
            f"{path}: ImageOrientationPatient {which} direction {cosines.tolist()} is oblique; "
            "only axis-aligned dose grids are supported"
        )
    axis = int(np.argmax(big))
    if axis == 2:
        raise DosimetryInputError(
            f"{path}: ImageOrientationPatient {which} direction runs along z; only axial dose "
            "planes (rows and columns in x/y) are supported"
        )
    return axis, float(np.sign(cosines[axis]))


def read_dose(path: str | os.PathLike[str]) -> DoseGrid:
    """Read an RTDOSE file into a :class:`DoseGrid` (dose = stored value × ``DoseGridScaling``).

    Handles 16- and 32-bit pixels, any axis-aligned axial orientation (head-first or feet-first,
    supine, prone or decubitus), and both readings of ``GridFrameOffsetVector``: relative to
    ``ImagePositionPatient`` along the plane normal when its first value is 0, absolute z otherwise
    (DICOM PS3.3 C.8.8.3.2). Frames need not be evenly spaced.
    """
    p = str(path)
    ds = _read(path, "RTDOSE")
    _check_modality(ds, p, "RTDOSE", RTDOSE_SOP_CLASS)
    if "PixelData" not in ds:
        raise DosimetryInputError(f"{p}: RTDOSE has no PixelData (no dose grid)")
    scaling = ds.get("DoseGridScaling")
    if scaling is None or str(scaling).strip() == "":
        raise DosimetryInputError(
            f"{p}: DoseGridScaling is missing; without it the stored values cannot be read as dose"
        )
    scaling = float(scaling)
    if not np.isfinite(scaling) or scaling <= 0:
        raise DosimetryInputError(f"{p}: DoseGridScaling is {scaling}, it must be positive")
    units = str(ds.get("DoseUnits", "")).strip().upper()
    if units not in ("GY", "RELATIVE"):
        raise DosimetryInputError(
            f"{p}: DoseUnits is {units or 'missing'}, expected GY or RELATIVE"
        )
    position = np.asarray(
        [float(v) for v in _required(ds, p, "ImagePositionPatient")], dtype=np.float64
    )
    orientation = np.asarray(
        [float(v) for v in _required(ds, p, "ImageOrientationPatient")], dtype=np.float64
    )
    spacing = [float(v) for v in _required(ds, p, "PixelSpacing")]
    if position.size != 3 or orientation.size != 6 or len(spacing) != 2:
        raise DosimetryInputError(
            f"{p}: ImagePositionPatient, ImageOrientationPatient or PixelSpacing is malformed"
        )
    if min(spacing) <= 0:
        raise DosimetryInputError(f"{p}: PixelSpacing {spacing} must be positive")
    row_axis, row_sign = _axis_of(orientation[:3], p, "row")
    col_axis, col_sign = _axis_of(orientation[3:], p, "column")
    if row_axis == col_axis:
        raise DosimetryInputError(
            f"{p}: ImageOrientationPatient row and column directions are parallel"
        )
    normal_z = float(np.cross(orientation[:3], orientation[3:])[2])

    try:
        pixels = ds.pixel_array
    except Exception as exc:
        raise DosimetryInputError(f"{p}: PixelData cannot be decoded ({exc})") from exc
    n_frames = int(ds.get("NumberOfFrames", 1) or 1)
    if pixels.ndim == 2:
        pixels = pixels[np.newaxis]
    if pixels.shape[0] != n_frames:
        raise DosimetryInputError(
            f"{p}: NumberOfFrames is {n_frames} but PixelData holds {pixels.shape[0]} frames"
        )

    offsets_raw = ds.get("GridFrameOffsetVector")
    if offsets_raw is None or len(offsets_raw) == 0:
        if n_frames > 1:
            raise DosimetryInputError(
                f"{p}: GridFrameOffsetVector is missing for a multi-frame dose"
            )
        offsets = np.zeros(1)
    else:
        offsets = np.asarray([float(v) for v in offsets_raw], dtype=np.float64)
    if offsets.size != n_frames:
        raise DosimetryInputError(
            f"{p}: GridFrameOffsetVector has {offsets.size} values for {n_frames} frames"
        )
    if offsets[0] == 0.0:
        zs = position[2] + offsets * normal_z
    elif abs(offsets[0] - position[2]) <= PLANE_TOLERANCE_MM:
        zs = offsets.copy()
    else:
        raise DosimetryInputError(
            f"{p}: GridFrameOffsetVector starts at {offsets[0]}, which is neither 0 (relative "
            f"offsets) nor the ImagePositionPatient z {position[2]} (absolute z)"
        )

    # Pixel (r, c) sits at IPP + c·PixelSpacing[1]·row_dir + r·PixelSpacing[0]·col_dir.
    along_c = position[row_axis] + row_sign * spacing[1] * np.arange(pixels.shape[2])
    along_r = position[col_axis] + col_sign * spacing[0] * np.arange(pixels.shape[1])
    dose = pixels.astype(np.float32)
    dose *= np.float32(scaling)
    if row_axis == 0:
        xs, ys = along_c, along_r
    else:
        xs, ys = along_r, along_c
        dose = dose.transpose(0, 2, 1)
    if xs.size > 1 and xs[1] < xs[0]:
        xs, dose = xs[::-1], dose[:, :, ::-1]
    if ys.size > 1 and ys[1] < ys[0]:
        ys, dose = ys[::-1], dose[:, ::-1, :]
    if zs.size > 1 and np.any(np.diff(zs) < 0):
        order = np.argsort(zs, kind="stable")
        zs, dose = zs[order], dose[order]
    if zs.size > 1 and np.any(np.diff(zs) <= 0):
        raise DosimetryInputError(f"{p}: GridFrameOffsetVector has repeated frame positions")

    thickness = ds.get("SliceThickness")
    return DoseGrid(
        path=p,
        xs=np.ascontiguousarray(xs, dtype=np.float64),
        ys=np.ascontiguousarray(ys, dtype=np.float64),
        zs=np.ascontiguousarray(zs, dtype=np.float64),
        dose=np.ascontiguousarray(dose, dtype=np.float32),
        units=units,
        frame_of_reference_uid=_str_or_none(ds.get("FrameOfReferenceUID")),
        dose_type=_str_or_none(ds.get("DoseType")),
        summation_type=_str_or_none(ds.get("DoseSummationType")),
        slice_thickness_mm=float(thickness) if thickness not in (None, "") else None,
    )


def _str_or_none(value: Any) -> str | None:
    return None if value is None or str(value) == "" else str(value)


def _contour_points(contour: Any) -> FloatArray:
    """ContourData as an (n, 3) array, parsed straight from the raw bytes when possible (fast)."""
    raw = contour.get_item(0x30060050)
    if raw is None:
        return np.empty((0, 3))
    value = raw.value
    if isinstance(value, bytes):
        text = value.strip(b" \x00")
        flat = np.array(text.split(b"\\"), dtype=np.float64) if text else np.empty(0)
    else:
        flat = np.asarray(contour.ContourData, dtype=np.float64)
    if flat.size % 3:
        raise ValueError(f"ContourData has {flat.size} values, not a multiple of 3")
    return flat.reshape(-1, 3)


def read_structures(path: str | os.PathLike[str]) -> StructureSet:
    """Read an RTSTRUCT into a :class:`StructureSet`.

    Only CLOSED_PLANAR contours make volumes; POINT and OPEN contours are counted in
    ``ignored_contours`` and otherwise ignored. An ROI without usable contours is kept, empty, so it
    can be reported as such.
    """
    p = str(path)
    ds = _read(path, "RTSTRUCT")
    _check_modality(ds, p, "RTSTRUCT", RTSTRUCT_SOP_CLASS)
    set_for: str | None = None
    refs = ds.get("ReferencedFrameOfReferenceSequence") or []
    if len(refs):
        set_for = _str_or_none(refs[0].get("FrameOfReferenceUID"))

    types: dict[int, str] = {}
    for obs in ds.get("RTROIObservationsSequence") or []:
        number = obs.get("ReferencedROINumber")
        if number is not None:
            types[int(number)] = str(obs.get("RTROIInterpretedType", "") or "") or ""

    contours_by_roi: dict[int, Any] = {}
    for rc in ds.get("ROIContourSequence") or []:
        number = rc.get("ReferencedROINumber")
        if number is not None:
            contours_by_roi[int(number)] = rc.get("ContourSequence") or []

    structures: list[Structure] = []
    for roi in ds.get("StructureSetROISequence") or []:
        number = int(roi.ROINumber)
        name = str(roi.get("ROIName", "") or f"ROI {number}")
        planes: dict[float, list[FloatArray]] = {}
        ignored = 0
        problem: str | None = None
        for contour in contours_by_roi.get(number, []):
            kind = str(contour.get("ContourGeometricType", "CLOSED_PLANAR")).upper()
            if kind != "CLOSED_PLANAR":
                ignored += 1
                continue
            try:
                pts = _contour_points(contour)
            except ValueError as exc:
                raise DosimetryInputError(f"{p}: ROI {name!r}: {exc}") from exc
            if pts.shape[0] < 3:
                ignored += 1
                continue
            z = pts[:, 2]
            if float(z.max() - z.min()) > PLANE_TOLERANCE_MM:
                problem = (
                    f"ROI {name!r} has contours that are not axial (z varies within a contour); "
                    "only axial contours are supported"
                )
                continue
            key = round(float(z.mean()) / PLANE_TOLERANCE_MM) * PLANE_TOLERANCE_MM
            key = round(key, 6)
            planes.setdefault(key, []).append(np.ascontiguousarray(pts[:, :2]))
        structures.append(
            Structure(
                number=number,
                name=name,
                frame_of_reference_uid=_str_or_none(roi.get("ReferencedFrameOfReferenceUID"))
                or set_for,
                planes=dict(sorted(planes.items())),
                interpreted_type=types.get(number) or None,
                ignored_contours=ignored,
                problem=problem,
            )
        )
    return StructureSet(path=p, frame_of_reference_uid=set_for, structures=tuple(structures))


def check_same_frame_of_reference(dose: DoseGrid, structures: StructureSet) -> None:
    """Refuse a dose and structure set drawn in different patient coordinate systems."""
    a, b = dose.frame_of_reference_uid, structures.frame_of_reference_uid
    if a and b and a != b:
        raise DosimetryInputError(
            f"FrameOfReferenceUID differs: RTDOSE {dose.path} has {a}, RTSTRUCT {structures.path} "
            f"has {b}; the dose and the contours are not in the same coordinate system"
        )
