"""PDF from the report's HTML (WeasyPrint); the HTML is the board page's template."""

from __future__ import annotations

import threading

_LOCK = threading.Lock()  # one PDF at a time: layout is CPU-bound and memory-hungry


def render_pdf(html: str, base_dir: str) -> bytes:
    from weasyprint import HTML

    with _LOCK:
        pdf = HTML(string=html, base_url=base_dir).write_pdf()
    assert pdf is not None
    return bytes(pdf)
