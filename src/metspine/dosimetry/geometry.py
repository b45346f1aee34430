"""Plane geometry for the DVH engine: slab thickness (end-capping), polygon areas, and sampling.

Everything here is plain numpy on (x, y) vertex arrays in mm; nothing reads files.

Sampling a plane (see :func:`sample_plane`) works on the dose grid's own pixel lattice: cell
``(j, i)`` is the dose voxel footprint centred on grid point ``(xs[i], ys[j])``.

- Cells crossed by a contour edge are found exactly (a supercover of each edge) and sampled by
  ``n_fine`` horizontal scanlines each. On each scanline the inside length within the cell is
  exact (from the even-odd crossings), so every fine sample carries an exact x-extent and the
  only discretisation is the scanline pitch in y (0.25 mm by default).
- Every other cell is wholly inside or wholly outside; its centre decides, and an inside cell
  gives one sample at its grid point.

Holes and several contours on one plane are handled by the even-odd rule applied to all contours
of the plane together, which is XOR (the convention DICOM-RT exports rely on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
AnyFloat = npt.NDArray[np.floating[Any]]
IntArray = npt.NDArray[np.intp]

# A gap between contour planes wider than this many typical spacings is a gap in the structure
# (e.g. two separate lesions in one ROI), not a longer slab.
GAP_FACTOR = 1.5


def slab_bounds(plane_z: FloatArray, default_spacing_mm: float) -> tuple[FloatArray, FloatArray]:
    """Lower and upper z of the slab each contour plane stands for (the end-capping rule).

    Each plane represents a slab of thickness equal to its local plane spacing, half on each side:
    between two neighbouring planes the boundary is their midpoint, and the first and last planes
    extend outward by half of their one neighbouring gap. A gap wider than ``GAP_FACTOR`` times the
    structure's median spacing is treated as empty space (each side extends by half the median
    spacing only), and a single-plane structure gets ``default_spacing_mm``. For evenly spaced
    planes this is n_planes × spacing × area, the convention of Eclipse-style and dicompyler-core
    DVHs; see docs/dosimetry.md for how it compares with the TPS and plastimatch.
    """
    z = np.asarray(plane_z, dtype=np.float64)
    n = z.size
    if n == 0:
        return np.empty(0), np.empty(0)
    if n == 1:
        half = 0.5 * default_spacing_mm
        return z - half, z + half
    gaps = np.diff(z)
    typical = float(np.median(gaps))
    is_gap = gaps > GAP_FACTOR * typical
    half_up = np.where(is_gap, 0.5 * typical, 0.5 * gaps)  # from plane i towards plane i+1
    half_down = half_up.copy()  # from plane i+1 towards plane i
    lo = np.empty(n)
    hi = np.empty(n)
    hi[:-1] = z[:-1] + half_up
    lo[1:] = z[1:] - half_down
    lo[0] = z[0] - half_up[0]
    hi[-1] = z[-1] + half_down[-1]
    return lo, hi


def polygon_area(xy: FloatArray) -> float:
    """Unsigned area of a simple polygon (shoelace formula)."""
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def points_in_polygon(px: FloatArray, py: FloatArray, xy: FloatArray) -> npt.NDArray[np.bool_]:
    """Even-odd point-in-polygon test (crossing number), vectorised over points × edges.

    Meant for a few probe points (memory grows with points × edges); bulk sampling uses scanlines.
    """
    x1, y1 = xy[:, 0], xy[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    live = y1 != y2
    x1, y1, x2, y2 = x1[live], y1[live], x2[live], y2[live]
    qx, qy = np.asarray(px)[:, None], np.asarray(py)[:, None]
    crosses = (y1 > qy) != (y2 > qy)
    xc = x1 + (qy - y1) * (x2 - x1) / (y2 - y1)
    return np.asarray((crosses & (qx < xc)).sum(axis=1) % 2 == 1)


def plane_area(polygons: list[FloatArray]) -> float:
    """Area of the XOR of the contours on one plane, for nested or disjoint contours.

    A contour inside an odd number of the others is a hole (its area subtracts), inside an even
    number it is an island (adds). Crossing contours are not nested and fall outside this rule;
    the sampled area (which applies the even-odd rule point by point) is then the better figure.
    """
    if len(polygons) == 1:
        return polygon_area(polygons[0])
    total = 0.0
    for k, poly in enumerate(polygons):
        probe_x = np.asarray([poly[0, 0]])
        probe_y = np.asarray([poly[0, 1]])
        depth = sum(
            bool(points_in_polygon(probe_x, probe_y, other)[0])
            for m, other in enumerate(polygons)
            if m != k
        )
        total += polygon_area(poly) * (1.0 if depth % 2 == 0 else -1.0)
    return max(total, 0.0)


@dataclass(frozen=True, slots=True)
class Lattice:
    """The dose grid's in-plane pixel lattice: cell (j, i) is centred on (x0 + i·hx, y0 + j·hy)."""

    x0: float
    y0: float
    hx: float
    hy: float


