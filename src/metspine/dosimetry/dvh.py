"""The DVH engine: weighted dose samples of a structure, and the metrics read from them.

How a structure is sampled (the choices pymedphys #1874 and spec/radiation.md §7.6 ask for):

1. **Volume from contours.** Each contour plane stands for a slab of its local plane spacing, half on
   each side (:func:`metspine.dosimetry.geometry.slab_bounds`); the plane's area is the XOR of its
   contours. The sampled areas are rescaled to those exact polygon areas, so ``volume_cc`` and the
   DVH's total agree.
2. **In plane.** Fine scanlines (0.25 mm) in the dose voxels a contour crosses, one sample per voxel
   inside (:func:`metspine.dosimetry.geometry.sample_plane`).
3. **Dose.** Trilinear: the dose planes at the slab's faces and at every dose frame inside the
   slab are interpolated linearly in z, then read bilinearly in plane. Along z the dose is then
   exactly piecewise linear, so each sample's slab-mean dose and its spread over the slab are exact
   (computed in the grid's own float32, 1e-7 relative).
4. **Each sample is a small uniform dose distribution**, not a point: centred on the sample's mean
   dose, as wide as its dose varies over its own extent (in-plane gradient × extent, combined in
   quadrature with the z spread). For a dose varying along one axis this is the exact distribution of
   dose over the sample; elsewhere it matches its variance. It is what lets a coarse interior voxel in a
   steep gradient, or a slab in a z gradient, give a smooth, accurate DVH instead of a staircase.
5. **Metrics read exactly** from the resulting piecewise-linear cumulative DVH (no histogram bins;
   dose bins only locate the vertex interval that holds the answer, see :class:`DVH`):
   ``D_v`` is the dose at which the volume receiving at least that dose equals ``v``; ``V_d`` the volume
   receiving at least ``d``. ``max_gy`` and ``min_gy`` are point values (sample points and contour
   vertices); the TG-101 small-volume maximum is ``D0.035cc`` / ``D0.03cc`` (reference ``tg101``).

Validation: analytic phantoms (tests/dosimetry) in the spirit of Nelms et al. 2015 (``nelms2015``).
"""

from __future__ import annotations

import itertools
import math
import os
import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from metspine.dosimetry.dicom import (
    DoseGrid,
    Structure,
    StructureSet,
    check_same_frame_of_reference,
    read_dose,
    read_structures,
)
from metspine.dosimetry.errors import DosimetryInputError
from metspine.dosimetry.geometry import Lattice, median, plane_area, sample_planes, slab_bounds

FloatArray = npt.NDArray[np.float64]

DEFAULT_FINE_PITCH_MM = 0.25
# Narrowest sample distribution, relative to the dose scale (1e-5 × 14 Gy = 0.14 mGy).
_MIN_WIDTH = 1e-5
# Dose bins of the tabulated distribution function that metrics are refined from.
_BINS = 16384


def _read_below(d: FloatArray, f: FloatArray, dose: float) -> float:
    """The distribution function with vertices (d, f) at ``dose`` (linear between vertices)."""
    k = int(np.searchsorted(d, dose, side="left"))
    if k <= 0:
        return float(f[0])
    if k >= d.size:
        return float(f[-1])
    span = d[k] - d[k - 1]
    t = 0.0 if span <= 0 else (dose - d[k - 1]) / span
    return float(f[k - 1] + t * (f[k] - f[k - 1]))


@dataclass(frozen=True, slots=True)
class Layout:
    """The dose bins a DVH is tabulated on, and the narrowest sample distribution (``floor``).

    A structure's DVH uses the layout of its dose grid (:meth:`for_dose`): bins over the grid's
    whole dose range, known before any sample is read, so every part of a structure, in whichever
    process, bins its samples alike and the parts' tables simply add.
    """

    start: float
    width: float
    n: int
    floor: float

    @classmethod
    def spanning(cls, lowest: float, highest: float, n: int = _BINS) -> Layout:
        """Bins holding every sample end between ``lowest`` and ``highest`` (after widening)."""
        floor = _MIN_WIDTH * max(abs(lowest), abs(highest), 1.0)
        start = lowest - floor
        return cls(start, (highest + floor - start) / n, n, floor)

    @classmethod
    def for_dose(cls, dose: DoseGrid) -> Layout:
        """Every sample's dose is a weighted mean of grid values, so the grid's range holds it."""
        if dose.dose.size == 0:
            return cls.spanning(0.0, 0.0)
        return cls.spanning(float(dose.dose.min()), float(dose.dose.max()))

    def edge(self, m: int) -> float:
        return self.start + m * self.width

    def bin_of(self, dose: float) -> int:
        return int(self.bins_of(np.array([dose]))[0])

    def bins_of(self, doses: FloatArray) -> npt.NDArray[np.intp]:
        return np.clip(((doses - self.start) * (1.0 / self.width)).astype(np.intp), 0, self.n - 1)


@dataclass(frozen=True, slots=True, eq=False)
class _Table:
    """One set of samples' share of the binned distribution function (it adds over sets).

    Per bin: the density of the ramps starting and ending in it, and the area those ramps add
    (or, for an end, take away) between their end and the bin's upper edge.
    """

    starts: FloatArray
    ends: FloatArray
    gain: FloatArray
    loss: FloatArray

    @classmethod
    def of(
        cls,
        layout: Layout,
        low: FloatArray,
        high: FloatArray,
        rho: FloatArray,
        low_bin: npt.NDArray[np.intp],
        high_bin: npt.NDArray[np.intp],
    ) -> _Table:
        n, w = layout.n, layout.width
        upper_low = layout.start + (low_bin + 1) * w
        upper_high = layout.start + (high_bin + 1) * w

        def add(bins: npt.NDArray[np.intp], weights: FloatArray) -> FloatArray:
            return np.asarray(np.bincount(bins, weights=weights, minlength=n), dtype=np.float64)

        return cls(
            add(low_bin, rho),
            add(high_bin, rho),
            add(low_bin, rho * (upper_low - low)),
            add(high_bin, rho * (upper_high - high)),
        )

    @classmethod
    def total(cls, tables: Sequence[_Table]) -> _Table:
        if len(tables) == 1:
            return tables[0]
        return cls(
            np.sum([t.starts for t in tables], axis=0),
            np.sum([t.ends for t in tables], axis=0),
            np.sum([t.gain for t in tables], axis=0),
            np.sum([t.loss for t in tables], axis=0),
        )


@dataclass(frozen=True, slots=True, eq=False)
class _Bins:
    """The distribution function at the ``n + 1`` bin edges, and the active density there.

    Between two bin edges the function is fixed by its value and active density at the lower
    edge plus the sample ends inside the bin, so a read-out touches one bin's ends only.
    """

    layout: Layout
    below: FloatArray  # at the edges, scaled so that the last one is the total volume
    active: FloatArray  # density of the samples spanning each edge (cm³ per dose unit)
    scale: float

    @classmethod
    def of(cls, layout: Layout, table: _Table, volume_cc: float) -> _Bins:
        n, w = layout.n, layout.width
        active = np.zeros(n + 1)
        np.cumsum(table.starts - table.ends, out=active[1:])
        below = np.zeros(n + 1)
        np.cumsum(active[:-1] * w + table.gain - table.loss, out=below[1:])
        # Rounding in the running sums must not make the distribution function decrease.
        np.maximum.accumulate(below, out=below)
        scale = volume_cc / float(below[-1])
        return cls(layout, below * scale, active * scale, scale)


@dataclass(frozen=True, slots=True, eq=False)
class _Ends:
    """Samples as uniform dose distributions ``U[low, high]`` with their density and bins."""

    low: FloatArray
    high: FloatArray
    density: FloatArray  # cm³ per dose unit
    low_bin: npt.NDArray[np.intp]
    high_bin: npt.NDArray[np.intp]

    @classmethod
    def widened(
        cls, layout: Layout, low: FloatArray, high: FloatArray, weight_cc: FloatArray
    ) -> _Ends:
        """Samples narrower than ``layout.floor`` widened to it about their middle.

        A constant dose (e.g. zero outside the fields) then becomes a very steep ramp, far below
        the precision anyone reads a DVH at, so no jumps need special handling.
        """
        pad = np.maximum(0.5 * (layout.floor - (high - low)), 0.0)
        low = low - pad
        high = high + pad
        return cls(low, high, weight_cc / (high - low), layout.bins_of(low), layout.bins_of(high))

    @classmethod
    def joined(cls, parts: Sequence[_Ends]) -> _Ends:
        if len(parts) == 1:
            return parts[0]
        return cls(
            np.concatenate([p.low for p in parts]),
            np.concatenate([p.high for p in parts]),
            np.concatenate([p.density for p in parts]),
            np.concatenate([p.low_bin for p in parts]),
            np.concatenate([p.high_bin for p in parts]),
        )

    def in_bins(self, wanted: npt.NDArray[np.bool_]) -> _Ends:
        """The samples with an end in a wanted bin (the only ones a read-out there touches)."""
        keep = np.flatnonzero(wanted[self.low_bin] | wanted[self.high_bin])
        return _Ends(
            self.low[keep],
            self.high[keep],
            self.density[keep],
            self.low_bin[keep],
            self.high_bin[keep],
        )


