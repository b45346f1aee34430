"""In Chromium: sign in, enter a case through the form with live scores, read the board, upload the
example DICOM-RT pair and see the plan check, record the decision, download the PDF."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from e2ekit import sign_in
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]
DICOM = ROOT / "tests" / "data" / "dicom-rt"


def test_coordinator_enters_a_case_and_the_board_reviews_it(
    server: str, browser: Any, tmp_path: Path
) -> None:
    ctx = browser.new_context(accept_downloads=True)
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    sign_in(page, server, "coordinator")
    page.get_by_role("link", name="New case").click()
    page.get_by_label("Case id").fill("e2e-001")
    page.get_by_label("Board date (assessed on)").fill("2026-11-27")
    page.locator("#f-patient-kps").fill("80")
    page.locator("#f-cancer-primary").select_option("renal_cell")
    page.locator("#f-lesions-0-id").fill("L1")
    page.locator("#f-lesions-0-levels").fill("T11 T12")
    live_sins = page.locator('#live [data-score="sins"]')
    live_sins.wait_for()
    assert "(incomplete)" in live_sins.inner_text()
    assert page.locator("#m-lesions-0-sins-pain").inner_text() == "missing"
    page.locator("#f-lesions-0-sins-pain").select_option("mechanical")
    page.locator("#f-lesions-0-sins-bone-lesion").select_option("lytic")
    page.locator("#f-lesions-0-sins-alignment").select_option("normal")
    page.locator("#f-lesions-0-sins-collapse").select_option("lt50")
    page.locator("#f-lesions-0-sins-posterolateral").select_option("unilateral")
    page.locator("#f-lesions-0-escc").select_option("2")
    # Scores update as she types: 3 (junctional) + 3 + 2 + 0 + 2 + 1 = 11.
    page.wait_for_function(
        "document.querySelector('#live [data-score=\"sins\"]').innerText.includes('11')"
    )
    assert page.locator("#m-lesions-0-sins-pain").inner_text() == ""
    page.get_by_role("button", name="Save case").click()
    page.wait_for_url(f"{server}/cases/e2e-001")
    for pillar in ("Neurologic", "Oncologic", "Mechanical", "Systemic"):
        assert page.get_by_role("heading", name=pillar).count() == 1
    assert "SINS 11" in page.locator("#lesion-L1 .keyline").inner_text()
    assert page.locator("#lesion-L1 ol.options > li").count() >= 1

    # The radiation oncologist's upload (same clinician role here).
    page.get_by_label("RTDOSE file").set_input_files(str(DICOM / "rtdose.dcm"))
    page.get_by_label("RTSTRUCT file").set_input_files(str(DICOM / "rtss.dcm"))
    page.get_by_label("Fractions").fill("1")
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_url("**/plan-checks/*")
    assert page.locator("#limits tbody tr").count() >= 1
    img = page.get_by_role("img", name="Cumulative DVH")
    img.wait_for()
    assert page.evaluate("(el) => el.complete && el.naturalWidth > 0", img.element_handle())

    # The chair records the decision; the report names the case and SINS.
    chair = ctx.browser.new_context(accept_downloads=True).new_page()
    sign_in(chair, server, "chair")
    chair.goto(f"{server}/cases/e2e-001")
    chair.get_by_label("Decision").fill("separation_surgery_then_sbrt")
    chair.get_by_label("Agreed by (comma-separated)").fill("Dr Spine, Dr Ray")
    chair.get_by_role("button", name="Record decision").click()
    chair.wait_for_url("**/cases/e2e-001#decisions")
    assert "Dr Spine, Dr Ray" in chair.locator("#decisions").inner_text()
    with chair.expect_download() as dl:
        chair.get_by_role("link", name="Report (PDF)").click()
    pdf_path = tmp_path / "report.pdf"
    dl.value.save_as(pdf_path)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages)
    assert "e2e-001" in text and "SINS 11" in text and "Dr Spine" in text
    ctx.close()


def test_reading_works_with_javascript_off(server: str, browser: Any) -> None:
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    sign_in(page, server, "viewer")
    page.goto(f"{server}/")
    assert page.get_by_role("heading", name="Cases").count() == 1
    rows = page.locator("table.list tbody tr")
    assert rows.count() >= 1
    first = page.locator("table.list tbody tr a").first
    if first.count():
        first.click()
        assert page.get_by_role("heading", name="Safety").count() == 1
    ctx.close()
