"""The dicompyler-core example plan (real TPS data) against the TPS's own DVHs and plastimatch.

reference_metrics.csv holds, per ROI, the DVH metrics of the treatment planning system (its DVHSequence),
of plastimatch 1.10.0 and of dicompyler-core. The TPS and plastimatch differ from each other by their
own methods (voxelisation, end-capping, bins); a good DVH lands inside the band they span, give or take a
small tolerance. Where metspine departs from that band by design, the test says why.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conftest import DATA
from metspine.dosimetry import StructureMetrics, compute_metrics

LARGE = ["Breast", "Heart", "Lt Lung", "Tumor Bed", "Tumor Bed Block"]
TPS = "TPS DVH embedded"
PLASTIMATCH = "plastimatch"
DICOMPYLER = "dicompyler-core 0.5.7.dev(git 0d5729d) default"


def references() -> dict[str, dict[str, dict[str, float]]]:
    """roi name -> metric -> {"tps"|"plastimatch"|"dicompyler": value}."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    with (DATA / "reference_metrics.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            source = row["source"]
            if source.startswith(TPS):
                key = "tps"
            elif source.startswith(PLASTIMATCH):
                key = "plastimatch"
            elif source == DICOMPYLER:
                key = "dicompyler"
            else:
                continue
            out.setdefault(row["roi_name"], {}).setdefault(row["metric"], {})[key] = float(
                row["value"]
            )
    return out


REF = references()


@pytest.fixture(scope="module")
def plan_metrics(example_plan: tuple[Path, Path]) -> dict[str, StructureMetrics]:
    dose, struct = example_plan
    ms = compute_metrics(dose, struct, d_cc=(0.03, 0.1), d_pct=(2, 50, 98), v_gy=(5.0, 10.0, 13.3))
    return {m.name: m for m in ms}


def value(m: StructureMetrics, metric: str) -> float | None:
    table = {
        "vol_cc": m.volume_cc,
        "mean": m.mean_gy,
        "max": m.max_gy,
        "D2": m.d_pct["2"],
        "D50": m.d_pct["50"],
        "D98": m.d_pct["98"],
        "D0.03cc": m.d_cc["0.03"],
        "D0.1cc": m.d_cc["0.1"],
        "V5Gy": m.v_gy["5"],
        "V10Gy": m.v_gy["10"],
        "V13.3Gy": m.v_gy["13.3"],
    }
    return table[metric]


def band(roi: str, metric: str) -> tuple[float, float]:
    ref = REF[roi][metric]
    a, b = ref["tps"], ref["plastimatch"]
    return min(a, b), max(a, b)


def assert_in_band(m: StructureMetrics, metric: str, tol: float) -> None:
    lo, hi = band(m.name, metric)
    got = value(m, metric)
    assert got is not None
    assert lo - tol <= got <= hi + tol, f"{m.name} {metric}: {got:.4f} outside [{lo}, {hi}] ± {tol}"


def test_all_rois_reported_in_file_order(plan_metrics: dict[str, StructureMetrics]) -> None:
    assert list(plan_metrics) == [
        "BODY", "Areola", "Borders", "Breast", "Heart", "Lt Lung", "Nodes", "Scar", "Tumor Bed",
        "Tumor Bed Block",
    ]  # fmt: skip
    assert plan_metrics["Areola"].is_empty  # an ROI without contours


@pytest.mark.parametrize("roi", LARGE)
def test_large_structures_mean_within_one_percent_of_the_band(
    plan_metrics: dict[str, StructureMetrics], roi: str
) -> None:
    m = plan_metrics[roi]
    lo, _ = band(roi, "mean")
    assert_in_band(m, "mean", 0.01 * lo)


@pytest.mark.parametrize("roi", LARGE)
@pytest.mark.parametrize("metric", ["D2", "D50", "D0.03cc", "D0.1cc"])
def test_large_structures_dose_metrics(
    plan_metrics: dict[str, StructureMetrics], roi: str, metric: str
) -> None:
    """Within the TPS–plastimatch band ± max(0.1 Gy, 1 %).

    Lt Lung D0.03cc sits 0.1 Gy above the band: its hottest 0.03 cm³ is a sliver along the chest
    wall that voxel-centre sampling (TPS) and 1 mm rasterising (plastimatch) under-sample.
    """
    lo, _ = band(roi, metric)
    assert_in_band(plan_metrics[roi], metric, max(0.1, 0.01 * lo))