@dataclass(frozen=True, slots=True, eq=False)
class DVH:
    """A cumulative DVH of weighted samples, each a uniform dose distribution ``U[low, high]``.

    The distribution function (volume at or below a dose) is piecewise linear with vertices at the
    sorted sample ends. Metrics read it exactly, without sorting all ends: the function is
    tabulated on even dose bins by prefix sums (:class:`_Bins`), then refined inside the one bin
    that holds the answer from that bin's ends alone. ``doses``/``below_cc`` (all vertices, for
    plots) are built on first use. Doses are in the dose grid's units (Gy, or relative).

    A DVH built for metrics only may hold just the samples with an end in the bins its metrics
    read (``complete`` false); it then refuses any other read.
    """

    ends: _Ends
    bins: _Bins
    volume_cc: float
    min_dose: float
    max_dose: float
    mean_dose: float
    complete: bool = True
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    @classmethod
    def from_samples(
        cls,
        low: FloatArray,
        high: FloatArray,
        weight_cc: FloatArray,
        *,
        mean_dose: float,
        min_dose: float,
        max_dose: float,
    ) -> DVH:
        """The DVH of a mixture of uniform distributions ``U[low, high]`` weighted by volume."""
        total = float(weight_cc.sum())
        if low.size == 0 or total <= 0:
            raise ValueError("a DVH needs at least one sample with positive volume")
        layout = Layout.spanning(float(low.min()), float(high.max()))
        ends = _Ends.widened(layout, low, high, weight_cc)
        table = _Table.of(layout, ends.low, ends.high, ends.density, ends.low_bin, ends.high_bin)
        return cls(
            ends=ends,
            bins=_Bins.of(layout, table, total),
            volume_cc=total,
            min_dose=min_dose,
            max_dose=max_dose,
            mean_dose=mean_dose,
        )

    def _in_bin(self, m: int) -> tuple[FloatArray, FloatArray]:
        """Vertices of the distribution function from bin m's lower to its upper edge."""
        key = f"bin {m}"
        found = self._cache.get(key)
        if isinstance(found, tuple):
            return found
        recorder = self._cache.get("record")
        if isinstance(recorder, set):  # a twin of bins_read: note the bin, read it coarsely
            recorder.add(m)
            edges = np.array([self.bins.layout.edge(m), self.bins.layout.edge(m + 1)])
            return edges, self.bins.below[m : m + 2].copy()
        available = self._cache.get("available")
        if not self.complete and not (isinstance(available, set) and m in available):
            raise RuntimeError(f"bin {m} was not kept for this DVH's metrics")
        b, e = self.bins, self.ends
        lo = np.flatnonzero(e.low_bin == m)
        hi = np.flatnonzero(e.high_bin == m)
        x = np.concatenate((e.low[lo], e.high[hi]))
        step = np.concatenate((e.density[lo], -e.density[hi])) * b.scale
        order = np.argsort(x, kind="stable")
        x, step = x[order], step[order]
        e0, e1 = b.layout.edge(m), b.layout.edge(m + 1)
        points = np.concatenate(([e0], np.clip(x, e0, e1), [e1]))
        slope = np.concatenate(([b.active[m]], b.active[m] + np.cumsum(step)))
        below = np.empty(points.size)
        below[0] = b.below[m]
        np.cumsum(slope * np.diff(points), out=below[1:])
        below[1:] += b.below[m]
        np.maximum.accumulate(below, out=below)
        self._cache[key] = (points, below)
        return points, below

    def bins_read(
        self, d_cc: Iterable[float] = (), d_pct: Iterable[float] = (), v_gy: Iterable[float] = ()
    ) -> set[int]:
        """The bins that these metrics read (see :func:`metrics_from_dvh`).

        The read-outs themselves run on a twin without samples that records each bin it would
        refine in, so the answer is the same code path as the metrics, not a copy of its rules.
        """
        twin = DVH(
            _no_ends(), self.bins, self.volume_cc, self.min_dose, self.max_dose, self.mean_dose,
            complete=False,
        )  # fmt: skip
        seen: set[int] = set()
        twin._cache["record"] = seen
        for v in d_cc:
            twin.dose_at_volume_cc(v)
        for pct in d_pct:
            twin.dose_at_volume_pct(pct)
        for dose in v_gy:
            twin.volume_at_dose_cc(dose)
        return seen

    def with_ends(self, ends: _Ends, bins: set[int]) -> DVH:
        """This DVH's table with only ``ends``, the samples with an end in ``bins``."""
        dvh = DVH(
            ends, self.bins, self.volume_cc, self.min_dose, self.max_dose, self.mean_dose, False
        )
        dvh._cache["available"] = set(bins)
        return dvh

    def _below(self, dose: float) -> float:
        """Volume at or below ``dose``."""
        layout = self.bins.layout
        if dose <= layout.start:
            return 0.0
        if dose >= layout.edge(layout.n):
            return self.volume_cc
        d, f = self._in_bin(layout.bin_of(dose))
        return _read_below(d, f, dose)

    def _dose_below(self, target: float) -> float:
        """The highest dose with at most ``target`` cm³ at or below it."""
        b = self.bins
        m = min(max(int(np.searchsorted(b.below, target, side="right")) - 1, 0), b.layout.n - 1)
        d, f = self._in_bin(m)
        k = int(np.searchsorted(f, target, side="right"))
        if k <= 0:
            return float(d[0])
        if k >= f.size:
            return float(d[-1])
        t = (target - f[k - 1]) / (f[k] - f[k - 1])
        return float(d[k - 1] + t * (d[k] - d[k - 1]))

    @property
    def doses(self) -> FloatArray:
        """All vertices' doses, ascending (built on first use)."""
        return self._vertices()[0]

    @property
    def below_cc(self) -> FloatArray:
        """Volume at or below each of :attr:`doses`."""
        return self._vertices()[1]

    def _vertices(self) -> tuple[FloatArray, FloatArray]:
        found = self._cache.get("vertices")
        if isinstance(found, tuple):
            return found
        if not self.complete:
            raise RuntimeError("this DVH keeps only the samples its metrics read")
        e = self.ends
        dose = np.concatenate((e.low, e.high))
        # An exact (float64, stable) order, so the curve is monotone in dose. Only plots and
        # tests read the full vertex list; metrics never sort all ends.
        order = np.argsort(dose, kind="stable")
        dose = dose[order]
        rho = np.cumsum(np.concatenate((e.density, -e.density))[order])
        below = np.empty(dose.size)
        below[0] = 0.0
        np.cumsum(rho[:-1] * np.diff(dose), out=below[1:])
        np.maximum.accumulate(below, out=below)
        below *= self.volume_cc / below[-1]
        self._cache["vertices"] = (dose, below)
        return dose, below

    def volume_at_dose_cc(self, dose: float) -> float:
        """V_d: volume (cm³) receiving at least ``dose``."""
        if dose > self.max_dose:
            return 0.0
        if dose <= self.min_dose:
            return self.volume_cc
        return max(self.volume_cc - self._below(dose), 0.0)

    def volume_at_dose_pct(self, dose: float) -> float:
        """V_d as a percentage of the structure's in-grid volume."""
        return 100.0 * self.volume_at_dose_cc(dose) / self.volume_cc

    def dose_at_volume_cc(self, volume_cc: float) -> float:
        """D_v: the highest dose that at least ``volume_cc`` of the structure receives."""
        if volume_cc <= 0:
            return self.max_dose
        if volume_cc >= self.volume_cc:
            return self.min_dose
        value = self._dose_below(self.volume_cc - volume_cc)
        return min(max(value, self.min_dose), self.max_dose)

    def dose_at_volume_pct(self, percent: float) -> float:
        """D_x%: the highest dose that at least ``percent`` % of the in-grid volume receives."""
        return self.dose_at_volume_cc(self.volume_cc * percent / 100.0)

    def curve(self, n_points: int = 400) -> tuple[FloatArray, FloatArray]:
        """(dose, volume cm³ receiving at least that dose), for plotting."""
        grid = np.linspace(0.0, self.max_dose, n_points)
        d, f = self._vertices()
        volume = np.empty(grid.size)
        for n, dose in enumerate(grid.tolist()):
            if dose > self.max_dose:
                volume[n] = 0.0
            elif dose <= self.min_dose:
                volume[n] = self.volume_cc
            else:
                volume[n] = max(self.volume_cc - _read_below(d, f, dose), 0.0)
        return grid, volume


