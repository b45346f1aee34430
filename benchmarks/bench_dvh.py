"""Time DVH calculation for all 10 ROIs of the dicompyler-core example plan, whole process each run.

Compares three programs on the same RTDOSE + RTSTRUCT (tests/data/dicom-rt), each started afresh per
run (interpreter start-up, imports, file reading and all ROIs included), like hyperfine would:

- metspine: ``python -m metspine.dosimetry`` with this interpreter, the scripting entry point (its
  default splits the work over two forked processes; ``--serial`` also times one process), and
  the ``metspine dvh --format json`` command (same numbers, plus the command-line framework's
  start-up);
- dicompyler-core (default settings, ``dvhcalc.get_dvh`` per ROI) from a throw-away venv, because
  its PyPI release needs pydicom < 3:
  ``python3 -m venv /tmp/dchvenv && /tmp/dchvenv/bin/pip install dicompyler-core "pydicom<3"``
  (or set DICOMPYLER_PYTHON to another interpreter that has it);
- plastimatch ``dvh`` (C++), whose PyPI wheel ships the binary:
  ``python3 -m venv /tmp/pmvenv && /tmp/pmvenv/bin/pip install plastimatch``
  (or set PLASTIMATCH to the binary).

metspine's modules are byte-compiled first, as a ``pip install`` leaves them (an editable install
under ``PYTHONDONTWRITEBYTECODE`` would otherwise recompile them on every run, ~15 ms); the
competitors' venvs are compiled by pip. A competitor that is not installed is skipped with a note. Not part of the test run:
``python benchmarks/bench_dvh.py [--runs 7] [--serial]``. The load average is printed before and after:
other work on the machine skews the figures, the two-process run most.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "dicom-rt"
DOSE = DATA / "rtdose.dcm"
STRUCT = DATA / "rtss.dcm"

DICOMPYLER_SCRIPT = """
import sys
import pydicom
from dicompylercore import dvhcalc
rtss = pydicom.dcmread(sys.argv[1])
rtdose = pydicom.dcmread(sys.argv[2])
for roi in rtss.StructureSetROISequence:
    dvh = dvhcalc.get_dvh(rtss, rtdose, int(roi.ROINumber))
    if dvh.volume:
        dvh.statistic("D0.03cc"); dvh.statistic("D2"); dvh.statistic("V10Gy"); dvh.mean
"""


def time_command(cmd: Sequence[str], runs: int, cwd: Path | None = None) -> list[float]:
    """Wall-clock seconds of ``runs`` fresh runs of ``cmd`` (after one warm-up run)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    subprocess.run(cmd, check=True, capture_output=True, cwd=cwd, env=env)  # warm the file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=cwd, env=env)
        times.append(time.perf_counter() - start)
    return times


def report(name: str, times: list[float]) -> float:
    median = statistics.median(times)
    print(f"{name:<34} median {median:6.3f} s   min {min(times):6.3f} s   max {max(times):6.3f} s")
    return median


def dicompyler_python() -> str | None:
    candidate = os.environ.get("DICOMPYLER_PYTHON", "/tmp/dchvenv/bin/python")
    if not Path(candidate).exists():
        return None
    probe = subprocess.run(
        [candidate, "-c", "import dicompylercore.dvhcalc"], capture_output=True, check=False
    )
    return candidate if probe.returncode == 0 else None


def plastimatch_binary() -> str | None:
    candidate = os.environ.get("PLASTIMATCH")
    if candidate and Path(candidate).exists():
        return candidate
    if Path("/tmp/pmvenv/bin/plastimatch").exists():
        return "/tmp/pmvenv/bin/plastimatch"
    return shutil.which("plastimatch")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per program")
    parser.add_argument(
        "--serial", action="store_true", help="also time metspine with --serial (one process)"
    )
    args = parser.parse_args()
    print(f"DVH of all ROIs of {STRUCT.relative_to(ROOT)} on {DOSE.relative_to(ROOT)}")
    print(
        f"{os.cpu_count()} CPUs; {args.runs} runs each after one warm-up; whole process per run\n"
    )

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "metspine")],
        check=True,
        capture_output=True,
    )
    results: dict[str, float] = {}
    metspine_cmd = [
        sys.executable, "-m", "metspine.dosimetry", "--dose", str(DOSE), "--struct", str(STRUCT),
        "--d-cc", "0.03,0.1", "--d-pct", "2,50,98", "--v-gy", "5,10,13.3",
    ]  # fmt: skip
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    results["metspine"] = report("metspine (python -m)", time_command(metspine_cmd, args.runs))
    cli = [
        sys.executable, "-c", "import sys; from metspine.cli import main; sys.argv[0] = 'metspine'; main()",
        "dvh", "--dose", str(DOSE), "--struct", str(STRUCT), "--format", "json",
        "--d-cc", "0.03,0.1", "--d-pct", "2,50,98", "--v-gy", "5,10,13.3",
    ]  # fmt: skip
    results["metspine dvh"] = report("metspine dvh --format json", time_command(cli, args.runs))
    if args.serial:
        results["metspine --serial"] = report(
            "metspine (python -m, --serial)", time_command([*metspine_cmd, "--serial"], args.runs)
        )

    dch = dicompyler_python()
    if dch is None:
        print("dicompyler-core: skipped (not installed; see this script's docstring)")
    else:
        cmd = [dch, "-c", DICOMPYLER_SCRIPT, str(STRUCT), str(DOSE)]
        results["dicompyler-core"] = report(
            "dicompyler-core (default)", time_command(cmd, args.runs)
        )

    pm = plastimatch_binary()
    if pm is None:
        print("plastimatch: skipped (not installed; see this script's docstring)")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "plan"
            folder.mkdir()
            shutil.copy(DOSE, folder / "rtdose.dcm")
            shutil.copy(STRUCT, folder / "rtss.dcm")
            cmd = [
                pm, "dvh", "--input", str(folder), "--output-csv", str(Path(tmp) / "dvh.csv"),
                "--bin-width", "0.01", "--num-bins", "1600",
            ]  # fmt: skip
            results["plastimatch"] = report(
                "plastimatch dvh (bin 0.01 Gy)", time_command(cmd, args.runs, cwd=Path(tmp))
            )

    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")
    print()
    for ours in ("metspine", "metspine dvh"):
        base = results[ours]
        label = "python -m metspine.dosimetry" if ours == "metspine" else "metspine dvh"
        for name, median in results.items():
            if not name.startswith("metspine"):
                print(f"{label:<28} is {median / base:5.1f}x faster than {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
