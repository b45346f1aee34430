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

from collections.abc import Sequence
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


def median(values: FloatArray) -> float:
    """The median of a non-empty array, as ``np.median`` gives it.

    ``np.median`` imports ``numpy.ma`` on its first call (about 7 ms, a fiftieth of a whole
    ``metspine dvh`` run), for a few dozen plane gaps.
    """
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if v.size == 0:
        raise ValueError("the median of no values")
    mid = v.size // 2
    return float(v[mid]) if v.size % 2 else float((v[mid - 1] + v[mid]) / 2.0)


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
    typical = median(gaps)
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
    cross = np.dot(x[:-1], y[1:]) - np.dot(y[:-1], x[1:]) + (x[-1] * y[0] - y[-1] * x[0])
    return 0.5 * abs(float(cross))


def points_in_polygon(px: FloatArray, py: FloatArray, xy: FloatArray) -> npt.NDArray[np.bool_]:
    """Even-odd point-in-polygon test (crossing number), vectorised over points × edges.

    Meant for a few probe points (memory grows with points × edges); bulk sampling uses scanlines.
    """
    x1, y1 = xy[:, 0], xy[:, 1]
    x2 = np.concatenate((x1[1:], x1[:1]))
    y2 = np.concatenate((y1[1:], y1[:1]))
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
    # Each contour's first vertex probes every other contour (one vectorised test per contour).
    probe_x = np.array([poly[0, 0] for poly in polygons])
    probe_y = np.array([poly[0, 1] for poly in polygons])
    depth = np.zeros(len(polygons), dtype=np.intp)
    for m, other in enumerate(polygons):
        inside = points_in_polygon(probe_x, probe_y, other)
        inside[m] = False
        depth += inside
    total = 0.0
    for k, poly in enumerate(polygons):
        total += polygon_area(poly) * (1.0 if depth[k] % 2 == 0 else -1.0)
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
    """Area samples of a stack of planes: whole voxels by their cell, finer samples in full.

    A whole-voxel sample is lattice cell (``whole_j``, ``whole_i``) of plane ``whole_plane``: the
    cell's centre, extent hx × hy and area hx·hy. A fine sample (in a cell a contour crosses) has
    its own position (the centroid of its scanline segment), extent and area (mm, mm²), and the
    cell ``i``, ``j`` that holds it. ``plane`` indexes the list given to :func:`sample_planes`;
    each group is ordered by plane.
    """

    whole_plane: IntArray
    whole_i: IntArray
    whole_j: IntArray
    plane: IntArray
    x: FloatArray
    y: FloatArray
    i: IntArray
    j: IntArray
    lx: FloatArray
    ly: FloatArray
    area: FloatArray


def _expand(start: IntArray, count: IntArray) -> tuple[IntArray, IntArray]:
    """For groups g with ``count[g]`` members: (group index, start[g] + rank) of every member."""
    count = np.maximum(count, 0)
    group = np.repeat(np.arange(count.size), count)
    offsets = np.cumsum(count) - count
    rank = np.arange(group.size) - np.repeat(offsets, count)
    return group, start[group] + rank


@dataclass(frozen=True, slots=True)
class _Edges:
    """All contour edges of a stack of planes, each with the index of its plane."""

    x1: FloatArray
    y1: FloatArray
    x2: FloatArray
    y2: FloatArray
    plane: IntArray


def _stack_edges(planes: Sequence[list[FloatArray]]) -> _Edges:
    polygons = [poly for polys in planes for poly in polys]
    counts = np.fromiter((len(poly) for poly in polygons), dtype=np.intp, count=len(polygons))
    per_plane = np.fromiter((len(polys) for polys in planes), dtype=np.intp, count=len(planes))
    pts = np.concatenate(polygons)
    starts = np.cumsum(counts) - counts
    nxt = np.arange(1, pts.shape[0] + 1)
    nxt[starts + counts - 1] = starts  # each polygon closes on its first vertex
    x1 = np.ascontiguousarray(pts[:, 0])
    y1 = np.ascontiguousarray(pts[:, 1])
    plane = np.repeat(np.repeat(np.arange(len(planes)), per_plane), counts)
    return _Edges(x1, y1, x1[nxt], y1[nxt], plane)