@dataclass(frozen=True, slots=True, eq=False)
class StructureDVH:
    """A structure's contour volume, in-grid volume, and DVH (``None`` when it has no volume)."""

    name: str
    roi_number: int
    volume_cc: float
    volume_in_grid_cc: float
    dvh: DVH | None
    units: str
    notes: tuple[str, ...] = ()


def _grid_z_extent(dose: DoseGrid) -> tuple[float, float]:
    """The z range the dose grid covers: each frame stands for half the gap to its neighbours."""
    zs = dose.zs
    if zs.size > 1:
        return float(zs[0] - 0.5 * (zs[1] - zs[0])), float(zs[-1] + 0.5 * (zs[-1] - zs[-2]))
    half = 0.5 * (dose.slice_thickness_mm or 0.0)
    return float(zs[0] - half), float(zs[0] + half)


def _frame_weights_of(zs: FloatArray, z: FloatArray) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """(frame k, t) per height z: the dose plane at z is (1 − t)·frame k + t·frame k+1.

    Beyond the first or last frame the dose is held (t = 0 at that frame).
    """
    if zs.size == 1:
        return np.zeros(z.shape, dtype=np.intp), np.zeros(z.shape)
    k = np.clip(np.searchsorted(zs, z, side="right") - 1, 0, zs.size - 2)
    t = (z - zs[k]) / (zs[k + 1] - zs[k])
    below, above = z <= zs[0], z >= zs[-1]
    k = np.where(above, zs.size - 1, np.where(below, 0, k))
    return k, np.where(below | above, 0.0, t)


