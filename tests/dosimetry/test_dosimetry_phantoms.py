"""DVH accuracy on analytic phantoms written as real DICOM-RT files (see conftest.py).

Every expected value below is derived from the geometry and the dose function, not from metspine.
Tolerances (the acceptance criteria of the DVH engine): 0.1 Gy on Dmax, D0.03cc, Dmean, D2%, D98%,
and 1 % on volumes.

Notation: a cylinder of radius r and length L; a sphere of radius R; D_v the minimum dose of the
hottest v cm³; D_x% the same for x % of the volume.

Circle segment. The part of a disc of radius r with x ≥ s has area
    A(s) = r²·acos(s/r) − s·sqrt(r² − s²),
so in the field D = a + g·x a prism of length L has V(≥ a + g·s) = L·A(s), and D_v = a + g·s where
L·A(s) = v. By symmetry D_x% + D_(100−x)% = 2a and Dmean = a.

Spherical cap. The part of a ball of radius R with x ≥ R − h has volume π·h²·(3R − h)/3, so in
D = a + g·x the hottest fraction f is the cap with h²(3R − h) = 4R³·f and D = a + g·(R − h).

Radial field D = D0 − g·ρ centred in a ball: the hottest fraction f is the inner ball of radius
R·f^(1/3), so D_x% = D0 − g·R·(x/100)^(1/3), D_v = D0 − g·(3v/4π)^(1/3), Dmean = D0 − (3/4)·g·R.

The cylinder is drawn on 20 planes at z = −19, −17, …, 19 mm; with the end-capping rule (each plane
a 2 mm slab centred on it) it spans z ∈ [−20, 20], L = 40 mm. The sphere is drawn on 12 planes
z = ±1, ±3, …, ±11 as discs of radius sqrt(R² − z²); that stack of 2 mm discs has 0.35 % more volume
than the ball (midpoint rule), well inside the 1 % volume tolerance, and its doses agree with the
ball's to a few hundredths of a Gy, so the ball's exact answers are used.
"""

from __future__ import annotations

import math

import pytest

from conftest import (
    CYL_R,
    EDGE_R,
    EDGE_X,
    LIN_X_A,
    LIN_X_G,
    LIN_Z_A,
    LIN_Z_G,
    RAD_D0,
    RAD_G,
    RING_IN,
    RING_OUT,
    SINGLE_R,
    SPH_R,
    XS,
    Phantoms,
)
from metspine.dosimetry import StructureMetrics, compute_metrics

DOSE_TOL = 0.1  # Gy
VOL_TOL = 0.01  # relative
CYL_L = 40.0  # mm


def segment_area(r: float, s: float) -> float:
    """Area of the part of a disc of radius r beyond the chord at distance s from the centre."""
    s = max(-r, min(r, s))
    return r * r * math.acos(s / r) - s * math.sqrt(r * r - s * s)


def solve(f, target: float, lo: float, hi: float) -> float:  # type: ignore[no-untyped-def]
    """Bisection for a decreasing f: the x in [lo, hi] with f(x) = target (solves an equation)."""
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if f(mid) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def cylinder_x_dose_at_volume(v_mm3: float) -> float:
    s = solve(lambda s: CYL_L * segment_area(CYL_R, s), v_mm3, -CYL_R, CYL_R)
    return LIN_X_A + LIN_X_G * s


def sphere_cap_depth(fraction: float) -> float:
    return solve(lambda h: -(h * h * (3 * SPH_R - h)), -4 * SPH_R**3 * fraction, 0.0, 2 * SPH_R)


def metrics(dose_path, struct_path, name: str) -> StructureMetrics:  # type: ignore[no-untyped-def]
    (m,) = compute_metrics(
        dose_path, struct_path, [name], d_cc=(0.03, 0.1), d_pct=(2, 50, 98), v_gy=(32.0,)
    )
    return m


def close(value: float | None, expected: float, tol: float = DOSE_TOL) -> bool:
    return value is not None and abs(value - expected) <= tol


# --- cylinder (cord-sized, r = 5 mm) -----------------------------------------------------------


def test_cylinder_volume_is_pi_r2_l(phantoms: Phantoms) -> None:
    m = metrics(phantoms.lin_x, phantoms.struct, "Cylinder")
    expected_cc = math.pi * CYL_R**2 * CYL_L / 1000.0  # 3.1416 cm³
    assert m.volume_cc == pytest.approx(expected_cc, rel=VOL_TOL)
    assert m.volume_in_grid_cc == pytest.approx(expected_cc, rel=VOL_TOL)


