"""The impact report's figures on a small world whose answers were worked out by hand
(in the comments), the periods, the downloads read back, and who may see it."""

from __future__ import annotations

import io
import subprocess
from datetime import date

import openpyxl
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.extensions import db
from godparents.prisoners.models import PrisonerStatus
from godparents.reports import periods
from godparents.reports.services import Parliament, Waiting, impact_report
from godparents.sponsorships.models import EndReason, SponsorshipStatus
from tests.factories import make_coordinator, make_prisoner, make_sponsor, make_sponsorship
from tests.helpers import LoginAs

CAMPAIGN = date(2020, 10, 1)
Y2025 = (date(2025, 1, 1), date(2025, 12, 31))


def _act(pairing, kind: ActionKind, on: date, outcome: LetterOutcome | None = None) -> None:
    db.session.add(
        Action(sponsorship=pairing, kind=kind, occurred_on=on, summary="x", letter_outcome=outcome)
    )


def _world() -> None:
    """Five godparents, eight prisoners; the figures for 2025 are in ``test_the_figures``."""
    a = make_sponsor(body="Bundestag", country="DE")
    b = make_sponsor(body="Bundestag", country="DE")
    c = make_sponsor(body="Sejm", country="PL")
    d = make_sponsor(body="Seimas", country="LT")
    e = make_sponsor(body="Bundestag", country="DE")
    p1 = make_prisoner(detained_on=date(2019, 5, 1))  # before the campaign: waits from its start
    p2 = make_prisoner(
        detained_on=date(2025, 1, 1), status=PrisonerStatus.RELEASED, released_on=date(2025, 6, 15)
    )
    p3 = make_prisoner(detained_on=date(2024, 12, 22))
    p4 = make_prisoner(detained_on=date(2024, 1, 1))
    p5 = make_prisoner(detained_on=None)
    p6 = make_prisoner(  # released in 2025, but its godparenthood had ended before
        detained_on=date(2022, 1, 1), status=PrisonerStatus.RELEASED, released_on=date(2025, 4, 1)
    )
    p8 = make_prisoner(  # released with only a proposal
        detained_on=date(2024, 3, 1), status=PrisonerStatus.RELEASED, released_on=date(2025, 8, 8)
    )
    a1 = make_sponsorship(a, p1, started_on=date(2025, 3, 1))
    b2 = make_sponsorship(
        b,
        p2,
        started_on=date(2025, 1, 31),
        status=SponsorshipStatus.ENDED,
        ended_on=date(2025, 6, 15),
        end_reason=EndReason.RELEASED,
    )
    c3 = make_sponsorship(c, p3, started_on=date(2025, 1, 1))
    d4 = make_sponsorship(
        d,
        p4,
        started_on=date(2024, 6, 1),
        status=SponsorshipStatus.ENDED,
        ended_on=date(2025, 2, 1),
        end_reason=EndReason.MANDATE_ENDED,
    )
    c4 = make_sponsorship(c, p4, started_on=date(2025, 2, 10))
    make_sponsorship(a, p5, started_on=date(2025, 5, 5))
    make_sponsorship(
        d,
        p6,
        started_on=date(2023, 1, 1),
        status=SponsorshipStatus.ENDED,
        ended_on=date(2024, 12, 31),
        end_reason=EndReason.WITHDREW,
    )
    make_sponsorship(e, p8, started_on=None, status=SponsorshipStatus.PROPOSED)
    _act(a1, ActionKind.LETTER, date(2025, 3, 5), LetterOutcome.DELIVERED)
    _act(a1, ActionKind.LETTER, date(2025, 4, 1), LetterOutcome.RETURNED)
    _act(a1, ActionKind.SPEECH, date(2025, 3, 10))
    _act(b2, ActionKind.LETTER, date(2025, 2, 1), LetterOutcome.REPLY_RECEIVED)
    _act(b2, ActionKind.CARD, date(2025, 2, 14))
    _act(c3, ActionKind.LETTER, date(2025, 1, 10), LetterOutcome.CENSORED)
    _act(c3, ActionKind.STATEMENT, date(2025, 12, 31))
    _act(c4, ActionKind.SPEECH, date(2025, 2, 20))
    _act(d4, ActionKind.LETTER, date(2024, 12, 31))  # the day before
    _act(c3, ActionKind.LETTER, date(2026, 1, 1))  # the day after
    db.session.commit()


