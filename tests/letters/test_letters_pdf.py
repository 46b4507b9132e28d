"""The print kit's PDFs as a printer gets them, read back with poppler-utils: the text line
for line (pdftotext -layout), page and label sizes (pdfinfo, the PDF's MediaBox), the font
embedded (pdffonts), and the first pages as PNG pictures (pdftoppm) that a person can look
at: the folder is printed (``pytest -s``) and kept under the system's temporary folder.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from godparents.extensions import db
from godparents.letters import pdf
from godparents.letters.models import LetterLanguage, LetterTemplate, Occasion
from tests.conftest import SERVER_URL
from tests.factories import make_coordinator, make_prisoner, make_sponsor, make_sponsorship
from tests.helpers import Auth

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(SERVER_URL), reason="a PDF's layout says nothing new on PostgreSQL"),
    pytest.mark.skipif(
        shutil.which("pdftotext") is None, reason="poppler-utils is not installed (apt)"
    ),
]

MM = 72 / 25.4  # PDF points per millimetre
POSTAL = "220030, г. Мінск,\nвул. Валадарскага, 2,\nСІЗА № 1 (следчы ізалятар)"
SENDER = "Dr. Anna Lindner MdB\nDeutscher Bundestag\nPlatz der Republik 1\n11011 Berlin\nGERMANY"
PICTURES = Path(tempfile.gettempdir()) / "godparents-letters-pdf"


def _run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _text_lines(path: Path, page: int | None = None) -> list[str]:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    text = _run("pdftotext", "-layout", *pages, str(path), "-")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _page_sizes_mm(path: Path) -> list[tuple[float, float]]:
    """Each page's MediaBox in millimetres, as pdfinfo reads it."""
    info = _run("pdfinfo", "-f", "1", "-l", "999", "-box", str(path))
    boxes = re.findall(r"Page\s+\d+ MediaBox:\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", info)
    return [
        (round((float(x2) - float(x1)) / MM, 1), round((float(y2) - float(y1)) / MM, 1))
        for x1, y1, x2, y2 in boxes
    ]


def _pictures(path: Path, name: str, pages: int = 1) -> list[Path]:
    """The first pages as PNG, for a person to look at; the folder is printed."""
    PICTURES.mkdir(exist_ok=True)
    prefix = PICTURES / name
    _run("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", str(pages), str(path), str(prefix))
    made = sorted(PICTURES.glob(f"{name}*.png"))
    print(f"\n{name}: {len(made)} page(s) as PNG in {PICTURES}")
    return made


def _fonts(path: Path) -> str:
    return _run("pdffonts", str(path))


@pytest.fixture
def team(app: Flask) -> tuple[str, int]:
    sponsor = make_sponsor(postal_address=SENDER)
    prisoner = make_prisoner(
        address=POSTAL,
        name_latin="Ales Bialiatski",
        name_be="Алесь Бяляцкі",
        name_ru="Алесь Беляцкий",
        birth_year=1962,
    )
    make_sponsorship(sponsor, prisoner)
    return sponsor.email or "", prisoner.id


