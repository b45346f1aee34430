"""``python -m metspine.dosimetry --dose RTDOSE --struct RTSTRUCT [...]``: DVH metrics as JSON.

A light entry point (no Typer, no Rich) for scripts and benchmarks; ``metspine dvh`` is the
user-facing command and prints the same JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

# This process does no multi-threaded linear algebra, so OpenBLAS needs no thread pool. Set before
# numpy is first imported; a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from metspine.dosimetry.dvh import compute_metrics
from metspine.dosimetry.errors import DosimetryInputError


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()] if text else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metspine.dosimetry", description=__doc__)
    parser.add_argument("--dose", required=True, help="RTDOSE file")
    parser.add_argument("--struct", required=True, help="RTSTRUCT file")
    parser.add_argument("--structure", action="append", help="structure name (repeatable)")
    parser.add_argument("--d-cc", default="0.03", help="comma-separated volumes in cm³")
    parser.add_argument("--d-pct", default="2,50,98", help="comma-separated percentages")
    parser.add_argument("--v-gy", default="", help="comma-separated doses in Gy")
    parser.add_argument("--allow-relative", action="store_true", help="accept RELATIVE dose")
    split = parser.add_mutually_exclusive_group()
    split.add_argument(
        "--parallel",
        dest="parallel",
        action="store_true",
        default=True,
        help="split large plans over two processes (fork; the default, identical results)",
    )
    split.add_argument(
        "--serial", dest="parallel", action="store_false", help="compute in this process only"
    )
    args = parser.parse_args(argv)
    try:
        metrics = compute_metrics(
            args.dose,
            args.struct,
            args.structure,
            d_cc=_floats(args.d_cc),
            d_pct=_floats(args.d_pct),
            v_gy=_floats(args.v_gy),
            allow_relative=args.allow_relative,
            parallel=args.parallel,
        )
    except (DosimetryInputError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json.dump({"structures": [m.to_dict() for m in metrics]}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    code = main()
    # Everything is written: leave without tearing the interpreter down (freeing every module and
    # array costs ~30 ms, a tenth of a whole run, and has nothing left to do).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
