"""Helpers shared by the browser tests."""

from __future__ import annotations

from typing import Any

PASSWORD = "correct horse battery"


def sign_in(page: Any, base: str, user: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
