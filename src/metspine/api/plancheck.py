"""Runs the dosimetry plan check on an uploaded RTDOSE/RTSTRUCT pair (files live only in a temp dir).

The limits, re-irradiation budget and DVH maths are ``metspine.dosimetry.plancheck``'s; this module
writes the uploads to disk, picks the lesion's prior courses from the stored case, and adds the DVH
curves of every structure to the plot so the board sees the whole plan.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
import threading
from pathlib import Path
from typing import Any

from metspine.dosimetry import compute_dvhs, load_plan, metrics_from_dvh
from metspine.dosimetry.errors import DosimetryInputError
from metspine.dosimetry.plancheck import plan_check, plot_plan_check, reirradiation_for
from metspine.model.case import Case
from metspine.model.policy import Policy
from metspine.radiation.reirradiation import Course

_PLOT_LOCK = threading.Lock()  # pyplot keeps global state


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_plan_check(
    case: Case,
    policy: Policy,
    *,
    rtdose: bytes,
    rtstruct: bytes,
    fractions: int,
    lesion_id: str | None,
    cord: str | None,
) -> tuple[dict[str, Any], bytes]:
    """The plan-check JSON (contract §4 shape plus roles, notes, all structures) and a DVH PNG."""
    lesion = None
    if lesion_id is not None:
        lesion = next((les for les in case.lesions if les.id == lesion_id), None)
        if lesion is None:
            raise DosimetryInputError(f"lesion_id: the case has no lesion {lesion_id!r}")
    courses = (
        [
            Course(c.dose_gy, c.fractions, c.end_date, c.cord_max_eqd2_gy)
            for c in lesion.prior_radiation
        ]
        if lesion is not None
        else []
    )
    with tempfile.TemporaryDirectory(prefix="metspine-plan-") as tmp:
        dose_path, struct_path = Path(tmp, "rtdose.dcm"), Path(tmp, "rtstruct.dcm")
        dose_path.write_bytes(rtdose)
        struct_path.write_bytes(rtstruct)
        try:
            reirr = reirradiation_for(courses, case.assessed_on, fractions, policy.radiation)
        except ValueError as exc:
            raise DosimetryInputError(f"lesion_id: {exc}") from exc
        check = plan_check(
            dose_path,
            struct_path,
            fractions,
            policy.radiation,
            cord=cord or None,
            reirradiation=reirr,
        )
        grid, sset = load_plan(dose_path, struct_path)
        all_dvhs = compute_dvhs(grid, sset)
        result: dict[str, Any] = check.as_dict()
        result["fractions"] = fractions
        result["lesion_id"] = lesion_id
        result["limit_reasons"] = [
            [{"text": r.text, "references": list(r.references)} for r in lim.reasons]
            for lim in check.limits
        ]
        result["all_structures"] = [
            metrics_from_dvh(sd, (0.03,), (2, 50, 98), ()).to_dict() for sd in all_dvhs
        ]
        png_path = Path(tmp, "dvh.png")
        with _PLOT_LOCK:
            plot_plan_check(
                dataclasses.replace(check, dvhs=all_dvhs),
                png_path,
                f"{case.id}: {fractions} fraction(s)",
            )
        return result, png_path.read_bytes()
