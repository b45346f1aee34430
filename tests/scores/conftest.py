"""Small case builders for the score tests.

A built case holds only what the test names; every other input stays unknown, so a test shows in one
place every input its expected total rests on. The builders are handed out by a session fixture
(``build``) rather than imported, so they work under any pytest import mode.
"""

from __future__ import annotations

from typing import Any

import pytest

from metspine.model.case import Case, Lesion
from metspine.model.policy import Policy


class Builders:
    """``build.case(...)``, ``build.lesion(...)``, ``build.policy(...)``."""

    @staticmethod
    def case(
        *,
        patient: dict[str, Any] | None = None,
        cancer: dict[str, Any] | None = None,
        lesions: list[dict[str, Any]] | None = None,
        labs: dict[str, Any] | None = None,
        comorbidities: dict[str, Any] | None = None,
    ) -> Case:
        p = dict(patient or {})
        if labs is not None:
            p["labs"] = labs
        if comorbidities is not None:
            p["comorbidities"] = comorbidities
        return Case.model_validate(
            {
                "format": "metspine.case/1",
                "id": "score-test",
                "patient": p,
                "cancer": dict(cancer or {}),
                "lesions": list(lesions or []),
            }
        )

    @staticmethod
    def lesion_dict(levels: list[str], lesion_id: str = "L1", **sins: Any) -> dict[str, Any]:
        return {"id": lesion_id, "levels": levels, "sins": sins}

    @staticmethod
    def lesion(levels: list[str], **sins: Any) -> Lesion:
        return Lesion.model_validate({"id": "L1", "levels": levels, "sins": sins})

    @staticmethod
    def policy(**changes: Any) -> Policy:
        return Policy(**changes)


@pytest.fixture(scope="session")
def build() -> Builders:
    return Builders()
