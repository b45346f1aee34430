"""metspine: decision support for metastatic spine disease.

import metspine
case = metspine.load_case("case.yaml")
assessment = metspine.assess(case)
"""

from __future__ import annotations

__version__ = "0.1.0"

from metspine.engine import assess
from metspine.io.casefile import load_case
from metspine.model.validation import CaseError

__all__ = ["CaseError", "__version__", "assess", "load_case"]
