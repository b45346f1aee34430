"""Shared builders: a complete, unremarkable case that each test bends one way."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# In CI the property tests run a fixed, reproducible set of examples (a failure there is then a real
# regression, never a new random draw); locally they keep exploring.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

BASE: dict[str, Any] = {
    "format": "metspine.case/1",
    "id": "t-001",
    "assessed_on": "2026-11-27",
    "patient": {
        "age_years": 60,
        "kps": 80,
        "ambulation": "independent",
        "frankel": "E",
        "asa": 2,
        "labs": {
            "albumin_g_dl": 4.0,
            "crp_mg_dl": 0.2,
            "ldh_iu_l": 180,
            "platelets_10e3_ul": 250,
            "calcium_mg_dl": 9.5,
            "bilirubin_mg_dl": 0.5,
            "hemoglobin_g_dl": 13.0,
            "wbc_10e3_ul": 6.0,
        },
        "comorbidities": {
            k: False
            for k in (
                "diabetes",
                "hypertension_treated",
                "copd_or_pneumonia",
                "chf",
                "dependent_functional_status",
                "anemia",
                "chronic_lung_disease",
                "coagulopathy",
                "electrolyte_abnormality",
                "pulmonary_circulation_disorder",
                "renal_failure",
                "malnutrition",
            )
        },
        "admission": "elective",
        "anterior_or_combined_approach_planned": False,
    },
    "cancer": {
        "primary": "renal_cell",
        "months_since_diagnosis": 24,
        "visceral_metastases": "none",
        "brain_metastases": False,
        "extraspinal_bone_metastases": 0,
        "vertebral_metastases": 1,
        "pathological_fracture": False,
        "prior_chemotherapy": False,
        "prior_systemic_therapy": False,
    },
    "lesions": [
        {
            "id": "L1",
            "levels": ["T6"],
            "sins": {
                "pain": "none",
                "bone_lesion": "mixed",
                "alignment": "normal",
                "collapse": "none",
                "posterolateral": "none",
            },
            "escc": "1a",
            "myelopathy": False,
            "functional_radiculopathy": False,
            "mechanical_radiculopathy": False,
            "motor_deficit": False,
        }
    ],
}


def make_case(**changes: Any) -> dict[str, Any]:
    """A deep copy of BASE with dotted-path changes, e.g. make_case(**{"lesions.0.escc": "2"}).

    A value of ``...`` (Ellipsis) deletes the key (the input becomes unknown).
    """
    data = copy.deepcopy(BASE)
    for path, value in changes.items():
        node: Any = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        if value is ...:
            if isinstance(node, list):
                del node[int(last)]
            else:
                node.pop(last, None)
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return data


@pytest.fixture
def base_case() -> dict[str, Any]:
    return make_case()
