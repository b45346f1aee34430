"""The batched DVH engine gives what plane-by-plane work gives.

Sampling all planes of a structure at once, and reading dose for several slabs at once, are speed
devices only: a plane's samples must not depend on which other planes it was batched with, and a
structure's DVH must not depend on the batch size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dosimetry_phantoms import circle
from hypothesis import given, settings
from hypothesis import strategies as st

import metspine.dosimetry.dvh as dvh_module
from conftest import Phantoms
from metspine.dosimetry import compute_metrics
from metspine.dosimetry.geometry import Lattice, sample_plane, sample_planes

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
        for field in ("x", "y", "i", "j", "lx", "ly", "area", "fine"):
            np.testing.assert_array_equal(getattr(batch, field)[mine], getattr(alone, field))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_subnormal=False),
        min_size=1,
        max_size=60,
    )
)
def test_sort_order_sorts_by_float32_and_keeps_ties_in_input_order(values: list[float]) -> None:
    v = np.asarray(values)
    order = dvh_module._sort_order(v)
    assert sorted(order.tolist()) == list(range(v.size))
    keys = v.astype(np.float32)[order]
    assert np.all(keys[1:] >= keys[:-1])
    ties = keys[1:] == keys[:-1]
    assert np.all(order[1:][ties] > order[:-1][ties])


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
