"""The batched DVH engine gives what plane-by-plane work gives.

Sampling all planes of a structure at once, and reading dose for several slabs at once, are speed
devices only: a plane's samples must not depend on which other planes it was batched with, and a
structure's DVH must not depend on the batch size.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
from dosimetry_phantoms import circle
from hypothesis import example, given, settings
from hypothesis import strategies as st

import metspine.dosimetry.dvh as dvh_module
from conftest import Phantoms
from metspine.dosimetry import compute_metrics
from metspine.dosimetry.geometry import (
    Lattice,
    median,
    points_in_polygon,
    sample_plane,
    sample_planes,
)

LATTICE = Lattice(-30.0, -30.0, 2.0, 2.0)


def _planes() -> list[list[np.ndarray]]:
    return [
        [circle(5.0)],
        [circle(10.0), circle(4.0)],  # ring: a hole by the even-odd rule
        [circle(3.0, cx=-10.0), circle(3.0, cx=10.0)],  # two islands
        [circle(7.3, cx=1.1, cy=-2.7)],
        [circle(0.2, cx=0.3)],  # thinner than most scanline pitches
    ]


def test_batched_sampling_equals_sampling_each_plane_alone() -> None:
    planes = _planes()
    n_fine = np.array([8, 4, 10, 2, 8], dtype=np.intp)
    batch = sample_planes(planes, LATTICE, n_fine)
    for k, polygons in enumerate(planes):
        alone = sample_plane(polygons, LATTICE, int(n_fine[k]))
        mine = batch.plane == k
        for field in ("x", "y", "i", "j", "lx", "ly", "area"):
            np.testing.assert_array_equal(getattr(batch, field)[mine], getattr(alone, field))
        mine = batch.whole_plane == k
        for field in ("whole_i", "whole_j"):
            np.testing.assert_array_equal(getattr(batch, field)[mine], getattr(alone, field))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=2.0, max_value=14.0), min_size=3, max_size=24),
    st.floats(min_value=-3.0, max_value=3.0),
    st.floats(min_value=-3.0, max_value=3.0),
    st.booleans(),
)
def test_whole_voxel_samples_are_the_inside_cells(
    radii: list[float], cx: float, cy: float, with_hole: bool
) -> None:
    """Whole-voxel samples are exactly the cells whose centre is inside the contour (even-odd rule,
    by the direct crossing-number test) and that no contour edge touches."""
    angles = np.linspace(0.0, 2.0 * np.pi, len(radii), endpoint=False)
    star = np.column_stack((cx + np.cos(angles) * radii, cy + np.sin(angles) * radii))
    polygons = [star, circle(1.5, cx=cx, cy=cy)] if with_hole else [star]
    samples = sample_plane(polygons, LATTICE, 4)
    ii, jj = (a.ravel() for a in np.meshgrid(np.arange(31), np.arange(31)))
    gx, gy = LATTICE.x0 + ii * LATTICE.hx, LATTICE.y0 + jj * LATTICE.hy
    inside = np.zeros(gx.size, dtype=bool)
    touched = np.zeros(gx.size, dtype=bool)
    for poly in polygons:
        inside ^= points_in_polygon(gx, gy, poly)
        for (x1, y1), (x2, y2) in zip(poly, np.roll(poly, -1, axis=0), strict=True):
            touched |= _segment_meets_box(x1, y1, x2, y2, gx, gy, 0.5 * LATTICE.hx + 1e-9)
    whole_cells = list(zip(samples.whole_i.tolist(), samples.whole_j.tolist(), strict=True))
    assert len(whole_cells) == len(set(whole_cells))
    # Inside and untouched: whole. Whole: inside. A cell an edge grazes (within 1e-9 mm, the
    # rounding of the lattice arithmetic) may count either way.
    assert set(
        zip(ii[inside & ~touched].tolist(), jj[inside & ~touched].tolist(), strict=True)
    ) <= (set(whole_cells))
    assert set(whole_cells) <= set(zip(ii[inside].tolist(), jj[inside].tolist(), strict=True))
    # Fine samples lie in cells that are not whole, within their cell.
    assert not set(zip(samples.i.tolist(), samples.j.tolist(), strict=True)) & set(whole_cells)
    assert np.all(np.abs(samples.x - (LATTICE.x0 + samples.i * LATTICE.hx)) <= 0.5 * LATTICE.hx)
    assert np.all(np.abs(samples.y - (LATTICE.y0 + samples.j * LATTICE.hy)) <= 0.5 * LATTICE.hy)
    # Whole cells come first, ordered row by row, then column by column.
    order = [(j, i) for i, j in whole_cells]
    assert order == sorted(order)


def _segment_meets_box(
    x1: float, y1: float, x2: float, y2: float, cx: np.ndarray, cy: np.ndarray, half: float
) -> np.ndarray:
    """Whether the segment meets each closed square of half-side ``half`` (Liang-Barsky clip)."""
    t0 = np.zeros(cx.size)
    t1 = np.ones(cx.size)
    hit = np.ones(cx.size, dtype=bool)
    for d, lo, hi, start in (
        (x2 - x1, cx - half, cx + half, x1),
        (y2 - y1, cy - half, cy + half, y1),
    ):
        if d == 0:
            hit &= (start >= lo) & (start <= hi)
            continue
        ta, tb = (lo - start) / d, (hi - start) / d
        t0 = np.maximum(t0, np.minimum(ta, tb))
        t1 = np.minimum(t1, np.maximum(ta, tb))
    return hit & (t0 <= t1)


@pytest.mark.parametrize("chunk_cells", [1, 700, 1 << 30])
def test_dvh_does_not_depend_on_the_batch_size(
    phantoms: Phantoms,
    example_plan: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    chunk_cells: int,
) -> None:
    def run() -> list[dict[str, object]]:
        out = []
        for dose, struct, names in (
            (phantoms.radial, phantoms.struct, ["Sphere", "Ring", "Islands", "Edge", "Single"]),
            (example_plan[0], example_plan[1], ["Scar", "Tumor Bed", "Nodes"]),
        ):
            ms = compute_metrics(dose, struct, names, d_cc=(0.03, 0.1), d_pct=(2, 50, 98))
            out += [m.to_dict(extended=True, digits=12) for m in ms]
        return out

    reference = run()
    monkeypatch.setattr(dvh_module, "_CHUNK_CELLS", chunk_cells)
    assert run() == reference


def _vertex_below(d: np.ndarray, f: np.ndarray, dose: float) -> float:
    """The distribution function from all sorted vertices (the full-sort read-out)."""
    return float(np.interp(dose, d, f, left=0.0, right=float(f[-1])))


def _vertex_dose_below(d: np.ndarray, f: np.ndarray, target: float) -> float:
    k = int(np.searchsorted(f, target, side="right"))
    if k <= 0:
        return float(d[0])
    if k >= f.size:
        return float(d[-1])
    return float(d[k - 1] + (target - f[k - 1]) / (f[k] - f[k - 1]) * (d[k] - d[k - 1]))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=40.0),
            st.floats(min_value=0.0, max_value=5.0),
            st.floats(min_value=1e-3, max_value=2.0),
        ),
        min_size=1,
        max_size=300,
    ),
    st.floats(min_value=0.0, max_value=1.0),
)
# Two ends closer than float32 resolution: the full sort once put them out of order.
@example(samples=[(1.0, 9.697520371310862e-08, 1.0), (1.0, 0.0, 1.0)], q=1.0)
def test_binned_read_out_equals_the_full_sort(
    samples: list[tuple[float, float, float]], q: float
) -> None:
    """Metrics read from the binned distribution function equal those of all sorted vertices."""
    low = np.array([s[0] for s in samples])
    high = low + np.array([s[1] for s in samples])
    weight = np.array([s[2] for s in samples])
    dvh = dvh_module.DVH.from_samples(
        low, high, weight, mean_dose=0.0, min_dose=float(low.min()), max_dose=float(high.max())
    )
    d, f = dvh.doses, dvh.below_cc
    dose = float(d[0] + q * (d[-1] - d[0]))
    scale = dvh.volume_cc
    assert abs(dvh._below(dose) - _vertex_below(d, f, dose)) <= 1e-9 * scale
    target = q * dvh.volume_cc
    got, ref = dvh._dose_below(target), _vertex_dose_below(d, f, target)
    # Where the distribution is flat the dose is ill-conditioned; compare volumes there.
    assert abs(got - ref) <= 1e-6 * max(1.0, abs(ref)) or (
        abs(_vertex_below(d, f, got) - target) <= 1e-9 * scale
    )


def test_binned_read_out_matches_the_full_sort_on_the_example_plan(
    example_plan: tuple[Path, Path],
) -> None:
    """Every BODY and Lt Lung metric agrees with the full-sort read-out to 1e-6 Gy, and volumes to
    1e-6 cm³ or 1e-9 of the structure (the full sort's own running sum over 1.6 million vertices of
    a 15-litre BODY rounds by about that much)."""
    dose, sset = dvh_module.load_plan(*example_plan)
    for sd in dvh_module.compute_dvhs(dose, sset, ["BODY", "Lt Lung", "Scar"]):
        dvh = sd.dvh
        assert dvh is not None
        d, f = dvh.doses, dvh.below_cc
        for gy in (0.5, 1.0, 5.0, 10.0, 13.3):
            ref = dvh.volume_cc - _vertex_below(d, f, gy)
            tolerance = max(1e-6, 1e-9 * dvh.volume_cc)
            assert dvh.volume_at_dose_cc(gy) == pytest.approx(ref, abs=tolerance)
        for cc in (0.03, 0.1, 1.0, 0.5 * dvh.volume_cc, 0.98 * dvh.volume_cc):
            if cc >= dvh.volume_cc:
                continue  # D_v of a volume larger than the structure is its minimum, by definition
            ref = _vertex_dose_below(d, f, dvh.volume_cc - cc)
            assert dvh.dose_at_volume_cc(cc) == pytest.approx(ref, abs=1e-6)


@pytest.mark.parametrize("block_cost", [2.0e4, 3.0e5, 1.0e12])
def test_dvh_does_not_depend_on_the_plane_blocks(
    phantoms: Phantoms,
    example_plan: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    block_cost: float,
) -> None:
    """Sampling a structure block by block (the units of a parallel run) changes nothing."""

    def run() -> list[dict[str, object]]:
        out = []
        for dose, struct, names in (
            (phantoms.lin_x, phantoms.struct, ["Sphere", "Ring", "Islands", "Edge", "Single"]),
            (example_plan[0], example_plan[1], ["Heart", "Scar", "Tumor Bed", "Lt Lung"]),
        ):
            ms = compute_metrics(dose, struct, names, d_cc=(0.03, 0.1), d_pct=(2, 50, 98))
            out += [m.to_dict(extended=True, digits=17) for m in ms]
        return out

    reference = run()
    monkeypatch.setattr(dvh_module, "_BLOCK_COST", block_cost)
    # The blocks' sums add in another grouping: results may differ by rounding (nGy) only.
    got, expected = _flat(run()), _flat(reference)
    numbers = {k for k, v in expected.items() if isinstance(v, float)}
    assert {k: v for k, v in got.items() if k not in numbers} == {
        k: v for k, v in expected.items() if k not in numbers
    }
    assert {k: got[k] for k in numbers} == pytest.approx(
        {k: expected[k] for k in numbers}, rel=1e-9, abs=1e-9
    )


def _flat(results: list[dict[str, object]]) -> dict[str, object]:
    """Metric dicts flattened to {"index/key/subkey": value}, for approximate comparison."""
    out: dict[str, object] = {}
    for n, result in enumerate(results):
        for key, value in result.items():
            if isinstance(value, dict):
                out.update({f"{n}/{key}/{k}": v for k, v in value.items()})
            elif isinstance(value, list):
                out[f"{n}/{key}"] = tuple(value)
            else:
                out[f"{n}/{key}"] = value
    return out


def test_parallel_run_is_bit_identical_for_every_structure(
    example_plan: tuple[Path, Path],
) -> None:
    kwargs = {"d_cc": (0.03, 0.1), "d_pct": (2, 50, 98), "v_gy": (5.0, 10.0, 13.3)}
    serial = compute_metrics(*example_plan, parallel=False, **kwargs)  # type: ignore[arg-type]
    split = compute_metrics(*example_plan, parallel=True, **kwargs)  # type: ignore[arg-type]
    assert [m.to_dict(extended=True, digits=17) for m in serial] == [
        m.to_dict(extended=True, digits=17) for m in split
    ]


def test_body_is_split_into_blocks_and_both_processes_get_work(
    example_plan: tuple[Path, Path],
) -> None:
    _, sset = dvh_module.load_plan(*example_plan)
    body = sset.structures[sset.names.index("BODY")]
    blocks = dvh_module.plane_blocks(dvh_module.plane_costs(body))
    assert len(blocks) >= 2
    # The blocks tile the contour planes in order, without gaps or overlaps.
    assert blocks[0][0] == 0 and blocks[-1][1] == len(body.planes)
    assert all(b0[1] == b1[0] for b0, b1 in itertools.pairwise(blocks))
    tasks = dvh_module._tasks(list(range(len(sset.structures))), sset)
    assert tasks is not None
    # Every part of BODY is a task exactly once, the parts (the costliest work) come first, and
    # every other structure with contours is one whole task.
    assert sorted(k for kind, _, k in tasks if kind == "part") == list(range(len(blocks)))
    assert len(tasks) == len(set(tasks))
    assert all(kind == "part" for kind, _, _ in tasks[: len(blocks)])
    others = [i for i, s in enumerate(sset.structures) if not s.is_empty and s is not body]
    assert sorted(i for kind, i, _ in tasks if kind == "whole") == others


def test_two_processes_share_the_work_queue_without_overlap() -> None:
    """Tokens taken from the queue by a parent and a forked child are disjoint and complete."""
    n = 3000
    queue = dvh_module._Queue(n)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            taken = []
            while (k := queue.take()) is not None:
                taken.append(k)
            dvh_module._send(write_fd, taken)
        finally:
            os._exit(0)
    os.close(write_fd)
    mine = []
    while (k := queue.take()) is not None:
        mine.append(k)
    theirs = dvh_module._receive(read_fd)
    os.close(read_fd)
    os.waitpid(pid, 0)
    queue.close()
    assert isinstance(theirs, list)
    assert sorted(mine + theirs) == list(range(n))
    assert mine == sorted(mine) and theirs == sorted(theirs)


def _child_that_dies_at_once(*args: object) -> None:
    raise RuntimeError("simulated crash before any work")


def _child_that_dies_after_its_sums(
    worker: dvh_module._Worker,
    tasks: list[dvh_module._Task],
    queue: dvh_module._Queue,
    to_parent: int,
    from_parent: int,
) -> None:
    results = []
    while (n := queue.take()) is not None:
        results.append((tasks[n], worker.run(tasks[n])))
    dvh_module._send(
        to_parent,
        [(t, r.sums_only() if isinstance(r, dvh_module._Part) else r) for t, r in results],
    )
    raise RuntimeError("simulated crash before sending the samples asked for")


@pytest.mark.parametrize("child", [_child_that_dies_at_once, _child_that_dies_after_its_sums])
def test_a_failing_child_leaves_the_results_unchanged(
    example_plan: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, child: object
) -> None:
    """Whatever the child took from the queue and did not deliver is redone in this process."""
    kwargs = {"d_cc": (0.03, 0.1), "d_pct": (2, 50, 98), "v_gy": (5.0, 10.0, 13.3)}
    serial = compute_metrics(*example_plan, parallel=False, **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(dvh_module, "_child", child)
    dose, sset = dvh_module.load_plan(*example_plan)
    chosen = list(range(len(sset.structures)))
    split = dvh_module._metrics_in_two_processes(dose, sset, chosen, **kwargs)  # type: ignore[arg-type]
    assert split is not None
    assert [m.to_dict(extended=True, digits=17) for m in split] == [
        m.to_dict(extended=True, digits=17) for m in serial
    ]


@pytest.mark.parametrize("block_cost", [50.0, 3.0e3])
def test_forced_parallel_split_of_the_phantoms_is_bit_identical(
    phantoms: Phantoms, monkeypatch: pytest.MonkeyPatch, block_cost: float
) -> None:
    """Every phantom split into many blocks over two processes, including blocks that lie wholly
    outside the grid (Edge), a single plane, and ROIs without contours: serial results exactly."""
    monkeypatch.setattr(dvh_module, "_BLOCK_COST", block_cost)
    monkeypatch.setattr(dvh_module, "_PARALLEL_MIN_COST", 0.0)
    kwargs = {"d_cc": (0.03, 0.5), "d_pct": (2, 50, 98), "v_gy": (10.0, 30.0)}
    for dose in (phantoms.radial, phantoms.lin_x):
        serial = compute_metrics(dose, phantoms.struct, parallel=False, **kwargs)  # type: ignore[arg-type]
        _, sset = dvh_module.load_plan(dose, phantoms.struct)
        tasks = dvh_module._tasks(list(range(len(sset.structures))), sset)
        assert tasks is not None and sum(kind == "part" for kind, _, _ in tasks) > 4
        split = compute_metrics(dose, phantoms.struct, parallel=True, **kwargs)  # type: ignore[arg-type]
        assert [m.to_dict(extended=True, digits=17) for m in split] == [
            m.to_dict(extended=True, digits=17) for m in serial
        ]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_subnormal=False),
        min_size=1,
        max_size=50,
    )
)
def test_median_equals_numpy_median(values: list[float]) -> None:
    """The plane-spacing median (metspine's own, to avoid np.median's numpy.ma import)."""
    assert median(np.asarray(values)) == float(np.median(values))


def test_median_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="no values"):
        median(np.empty(0))