def test_the_figures(app) -> None:
    _world()
    report = impact_report(db.session, *Y2025, CAMPAIGN)
    assert report.actions == 8
    assert report.actions_by_kind == {
        ActionKind.LETTER: 4,
        ActionKind.SPEECH: 2,
        ActionKind.CARD: 1,
        ActionKind.STATEMENT: 1,
    }
    assert list(report.actions_by_kind)[:2] == [ActionKind.LETTER, ActionKind.SPEECH]
    bundestag, sejm, seimas = (
        Parliament("Bundestag", "DE"),
        Parliament("Sejm", "PL"),
        Parliament("Seimas", "LT"),
    )
    assert report.actions_by_parliament == {bundestag: 5, sejm: 3}
    assert report.actions_by_country == {"DE": 5, "PL": 3}
    # Letters and cards: one of each outcome and one the godparent did not record.
    assert report.letters == {
        LetterOutcome.DELIVERED: 1,
        LetterOutcome.REPLY_RECEIVED: 1,
        LetterOutcome.RETURNED: 1,
        LetterOutcome.CENSORED: 1,
        None: 1,
    }
    # Started: p1, p2, p3, p4 (again), p5; the proposal and 2023's are not.
    assert report.pairings_started == 5
    assert report.pairings_ended == {EndReason.MANDATE_ENDED: 1, EndReason.RELEASED: 1}
    # p2 (its godparenthood ended on the day of the release); not p6 (ended before), not
    # p8 (only a proposal).
    assert report.released_with_godparent == 1
    # First paired in 2025: p1 waited 2020-10-01 to 2025-03-01 (365 * 4 + 1 + 151 = 1612
    # days), p2 30 days, p3 10 days; p4 had a godparent in 2024; p5 has no detention date.
    assert report.waiting == Waiting(prisoners=3, median_days=30, without_detention_date=1)
    # Bundestag: a and b logged, a and b had godchildren (e only a proposal); Seimas: d's
    # godparenthood ran until February, its action was in 2024.
    assert report.godparents_active == {bundestag: (2, 2), sejm: (1, 1), seimas: (0, 1)}


def test_an_empty_period(app) -> None:
    _world()
    report = impact_report(db.session, date(2030, 1, 1), date(2030, 12, 31), CAMPAIGN)
    assert report.actions == 0 and report.letters == {} and report.pairings_ended == {}
    assert report.waiting == Waiting(0, None, 0)
    # Godparenthoods that have not ended run in 2030 too: a's and c's.
    assert report.godparents_active == {
        Parliament("Bundestag", "DE"): (0, 1),
        Parliament("Sejm", "PL"): (0, 1),
    }


def test_a_fixed_number_of_queries_whatever_the_size(app) -> None:
    statements: list[str] = []

    def count(*args) -> None:
        statements.append(args[2])

    def queries() -> int:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            impact_report(db.session, *Y2025, CAMPAIGN)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    _world()
    small = queries()
    for number in range(15):
        sponsor = make_sponsor(body=f"Parliament {number}", country="FR")
        pairing = make_sponsorship(sponsor, make_prisoner(detained_on=date(2025, 1, 1)))
        _act(pairing, ActionKind.LETTER, date(2025, 7, 1), LetterOutcome.SENT)
    db.session.commit()
    assert queries() == small == 7


def test_the_periods() -> None:
    today = date(2026, 3, 1)
    assert periods.parse({}, today, CAMPAIGN)[0] == periods.calendar_year(2026)
    campaign = periods.parse({"period": "campaign", "year": "2024"}, today, CAMPAIGN)[0]
    assert campaign is not None
    assert (campaign.start, campaign.end) == (date(2024, 10, 1), date(2025, 9, 30))
    # Before this year's anniversary, the campaign year is last year's.
    current = periods.parse({"period": "campaign"}, today, CAMPAIGN)[0]
    assert current is not None and current.start == date(2025, 10, 1)
    leap = periods.campaign_year(date(2020, 2, 29), 2021)
    assert (leap.start, leap.end) == (date(2021, 3, 1), date(2022, 2, 28))
    dates = {"period": "dates", "from": "2025-02-01", "to": "2025-02-28"}
    chosen = periods.parse(dates, today, CAMPAIGN)[0]
    assert chosen is not None and (chosen.start, chosen.end) == (
        date(2025, 2, 1),
        date(2025, 2, 28),
    )
    for wrong in (
        {"period": "decade"},
        {"period": "year", "year": "20x5"},
        {"period": "year", "year": "99999999999999999999"},
        {"period": "year", "year": "١٢٣٤"},
        {"period": "dates", "from": "2025-02-30", "to": "2025-03-01"},
        {"period": "dates", "from": "2025-03-01", "to": "2025-02-01"},
        {"period": "dates", "from": "0001-01-01", "to": "2025-02-01"},
        {"period": "dates"},
    ):
        period, error = periods.parse(wrong, today, CAMPAIGN)
        assert period is None and error, wrong


