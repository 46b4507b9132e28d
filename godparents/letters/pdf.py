"""PDFs for paper: envelopes (DL, C6), A4 label sheets (3 x 8, 70 x 37 mm) and letters.

Made with fpdf2; the text is set in DejaVu Sans, shipped in ``fonts/`` and embedded (as a
subset) in each PDF, so that Cyrillic, Belarusian ``ў`` and ``і`` included, prints the
same on every printer and nothing is fetched from elsewhere. Every function returns the
PDF's bytes or raises ``DoesNotFit`` before anything is drawn; none touches the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Response

if TYPE_CHECKING:
    from fpdf import FPDF

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
PT = 25.4 / 72  # one typographic point in millimetres
LINE_SPACING = 1.25  # line height as a multiple of the font size


@dataclass(frozen=True)
class Box:
    """A rectangle on the page, in millimetres from the top left corner."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class EnvelopeFormat:
    code: str
    width: float
    height: float
    sender: Box  # top left
    window: Box  # the recipient's block: bottom right, where windowed envelopes show it


ENVELOPES = {
    # DL (220 x 110 mm): the window of a right-windowed DL envelope is 90 x 45 mm, 20 mm
    # from the right and 15 mm from the bottom edge.
    "dl": EnvelopeFormat("dl", 220, 110, Box(10, 10, 95, 30), Box(110, 50, 90, 45)),
    # C6 (162 x 114 mm): the same block, narrower.
    "c6": EnvelopeFormat("c6", 162, 114, Box(8, 8, 80, 30), Box(72, 52, 82, 50)),
}
ADDRESS_SIZES = (12, 11, 10, 9)  # tried from the largest until the block fits
SENDER_SIZES = (9, 8, 7)

# A4 label sheets, 3 columns x 8 rows of 70 x 37 mm, no gaps (the common 24-up sheet).
A4 = (210.0, 297.0)
LABEL_WIDTH, LABEL_HEIGHT = 70.0, 37.0
LABEL_COLUMNS, LABEL_ROWS = 3, 8
LABELS_PER_SHEET = LABEL_COLUMNS * LABEL_ROWS
LABEL_TOP = (A4[1] - LABEL_ROWS * LABEL_HEIGHT) / 2  # 0.5 mm: the sheet's own margin
LABEL_PADDING = 4.0
LABEL_SIZES = (10, 9, 8, 7)

LETTER_MARGIN = 25.0
LETTER_SIZE = 12


class DoesNotFit(ValueError):
    """A text is too long for its place on the paper; nothing was made."""


@dataclass(frozen=True)
class Envelope:
    recipient: str  # Prisoner.envelope(): the postal address, the name on the last line
    sender: str


@dataclass(frozen=True)
class Letter:
    text: str


@cache
def _font_file() -> Path:
    path = FONTS / "DejaVuSans.ttf"
    if not path.is_file():
        raise FileNotFoundError(f"the letters' font is missing: {path}")
    return path


def _document(width: float, height: float) -> FPDF:
    """A document of that page size with the shipped font; metadata names no person."""
    # Imported here: fpdf2 is a fifth of the app's import time, which every process (the
    # reminder job, each command, each server worker) would pay for pages few open.
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format=(width, height))
    # Parsing a TrueType font is most of an envelope's time: only the regular face.
    pdf.add_font(FONT, "", str(_font_file()))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_creator("godparents")
    pdf.set_producer("godparents")
    pdf.set_title("")
    pdf.set_text_color(0, 0, 0)
    return pdf


@contextmanager
def _opened(width: float, height: float) -> Iterator[FPDF]:
    """A document whose font files are closed again, whatever happens (fpdf2 keeps them
    open for as long as the document lives)."""
    pdf = _document(width, height)
    try:
        yield pdf
    finally:
        for font in pdf.fonts.values():
            close = getattr(font, "close", None)
            if callable(close):
                close()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines()]


def _fitting_size(pdf: FPDF, lines: Sequence[str], box: Box, sizes: Iterable[int]) -> int | None:
    """The largest of ``sizes`` (points) at which every line fits the box's width and all
    of them its height, or None."""
    for size in sizes:
        pdf.set_font(FONT, "", size)
        if len(lines) * size * PT * LINE_SPACING > box.height:
            continue
        if all(pdf.get_string_width(line) <= box.width for line in lines):
            return size
    return None