def _slab_planes(
    dose: DoseGrid, ca: FloatArray, cb: FloatArray, rows: slice, cols: slice
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per slab [ca, cb]: the mean, variance, max and min over z of the dose, on a window.

    Breakpoints are the slab faces and every dose frame strictly inside; the dose is linear in z
    between them, so the mean and variance are exact. Slabs with fewer breakpoints are padded by
    repeating their last one (a zero-length piece, which adds nothing). Arrays are (slab, y, x).
    """
    zs = dose.zs
    # Breakpoints (slab, b): the lower face, the frames strictly inside, the upper face (repeated).
    lo = np.searchsorted(zs, ca, side="right")
    inner = np.searchsorted(zs, cb, side="left") - lo
    b = np.arange(int(inner.max(initial=0)) + 2)[None, :]
    frame = zs[np.clip(lo[:, None] + b - 1, 0, zs.size - 1)]
    zb_pts = np.where(b == 0, ca[:, None], np.where(b <= inner[:, None], frame, cb[:, None]))
    k0, t64 = _frame_weights_of(zs, zb_pts)
    t = t64.astype(np.float32)[:, :, None, None]
    k1 = np.minimum(k0 + 1, zs.size - 1)
    window = dose.dose[:, rows, cols]
    # In the grid's own precision (float32: 1e-7 relative, a micro-gray at 14 Gy), which halves
    # the memory traffic of the heaviest arrays; the samples' doses are float64 from here on.
    at = (1.0 - t) * window[k0] + t * window[k1]  # (slab, breakpoint, y, x)
    lengths = (np.diff(zb_pts, axis=1) / (cb - ca)[:, None]).astype(np.float32)[:, :, None, None]
    piece_means = 0.5 * (at[:, 1:] + at[:, :-1])
    mean = (lengths * piece_means).sum(axis=1)
    step = at[:, 1:] - at[:, :-1]
    dev = piece_means - mean[:, None]
    var = (lengths * (step * step / 12.0 + dev * dev)).sum(axis=1)
    return mean, var, at.max(axis=1), at.min(axis=1)


def _bilinear(
    arrays: Sequence[FloatArray],
    plane: npt.NDArray[np.intp],
    fx: FloatArray,
    fy: FloatArray,
    box: tuple[npt.NDArray[np.intp], ...],
) -> tuple[list[FloatArray], FloatArray, FloatArray]:
    """Bilinear reads of each (slab, y, x) array, and the index-gradient of arrays[0].

    ``fx``, ``fy`` are fractional indices within each point's own plane window, ``box`` = (x
    origin, y origin, width, height) of that window inside the arrays. Points are clamped to their
    window, so each point is read as if its plane had been read alone (the gradient at a lattice
    node, where it is one-sided, then takes the same side).
    """
    ox, oy, wx, wy = box
    _, ny, nx = arrays[0].shape
    fx = np.clip(fx, 0.0, wx - 1.0)
    fy = np.clip(fy, 0.0, wy - 1.0)
    i0 = np.minimum(np.floor(fx).astype(np.intp), np.maximum(wx - 2, 0))
    j0 = np.minimum(np.floor(fy).astype(np.intp), np.maximum(wy - 2, 0))
    tx, ty = fx - i0, fy - j0
    f00 = (plane * ny + j0 + oy) * nx + i0 + ox
    f01 = f00 + (wx > 1)
    f10 = f00 + nx * (wy > 1)
    f11 = f10 + (wx > 1)
    out = []
    corners = []
    for a in arrays:
        flat = a.ravel()
        a00, a01, a10, a11 = flat[f00], flat[f01], flat[f10], flat[f11]
        corners.append((a00, a01, a10, a11))
        out.append((1 - ty) * ((1 - tx) * a00 + tx * a01) + ty * ((1 - tx) * a10 + tx * a11))
    m00, m01, m10, m11 = corners[0]
    gx = (1 - ty) * (m01 - m00) + ty * (m11 - m10)
    gy = (1 - tx) * (m10 - m00) + tx * (m11 - m01)
    return out, gx, gy


def _footprint_extreme(planes: FloatArray, pick: np.ufunc) -> FloatArray:
    """Per grid point, the max (or min) of the bilinear dose over its voxel footprint.

    Over the footprint the dose is bilinear in four quadrants, so its extremes lie among the grid
    point itself, the four edge midpoints and the four corners of the footprint. Those nine values
    are averages of neighbours, built separably (half-steps in x, then in y). Arrays are
    (slab, y, x); the plane is extended by its edge values.
    """
    p = np.pad(planes, ((0, 0), (1, 1), (1, 1)), mode="edge")
    half_x = 0.5 * (p[:, :, 1:] + p[:, :, :-1])  # at x ± ½ voxel
    # Along each row: the point and its two x half-steps; then the same on the y half-rows.
    on_row = pick(pick(p[:, :, 1:-1], half_x[:, :, :-1]), half_x[:, :, 1:])
    half_y = 0.5 * (p[:, 1:, 1:-1] + p[:, :-1, 1:-1])
    corner = 0.5 * (half_x[:, 1:] + half_x[:, :-1])
    on_half = pick(pick(half_y, corner[:, :, :-1]), corner[:, :, 1:])
    return np.asarray(pick(pick(on_row[:, 1:-1], on_half[:, :-1]), on_half[:, 1:]))


def _gradient(planes: FloatArray, axis: int) -> FloatArray:
    """Index-gradient along ``axis`` (central inside, one-sided at the edges), as np.gradient."""
    if planes.shape[axis] < 2:
        return np.zeros_like(planes)
    return np.asarray(np.gradient(planes, axis=axis))


# Dose planes are built for this many window cells (slabs × rows × columns) at a time: enough to
# keep the per-call overhead small, few enough to stay in the CPU cache.
_CHUNK_CELLS = 1 << 17

# Structures costlier than this (plane_costs, mm²) are sampled in blocks of about this cost: each
# block is a unit of work that can go to either process of a parallel run.
_BLOCK_COST = 4.0e6


@dataclass(slots=True)
class _Samples:
    """A structure's fine samples in the dose lattice, grouped by slab (``plane`` ascending)."""

    plane: npt.NDArray[np.intp]
    x: FloatArray
    y: FloatArray
    i: npt.NDArray[np.intp]
    j: npt.NDArray[np.intp]
    lx: FloatArray
    ly: FloatArray
    area: FloatArray

    def take(self, keep: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> _Samples:
        return _Samples(
            self.plane[keep],
            self.x[keep],
            self.y[keep],
            self.i[keep],
            self.j[keep],
            self.lx[keep],
            self.ly[keep],
            self.area[keep],
        )


@dataclass(slots=True)
class _Cells:
    """A structure's whole-voxel samples: lattice cells, grouped by slab (``plane`` ascending)."""

    plane: npt.NDArray[np.intp]
    i: npt.NDArray[np.intp]
    j: npt.NDArray[np.intp]

    def take(self, keep: npt.NDArray[np.bool_]) -> _Cells:
        return _Cells(self.plane[keep], self.i[keep], self.j[keep])


def plane_costs(structure: Structure) -> FloatArray:
    """A work estimate per contour plane (mm²): its bounding box, plus its vertices (the boundary).

    Computed from the contours alone (a few array operations per structure), so a parallel run can
    plan its split before any structure is sampled.
    """
    planes = list(structure.planes.values())
    if not planes:
        return np.empty(0)
    n_vertices = np.array([sum(len(poly) for poly in polys) for polys in planes], dtype=np.intp)
    pts = np.concatenate([poly for polys in planes for poly in polys])
    starts = np.cumsum(n_vertices) - n_vertices
    span = np.maximum.reduceat(pts, starts, axis=0) - np.minimum.reduceat(pts, starts, axis=0)
    return np.asarray(span[:, 0] * span[:, 1] + 50.0 * n_vertices, dtype=np.float64)


def plane_blocks(costs: FloatArray) -> list[tuple[int, int]]:
    """Runs of consecutive contour planes, each of about ``_BLOCK_COST`` (one run for most).

    A structure is sampled block by block; the split depends on the geometry only, never on how
    many processes share the work, so serial and parallel runs give identical results.
    """
    n_planes = int(costs.size)
    if n_planes == 0:
        return []
    total = float(costs.sum())
    n = min(n_planes, max(1, round(total / _BLOCK_COST)))
    if n <= 1:
        return [(0, n_planes)]
    cum = np.cumsum(costs)
    cuts = np.searchsorted(cum, total * np.arange(1, n) / n, side="left") + 1
    edges = sorted({0, *np.clip(cuts, 1, n_planes - 1).tolist(), n_planes})
    return list(itertools.pairwise(edges))


@dataclass(frozen=True, slots=True, eq=False)
class _Slabs:
    """A structure's usable planes: polygons, exact areas, slabs clipped to the grid, scanlines.

    ``contour_plane`` is each usable plane's index among all the structure's contour planes, and
    ``contour_blocks`` the structure's :func:`plane_blocks` in those indices.
    """

    planes: list[list[FloatArray]]
    area: FloatArray
    ca: FloatArray
    cb: FloatArray
    n_fine: npt.NDArray[np.intp]
    volume_mm3: float
    outside_mm3: float
    contour_plane: npt.NDArray[np.intp]
    contour_blocks: list[tuple[int, int]]

    def blocks(self) -> list[tuple[int, int]]:
        """Each contour block as a run of usable planes (possibly empty), in plane order."""
        bounds = np.searchsorted(self.contour_plane, [a for a, _ in self.contour_blocks])
        ends = [*bounds.tolist()[1:], len(self.planes)]
        return list(zip(bounds.tolist(), ends, strict=True))


@dataclass(frozen=True, slots=True, eq=False)
class _Part:
    """One block of a structure's planes: its samples and its share of the DVH's sums.

    ``table`` covers all the block's samples even when ``ends`` has been cut down to the samples
    a read-out needs (or emptied, to send the sums alone to another process).
    """

    ends: _Ends
    table: _Table | None  # None: no sample in the dose grid
    volume_cc: float
    dose_volume: float  # Σ mean dose × volume, for the mean dose
    outside_mm3: float  # sampled area outside the dose grid × slab thickness
    point_max: float
    point_min: float

    def sums_only(self) -> _Part:
        return _Part(
            _no_ends(), self.table, self.volume_cc, self.dose_volume, self.outside_mm3,
            self.point_max, self.point_min,
        )  # fmt: skip


def _no_ends() -> _Ends:
    nothing = np.empty(0)
    no_bins = np.empty(0, dtype=np.intp)
    return _Ends(nothing, nothing, nothing, no_bins, no_bins)


def _slabs(
    dose: DoseGrid,
    structure: Structure,
    default_spacing_mm: float | None,
    fine_pitch_mm: float,
) -> _Slabs:
    """Per plane: exact area, the slab (end-capping rule) clipped to the grid, scanline count."""
    hx, hy = _spacing(dose)
    plane_z = np.fromiter(structure.planes, dtype=np.float64)
    if default_spacing_mm is None:
        default_spacing_mm = (
            median(np.diff(dose.zs)) if dose.zs.size > 1 else dose.slice_thickness_mm
        )
    if not default_spacing_mm:
        raise DosimetryInputError(
            f"{structure.name!r} lies on a single plane and the dose grid has a single frame without "
            "SliceThickness, so the structure's thickness is unknown"
        )
    lo, hi = slab_bounds(plane_z, default_spacing_mm)
    z_lo, z_hi = _grid_z_extent(dose)
    single_frame = dose.zs.size == 1

    volume_mm3 = 0.0
    outside_mm3 = 0.0
    used: list[list[FloatArray]] = []
    used_area: list[float] = []
    used_ca: list[float] = []
    used_cb: list[float] = []
    used_fine: list[int] = []
    used_index: list[int] = []
    for k, ((z, polygons), za, zb) in enumerate(
        zip(structure.planes.items(), lo.tolist(), hi.tolist(), strict=True)
    ):
        exact_area = plane_area(polygons)
        if exact_area <= 0:
            continue
        volume_mm3 += exact_area * (zb - za)
        if single_frame and z_hi - z_lo <= 0:
            # A one-frame dose without thickness: use it for planes lying on that frame only.
            on_frame = abs(z - float(dose.zs[0])) <= 0.5 * (zb - za)
            ca, cb = (za, zb) if on_frame else (0.0, 0.0)
        else:
            ca, cb = max(za, z_lo), min(zb, z_hi)
        if cb <= ca:
            outside_mm3 += exact_area * (zb - za)
            continue
        outside_mm3 += exact_area * ((zb - za) - (cb - ca))
        # Scanline pitch: 0.25 mm for small cross-sections, coarser for large ones, where the
        # boundary holds a tiny share of the volume (r/40 keeps the area error well under 0.1 %).
        pitch = min(max(fine_pitch_mm, math.sqrt(exact_area / math.pi) / 40.0), 0.5 * max(hx, hy))
        used.append(polygons)
        used_index.append(k)
        used_area.append(exact_area)
        used_ca.append(ca)
        used_cb.append(cb)
        used_fine.append(max(2, math.ceil(max(hx, hy) / pitch - 1e-9)))
    return _Slabs(
        planes=used,
        area=np.asarray(used_area, dtype=np.float64),
        ca=np.asarray(used_ca, dtype=np.float64),
        cb=np.asarray(used_cb, dtype=np.float64),
        n_fine=np.asarray(used_fine, dtype=np.intp),
        volume_mm3=volume_mm3,
        outside_mm3=outside_mm3,
        contour_plane=np.asarray(used_index, dtype=np.intp),
        contour_blocks=plane_blocks(plane_costs(structure)),
    )


def _spacing(dose: DoseGrid) -> tuple[float, float]:
    hx = float(dose.xs[1] - dose.xs[0]) if dose.xs.size > 1 else 1.0
    hy = float(dose.ys[1] - dose.ys[0]) if dose.ys.size > 1 else 1.0
    return hx, hy


def _part(dose: DoseGrid, slabs: _Slabs, start: int, stop: int, layout: Layout) -> _Part:
    """Sample planes ``start:stop`` of a structure and read each sample's dose distribution."""
    if stop <= start:
        return _Part(_no_ends(), None, 0.0, 0.0, 0.0, -math.inf, math.inf)
    xs, ys = dose.xs, dose.ys
    nx, ny = xs.size, ys.size
    hx, hy = _spacing(dose)
    lattice = Lattice(float(xs[0]), float(ys[0]), hx, hy)
    used = slabs.planes[start:stop]
    n_planes = len(used)
    ca_all, cb_all = slabs.ca[start:stop], slabs.cb[start:stop]
    sp = sample_planes(used, lattice, slabs.n_fine[start:stop])
    voxel = hx * hy
    sampled = np.bincount(sp.whole_plane, minlength=n_planes) * voxel + np.bincount(
        sp.plane, weights=sp.area, minlength=n_planes
    )
    area = slabs.area[start:stop]
    # Sampled areas are rescaled to the exact polygon areas, plane by plane.
    scale = np.divide(area, sampled, out=np.zeros_like(area), where=sampled > 0)
    cells = _Cells(sp.whole_plane, sp.whole_i, sp.whole_j)
    fine = _Samples(sp.plane, sp.x, sp.y, sp.i, sp.j, sp.lx, sp.ly, sp.area * scale[sp.plane])
    empty = np.flatnonzero(sampled <= 0)
    if empty.size:
        # Thinner than the scanline pitch everywhere: one sample at the vertices' mean.
        centres = np.array([np.concatenate(used[k]).mean(axis=0) for k in empty.tolist()])
        ex, ey = centres[:, 0], centres[:, 1]
        fine = _Samples(
            np.concatenate((fine.plane, empty)),
            np.concatenate((fine.x, ex)),
            np.concatenate((fine.y, ey)),
            np.concatenate((fine.i, np.floor((ex - lattice.x0) / hx + 0.5).astype(np.intp))),
            np.concatenate((fine.j, np.floor((ey - lattice.y0) / hy + 0.5).astype(np.intp))),
            np.concatenate((fine.lx, np.zeros(empty.size))),
            np.concatenate((fine.ly, np.zeros(empty.size))),
            np.concatenate((fine.area, area[empty])),
        )
        fine = fine.take(np.argsort(fine.plane, kind="stable"))  # keep it ordered by plane
    thick = cb_all - ca_all
    cell_weight = voxel * scale * thick / 1000.0  # cm³ of a whole voxel, per plane
    outside_mm3 = 0.0
    in_grid = (cells.i >= 0) & (cells.i < nx) & (cells.j >= 0) & (cells.j < ny)
    if not in_grid.all():
        outside_mm3 += 1000.0 * float(cell_weight[cells.plane[~in_grid]].sum())
        cells = cells.take(in_grid)
    in_grid = (fine.i >= 0) & (fine.i < nx) & (fine.j >= 0) & (fine.j < ny)
    if not in_grid.all():
        out = ~in_grid
        outside_mm3 += float(np.dot(fine.area[out], thick[fine.plane[out]]))
        fine = fine.take(in_grid)
    if cells.plane.size + fine.plane.size == 0:
        return _Part(_no_ends(), None, 0.0, 0.0, outside_mm3, -math.inf, math.inf)
    low, high, centre, point_max, point_min = _sample_doses(dose, cells, fine, used, ca_all, cb_all)
    weight = np.concatenate((cell_weight[cells.plane], fine.area * thick[fine.plane] / 1000.0))
    ends = _Ends.widened(layout, low, high, weight)
    table = _Table.of(layout, ends.low, ends.high, ends.density, ends.low_bin, ends.high_bin)
    return _Part(
        ends, table, float(weight.sum()), float(np.dot(centre, weight)), outside_mm3, point_max,
        point_min,
    )  # fmt: skip


def _assemble(
    structure: Structure, units: str, slabs: _Slabs, parts: Sequence[_Part], layout: Layout
) -> StructureDVH:
    """The structure's DVH from the parts of all its blocks (in plane order).

    Sums add over the parts in block order, whichever process sampled them. The DVH is complete
    when every part still holds all its samples.
    """
    notes: list[str] = []
    outside_mm3 = slabs.outside_mm3 + sum(p.outside_mm3 for p in parts)
    volume_cc = slabs.volume_mm3 / 1000.0
    outside_cc = outside_mm3 / 1000.0
    if outside_cc > 1e-6 * max(volume_cc, 1e-9):
        notes.append(
            f"{outside_cc:.3f} cm³ of {volume_cc:.3f} cm³ lies outside the dose grid and is not in "
            "the DVH"
        )
    if structure.ignored_contours:
        notes.append(f"{structure.ignored_contours} non-closed (point/open) contours ignored")
    filled = [p for p in parts if p.table is not None]
    in_grid_cc = sum(p.volume_cc for p in filled)
    if not filled or in_grid_cc <= 0:
        if volume_cc > 0:
            notes.append("the structure lies wholly outside the dose grid")
        return StructureDVH(
            structure.name, structure.number, volume_cc, 0.0, None, units, tuple(notes)
        )
    table = _Table.total([p.table for p in filled if p.table is not None])
    dvh = DVH(
        ends=_Ends.joined([p.ends for p in filled]),
        bins=_Bins.of(layout, table, in_grid_cc),
        volume_cc=in_grid_cc,
        min_dose=min(p.point_min for p in filled),
        max_dose=max(p.point_max for p in filled),
        mean_dose=sum(p.dose_volume for p in filled) / in_grid_cc,
    )
    return StructureDVH(
        name=structure.name,
        roi_number=structure.number,
        volume_cc=volume_cc,
        volume_in_grid_cc=in_grid_cc,
        dvh=dvh,
        units=units,
        notes=tuple(notes),
    )


def _empty_dvh(dose: DoseGrid, structure: Structure) -> StructureDVH | None:
    """The result for a structure without contours (None for one that has some)."""
    if structure.problem:
        raise DosimetryInputError(structure.problem)
    if structure.is_empty:
        return StructureDVH(
            structure.name, structure.number, 0.0, 0.0, None, dose.units, ("no contours",)
        )
    return None


def structure_dvh(
    dose: DoseGrid,
    structure: Structure,
    *,
    default_spacing_mm: float | None = None,
    fine_pitch_mm: float = DEFAULT_FINE_PITCH_MM,
    layout: Layout | None = None,
) -> StructureDVH:
    """Sample ``structure`` in ``dose`` and build its DVH (see the module docstring for the method).

    ``default_spacing_mm`` is the slab thickness of a single-plane structure (by default the dose
    grid's frame spacing). Parts of the structure outside the dose grid are left out of the DVH and
    reported in ``notes`` and ``volume_in_grid_cc``.

    The planes are sampled in one pass per block of planes (:func:`sample_planes`; one block for all
    but the largest structures) and their dose is read in a few batches of slabs, so the cost is a
    fixed number of array operations per structure rather than per plane.
    """
    empty = _empty_dvh(dose, structure)
    if empty is not None:
        return empty
    layout = layout or Layout.for_dose(dose)
    slabs = _slabs(dose, structure, default_spacing_mm, fine_pitch_mm)
    parts = [_part(dose, slabs, a, b, layout) for a, b in slabs.blocks()]
    return _assemble(structure, dose.units, slabs, parts, layout)


def _plane_ranges(
    plane: npt.NDArray[np.intp], n_planes: int, *values: npt.NDArray[np.intp]
) -> list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]:
    """Per plane, the least and greatest of each of ``values`` (grouped by ``plane``, ascending).

    Planes without values get (max intp, -1), so they drop out of a min/max over groups.
    """
    out = []
    starts = np.flatnonzero(np.diff(plane, prepend=-1)) if plane.size else plane
    keys = plane[starts]
    for v in values:
        lo = np.full(n_planes, np.iinfo(np.intp).max)
        hi = np.full(n_planes, -1)
        if plane.size:
            lo[keys] = np.minimum.reduceat(v, starts)
            hi[keys] = np.maximum.reduceat(v, starts)
        out.append((lo, hi))
    return out


