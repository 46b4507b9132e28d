"""The impact report as a print-ready A4 PDF: the same tables as the page, each charted
with bars in a column of its own. Set in the letters' DejaVu Sans (embedded, so Cyrillic
names print the same everywhere; ``letters/pdf.py``); no person's name in the metadata."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fpdf import FPDF

from godparents.letters.pdf import FONT, _font_file
from godparents.reports.tables import Table

A4_WIDTH, A4_HEIGHT = 210.0, 297.0
MARGIN = 18.0
ROW = 6.0
NUMBER_WIDTH = 24.0
BAR_WIDTH = 40.0
TEXT_SIZE = 9
BRAND = (122, 31, 43)  # the bars: the campaign's dark red (static/css/app.css)
RULE = (200, 200, 200)


class _Document(FPDF):
    page_label: Callable[[int], str] = staticmethod(str)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self.page_label(self.page_no()), align="C")
        self.set_text_color(0, 0, 0)


def _fitted(pdf: FPDF, text: str, width: float) -> str:
    """``text`` cut with "…" to fit ``width`` mm."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _widths(table: Table) -> list[float]:
    usable = A4_WIDTH - 2 * MARGIN - (BAR_WIDTH if table.chart is not None else 0)
    numbers = len(table.columns) - table.labels
    text_width = usable - numbers * NUMBER_WIDTH
    # A parliament and its country: the country's code needs little room.
    texts = [text_width] if table.labels == 1 else [text_width - 18, 18.0]
    return [*texts, *[NUMBER_WIDTH] * numbers]


def report_pdf(
    title: str,
    subtitle: str,
    tables: Sequence[Table],
    number: Callable[[Any, bool], str],
    page_label: Callable[[int], str],
    empty: str,
) -> bytes:
    """The PDF's bytes. ``number(value, is_share)`` writes a figure in the reader's
    language; ``page_label(n)`` the footer; ``empty`` stands in a table without rows."""
    pdf = _Document(orientation="P", unit="mm", format="A4")
    pdf.page_label = page_label
    pdf.add_font(FONT, "", str(_font_file()))
    pdf.set_creator("godparents")
    pdf.set_producer("godparents")
    pdf.set_title(title)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, MARGIN)
    try:
        pdf.add_page()
        pdf.set_font(FONT, "", 18)
        pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(0, 6, subtitle, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        for table in tables:
            _table(pdf, table, number, empty)
        return bytes(pdf.output())
    finally:
        for font in pdf.fonts.values():
            close = getattr(font, "close", None)
            if callable(close):
                close()


def _header(pdf: FPDF, table: Table, widths: list[float]) -> None:
    pdf.set_font(FONT, "", 8)
    pdf.set_text_color(90, 90, 90)
    for column, heading in enumerate(table.columns):
        align = "R" if table.is_number(column) else "L"
        pdf.cell(widths[column], ROW, _fitted(pdf, heading, widths[column] - 1), align=align)
    pdf.ln(ROW)
    pdf.set_draw_color(*RULE)
    pdf.line(MARGIN, pdf.get_y(), A4_WIDTH - MARGIN, pdf.get_y())
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "", TEXT_SIZE)


def _table(pdf: FPDF, table: Table, number: Callable[[Any, bool], str], empty: str) -> None:
    bottom = A4_HEIGHT - MARGIN
    if pdf.get_y() + 3 * ROW + 8 > bottom:  # a heading is not left alone at a page's foot
        pdf.add_page()
    pdf.set_font(FONT, "", 13)
    pdf.multi_cell(0, 7, table.title, new_x="LMARGIN", new_y="NEXT")
    widths = _widths(table)
    _header(pdf, table, widths)
    top = max((float(row[table.chart] or 0) for row in table.rows), default=0) if table.chart else 0
    if not table.rows:
        pdf.cell(0, ROW, empty)
        pdf.ln(ROW)
    for row in table.rows:
        if pdf.get_y() + ROW > bottom:
            pdf.add_page()
            _header(pdf, table, widths)
        y = pdf.get_y()
        for column, value in enumerate(row):
            if table.is_number(column):
                pdf.cell(widths[column], ROW, number(value, column in table.shares), align="R")
            else:
                text = _fitted(pdf, "" if value is None else str(value), widths[column] - 1)
                pdf.cell(widths[column], ROW, text)
        if table.chart is not None and top:
            length = (BAR_WIDTH - 4) * float(row[table.chart] or 0) / top
            if length > 0:
                pdf.set_fill_color(*BRAND)
                pdf.rect(pdf.get_x() + 3, y + 1.5, length, ROW - 3, style="F")
        pdf.ln(ROW)
    if table.note:
        pdf.set_font(FONT, "", 8)
        pdf.set_text_color(90, 90, 90)
        pdf.multi_cell(0, 4, table.note, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(5)
