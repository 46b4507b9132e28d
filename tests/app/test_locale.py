"""The reader's language (profile, then this browser's choice, then Accept-Language by
quality) and dates, times and numbers written the way that language writes them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient

from godparents import formats
from godparents.extensions import db
from godparents.fields import date_error, parse_day
from godparents.i18n import browser_language
from tests.factories import make_coordinator, make_sponsor
from tests.helpers import LoginAs, csrf_token, field_errors

LANGUAGES = ("en", "de")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,de;q=0.9", "en"),  # English first, German as a fallback
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("de;q=0.9,en-US", "en"),  # order in the header does not matter, quality does
        ("fr-FR,fr;q=0.9,de;q=0.8,en;q=0.7", "de"),  # the first the app speaks
        ("en-GB;q=0.5,de-AT;q=0.6", "de"),
        ("de-AT", "de"),  # a region asks for its language
        ("EN_us", "en"),
        ("fr, *;q=0.1", "en"),  # anything: the first language
        ("de;q=0, en;q=0.1", "en"),  # q=0 means "not this"
        ("fr", None),
        ("", None),
        (None, None),
        ("de;q=abc, en;q=2", None),  # nonsense is skipped
        (";;;,,,de", "de"),
    ],
)
def test_browser_language_honours_quality(header: str | None, expected: str | None) -> None:
    assert browser_language(header, LANGUAGES) == expected


def _lang(client: FlaskClient, header: str | None = None, path: str = "/auth/login") -> str:
    headers = {"Accept-Language": header} if header is not None else {}
    page = client.get(path, headers=headers).get_data(as_text=True)
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


def test_pages_speak_what_the_browser_asks_for_first(client: FlaskClient) -> None:
    assert _lang(client, "en-US,de;q=0.9") == "en"
    assert _lang(client, "de-DE,en;q=0.5") == "de"
    assert _lang(client, "fr") == "en"  # the default
    assert _lang(client) == "en"


def test_the_choice_in_the_footer_wins_over_the_browser(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["locale"] = "de"
    assert _lang(client, "en-US,en;q=0.9") == "de"


def test_the_profile_wins_over_footer_and_browser(
    app: Flask, client: FlaskClient, login_as: LoginAs
) -> None:
    sponsor = make_sponsor()
    sponsor.user.locale = "de"
    db.session.commit()
    with client.session_transaction() as session:
        session["locale"] = "en"
    login_as(sponsor)
    assert _lang(client, "en-US", "/account/") == "de"


MOMENT = datetime(2026, 12, 3, 7, 36, tzinfo=UTC)  # 08:36 in Berlin


def _render(app: Flask, language: str, source: str, **values: object) -> str:
    with app.test_request_context(), formats.in_language(language):
        return render_template_string(source, **values)


def test_english_dates_are_british_by_default(app: Flask) -> None:
    moment = _render(app, "en", "{{ t|datetimeformat('short') }}", t=MOMENT)
    assert moment == "3 Dec 2026, 08:36"
    assert _render(app, "en", "{{ d|dateformat }}", d=date(2026, 5, 21)) == "21 May 2026"
    assert _render(app, "en", "{{ n|number }}", n=1593) == "1,593"


def test_german_dates_and_numbers(app: Flask) -> None:
    assert _render(app, "de", "{{ t|datetimeformat('short') }}", t=MOMENT) == "03.12.2026, 08:36"
    assert _render(app, "de", "{{ d|dateformat }}", d=date(2026, 5, 21)) == "21.05.2026"
    assert _render(app, "de", "{{ n|number }}", n=1593) == "1.593"


@pytest.mark.settings(ENGLISH_LOCALE="en_US")
def test_the_english_style_is_configurable(app: Flask) -> None:
    moment = _render(app, "en", "{{ t|datetimeformat('short') }}", t=MOMENT)
    assert moment == "Dec 3, 2026, 8:36\u202fAM"
    with app.test_request_context(), formats.in_language("en"):
        assert parse_day("5/21/2026") == date(2026, 5, 21)
        assert "5/21/2026" in date_error()


def test_an_english_locale_that_is_not_english_is_refused() -> None:
    from godparents import create_app
    from godparents.config import ConfigurationError

    with pytest.raises(ConfigurationError, match="ENGLISH_LOCALE"):
        create_app({"TESTING": True, "ENGLISH_LOCALE": "de_DE"})


@pytest.mark.parametrize(
    ("language", "typed", "example"),
    [("en", "21/05/2026", "21/05/2026"), ("de", "21.5.2026", "21.05.2026")],
)
def test_a_date_field_reads_the_picker_and_the_readers_way(
    app: Flask, language: str, typed: str, example: str
) -> None:
    with app.test_request_context(), formats.in_language(language):
        assert parse_day("2026-05-21") == date(2026, 5, 21)  # what the picker sends
        assert parse_day(typed) == date(2026, 5, 21)
        assert formats.example_date(date(2026, 5, 21)) == example
        assert example in date_error()  # the error shows the same example
        for wrong in ("21/13/2026", "2026-02-30", "tomorrow", "1/2/26", "21-05-2026"):
            with pytest.raises(ValueError):
                parse_day(wrong)


def test_a_date_fields_error_quotes_the_readers_format_and_that_format_is_read(
    client: FlaskClient, login_as: LoginAs
) -> None:
    sponsor = make_sponsor()
    login_as(make_coordinator())
    path = f"/coordinator/sponsors/{sponsor.id}/edit"
    page = client.get(path).get_data(as_text=True)
    assert (
        'type="date"' in page and "placeholder" not in page.split('id="mandate_ends_on"')[1][:200]
    )
    form = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page))
    form.update(mandate_ends_on="2027-13-01", csrf_token=csrf_token(client, path))
    errors = field_errors(client.post(path, data=form))
    assert errors.get("mandate_ends_on") == "Enter a date such as 21/05/2026.", errors
