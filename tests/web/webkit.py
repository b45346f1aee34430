"""Helpers shared by the page tests."""

from __future__ import annotations

import re


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m is not None
    return m.group(1)