@dataclass(frozen=True, slots=True)
class _Scanlines:
    """Sorted even-odd crossings of a family of horizontal lines, with prefix sums for coverage.

    Lines of every plane share one numbering; a crossing's key is ``line·stride + u`` with ``u``
    its x relative to its plane's origin, so one sorted array serves all planes. The prefix sums
    restart at each plane (plane p's run starts at ``run[p]``, after its ``first[p]`` earlier
    intervals), so their rounding is that of one plane alone.
    """

    keys: FloatArray  # line·stride + u, ascending
    us: FloatArray  # u of each crossing, same order
    cum_len: FloatArray  # per plane: inside length of complete intervals before interval m
    cum_mom: FloatArray  # per plane: first moment ∫u du of complete intervals before interval m
    first: IntArray
    run: IntArray
    stride: float

    def integrals(
        self, plane: IntArray, line: IntArray, u: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Inside length and ∫u du from the far left up to ``u`` on ``line`` (offset per line).

        Only differences on one line are meaningful: the per-line offsets cancel.
        """
        p = np.searchsorted(self.keys, line * self.stride + u, side="right")
        odd = (p & 1).astype(bool)
        m = (p >> 1) - self.first[plane] + self.run[plane]
        length = self.cum_len[m]
        moment = self.cum_mom[m]
        if odd.any():
            start = self.us[p[odd] - 1]
            uo = u[odd]
            length[odd] += uo - start
            moment[odd] += 0.5 * (uo * uo - start * start)
        return length, moment


def _crossings(
    edges: _Edges,
    line_y0: AnyFloat,
    pitch: AnyFloat,
    n_lines: IntArray,
    origin: AnyFloat,
    stride: float,
) -> tuple[FloatArray, FloatArray, IntArray, IntArray]:
    """Crossings of each plane's lines y = line_y0 + k·pitch (k < n_lines) with its edges.

    Returns (key, u, line, plane) of every crossing, ascending by key = line·stride + u, where u is
    x relative to the plane's origin. Per-plane arrays are indexed by plane; the lines of plane p
    are numbered from the sum of ``n_lines`` over the planes before it. Half-open rule: line k
    crosses an edge when ymin <= y_k < ymax; both ends use the same float expression, so an edge
    that ends on a line and the edge that starts there agree and a vertex counts once. Every line
    thus crosses a closed contour an even number of times: crossings 2m and 2m+1 bound an inside
    interval (even-odd rule).
    """
    live = edges.y1 != edges.y2
    x1, y1, x2, y2 = edges.x1[live], edges.y1[live], edges.x2[live], edges.y2[live]
    ep = edges.plane[live]
    ymin, ymax = np.minimum(y1, y2), np.maximum(y1, y2)
    ly0, pt, nl = line_y0[ep], pitch[ep], n_lines[ep]
    k_lo = np.clip(np.ceil((ymin - ly0) / pt).astype(np.intp), 0, nl)
    k_hi = np.clip(np.ceil((ymax - ly0) / pt).astype(np.intp), 0, nl)
    e, k = _expand(k_lo, k_hi - k_lo)
    yk = ly0[e] + k * pt[e]
    pe = ep[e]
    uc = x1[e] + (yk - y1[e]) * (x2[e] - x1[e]) / (y2[e] - y1[e]) - origin[pe]
    line_off = np.cumsum(n_lines) - n_lines
    line = line_off[pe] + k
    keys = line * stride + uc
    order = np.argsort(keys, kind="stable")
    return keys[order], uc[order], line[order], pe[order]


def _scanlines(
    edges: _Edges,
    line_y0: AnyFloat,
    pitch: AnyFloat,
    n_lines: IntArray,
    origin: AnyFloat,
    stride: float,
) -> _Scanlines:
    """The crossings of :func:`_crossings`, with per-plane prefix sums of the inside intervals."""
    keys, uc, _, pe = _crossings(edges, line_y0, pitch, n_lines, origin, stride)
    starts, ends = uc[0::2], uc[1::2]
    lengths = ends - starts
    moments = 0.5 * (ends * ends - starts * starts)
    n_planes = n_lines.size
    count = np.bincount(pe[0::2], minlength=n_planes)
    first = np.cumsum(count) - count
    run = first + np.arange(n_planes)
    cum_len = np.zeros(lengths.size + n_planes)
    cum_mom = np.zeros(lengths.size + n_planes)
    for f, r, c in zip(first.tolist(), run.tolist(), count.tolist(), strict=True):
        if c:
            np.cumsum(lengths[f : f + c], out=cum_len[r + 1 : r + 1 + c])
            np.cumsum(moments[f : f + c], out=cum_mom[r + 1 : r + 1 + c])
    return _Scanlines(keys, uc, cum_len, cum_mom, first, run, stride)


def _boundary_cells(
    edges: _Edges,
    lat: Lattice,
    i_lo: IntArray,
    j_lo: IntArray,
    n_cols: IntArray,
    n_rows: IntArray,
    cell_off: IntArray,
    n_cells: int,
) -> npt.NDArray[np.bool_]:
    """Flat mask of the cells a contour edge passes through (exact supercover of each edge).

    Plane p's cells are ``cell_off[p] + row·n_cols[p] + col`` over its bounding box.
    """
    x1, y1, x2, y2 = edges.x1, edges.y1, edges.x2, edges.y2
    ymin, ymax = np.minimum(y1, y2), np.maximum(y1, y2)
    # Cell row j spans [y0 + (j - 0.5)·hy, y0 + (j + 0.5)·hy).
    r_lo = np.floor((ymin - lat.y0) / lat.hy + 0.5).astype(np.intp)
    r_hi = np.floor((ymax - lat.y0) / lat.hy + 0.5).astype(np.intp)
    e, r = _expand(r_lo, r_hi - r_lo + 1)
    band_lo = lat.y0 + (r - 0.5) * lat.hy
    band_hi = band_lo + lat.hy
    ya = np.maximum(ymin[e], band_lo)
    yb = np.minimum(ymax[e], band_hi)
    ex1, ey1, ex2, ey2 = x1[e], y1[e], x2[e], y2[e]
    dy = ey2 - ey1
    flat = dy == 0
    safe = np.where(flat, 1.0, dy)
    xa = np.where(flat, ex1, ex1 + (ya - ey1) * (ex2 - ex1) / safe)
    xb = np.where(flat, ex2, ex1 + (yb - ey1) * (ex2 - ex1) / safe)
    c_lo = np.floor((np.minimum(xa, xb) - lat.x0) / lat.hx + 0.5).astype(np.intp)
    c_hi = np.floor((np.maximum(xa, xb) - lat.x0) / lat.hx + 0.5).astype(np.intp)
    g, c = _expand(c_lo, c_hi - c_lo + 1)
    p = edges.plane[e[g]]
    rows = r[g] - j_lo[p]
    cols = c - i_lo[p]
    w = n_cols[p]
    ok = (rows >= 0) & (rows < n_rows[p]) & (cols >= 0) & (cols < w)
    mask = np.zeros(n_cells, dtype=bool)
    mask[(cell_off[p] + rows * w + cols)[ok]] = True
    return mask


def sample_planes(
    planes: Sequence[list[FloatArray]], lat: Lattice, n_fine: IntArray
) -> PlaneSamples:
    """Area samples of the XOR of each plane's polygons: fine near the contour, one per voxel inside.

    All planes are sampled together in one set of array operations (the per-plane work is the same
    as sampling each alone): ``n_fine[p]`` scanlines per boundary cell of plane p.
    """
    n_planes = len(planes)
    edges = _stack_edges(planes)
    n_fine = np.asarray(n_fine, dtype=np.intp)
    # Per-plane bounding boxes on the lattice.
    v_count = np.bincount(edges.plane, minlength=n_planes)
    v_start = np.cumsum(v_count) - v_count
    xmin = np.minimum.reduceat(edges.x1, v_start)
    xmax = np.maximum.reduceat(edges.x1, v_start)
    ymin = np.minimum.reduceat(edges.y1, v_start)
    ymax = np.maximum.reduceat(edges.y1, v_start)
    i_lo = np.floor((xmin - lat.x0) / lat.hx + 0.5).astype(np.intp)
    i_hi = np.floor((xmax - lat.x0) / lat.hx + 0.5).astype(np.intp)
    j_lo = np.floor((ymin - lat.y0) / lat.hy + 0.5).astype(np.intp)
    j_hi = np.floor((ymax - lat.y0) / lat.hy + 0.5).astype(np.intp)
    n_cols, n_rows = i_hi - i_lo + 1, j_hi - j_lo + 1
    plane_cells = n_cols * n_rows
    cell_off = np.cumsum(plane_cells) - plane_cells
    n_cells = int(plane_cells.sum())
    boundary = _boundary_cells(edges, lat, i_lo, j_lo, n_cols, n_rows, cell_off, n_cells)

    origin = lat.x0 + (i_lo - 1) * lat.hx
    stride = float((int(n_cols.max()) + 3) * lat.hx)

    # Whole cells: no edge passes through them, and their centre lies inside, i.e. within an inside
    # interval of the scanline through the row's centres. Such a centre is at least half a cell
    # from any crossing, so the interval test has no rounding edge cases. Column c's centre is at
    # u = (c + 1)·hx from the plane's origin.
    _, us, line, plane_of = _crossings(
        edges, lat.y0 + j_lo * lat.hy, np.full(n_planes, lat.hy), n_rows, origin, stride
    )
    ip = plane_of[0::2]
    row = line[0::2] - (np.cumsum(n_rows) - n_rows)[ip]
    c_lo = np.clip(np.ceil(us[0::2] / lat.hx).astype(np.intp) - 1, 0, n_cols[ip])
    c_hi = np.clip(np.ceil(us[1::2] / lat.hx).astype(np.intp) - 1, 0, n_cols[ip])
    g, ci = _expand(c_lo, c_hi - c_lo)
    cp, cj = ip[g], row[g]
    keep = ~boundary[cell_off[cp] + cj * n_cols[cp] + ci]
    cp, cj, ci = cp[keep], cj[keep], ci[keep]

    # Boundary cells: n_fine scanlines each, exact inside length along x on every scanline.
    pitch = lat.hy / n_fine
    fine_y0 = lat.y0 + (j_lo - 0.5) * lat.hy
    fine = _scanlines(edges, fine_y0 + 0.5 * pitch, pitch, n_rows * n_fine, origin, stride)
    fine_off = np.cumsum(n_rows * n_fine) - n_rows * n_fine
    flat = np.flatnonzero(boundary)
    bp = np.searchsorted(cell_off, flat, side="right") - 1
    local = flat - cell_off[bp]
    bj = local // n_cols[bp]
    bi = local - bj * n_cols[bp]
    g, sub = _expand(np.zeros(bp.size, dtype=np.intp), n_fine[bp])
    bp, bj, bi = bp[g], bj[g], bi[g]
    line = bj * n_fine[bp] + sub
    a = lat.x0 + (bi + i_lo[bp] - 0.5) * lat.hx
    o = origin[bp]
    len_a, mom_a = fine.integrals(bp, fine_off[bp] + line, a - o)
    len_b, mom_b = fine.integrals(bp, fine_off[bp] + line, (a + lat.hx) - o)
    cover = len_b - len_a
    keep = cover > 1e-9 * lat.hx
    cover = cover[keep]
    bp, bj, bi, line = bp[keep], bj[keep], bi[keep], line[keep]
    fx = (mom_b[keep] - mom_a[keep]) / cover + origin[bp]
    fpitch = pitch[bp]
    fy = fine_y0[bp] + (line + 0.5) * fpitch
    return PlaneSamples(
        whole_plane=cp,
        whole_i=ci + i_lo[cp],
        whole_j=cj + j_lo[cp],
        plane=bp,
        x=fx,
        y=fy,
        i=bi + i_lo[bp],
        j=bj + j_lo[bp],
        lx=cover,
        ly=fpitch,
        area=cover * fpitch,
    )


def sample_plane(polygons: list[FloatArray], lat: Lattice, n_fine: int) -> PlaneSamples:
    """Area samples of the XOR of one plane's ``polygons`` (:func:`sample_planes` for one plane)."""
    return sample_planes([polygons], lat, np.array([n_fine], dtype=np.intp))
