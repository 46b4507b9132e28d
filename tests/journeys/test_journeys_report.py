"""The impact report in real Chromium: a coordinator opens it from the menu, picks 2025,
reads the charts and tables, and downloads the PDF and the workbook, both opened here."""

from __future__ import annotations

import subprocess

import openpyxl
import pytest

from tests.browser import log_in
from tests.factories import PASSWORD, make_coordinator
from tests.reports.test_report import _world

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_coordinator_reads_the_year_and_downloads_it(page, live_server) -> None:
    _world()
    coordinator = make_coordinator()
    log_in(page, coordinator.email, PASSWORD)
    page.get_by_role("link", name="Impact report").click()  # on the dashboard
    page.wait_for_url("**/coordinator/reports/")
    page.get_by_label("Calendar year").check()
    page.get_by_label("Year (in which it begins)").fill("2025")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/coordinator/reports/?period=year&year=2025*")
    assert page.get_by_role("heading", level=1).inner_text() == "Impact report: 2025"
    # Each chart is an image named by its table's title, and the table holds the numbers.
    assert page.get_by_role("img", name="Actions by kind").is_visible()
    kinds = page.locator("#table-kinds table")
    assert kinds.locator("tbody tr").first.inner_text().split("\t")[:2] == ["Letter", "4"]

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Download as PDF").click()
    assert pdf_download.value.suggested_filename == "impact-report-2025.pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", pdf_download.value.path(), "-"],  # noqa: S607 (poppler)
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Impact report: 2025" in text and "Actions by parliament" in text
    assert any(line.split()[-1:] == ["30"] and "Median days" in line for line in text.splitlines())

    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Download as Excel workbook (.xlsx)").click()
    assert xlsx_download.value.suggested_filename == "impact-report-2025.xlsx"
    with open(xlsx_download.value.path(), "rb") as file:  # named without a suffix
        book = openpyxl.load_workbook(file)
    assert list(book["By parliament"].values) == [
        ("Parliament", "Country", "Actions"),
        ("Bundestag", "DE", 5),
        ("Sejm", "PL", 3),
    ]