def test_cylinder_in_steep_transverse_gradient(phantoms: Phantoms) -> None:
    """D = 30 + 0.8·x across a 5 mm-radius cylinder (spec/radiation.md §7.5's hard case).

    Dmax = a + g·r = 34 Gy, Dmean = a = 30 Gy; D0.03cc solves 40·A(s) = 30 mm³ (s = 4.684 mm,
    33.75 Gy); D2% solves A(s) = 0.02·πr²; D98% = 2a − D2%.
    """
    m = metrics(phantoms.lin_x, phantoms.struct, "Cylinder")
    area = math.pi * CYL_R**2
    d2 = cylinder_x_dose_at_volume(0.02 * area * CYL_L)
    assert close(m.max_gy, LIN_X_A + LIN_X_G * CYL_R)
    assert close(m.mean_gy, LIN_X_A)
    assert close(m.d_cc["0.03"], cylinder_x_dose_at_volume(30.0))
    assert close(m.d_cc["0.1"], cylinder_x_dose_at_volume(100.0))
    assert close(m.d_pct["2"], d2)
    assert close(m.d_pct["50"], LIN_X_A)
    assert close(m.d_pct["98"], 2 * LIN_X_A - d2)
    # V32Gy: the part with x ≥ 2.5 mm, 40·A(2.5) mm³.
    v32 = CYL_L * segment_area(CYL_R, (32.0 - LIN_X_A) / LIN_X_G) / 1000.0
    assert m.v_gy["32"] == pytest.approx(v32, rel=VOL_TOL)


def test_cylinder_along_a_longitudinal_gradient_has_a_flat_dvh(phantoms: Phantoms) -> None:
    """D = 20 + 0.5·z over z ∈ [−20, 20]: every dose in [10, 30] Gy is equally likely.

    So D_x% = 30 − 20·x/100, D_v = 30 − 0.5·v/(πr²) (v in mm³), Dmean = 20, Dmax = 30.
    Sampling only at the contour planes would give a staircase with 1 Gy steps instead.
    """
    m = metrics(phantoms.lin_z, phantoms.struct, "Cylinder")
    area = math.pi * CYL_R**2
    top = LIN_Z_A + LIN_Z_G * CYL_L / 2
    assert close(m.max_gy, top)
    assert close(m.min_gy, LIN_Z_A - LIN_Z_G * CYL_L / 2)
    assert close(m.mean_gy, LIN_Z_A)
    assert close(m.d_cc["0.03"], top - LIN_Z_G * 30.0 / area)
    assert close(m.d_pct["2"], top - 0.02 * LIN_Z_G * CYL_L)
    assert close(m.d_pct["98"], top - 0.98 * LIN_Z_G * CYL_L)


# --- sphere (R = 12 mm) ------------------------------------------------------------------------


def test_sphere_in_linear_field_follows_the_spherical_cap(phantoms: Phantoms) -> None:
    m = metrics(phantoms.lin_x, phantoms.struct, "Sphere")
    ball_cc = 4.0 / 3.0 * math.pi * SPH_R**3 / 1000.0
    ball_mm3 = ball_cc * 1000.0
    assert m.volume_cc == pytest.approx(ball_cc, rel=VOL_TOL)
    assert close(m.max_gy, LIN_X_A + LIN_X_G * SPH_R)
    assert close(m.mean_gy, LIN_X_A)
    h2 = sphere_cap_depth(0.02)
    assert close(m.d_pct["2"], LIN_X_A + LIN_X_G * (SPH_R - h2))
    assert close(m.d_pct["98"], LIN_X_A - LIN_X_G * (SPH_R - h2))
    h003 = sphere_cap_depth(30.0 / ball_mm3)
    assert close(m.d_cc["0.03"], LIN_X_A + LIN_X_G * (SPH_R - h003))
    # V32Gy: the cap beyond x = 2.5 mm, h = 9.5 mm.
    h = SPH_R - (32.0 - LIN_X_A) / LIN_X_G
    assert m.v_gy["32"] == pytest.approx(math.pi * h * h * (3 * SPH_R - h) / 3 / 1000, rel=VOL_TOL)


