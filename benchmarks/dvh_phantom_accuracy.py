"""DVH accuracy on the analytic phantoms: metspine against plastimatch (and dicompyler-core).

The phantoms are those of the test suite (tests/dosimetry: a 5 mm-radius cylinder, a 12 mm sphere,
a ring with a hole and two islands, on a 2 mm dose grid, in linear and radial dose fields), written
as real RTDOSE/RTSTRUCT files. Every exact value is the test suite's own closed form (circle
segments, spherical caps, r = R·x^(1/3)); see tests/dosimetry/test_dosimetry_phantoms.py.

plastimatch (``plastimatch dvh``, cumulative, 0.01 Gy bins) rasterises each structure; its metrics
are read from its histogram: D_x% by linear interpolation of the cumulative curve, Dmax as the
highest bin reached, Dmean from the differential histogram. Its CSV gives fractions of the volume,
not the volume, so its volume is not shown and its D_v uses the exact volume (which can only favour
it). dicompyler-core runs with its defaults. A tool that is not installed is
skipped (install them as benchmarks/bench_dvh.py says).

``python benchmarks/dvh_phantom_accuracy.py`` prints every metric with each tool's error and, per
tool, the largest dose error and the largest volume error. Not part of the test run.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
PHANTOM_DIR = ROOT / "tests" / "dosimetry"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(PHANTOM_DIR))

from bench_dvh import dicompyler_python, plastimatch_binary  # noqa: E402

from metspine.dosimetry import compute_metrics  # noqa: E402


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# The test suite's phantom definitions and closed forms (its conftest is imported as `conftest`).
P = _load("conftest", PHANTOM_DIR / "conftest.py")
T = _load("phantom_tests", PHANTOM_DIR / "test_dosimetry_phantoms.py")
from dosimetry_phantoms import write_dose, write_struct  # noqa: E402

# (field, structure, metric, exact value); metrics: vol (cm³), max, min, mean, d<cc>cc, d<pct>.
Case = tuple[str, str, str, float]


def exact_cases() -> list[Case]:
    cyl_area = math.pi * P.CYL_R**2
    ball_mm3 = 4.0 / 3.0 * math.pi * P.SPH_R**3
    d2_cyl = T.cylinder_x_dose_at_volume(0.02 * cyl_area * T.CYL_L)
    top_z = P.LIN_Z_A + P.LIN_Z_G * T.CYL_L / 2
    h2 = T.sphere_cap_depth(0.02)
    h003 = T.sphere_cap_depth(30.0 / ball_mm3)

    def radial_pct(x: float) -> float:
        return P.RAD_D0 - P.RAD_G * P.SPH_R * (x / 100.0) ** (1.0 / 3.0)

    annulus = math.pi * (P.RING_OUT**2 - P.RING_IN**2)
    s_ring = T.solve(lambda s: T.segment_area(P.RING_OUT, s), 0.02 * annulus, P.RING_IN, P.RING_OUT)
    return [
        ("lin_x", "Cylinder", "vol", cyl_area * T.CYL_L / 1000.0),
        ("lin_x", "Cylinder", "max", P.LIN_X_A + P.LIN_X_G * P.CYL_R),
        ("lin_x", "Cylinder", "mean", P.LIN_X_A),
        ("lin_x", "Cylinder", "d0.03cc", T.cylinder_x_dose_at_volume(30.0)),
        ("lin_x", "Cylinder", "d2", d2_cyl),
        ("lin_x", "Cylinder", "d50", P.LIN_X_A),
        ("lin_x", "Cylinder", "d98", 2 * P.LIN_X_A - d2_cyl),
        ("lin_z", "Cylinder", "max", top_z),
        ("lin_z", "Cylinder", "min", P.LIN_Z_A - P.LIN_Z_G * T.CYL_L / 2),
        ("lin_z", "Cylinder", "mean", P.LIN_Z_A),
        ("lin_z", "Cylinder", "d0.03cc", top_z - P.LIN_Z_G * 30.0 / cyl_area),
        ("lin_z", "Cylinder", "d2", top_z - 0.02 * P.LIN_Z_G * T.CYL_L),
        ("lin_z", "Cylinder", "d98", top_z - 0.98 * P.LIN_Z_G * T.CYL_L),
        ("lin_x", "Sphere", "vol", ball_mm3 / 1000.0),
        ("lin_x", "Sphere", "max", P.LIN_X_A + P.LIN_X_G * P.SPH_R),
        ("lin_x", "Sphere", "mean", P.LIN_X_A),
        ("lin_x", "Sphere", "d0.03cc", P.LIN_X_A + P.LIN_X_G * (P.SPH_R - h003)),
        ("lin_x", "Sphere", "d2", P.LIN_X_A + P.LIN_X_G * (P.SPH_R - h2)),
        ("lin_x", "Sphere", "d98", P.LIN_X_A - P.LIN_X_G * (P.SPH_R - h2)),
        ("radial", "Sphere", "max", P.RAD_D0),
        ("radial", "Sphere", "mean", P.RAD_D0 - 0.75 * P.RAD_G * P.SPH_R),
        ("radial", "Sphere", "d0.03cc", P.RAD_D0 - P.RAD_G * (3 * 30.0 / (4 * math.pi)) ** (1 / 3)),
        ("radial", "Sphere", "d2", radial_pct(2)),
        ("radial", "Sphere", "d50", radial_pct(50)),
        ("radial", "Sphere", "d98", radial_pct(98)),
        ("lin_x", "Ring", "vol", annulus * 20 / 1000.0),
        ("lin_x", "Ring", "mean", P.LIN_X_A),
        ("lin_x", "Ring", "max", P.LIN_X_A + P.LIN_X_G * P.RING_OUT),
        ("lin_x", "Ring", "d2", P.LIN_X_A + P.LIN_X_G * s_ring),
        ("lin_x", "Islands", "vol", 2 * math.pi * 9 * 12 / 1000.0),
        ("lin_x", "Islands", "mean", P.LIN_X_A),
        ("lin_x", "Islands", "max", P.LIN_X_A + P.LIN_X_G * 13),
        ("lin_x", "Islands", "min", P.LIN_X_A - P.LIN_X_G * 13),
    ]


EXACT_VOLUME_CC = {roi: value for _, roi, metric, value in exact_cases() if metric == "vol"}
FIELDS: dict[str, Callable[..., object]] = {"lin_x": P.lin_x, "lin_z": P.lin_z, "radial": P.radial}
D_CC, D_PCT = (0.03,), (2.0, 50.0, 98.0)


def write_phantoms(folder: Path) -> dict[str, Path]:
    """One folder per dose field, each with rtdose.dcm and rtss.dcm (plastimatch reads folders)."""
    out = {}
    for name, field in FIELDS.items():
        d = folder / name
        d.mkdir()
        write_struct(d / "rtss.dcm", P.phantom_rois())
        write_dose(d / "rtdose.dcm", field, P.XS, P.YS, P.ZS)
        out[name] = d
    return out


def metspine_metrics(folder: Path) -> dict[str, dict[str, float]]:
    ms = compute_metrics(folder / "rtdose.dcm", folder / "rtss.dcm", d_cc=D_CC, d_pct=D_PCT)
    out: dict[str, dict[str, float]] = {}
    for m in ms:
        if m.max_gy is None:
            continue
        row = {"vol": m.volume_cc, "max": m.max_gy, "min": m.min_gy, "mean": m.mean_gy}
        row |= {f"d{k}cc": v for k, v in m.d_cc.items()}
        row |= {f"d{k}": v for k, v in m.d_pct.items()}
        out[m.name] = {k: float(v) for k, v in row.items() if v is not None}
    return out


def _from_cumulative(
    doses: list[float], frac: list[float], volume_cc: float, width: float
) -> dict[str, float]:
    """Metrics of a binned cumulative DVH (fraction of the volume receiving at least each dose)."""

    def dose_at(fraction: float) -> float:
        for k in range(1, len(doses)):
            if frac[k] < fraction <= frac[k - 1]:
                t = (frac[k - 1] - fraction) / (frac[k - 1] - frac[k])
                return doses[k - 1] + t * (doses[k] - doses[k - 1])
        return doses[0] if fraction > frac[0] else doses[-1]

    reached = [d for d, f in zip(doses, frac, strict=True) if f > 0]
    out = {
        "vol": volume_cc,
        "max": max(reached) if reached else 0.0,
        "min": next((doses[k] for k in range(len(doses)) if frac[k] < 1.0), 0.0),
        "mean": sum(
            (frac[k] - (frac[k + 1] if k + 1 < len(frac) else 0.0)) * (doses[k] + 0.5 * width)
            for k in range(len(doses))
        ),
    }
    out |= {f"d{v:g}cc": dose_at(v / volume_cc) for v in D_CC if volume_cc > 0}
    out |= {f"d{p:g}": dose_at(p / 100.0) for p in D_PCT}
    return out


def plastimatch_metrics(binary: str, folder: Path, work: Path) -> dict[str, dict[str, float]]:
    width, n_bins = 0.01, 5000
    target = work / f"{folder.name}.csv"
    subprocess.run(
        [binary, "dvh", "--input", str(folder), "--output-csv", str(target),
         "--bin-width", str(width), "--num-bins", str(n_bins)],
        check=True, capture_output=True, cwd=work,
    )  # fmt: skip
    with target.open() as fh:
        rows = list(csv.reader(fh))
    doses = [float(r[0]) for r in rows[1:]]
    out = {}
    for c, name in enumerate(rows[0][1:], start=1):
        frac = [float(r[c]) for r in rows[1:]]
        if frac[0] <= 0:
            continue
        metrics = _from_cumulative(doses, frac, EXACT_VOLUME_CC.get(name, 0.0), width)
        metrics.pop("vol")
        out[name] = metrics
    return out


DICOMPYLER = """
import json, sys
import pydicom
from dicompylercore import dvhcalc
rtss, rtdose = pydicom.dcmread(sys.argv[1]), pydicom.dcmread(sys.argv[2])
out = {}
for roi in rtss.StructureSetROISequence:
    dvh = dvhcalc.get_dvh(rtss, rtdose, int(roi.ROINumber))
    if not dvh.volume:
        continue
    out[str(roi.ROIName)] = {
        "vol": dvh.volume, "max": dvh.max, "min": dvh.min, "mean": dvh.mean,
        "d0.03cc": dvh.statistic("D0.03cc").value,
        **{f"d{p}": dvh.statistic(f"D{p}").value for p in (2, 50, 98)},
    }