def _sample_doses(
    dose: DoseGrid,
    cells: _Cells,
    s: _Samples,
    planes: list[list[FloatArray]],
    ca: FloatArray,
    cb: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, float, float]:
    """Each sample's uniform dose distribution [low, high] and mean; the structure's point max/min.

    The results hold the whole voxels first, then the fine samples. Slabs are processed in chunks:
    one window of the dose grid (the chunk's samples' voxels plus one voxel of margin for
    gradients) and one set of array operations per chunk.
    """
    xs, ys = dose.xs, dose.ys
    nx, ny = xs.size, ys.size
    hx = float(xs[1] - xs[0]) if nx > 1 else 1.0
    hy = float(ys[1] - ys[0]) if ny > 1 else 1.0
    n_whole = cells.plane.size
    n = n_whole + s.plane.size
    c = np.empty(n)
    # Half the dose change across each sample's extent, along x and y (from the gradient).
    sx = np.empty(n)
    sy = np.empty(n)
    var = np.empty(n)
    local_max = np.empty(n)
    local_min = np.empty(n)

    # Per-plane windows: the samples' voxels plus one voxel of margin, inside the grid.
    n_planes = len(planes)
    (ci0, ci1), (cj0, cj1) = _plane_ranges(cells.plane, n_planes, cells.i, cells.j)
    (fi0, fi1), (fj0, fj1) = _plane_ranges(s.plane, n_planes, s.i, s.j)
    has = (ci1 >= 0) | (fi1 >= 0)
    wi0 = np.maximum(np.minimum(ci0, fi0) - 1, 0)
    wj0 = np.maximum(np.minimum(cj0, fj0) - 1, 0)
    wi1 = np.minimum(np.maximum(ci1, fi1) + 1, nx - 1)
    wj1 = np.minimum(np.maximum(cj1, fj1) + 1, ny - 1)

    # Contour vertices, grouped by plane, bound the point max/min too.
    v_plane = np.repeat(np.arange(n_planes), [sum(len(poly) for poly in polys) for polys in planes])
    verts = np.concatenate([poly for polys in planes for poly in polys])
    vx = (verts[:, 0] - xs[0]) / hx
    vy = (verts[:, 1] - ys[0]) / hy
    v_in = (vx >= -0.5) & (vx <= nx - 0.5) & (vy >= -0.5) & (vy <= ny - 0.5) & has[v_plane]
    v_plane, vx, vy = v_plane[v_in], vx[v_in], vy[v_in]
    v_max = np.empty(vx.size)
    v_min = np.empty(vx.size)

    todo = np.flatnonzero(has).tolist()
    start = 0
    while start < len(todo):
        # Grow the chunk while its window stays within the budget.
        stop = start + 1
        i0, i1, j0, j1 = wi0[todo[start]], wi1[todo[start]], wj0[todo[start]], wj1[todo[start]]
        while stop < len(todo):
            k = todo[stop]
            ni0, ni1 = min(i0, wi0[k]), max(i1, wi1[k])
            nj0, nj1 = min(j0, wj0[k]), max(j1, wj1[k])
            if (stop - start + 1) * (ni1 - ni0 + 1) * (nj1 - nj0 + 1) > _CHUNK_CELLS:
                break
            i0, i1, j0, j1 = ni0, ni1, nj0, nj1
            stop += 1
        p_first, p_last = todo[start], todo[stop - 1]
        start = stop
        members = np.arange(p_first, p_last + 1)
        mean, var_p, max_p, min_p = _slab_planes(
            dose, ca[members], cb[members], slice(j0, j1 + 1), slice(i0, i1 + 1)
        )
        fp_max = _footprint_extreme(max_p, np.maximum)
        fp_min = _footprint_extreme(min_p, np.minimum)
        h, w = mean.shape[1], mean.shape[2]

        a, b = np.searchsorted(cells.plane, [p_first, p_last + 1])
        if b > a:
            # Whole voxels sit on grid points: read directly, central-difference gradient (per
            # index step, i.e. across the voxel). A whole voxel's footprint lies inside the
            # structure, so its extremes are point values of the structure too.
            flat = ((cells.plane[a:b] - p_first) * h + (cells.j[a:b] - j0)) * w + (
                cells.i[a:b] - i0
            )
            c[a:b] = mean.ravel()[flat]
            var[a:b] = var_p.ravel()[flat]
            sx[a:b] = _gradient(mean, 2).ravel()[flat]
            sy[a:b] = _gradient(mean, 1).ravel()[flat]
            local_max[a:b] = fp_max.ravel()[flat]
            local_min[a:b] = fp_min.ravel()[flat]
        a, b = n_whole + np.searchsorted(s.plane, [p_first, p_last + 1])
        if b > a:
            sl = slice(a, b)
            fl = slice(a - n_whole, b - n_whole)
            q = s.plane[fl]
            pl = q - p_first
            (cm, vm, mx, mn), gxi, gyi = _bilinear(
                [mean, var_p, max_p, min_p],
                pl,
                (s.x[fl] - xs[0]) / hx - wi0[q],
                (s.y[fl] - ys[0]) / hy - wj0[q],
                (wi0[q] - i0, wj0[q] - j0, wi1[q] - wi0[q] + 1, wj1[q] - wj0[q] + 1),
            )
            c[sl], var[sl] = cm, vm
            sx[sl] = gxi * (s.lx[fl] / hx)
            sy[sl] = gyi * (s.ly[fl] / hy)
            # The dose over a fine sample's row segment: the linear reach from its centroid,
            # but never beyond the extremes over its voxel's footprint, which holds the segment.
            reach = 0.5 * (np.abs(sx[sl]) + np.abs(sy[sl]))
            flat = (pl * h + (s.j[fl] - j0)) * w + (s.i[fl] - i0)
            local_max[sl] = np.minimum(mx + reach, fp_max.ravel()[flat])
            local_min[sl] = np.maximum(mn - reach, fp_min.ravel()[flat])
        a, b = np.searchsorted(v_plane, [p_first, p_last + 1])
        if b > a:
            q = v_plane[a:b]
            (mx, mn), _, _ = _bilinear(
                [max_p, min_p],
                q - p_first,
                vx[a:b] - wi0[q],
                vy[a:b] - wj0[q],
                (wi0[q] - i0, wj0[q] - j0, wi1[q] - wi0[q] + 1, wj1[q] - wj0[q] + 1),
            )
            v_max[a:b], v_min[a:b] = mx, mn

    point_max = float(max(local_max.max(), v_max.max(initial=-math.inf)))
    point_min = float(min(local_min.min(), v_min.min(initial=math.inf)))
    # Each sample's uniform distribution: variance-matched width, kept within the range the
    # dose actually takes over the sample (so a peak's kernel never reaches above the peak).
    half = 0.5 * np.sqrt(sx * sx + sy * sy + 12.0 * np.maximum(var, 0.0))
    low = np.minimum(np.maximum(c - half, local_min), c)
    high = np.maximum(np.minimum(c + half, local_max), c)
    return low, high, c, point_max, point_min