def test_sphere_in_radial_field(phantoms: Phantoms) -> None:
    """D = 40 − 0.3·ρ: D_x% = 40 − 0.3·R·(x/100)^(1/3); Dmean = 40 − 0.75·0.3·R = 37.3 Gy."""
    m = metrics(phantoms.radial, phantoms.struct, "Sphere")

    def d_pct(x: float) -> float:
        return RAD_D0 - RAD_G * SPH_R * (x / 100.0) ** (1.0 / 3.0)

    assert close(m.max_gy, RAD_D0)
    assert close(m.mean_gy, RAD_D0 - 0.75 * RAD_G * SPH_R)
    assert close(m.d_cc["0.03"], RAD_D0 - RAD_G * (3 * 30.0 / (4 * math.pi)) ** (1 / 3))
    assert close(m.d_pct["2"], d_pct(2))
    assert close(m.d_pct["50"], d_pct(50))
    assert close(m.d_pct["98"], d_pct(98))


# --- contours: holes, islands, single plane, outside the grid, no contours ---------------------


def test_ring_hole_is_excluded_by_even_odd_rule(phantoms: Phantoms) -> None:
    """Outer r = 10, inner r = 4 on the same planes: area π(100 − 16), 20 mm long → 5.278 cm³."""
    m = metrics(phantoms.lin_x, phantoms.struct, "Ring")
    assert m.volume_cc == pytest.approx(math.pi * (RING_OUT**2 - RING_IN**2) * 20 / 1000, rel=1e-3)
    assert close(m.mean_gy, LIN_X_A)
    assert close(m.max_gy, LIN_X_A + LIN_X_G * RING_OUT)
    # D2%: 2 % of the annulus lies beyond a chord of the outer circle only (s > r_in).
    annulus = math.pi * (RING_OUT**2 - RING_IN**2)
    s = solve(lambda s: segment_area(RING_OUT, s), 0.02 * annulus, RING_IN, RING_OUT)
    assert close(m.d_pct["2"], LIN_X_A + LIN_X_G * s)


def test_two_contours_on_a_plane_are_two_islands(phantoms: Phantoms) -> None:
    """Two r = 3 discs at x = ±10 on 6 planes (12 mm): 2·π·9·12 mm³; doses 22 ± 2.4 and 38 ± 2.4."""
    m = metrics(phantoms.lin_x, phantoms.struct, "Islands")
    assert m.volume_cc == pytest.approx(2 * math.pi * 9 * 12 / 1000, rel=1e-3)
    assert close(m.mean_gy, LIN_X_A)
    assert close(m.max_gy, LIN_X_A + LIN_X_G * 13)
    assert close(m.min_gy, LIN_X_A - LIN_X_G * 13)


def test_single_plane_structure_gets_one_plane_spacing(phantoms: Phantoms) -> None:
    """One r = 6 contour: a 2 mm slab (the structure set's plane spacing) → π·36·2 mm³."""
    m = metrics(phantoms.lin_x, phantoms.struct, "Single")
    assert m.volume_cc == pytest.approx(math.pi * SINGLE_R**2 * 2 / 1000, rel=1e-3)
    assert close(m.max_gy, LIN_X_A + LIN_X_G * SINGLE_R)
    s = solve(lambda s: segment_area(SINGLE_R, s), 0.02 * math.pi * SINGLE_R**2, -6, 6)
    assert close(m.d_pct["2"], LIN_X_A + LIN_X_G * s)


def test_structure_partly_outside_the_grid(phantoms: Phantoms) -> None:
    """An r = 5 disc centred at x = 29 mm; the grid covers x ≤ 31 mm (last point 30 + half a voxel).

    In-grid volume = (πr² − A(2))·8 mm³; the rest is reported, not silently dropped.
    """
    m = metrics(phantoms.lin_x, phantoms.struct, "Edge")
    edge = float(XS[-1]) + 1.0
    inside = (math.pi * EDGE_R**2 - segment_area(EDGE_R, edge - EDGE_X)) * 8 / 1000
    assert m.volume_cc == pytest.approx(math.pi * EDGE_R**2 * 8 / 1000, rel=1e-3)
    assert m.volume_in_grid_cc == pytest.approx(inside, rel=VOL_TOL)
    assert any("outside the dose grid" in note for note in m.notes)


@pytest.mark.parametrize("name", ["Marker", "Empty"])
def test_roi_without_closed_contours_is_reported_empty(phantoms: Phantoms, name: str) -> None:
    m = metrics(phantoms.lin_x, phantoms.struct, name)
    assert m.is_empty
    assert m.volume_cc == 0.0
    assert m.max_gy is None and m.d_cc["0.03"] is None
    assert m.to_dict()["max_gy"] is None
