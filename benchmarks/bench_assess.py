"""Assessments per second: one demo case in a loop, and 100,000 generated cases.

Run: .venv/bin/python benchmarks/bench_assess.py [--n 100000]
Target (issue 2): ≥ 5,000 full assessments per second per core. Prints figures; not part of the tests.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any

import metspine
from metspine.model.case import ESCC_GRADES, Case
from metspine.model.levels import LEVELS

ROOT = Path(__file__).resolve().parents[1]
PRIMARIES = ["breast", "prostate", "lung_nsclc", "renal_cell", "thyroid", "colon", "melanoma",
             "myeloma", "lymphoma", "sarcoma", "liver_hcc", "unknown_primary"]  # fmt: skip


P_MISSING = {"p": 0.1}


def maybe(rng: random.Random, value: Any) -> Any:
    """The value, or None (unknown) with the probability set by --missing."""
    return None if rng.random() < P_MISSING["p"] else value


def generated_case(rng: random.Random, i: int) -> dict[str, Any]:
    start = rng.randrange(0, len(LEVELS) - 2)
    n_levels = rng.choice([1, 1, 1, 2, 3])
    levels = list(LEVELS[start : start + n_levels])
    return {
        "format": "metspine.case/1",
        "id": f"gen-{i}",
        "assessed_on": "2026-11-27",
        "patient": {
            "kps": maybe(rng, rng.choice(range(10, 101, 10))),
            "ambulation": maybe(rng, rng.choice(["independent", "with_aid", "non_ambulatory"])),
            "frankel": maybe(rng, rng.choice("ABCDE")),
            "asa": maybe(rng, rng.randint(1, 5)),
            "labs": {"albumin_g_dl": maybe(rng, round(rng.uniform(2.0, 5.0), 1)),
                     "crp_mg_dl": maybe(rng, round(rng.uniform(0, 5), 1)),
                     "ldh_iu_l": maybe(rng, rng.randint(100, 600)),
                     "platelets_10e3_ul": maybe(rng, rng.randint(50, 400)),
                     "calcium_mg_dl": maybe(rng, round(rng.uniform(8, 12), 1)),
                     "bilirubin_mg_dl": maybe(rng, round(rng.uniform(0.2, 3), 1))},
            "comorbidities": {k: maybe(rng, rng.random() < 0.2) for k in (
                "diabetes", "hypertension_treated", "copd_or_pneumonia", "chf",
                "dependent_functional_status", "anemia", "renal_failure")},
            "admission": maybe(rng, rng.choice(["elective", "urgent", "emergency"])),
        },
        "cancer": {
            "primary": maybe(rng, rng.choice(PRIMARIES)),
            "hormone_dependent": maybe(rng, rng.random() < 0.5),
            "targeted_therapy": maybe(rng, rng.random() < 0.5),
            "visceral_metastases": maybe(rng, rng.choice(["none", "removable", "unremovable"])),
            "brain_metastases": maybe(rng, rng.random() < 0.1),
            "extraspinal_bone_metastases": maybe(rng, rng.randint(0, 5)),
            "vertebral_metastases": maybe(rng, n_levels + rng.randint(0, 3)),
            "pathological_fracture": maybe(rng, rng.random() < 0.3),
            "prior_chemotherapy": maybe(rng, rng.random() < 0.5),
        },
        "lesions": [{
            "id": "L1",
            "levels": levels,
            "sins": {
                "pain": maybe(rng, rng.choice(["mechanical", "occasional_nonmechanical", "none"])),
                "bone_lesion": maybe(rng, rng.choice(["lytic", "mixed", "blastic"])),
                "alignment": maybe(rng, rng.choice(
                    ["subluxation_translation", "de_novo_deformity", "normal"])),
                "collapse": maybe(rng, rng.choice(["gt50", "lt50", "none_gt50_involved", "none"])),
                "posterolateral": maybe(rng, rng.choice(["bilateral", "unilateral", "none"])),
            },
            "escc": maybe(rng, rng.choice(ESCC_GRADES)),
            "mechanical_radiculopathy": maybe(rng, rng.random() < 0.1),
        }],
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--distinct", type=int, default=0, help="distinct cases (default: all n)")
    ap.add_argument(
        "--missing",
        type=float,
        nargs="+",
        default=[0.0, 0.1],
        help="share of inputs left unknown in the generated cases (one run per value)",
    )
    args = ap.parse_args()

    demo = metspine.load_case(ROOT / "examples" / "demo-001-rcc-t11-t12.yaml")
    metspine.assess(demo)  # warm the knowledge caches
    reps = 5_000
    t0 = time.perf_counter()
    for _ in range(reps):
        metspine.assess(demo)
    single = reps / (time.perf_counter() - t0)
    print(f"single demo case : {single:,.0f} assessments/s ({1e6 / single:,.0f} µs each)")

    target = 5_000
    for p_missing in args.missing:
        P_MISSING["p"] = p_missing
        rng = random.Random(20261127)
        distinct = args.distinct or args.n
        t0 = time.perf_counter()
        cases = [Case.model_validate(generated_case(rng, i)) for i in range(distinct)]
        parse = distinct / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i in range(args.n):
            metspine.assess(cases[i % len(cases)])
        rate = args.n / (time.perf_counter() - t0)
        print(
            f"generated, {p_missing:.0%} unknown: {rate:,.0f} assessments/s over {args.n:,} "
            f"({len(cases):,} distinct, one core; validation {parse:,.0f} cases/s) "
            f"→ {rate / target:.2f}× the {target:,}/s target"
        )


if __name__ == "__main__":
    main()
