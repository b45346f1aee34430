"""metspine: decision support for metastatic spine disease.

    import metspine
    case = metspine.load_case("case.yaml")
    assessment = metspine.assess(case)

The engine is imported on first use, so tools that need only part of the package (the DVH
calculator, the CLI's help) start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from metspine.engine import assess
    from metspine.io.casefile import load_case
    from metspine.model.validation import CaseError

__all__ = ["CaseError", "__version__", "assess", "load_case"]


def __getattr__(name: str) -> Any:
    if name == "assess":
        from metspine.engine import assess

        return assess
    if name == "load_case":
        from metspine.io.casefile import load_case

        return load_case
    if name == "CaseError":
        from metspine.model.validation import CaseError

        return CaseError
    raise AttributeError(f"module 'metspine' has no attribute {name!r}")