@dataclass(frozen=True, slots=True)
class PlaneSamples:
    """Sample points of one plane: position, lattice cell, extent and area (mm, mm²)."""

    x: FloatArray
    y: FloatArray
    i: IntArray
    j: IntArray
    lx: FloatArray
    ly: FloatArray
    area: FloatArray
    fine: npt.NDArray[np.bool_]


def _edges(polygons: list[FloatArray]) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    a = np.concatenate(polygons)
    b = np.concatenate([np.roll(p, -1, axis=0) for p in polygons])
    return a[:, 0], a[:, 1], b[:, 0], b[:, 1]


def _expand(start: IntArray, count: IntArray) -> tuple[IntArray, IntArray]:
    """For groups g with ``count[g]`` members: (group index, start[g] + rank) of every member."""
    count = np.maximum(count, 0)
    group = np.repeat(np.arange(count.size), count)
    offsets = np.cumsum(count) - count
    rank = np.arange(group.size) - np.repeat(offsets, count)
    return group, start[group] + rank


@dataclass(frozen=True, slots=True)
class _Scanlines:
    """Sorted even-odd crossings of a family of horizontal lines, with prefix sums for coverage."""

    keys: FloatArray  # line·stride + (x - origin), ascending
    xs: FloatArray  # x - origin of each crossing, same order
    cum_len: FloatArray  # inside length of complete intervals before interval m
    cum_mom: FloatArray  # first moment ∫x dx of complete intervals before interval m
    origin: float
    stride: float

    def integrals(self, line: IntArray, x: AnyFloat) -> tuple[FloatArray, FloatArray]:
        """Inside length and ∫x dx from the far left up to ``x`` on ``line`` (offset per line).

        Only differences on one line are meaningful: the per-line offsets cancel.
        """
        u = x - self.origin
        p = np.searchsorted(self.keys, line * self.stride + u, side="right")
        odd = (p & 1).astype(bool)
        m = p >> 1
        length = self.cum_len[m].copy()
        moment = self.cum_mom[m].copy()
        if odd.any():
            start = self.xs[p[odd] - 1]
            uo = u[odd]
            length[odd] += uo - start
            moment[odd] += 0.5 * (uo * uo - start * start)
        return length, moment

    def parity(self, line: IntArray, x: AnyFloat) -> npt.NDArray[np.bool_]:
        p = np.searchsorted(self.keys, line * self.stride + (x - self.origin), side="right")
        return (p & 1).astype(bool)


def _scanlines(
    edges: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    line_y0: float,
    pitch: float,
    n_lines: int,
    origin: float,
    stride: float,
) -> _Scanlines:
    """Crossings of lines y = line_y0 + k·pitch (k < n_lines) with all edges (half-open rule)."""
    x1, y1, x2, y2 = edges
    live = y1 != y2
    x1, y1, x2, y2 = x1[live], y1[live], x2[live], y2[live]
    ymin, ymax = np.minimum(y1, y2), np.maximum(y1, y2)
    # Line k crosses the edge when ymin <= y_k < ymax; both ends use the same float expression, so
    # an edge that ends on a line and the edge that starts there agree and a vertex counts once.
    k_lo = np.ceil((ymin - line_y0) / pitch).astype(np.intp)
    k_hi = np.ceil((ymax - line_y0) / pitch).astype(np.intp)
    k_lo = np.clip(k_lo, 0, n_lines)
    k_hi = np.clip(k_hi, 0, n_lines)
    e, k = _expand(k_lo, k_hi - k_lo)
    yk = line_y0 + k * pitch
    xc = x1[e] + (yk - y1[e]) * (x2[e] - x1[e]) / (y2[e] - y1[e]) - origin
    keys = k * stride + xc
    order = np.argsort(keys, kind="stable")
    keys, xc = keys[order], xc[order]
    starts, ends = xc[0::2], xc[1::2]
    lengths = ends - starts
    cum_len = np.concatenate(([0.0], np.cumsum(lengths)))
    cum_mom = np.concatenate(([0.0], np.cumsum(0.5 * (ends * ends - starts * starts))))
    return _Scanlines(keys, xc, cum_len, cum_mom, origin, stride)