QUERY_VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["year", "campaign", "dates", "2025", "0", "-1", "2025-02-29", "9999-12-31"]),
    st.dates().map(date.isoformat),
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(st.sampled_from(["period", "year", "from", "to"]), QUERY_VALUES))
def test_any_query_string_gives_a_period_or_says_what_is_wrong(args: dict[str, str]) -> None:
    period, error = periods.parse(args, date(2026, 3, 1), CAMPAIGN)
    if period is None:
        assert error
    else:
        assert error is None and period.start <= period.end
        assert periods.FIRST_YEAR <= period.start.year <= period.end.year <= periods.LAST_YEAR + 1


def test_the_page_the_pdf_and_the_workbook(app, login_as: LoginAs, client: FlaskClient) -> None:
    _world()
    login_as(make_coordinator().email)
    page = client.get("/coordinator/reports/?period=year&year=2025")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and '<title id="chart-title-kinds">Actions by kind</title>' in html
    assert 'style="' not in html.split("<main", 1)[-1]
    assert 'data-value="1612"' not in html and 'data-value="30"' in html

    pdf = client.get("/coordinator/reports/report.pdf?period=year&year=2025")
    assert pdf.mimetype == "application/pdf"
    assert 'filename="impact-report-2025.pdf"' in pdf.headers["Content-Disposition"]
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],  # noqa: S607 (poppler)
        input=pdf.data,
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert "Impact report: 2025" in text
    assert "Actions by kind" in text and "Bundestag" in text
    summary = {
        " ".join(line.split()[:-1]): line.split()[-1] for line in text.splitlines() if line.strip()
    }
    assert summary["Median days they waited for a godparent"] == "30"
    assert summary["Godparenthoods started"] == "5"
    assert summary["Prisoners released while they had a godparent"] == "1"

    xlsx = client.get("/coordinator/reports/report.xlsx?period=campaign&year=2024")
    assert xlsx.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="impact-report-campaign-2024.xlsx"' in xlsx.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == [
        "Overview",
        "By kind",
        "By parliament",
        "By country",
        "Letters",
        "Ended",
        "Godparents",
    ]
    kinds = list(book["By kind"].values)
    assert kinds[0] == ("Kind", "Actions", "Share")
    # 2024-10-01 to 2025-09-30: the 2024-12-31 letter in, the statement of 2025-12-31 out.
    assert dict((row[0], row[1]) for row in kinds[1:]) == {
        "Letter": 5,
        "Speech": 2,
        "Card": 1,
    }
    share = book["By kind"]["C2"]
    assert (share.value, share.number_format) == (5 / 8, "0.0%")
    assert all(cell.data_type != "f" for sheet in book for row in sheet.iter_rows() for cell in row)


def test_in_german(app, login_as: LoginAs, client: FlaskClient) -> None:
    _world()
    login_as(make_coordinator(locale="de").email)
    html = client.get("/coordinator/reports/?period=year&year=2025").get_data(as_text=True)
    assert "Deutschland (DE)" in html


def test_a_wrong_period_says_so_and_a_godparent_may_not(
    app, login_as: LoginAs, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    login_as(sponsor.email)
    for path in (
        "/coordinator/reports/",
        "/coordinator/reports/report.pdf",
        "/coordinator/reports/report.xlsx",
    ):
        assert client.get(path).status_code == 403
    client.post("/auth/logout")
    login_as(make_coordinator().email)
    page = client.get("/coordinator/reports/?period=dates&from=2025-03-01&to=2025-02-01")
    assert page.status_code == 200
    assert "The last day comes before the first." in page.get_data(as_text=True)
    download = client.get("/coordinator/reports/report.pdf?period=year&year=abc")
    assert download.status_code == 400
    assert "Enter a year between" in download.get_data(as_text=True)


@pytest.mark.parametrize(
    "query", ["period=year&year=2025", "period=dates&from=2025-01-01&to=2025-01-01"]
)
def test_a_period_without_anything(app, login_as: LoginAs, client: FlaskClient, query: str) -> None:
    login_as(make_coordinator().email)
    for path in (
        "/coordinator/reports/",
        "/coordinator/reports/report.pdf",
        "/coordinator/reports/report.xlsx",
    ):
        assert client.get(f"{path}?{query}").status_code == 200