@pytest.mark.parametrize(("size", "width", "height"), [("dl", 220, 110), ("c6", 162, 114)])
def test_the_envelope_gives_the_cyrillic_address_line_for_line(
    team: tuple[str, int],
    client: FlaskClient,
    auth: Auth,
    tmp_path: Path,
    size: str,
    width: int,
    height: int,
) -> None:
    email, prisoner_id = team
    auth.login(email)
    response = client.get(f"/sponsor/letters/prisoners/{prisoner_id}/envelope.pdf?size={size}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="envelope-{size}.pdf"'
    path = _write(tmp_path, f"envelope-{size}.pdf", response.data)

    assert _page_sizes_mm(path) == [(width, height)]
    expected_recipient = [*POSTAL.splitlines(), "Алесь Беляцкий, 1962 г.р."]
    assert _text_lines(path) == [*SENDER.splitlines(), *expected_recipient]
    fonts = _fonts(path)
    assert "DejaVuSans" in fonts and " yes yes " in fonts  # embedded, as a subset
    assert _pictures(path, f"envelope-{size}")


def test_the_recipient_block_sits_in_the_window(tmp_path: Path) -> None:
    """pdftotext's bounding boxes: every recipient line inside the DL window, the sender's
    top left, nothing off the page."""
    content = pdf.envelope_pdf(pdf.Envelope(POSTAL + "\nАлесь Бяляцкі", SENDER), "dl")
    path = _write(tmp_path, "envelope.pdf", content)
    html = _run("pdftotext", "-bbox-layout", str(path), "-")
    window = pdf.ENVELOPES["dl"].window
    lines = re.findall(
        r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>',
        html,
        re.DOTALL,
    )
    placed = {
        " ".join(re.findall(r">([^<]+)</word>", words)): (
            float(x1) / MM,
            float(y1) / MM,
            float(x2) / MM,
            float(y2) / MM,
        )
        for x1, y1, x2, y2, words in lines
    }
    recipient = placed["Алесь Бяляцкі"]
    assert window.x - 0.5 <= recipient[0] and recipient[2] <= window.x + window.width + 0.5
    assert window.y - 0.5 <= recipient[1] and recipient[3] <= window.y + window.height + 0.5
    sender = placed["Dr. Anna Lindner MdB"]
    assert sender[0] < 20 and sender[1] < 20


def test_too_long_addresses_make_no_envelope() -> None:
    long_line = "г. Мінск, вуліца Валадарскага, дом 2, корпус 1, следчы ізалятар № 1"
    with pytest.raises(pdf.DoesNotFit, match="recipient"):
        pdf.envelope_pdf(pdf.Envelope(long_line, SENDER), "dl")
    with pytest.raises(pdf.DoesNotFit, match="recipient"):
        pdf.envelope_pdf(pdf.Envelope("\n".join(["радок"] * 14), SENDER), "c6")
    with pytest.raises(pdf.DoesNotFit, match="sender"):
        pdf.envelope_pdf(pdf.Envelope(POSTAL, "\n".join(["Zeile"] * 12)), "dl")


def test_label_sheets_are_a4_with_24_labels_of_70_by_37_mm(tmp_path: Path) -> None:
    addresses = [f"{POSTAL}\nАсоба-{number}, 1970 г.р." for number in range(1, 51)]
    path = _write(tmp_path, "labels.pdf", pdf.labels_pdf(addresses))
    assert _page_sizes_mm(path) == [(210.0, 297.0)] * 3  # 24 + 24 + 2

    html = _run("pdftotext", "-bbox-layout", "-f", "1", "-l", "1", str(path), "-")
    names = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
        r"Асоба-(\d+),</word>",
        html,
    )
    assert len(names) == 24
    for x1, y1, x2, y2, number in names:
        row, column = divmod(int(number) - 1, 3)
        left, top = column * pdf.LABEL_WIDTH, pdf.LABEL_TOP + row * pdf.LABEL_HEIGHT
        assert left <= float(x1) / MM and float(x2) / MM <= left + pdf.LABEL_WIDTH, number
        assert top <= float(y1) / MM and float(y2) / MM <= top + pdf.LABEL_HEIGHT, number
    third = _text_lines(path, page=3)
    assert "Асоба-49, 1970 г.р." in " ".join(third) and "Асоба-50, 1970 г.р." in " ".join(third)
    assert _pictures(path, "labels")


def test_a_template_with_belarusian_letters_prints_them(
    app: Flask, client: FlaskClient, auth: Auth, tmp_path: Path
) -> None:
    body = (
        "Дарагі {first_name}!\n\n"
        "Віншуем з днём нараджэння! Усё будзе добра.\n"
        "Ў нас зіма, і мы часта ўспамінаем цябе.\n\n"
        "Абдымаем, {name}."
    )
    template = LetterTemplate(
        occasion=Occasion.BIRTHDAY, language=LetterLanguage.BELARUSIAN, title="Card", body=body
    )
    db.session.add(template)
    for name in ("Алесь Бяляцкі", "Марыя Калеснікава"):
        make_sponsorship(make_sponsor(), make_prisoner(name_latin=name, name_be=name))
    db.session.commit()
    coordinator = make_coordinator()
    auth.login(coordinator.email)
    response = client.get(
        f"/coordinator/letters/batch/letters.pdf?status=held&template={template.id}"
    )
    assert response.status_code == 200
    path = _write(tmp_path, "letters.pdf", response.data)
    assert len(_page_sizes_mm(path)) == 2  # one letter per prisoner
    first = _text_lines(path, page=1)
    assert first == [
        "Дарагі Алесь!",
        "Віншуем з днём нараджэння! Усё будзе добра.",
        "Ў нас зіма, і мы часта ўспамінаем цябе.",
        "Абдымаем, Алесь Бяляцкі.",
    ]
    assert _text_lines(path, page=2)[0] == "Дарагі Марыя!"
    assert _pictures(path, "letters", pages=2)