def _boundary_cells(
    edges: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    lat: Lattice,
    i_lo: int,
    j_lo: int,
    shape: tuple[int, int],
) -> npt.NDArray[np.bool_]:
    """Mask of lattice cells that a contour edge passes through (exact supercover of each edge)."""
    x1, y1, x2, y2 = edges
    mask = np.zeros(shape, dtype=bool)
    ymin, ymax = np.minimum(y1, y2), np.maximum(y1, y2)
    # Cell row j spans [y0 + (j - 0.5)·hy, y0 + (j + 0.5)·hy).
    r_lo = np.floor((ymin - lat.y0) / lat.hy + 0.5).astype(np.intp)
    r_hi = np.floor((ymax - lat.y0) / lat.hy + 0.5).astype(np.intp)
    e, r = _expand(r_lo, r_hi - r_lo + 1)
    band_lo = lat.y0 + (r - 0.5) * lat.hy
    band_hi = band_lo + lat.hy
    ya = np.maximum(ymin[e], band_lo)
    yb = np.minimum(ymax[e], band_hi)
    dy = y2[e] - y1[e]
    flat = dy == 0
    safe = np.where(flat, 1.0, dy)
    xa = np.where(flat, x1[e], x1[e] + (ya - y1[e]) * (x2[e] - x1[e]) / safe)
    xb = np.where(flat, x2[e], x1[e] + (yb - y1[e]) * (x2[e] - x1[e]) / safe)
    c_lo = np.floor((np.minimum(xa, xb) - lat.x0) / lat.hx + 0.5).astype(np.intp)
    c_hi = np.floor((np.maximum(xa, xb) - lat.x0) / lat.hx + 0.5).astype(np.intp)
    g, c = _expand(c_lo, c_hi - c_lo + 1)
    rows = r[g] - j_lo
    cols = c - i_lo
    ok = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    mask[rows[ok], cols[ok]] = True
    return mask


def sample_plane(polygons: list[FloatArray], lat: Lattice, n_fine: int) -> PlaneSamples:
    """Area samples of the XOR of ``polygons``: fine near the contour, one per voxel inside."""
    allpts = np.concatenate(polygons)
    xmin, ymin = allpts.min(axis=0)
    xmax, ymax = allpts.max(axis=0)
    i_lo = int(np.floor((xmin - lat.x0) / lat.hx + 0.5))
    i_hi = int(np.floor((xmax - lat.x0) / lat.hx + 0.5))
    j_lo = int(np.floor((ymin - lat.y0) / lat.hy + 0.5))
    j_hi = int(np.floor((ymax - lat.y0) / lat.hy + 0.5))
    n_cols, n_rows = i_hi - i_lo + 1, j_hi - j_lo + 1
    edges = _edges(polygons)
    boundary = _boundary_cells(edges, lat, i_lo, j_lo, (n_rows, n_cols))

    origin = lat.x0 + (i_lo - 1) * lat.hx
    stride = (n_cols + 3) * lat.hx

    # Whole cells: the even-odd parity at each cell centre, by scanlines through the centres.
    centre = _scanlines(edges, lat.y0 + j_lo * lat.hy, lat.hy, n_rows, origin, stride)
    cj, ci = np.nonzero(~boundary)
    inside = centre.parity(cj, lat.x0 + (ci + i_lo) * lat.hx)
    cj, ci = cj[inside], ci[inside]

    # Boundary cells: n_fine scanlines each, exact inside length along x on every scanline.
    pitch = lat.hy / n_fine
    fine = _scanlines(
        edges, lat.y0 + (j_lo - 0.5) * lat.hy + 0.5 * pitch, pitch, n_rows * n_fine, origin, stride
    )
    bj, bi = np.nonzero(boundary)
    bj = np.repeat(bj, n_fine)
    bi = np.repeat(bi, n_fine)
    sub = np.tile(np.arange(n_fine), boundary.sum())
    line = bj * n_fine + sub
    a = lat.x0 + (bi + i_lo - 0.5) * lat.hx
    len_a, mom_a = fine.integrals(line, a)
    len_b, mom_b = fine.integrals(line, a + lat.hx)
    cover = len_b - len_a
    keep = cover > 1e-9 * lat.hx
    cover = cover[keep]
    fx = (mom_b[keep] - mom_a[keep]) / cover + origin
    fy = lat.y0 + (j_lo - 0.5) * lat.hy + (line[keep] + 0.5) * pitch
    n_whole = ci.size
    n_part = fx.size
    return PlaneSamples(
        x=np.concatenate((lat.x0 + (ci + i_lo) * lat.hx, fx)),
        y=np.concatenate((lat.y0 + (cj + j_lo) * lat.hy, fy)),
        i=np.concatenate((ci + i_lo, bi[keep] + i_lo)),
        j=np.concatenate((cj + j_lo, bj[keep] + j_lo)),
        lx=np.concatenate((np.full(n_whole, lat.hx), cover)),
        ly=np.concatenate((np.full(n_whole, lat.hy), np.full(n_part, pitch))),
        area=np.concatenate((np.full(n_whole, lat.hx * lat.hy), cover * pitch)),
        fine=np.concatenate((np.zeros(n_whole, dtype=bool), np.ones(n_part, dtype=bool))),
    )