def _draw_lines(pdf: FPDF, lines: Sequence[str], box: Box, size: int) -> None:
    pdf.set_font(FONT, "", size)
    height = size * PT * LINE_SPACING
    for number, line in enumerate(lines):
        pdf.set_xy(box.x, box.y + number * height)
        pdf.cell(box.width, height, line)


def envelope_problems(envelope: Envelope) -> dict[str, str | None]:
    """For each size, None if both blocks fit the envelope, else which does not:
    "recipient" or "sender". One font load for all sizes."""
    problems: dict[str, str | None] = {}
    with _opened(*A4) as pdf:
        for size, form in ENVELOPES.items():
            if _fitting_size(pdf, _lines(envelope.recipient), form.window, ADDRESS_SIZES) is None:
                problems[size] = "recipient"
            elif _fitting_size(pdf, _lines(envelope.sender), form.sender, SENDER_SIZES) is None:
                problems[size] = "sender"
            else:
                problems[size] = None
    return problems


def envelope_pdf(envelope: Envelope, size: str) -> bytes:
    """One envelope, to be fed through the printer: the sender top left, the recipient's
    block bottom right. Raises DoesNotFit naming the block ("recipient" or "sender")."""
    form = ENVELOPES[size]
    recipient, sender = _lines(envelope.recipient), _lines(envelope.sender)
    with _opened(form.width, form.height) as pdf:
        recipient_size = _fitting_size(pdf, recipient, form.window, ADDRESS_SIZES)
        if recipient_size is None:
            raise DoesNotFit("recipient")
        sender_size = _fitting_size(pdf, sender, form.sender, SENDER_SIZES)
        if sender_size is None:
            raise DoesNotFit("sender")
        pdf.add_page()
        _draw_lines(pdf, sender, form.sender, sender_size)
        _draw_lines(pdf, recipient, form.window, recipient_size)
        return bytes(pdf.output())


LABEL_BOX = Box(0, 0, LABEL_WIDTH - 2 * LABEL_PADDING, LABEL_HEIGHT - 2 * LABEL_PADDING)


@contextmanager
def label_measure() -> Iterator[Callable[[str], bool]]:
    """``with label_measure() as fits:`` then ``fits(text)``: whether it fits a label."""
    with _opened(*A4) as pdf:
        yield lambda text: _fitting_size(pdf, _lines(text), LABEL_BOX, LABEL_SIZES) is not None


def labels_pdf(addresses: Sequence[str]) -> bytes:
    """A4 sheets of 24 labels, one address each, filled row by row. Raises DoesNotFit
    when an address is too long for a label or there is none (measure them first with
    ``label_measure`` to leave such addresses out)."""
    if not addresses:
        raise DoesNotFit("empty")
    with _opened(*A4) as pdf:
        for index, text in enumerate(addresses):
            lines = _lines(text)
            size = _fitting_size(pdf, lines, LABEL_BOX, LABEL_SIZES)
            if size is None:
                raise DoesNotFit(text)
            place = index % LABELS_PER_SHEET
            if place == 0:
                pdf.add_page()
            row, column = divmod(place, LABEL_COLUMNS)
            block_height = len(lines) * size * PT * LINE_SPACING
            top = LABEL_TOP + row * LABEL_HEIGHT + (LABEL_HEIGHT - block_height) / 2
            box = Box(column * LABEL_WIDTH + LABEL_PADDING, top, LABEL_BOX.width, block_height)
            _draw_lines(pdf, lines, box, size)
        return bytes(pdf.output())


def letters_pdf(letters: Sequence[Letter]) -> bytes:
    """A4 letters, each starting on a page of its own, line breaks and blank lines kept."""
    if not letters:
        raise DoesNotFit("empty")
    height = LETTER_SIZE * PT * 1.5
    with _opened(*A4) as pdf:
        pdf.set_margins(LETTER_MARGIN, LETTER_MARGIN, LETTER_MARGIN)
        pdf.set_auto_page_break(True, margin=LETTER_MARGIN)
        pdf.set_font(FONT, "", LETTER_SIZE)
        for letter in letters:
            pdf.add_page()
            pdf.set_xy(LETTER_MARGIN, LETTER_MARGIN)
            pdf.multi_cell(0, height, letter.text.strip())
        return bytes(pdf.output())


def pdf_response(content: bytes, filename: str) -> Response:
    """A PDF to save or print; never cached (it holds addresses), named without a name."""
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