@pytest.mark.parametrize("roi", LARGE)
def test_large_structures_volumes(plan_metrics: dict[str, StructureMetrics], roi: str) -> None:
    """Contour volume with half-slab end caps: plastimatch's convention, 0.5–3 % above the TPS's."""
    lo, _ = band(roi, "vol_cc")
    assert_in_band(plan_metrics[roi], "vol_cc", 0.01 * lo)
    assert plan_metrics[roi].volume_cc == pytest.approx(
        REF[roi]["vol_cc"]["plastimatch"], rel=0.005
    )


@pytest.mark.parametrize("roi", ["Breast", "Lt Lung", "Tumor Bed Block"])
@pytest.mark.parametrize("metric", ["V5Gy", "V10Gy", "V13.3Gy"])
def test_large_structures_dose_volumes(
    plan_metrics: dict[str, StructureMetrics], roi: str, metric: str
) -> None:
    lo, _ = band(roi, metric)
    assert_in_band(plan_metrics[roi], metric, max(0.1, 0.02 * lo))


@pytest.mark.parametrize("roi", ["Breast", "Heart", "Lt Lung", "Tumor Bed"])
def test_d98_of_large_structures(plan_metrics: dict[str, StructureMetrics], roi: str) -> None:
    assert_in_band(plan_metrics[roi], "D98", 0.1)


def test_tumor_bed_block_d98_reflects_the_end_caps(
    plan_metrics: dict[str, StructureMetrics],
) -> None:
    """Known, explained difference: 13.29 Gy vs the band 13.56–13.62 Gy.

    metspine samples the dose over each end plane's whole slab (1.5 mm beyond the last contour, where
    this block's dose falls off along z); the TPS and plastimatch use the dose on the plane itself.
    Without end caps metspine gives 13.66 Gy (docs/dosimetry.md). The gap must stay that size.
    """
    lo, _ = band("Tumor Bed Block", "D98")
    got = plan_metrics["Tumor Bed Block"].d_pct["98"]
    assert got is not None
    assert lo - 0.35 <= got <= lo


def test_body_matches_the_same_volume_convention(
    plan_metrics: dict[str, StructureMetrics],
) -> None:
    """BODY fills the whole dose grid along z. metspine, like dicompyler-core, counts the outer
    half-voxel of the grid; plastimatch stops at the outer frames (141 cm³ less) and the TPS clips
    BODY further. So the like-for-like reference is dicompyler-core's default."""
    m = plan_metrics["BODY"]
    ref = REF["BODY"]
    assert m.volume_cc == pytest.approx(ref["vol_cc"]["dicompyler"], rel=0.001)
    assert m.mean_gy == pytest.approx(ref["mean"]["dicompyler"], rel=0.01)
    assert_in_band(m, "D0.03cc", 0.05)
    assert_in_band(m, "V10Gy", 0.01 * 131)


def test_heart_point_max_and_small_volume_max(plan_metrics: dict[str, StructureMetrics]) -> None:
    m = plan_metrics["Heart"]
    assert_in_band(m, "max", 0.02)
    assert m.d_cc["0.03"] is not None and m.max_gy is not None
    assert m.d_cc["0.03"] <= m.max_gy


@pytest.mark.parametrize("metric", ["D2", "D0.03cc", "D0.1cc", "V5Gy", "V10Gy"])
def test_scar_high_dose_metrics(plan_metrics: dict[str, StructureMetrics], metric: str) -> None:
    """Scar (0.5 cm³ at the skin): the TPS and plastimatch differ widely; the high-dose end must
    still land inside their band."""
    assert_in_band(plan_metrics["Scar"], metric, 0.005)


def test_parallel_split_gives_identical_metrics(example_plan: tuple[Path, Path]) -> None:
    dose, struct = example_plan
    names = ["BODY", "Lt Lung", "Heart", "Scar"]
    serial = compute_metrics(dose, struct, names, parallel=False)
    split = compute_metrics(dose, struct, names, parallel=True)
    assert [m.to_dict(extended=True) for m in serial] == [m.to_dict(extended=True) for m in split]