def _key(value: float) -> str:
    """JSON key of a metric parameter: 0.03 -> "0.03", 2.0 -> "2", 13.3 -> "13.3"."""
    return f"{value:g}"


@dataclass(frozen=True, slots=True)
class StructureMetrics:
    """DVH metrics of one structure, in the shape of contract §4 (``metspine dvh``).

    Doses are in Gy (``dose_units`` "GY") or, when the caller allowed a RELATIVE dose, in the dose
    grid's relative units. ``None`` marks a metric that does not exist (an empty structure).
    """

    name: str
    roi_number: int
    volume_cc: float
    volume_in_grid_cc: float
    min_gy: float | None
    mean_gy: float | None
    max_gy: float | None
    d_cc: dict[str, float | None] = field(default_factory=dict)
    d_pct: dict[str, float | None] = field(default_factory=dict)
    v_gy: dict[str, float | None] = field(default_factory=dict)
    v_gy_pct: dict[str, float | None] = field(default_factory=dict)
    dose_units: str = "GY"
    notes: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return self.max_gy is None

    def to_dict(self, *, extended: bool = False, digits: int = 4) -> dict[str, object]:
        """The contract §4 JSON object; ``extended`` adds ROI number, in-grid volume, units, notes."""

        def r(v: float | None) -> float | None:
            return None if v is None else round(v, digits)

        out: dict[str, object] = {
            "name": self.name,
            "volume_cc": r(self.volume_cc),
            "min_gy": r(self.min_gy),
            "mean_gy": r(self.mean_gy),
            "max_gy": r(self.max_gy),
            "d_cc": {k: r(v) for k, v in self.d_cc.items()},
            "d_pct": {k: r(v) for k, v in self.d_pct.items()},
            "v_gy": {k: r(v) for k, v in self.v_gy.items()},
        }
        if extended:
            out["roi_number"] = self.roi_number
            out["volume_in_grid_cc"] = r(self.volume_in_grid_cc)
            out["v_gy_pct"] = {k: r(v) for k, v in self.v_gy_pct.items()}
            out["dose_units"] = self.dose_units
            out["notes"] = list(self.notes)
        return out