print(json.dumps(out))
"""


def dicompyler_metrics(python: str, folder: Path) -> dict[str, dict[str, float]]:
    done = subprocess.run(
        [python, "-c", DICOMPYLER, str(folder / "rtss.dcm"), str(folder / "rtdose.dcm")],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, dict[str, float]] = json.loads(done.stdout)
    return result


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folders = write_phantoms(work)
        tools: dict[str, dict[str, dict[str, dict[str, float]]]] = {
            "metspine": {f: metspine_metrics(d) for f, d in folders.items()}
        }
        pm = plastimatch_binary()
        if pm:
            tools["plastimatch"] = {f: plastimatch_metrics(pm, d, work) for f, d in folders.items()}
        else:
            print("plastimatch: skipped (not installed)")
        dch = dicompyler_python()
        if dch:
            tools["dicompyler-core"] = {f: dicompyler_metrics(dch, d) for f, d in folders.items()}
        else:
            print("dicompyler-core: skipped (not installed)")

    names = list(tools)
    print(
        f"{'field':<7}{'structure':<10}{'metric':<9}{'exact':>9}"
        + "".join(f"{n:>18}" for n in names)
    )
    worst: dict[str, dict[str, float]] = {n: {} for n in names}
    for field, roi, metric, exact in exact_cases():
        cells = []
        for n in names:
            value = tools[n].get(field, {}).get(roi, {}).get(metric)
            if value is None:
                cells.append(f"{'—':>18}")
                continue
            if metric == "vol":
                err = 100.0 * (value - exact) / exact
                worst[n]["volume"] = max(worst[n].get("volume", 0.0), abs(err))
                cells.append(f"{value:9.3f} ({err:+5.1f}%)")
            else:
                err = value - exact
                worst[n]["dose"] = max(worst[n].get("dose", 0.0), abs(err))
                cells.append(f"{value:9.3f} ({err:+6.3f})")
        print(f"{field:<7}{roi:<10}{metric:<9}{exact:9.3f}" + "".join(cells))
    print("\nlargest error (dose in Gy; volume in %); acceptance: 0.1 Gy and 1 %")
    for n in names:
        vol = worst[n].get("volume")
        vol_text = "—" if vol is None else f"{vol:.2f} %"
        print(f"  {n:<16} dose {worst[n].get('dose', 0.0):.3f} Gy   volume {vol_text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