def metrics_from_dvh(
    sd: StructureDVH,
    d_cc: Iterable[float] = (0.03,),
    d_pct: Iterable[float] = (2, 50, 98),
    v_gy: Iterable[float] = (),
) -> StructureMetrics:
    """Read the requested metrics off a :class:`StructureDVH`."""
    d_cc, d_pct, v_gy = list(d_cc), list(d_pct), list(v_gy)
    dvh = sd.dvh
    if dvh is None:
        return StructureMetrics(
            name=sd.name,
            roi_number=sd.roi_number,
            volume_cc=sd.volume_cc,
            volume_in_grid_cc=sd.volume_in_grid_cc,
            min_gy=None,
            mean_gy=None,
            max_gy=None,
            d_cc={_key(v): None for v in d_cc},
            d_pct={_key(v): None for v in d_pct},
            v_gy={_key(v): None for v in v_gy},
            v_gy_pct={_key(v): None for v in v_gy},
            dose_units=sd.units,
            notes=sd.notes,
        )
    return StructureMetrics(
        name=sd.name,
        roi_number=sd.roi_number,
        volume_cc=sd.volume_cc,
        volume_in_grid_cc=sd.volume_in_grid_cc,
        min_gy=dvh.min_dose,
        mean_gy=dvh.mean_dose,
        max_gy=dvh.max_dose,
        d_cc={_key(v): dvh.dose_at_volume_cc(v) for v in d_cc},
        d_pct={_key(v): dvh.dose_at_volume_pct(v) for v in d_pct},
        v_gy={_key(v): dvh.volume_at_dose_cc(v) for v in v_gy},
        v_gy_pct={_key(v): dvh.volume_at_dose_pct(v) for v in v_gy},
        dose_units=sd.units,
        notes=sd.notes,
    )


def check_metric_params(
    d_cc: Sequence[float], d_pct: Sequence[float], v_gy: Sequence[float]
) -> None:
    """Refuse metric parameters that cannot be met (a non-positive volume, a % outside 0-100…)."""
    for v in d_cc:
        if not (math.isfinite(v) and v > 0):
            raise DosimetryInputError(f"d_cc: {v} is not a positive volume in cm³")
    for v in d_pct:
        if not (math.isfinite(v) and 0 <= v <= 100):
            raise DosimetryInputError(f"d_pct: {v} is not a percentage between 0 and 100")
    for v in v_gy:
        if not (math.isfinite(v) and v >= 0):
            raise DosimetryInputError(f"v_gy: {v} is not a non-negative dose in Gy")


def load_plan(
    dose_path: str | os.PathLike[str],
    struct_path: str | os.PathLike[str],
    *,
    allow_relative: bool = False,
) -> tuple[DoseGrid, StructureSet]:
    """Read and cross-check an RTDOSE and RTSTRUCT pair (frame of reference, dose units)."""
    dose = read_dose(dose_path)
    structures = read_structures(struct_path)
    check_same_frame_of_reference(dose, structures)
    if not dose.is_absolute and not allow_relative:
        raise DosimetryInputError(
            f"{dose.path}: DoseUnits is RELATIVE, so absolute-dose metrics (Gy) cannot be computed; "
            "pass allow_relative=True to get metrics in the file's relative units"
        )
    return dose, structures


def compute_dvhs(
    dose: DoseGrid,
    structures: StructureSet,
    names: Sequence[str] | None = None,
    *,
    fine_pitch_mm: float = DEFAULT_FINE_PITCH_MM,
) -> list[StructureDVH]:
    """DVHs of the named structures (all ROIs in file order when ``names`` is None)."""
    chosen = list(structures.structures) if names is None else [structures.get(n) for n in names]
    spacing = structures.typical_plane_spacing_mm()
    layout = Layout.for_dose(dose)
    return [
        structure_dvh(
            dose, s, default_spacing_mm=spacing, fine_pitch_mm=fine_pitch_mm, layout=layout
        )
        for s in chosen
    ]


# Parallel split (cost units: plane_costs, mm²; about 15-20 ns each on the example plan).
# A structure's fixed overhead is about this many units; below the last figure a second process
# costs more than it saves.
_STRUCTURE_OVERHEAD = 7.0e4
_PARALLEL_MIN_COST = 2.0e6

# A unit of work: ("whole", structure index, 0) -> StructureMetrics, or
# ("part", structure index, block number) -> _Part.
_Task = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class _MetricParams:
    d_cc: list[float]
    d_pct: list[float]
    v_gy: list[float]
    spacing: float | None


@dataclass(slots=True)
class _Worker:
    """What one process of a parallel run has read and prepared (slabs are built on first use)."""

    dose: DoseGrid
    sset: StructureSet
    params: _MetricParams
    layout: Layout
    slabs: dict[int, _Slabs] = field(default_factory=dict)

    def slabs_of(self, i: int) -> _Slabs:
        found = self.slabs.get(i)
        if found is None:
            found = _slabs(
                self.dose, self.sset.structures[i], self.params.spacing, DEFAULT_FINE_PITCH_MM
            )
            self.slabs[i] = found
        return found

    def run(self, task: _Task) -> StructureMetrics | _Part:
        kind, i, k = task
        sl = self.slabs_of(i)
        if kind == "part":
            return _part(self.dose, sl, *sl.blocks()[k], self.layout)
        parts = [_part(self.dose, sl, a, b, self.layout) for a, b in sl.blocks()]
        sd = _assemble(self.sset.structures[i], self.dose.units, sl, parts, self.layout)
        return self.metrics(sd)

    def metrics(self, sd: StructureDVH) -> StructureMetrics:
        return metrics_from_dvh(sd, self.params.d_cc, self.params.d_pct, self.params.v_gy)

    def assemble(self, i: int, parts: Sequence[_Part]) -> StructureDVH:
        sl = self.slabs_of(i)
        return _assemble(self.sset.structures[i], self.dose.units, sl, parts, self.layout)

    def bins_read(self, sd: StructureDVH) -> set[int]:
        if sd.dvh is None:
            return set()
        return sd.dvh.bins_read(self.params.d_cc, self.params.d_pct, self.params.v_gy)


def _send(fd: int, payload: object) -> None:
    """Pickle ``payload`` to a pipe, array buffers out of band (no extra copies)."""
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(payload, protocol=5, buffer_callback=buffers.append)
    views = [memoryview(head), *(b.raw() for b in buffers)]
    sizes = np.array([len(views) - 1, *(v.nbytes for v in views)], dtype=np.int64)
    for view in (memoryview(sizes.tobytes()), *views):
        while view.nbytes:
            view = view[os.write(fd, view) :]


def _read_exactly(fd: int, n: int) -> bytearray:
    out = bytearray(n)
    view = memoryview(out)
    got = 0
    while got < n:
        k = os.readv(fd, [view[got:]])
        if k == 0:
            raise EOFError("the worker process ended before sending its results")
        got += k
    return out


def _receive(fd: int) -> object:
    n_buffers = int(np.frombuffer(_read_exactly(fd, 8), dtype=np.int64)[0])
    sizes = np.frombuffer(_read_exactly(fd, 8 * (n_buffers + 1)), dtype=np.int64).tolist()
    head = _read_exactly(fd, sizes[0])
    buffers = [_read_exactly(fd, n) for n in sizes[1:]]
    return pickle.loads(head, buffers=buffers)


def _tasks(chosen: list[int], sset: StructureSet) -> list[_Task] | None:
    """The units of work, costliest first; None when a second process would not pay off.

    Costs come from the contours alone (:func:`plane_costs`), so nothing is sampled before the
    split; they only order the work, as the two processes take tasks from a shared queue.
    """
    tasks: list[tuple[float, _Task]] = []
    for i in dict.fromkeys(chosen):
        structure = sset.structures[i]
        if structure.is_empty:
            continue
        cost = plane_costs(structure)
        blocks = plane_blocks(cost)
        if len(blocks) == 1:
            tasks.append((float(cost.sum()) + _STRUCTURE_OVERHEAD, ("whole", i, 0)))
            continue
        for k, (a, b) in enumerate(blocks):
            tasks.append((float(cost[a:b].sum()), ("part", i, k)))
    if sum(c for c, _ in tasks) < _PARALLEL_MIN_COST or len(tasks) < 2:
        return None
    return [task for _, task in sorted(tasks, key=lambda ct: -ct[0])]


_TOKEN = 4  # bytes per task number in the work queue
_QUEUE_MAX = 16000  # task numbers that fit a pipe's buffer (64 KiB) before anyone reads


class _Queue:
    """Task numbers in a pipe, taken by two processes: each read takes one whole token.

    A pipe read is atomic for sizes up to its buffer, so two processes reading 4 bytes at a time
    never split or share a token; the write end is closed before work starts, so an empty queue
    reads as end-of-file. The costliest tasks go first and each process takes the next one as it
    becomes free, so both finish within about one small task of each other.
    """

    def __init__(self, n: int) -> None:
        self.read_fd, write_fd = os.pipe()
        os.write(write_fd, np.arange(n, dtype="<u4").tobytes())
        os.close(write_fd)

    def take(self) -> int | None:
        token = os.read(self.read_fd, _TOKEN)
        while token and len(token) < _TOKEN:  # not expected on a pipe, but never mis-read
            more = os.read(self.read_fd, _TOKEN - len(token))
            if not more:
                break
            token += more
        if len(token) < _TOKEN:
            return None
        return int.from_bytes(token, "little")

    def close(self) -> None:
        os.close(self.read_fd)


def _metrics_in_two_processes(
    dose: DoseGrid,
    sset: StructureSet,
    chosen: list[int],
    d_cc: Sequence[float],
    d_pct: Sequence[float],
    v_gy: Sequence[float],
) -> list[StructureMetrics] | None:
    """Split the work over this process and one forked child; None when not worth it.

    The units of work are whole structures and blocks of a large structure's planes (the blocks
    every run uses, see :func:`plane_blocks`), taken from a shared queue (:class:`_Queue`); fork
    (POSIX) shares the already-read files with the child for free, and each process prepares only
    the structures it samples. A block-split structure is read in two exchanges over pipes: the
    child sends its blocks' sums and bin tables, which add to this process's (in block order, as
    a serial run adds them); this process then asks for the few samples inside the bins its
    metrics read. The results are bit-for-bit those of a serial run. Should the child fail, this
    process does what is missing.
    """
    if len(chosen) < 2 or (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"):
        return None
    tasks = _tasks(chosen, sset)
    if tasks is None or len(tasks) > _QUEUE_MAX:
        return None
    params = _MetricParams(list(d_cc), list(d_pct), list(v_gy), sset.typical_plane_spacing_mm())
    worker = _Worker(dose, sset, params, Layout.for_dose(dose))
    queue = _Queue(len(tasks))
    from_child, to_parent = os.pipe()
    from_parent, to_child = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: work from the queue, send sums, send the samples asked for, leave
        try:
            os.close(from_child)
            os.close(to_child)
            _child(worker, tasks, queue, to_parent, from_parent)
        finally:
            os._exit(0)
    os.close(to_parent)
    os.close(from_parent)
    done: dict[_Task, StructureMetrics | _Part] = {}
    split = sorted({i for kind, i, _ in tasks if kind == "part"})
    theirs: list[_Task] = []
    their_ends: list[object] = []
    sums: dict[int, StructureDVH] = {}
    reads: dict[int, set[int]] = {}
    own_ends: dict[_Task, _Ends] = {}
    try:
        while (n := queue.take()) is not None:
            done[tasks[n]] = worker.run(tasks[n])
        try:
            received = _receive(from_child)
            assert isinstance(received, list)
            theirs = [t for t, _ in received]
            done.update(received)
            sums = {i: worker.assemble(i, _parts_of(worker, done, i)) for i in split}
            reads = {i: worker.bins_read(sd) for i, sd in sums.items()}
            _send(to_child, reads)
            # While the child looks up its samples, this process does the same for its parts.
            masks = {i: _mask(worker.layout.n, read) for i, read in reads.items()}
            from_them = set(theirs)
            for task, part in done.items():
                if isinstance(part, _Part) and task not in from_them:
                    own_ends[task] = part.ends.in_bins(masks[task[1]])
            answer = _receive(from_child)
            assert isinstance(answer, list) and len(answer) == len(theirs)
            their_ends = answer
        except (EOFError, OSError, pickle.UnpicklingError, ValueError, AssertionError):
            # The child failed: redo whatever lacks its full samples here.
            from_them = set(theirs)
            for task in tasks:
                if task not in done or task in from_them:
                    done[task] = worker.run(task)
            theirs, their_ends, sums, reads = [], [], {}, {}
    finally:
        queue.close()
        os.close(from_child)
        os.close(to_child)
        os.waitpid(pid, 0)

    ends_from_child = {
        t: e for t, e in zip(theirs, their_ends, strict=True) if isinstance(e, _Ends)
    }
    results: dict[int, StructureMetrics] = {}
    for i in split:
        if i not in sums:  # the child failed: every part is here in full
            results[i] = worker.metrics(worker.assemble(i, _parts_of(worker, done, i)))
            continue
        sd = sums[i]
        if sd.dvh is not None:
            ends = []
            for k in range(len(worker.slabs_of(i).blocks())):
                task = ("part", i, k)
                ends.append(ends_from_child[task] if task in ends_from_child else own_ends[task])
            sd = replace(sd, dvh=sd.dvh.with_ends(_Ends.joined(ends), reads[i]))
        results[i] = worker.metrics(sd)

    out: list[StructureMetrics] = []
    for i in chosen:
        structure = sset.structures[i]
        whole = done.get(("whole", i, 0))
        if isinstance(whole, StructureMetrics):
            out.append(whole)
        elif i in results:
            out.append(results[i])
        else:
            out.append(worker.metrics(structure_dvh(dose, structure)))
    return out


def _child(
    worker: _Worker, tasks: list[_Task], queue: _Queue, to_parent: int, from_parent: int
) -> None:
    """The child's side of :func:`_metrics_in_two_processes`."""
    results: list[tuple[_Task, StructureMetrics | _Part]] = []
    while (n := queue.take()) is not None:
        results.append((tasks[n], worker.run(tasks[n])))
    _send(to_parent, [(t, r.sums_only() if isinstance(r, _Part) else r) for t, r in results])
    asked = _receive(from_parent)
    assert isinstance(asked, dict)
    wanted = {i: _mask(worker.layout.n, read) for i, read in asked.items()}
    _send(
        to_parent,
        [r.ends.in_bins(wanted[t[1]]) if isinstance(r, _Part) else None for t, r in results],
    )


def _mask(n: int, bins: set[int]) -> npt.NDArray[np.bool_]:
    wanted = np.zeros(n, dtype=bool)
    wanted[sorted(bins)] = True
    return wanted


def _parts_of(worker: _Worker, done: dict[_Task, StructureMetrics | _Part], i: int) -> list[_Part]:
    parts = [done[("part", i, k)] for k in range(len(worker.slabs_of(i).blocks()))]
    return [p for p in parts if isinstance(p, _Part)]


def compute_metrics(
    dose_path: str | os.PathLike[str],
    struct_path: str | os.PathLike[str],
    structures: Sequence[str] | None = None,
    d_cc: Sequence[float] = (0.03,),
    d_pct: Sequence[float] = (2, 50, 98),
    v_gy: Sequence[float] = (),
    *,
    allow_relative: bool = False,
    parallel: bool = False,
) -> list[StructureMetrics]:
    """DVH metrics of the named structures of a plan (all ROIs in file order when None).

    With ``parallel`` a large plan is split over this process and one forked child on machines with
    two or more cores, by whole structures and blocks of a large structure's planes (bit-for-bit
    the serial results). It is off by default because forking a multi-threaded
    host (a web server) is unsafe; single-threaded command-line entry points turn it on.

    Raises :class:`DosimetryInputError` for unreadable or inconsistent files, an unknown structure
    name, a RELATIVE dose unless ``allow_relative``, or an impossible metric parameter.
    """
    check_metric_params(d_cc, d_pct, v_gy)
    dose, sset = load_plan(dose_path, struct_path, allow_relative=allow_relative)
    if structures is None:
        chosen = list(range(len(sset.structures)))
    else:
        index = {id(s): k for k, s in enumerate(sset.structures)}
        chosen = [index[id(sset.get(name))] for name in structures]
    for i in chosen:
        if sset.structures[i].problem:
            raise DosimetryInputError(str(sset.structures[i].problem))
    if parallel:
        result = _metrics_in_two_processes(dose, sset, chosen, d_cc, d_pct, v_gy)
        if result is not None:
            return result
    spacing = sset.typical_plane_spacing_mm()
    return [
        metrics_from_dvh(
            structure_dvh(dose, sset.structures[i], default_spacing_mm=spacing), d_cc, d_pct, v_gy
        )
        for i in chosen
    ]
