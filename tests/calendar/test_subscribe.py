"""Subscribing to the calendar feed: a webcal button, a QR code drawn here, three how-tos."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from godparents.calendar.subscribe import subscription, webcal
from tests.factories import make_sponsor
from tests.helpers import LoginAs, csrf_token


def test_webcal_is_the_feed_under_the_calendar_scheme() -> None:
    assert webcal("https://example.org/calendar/abc.ics") == "webcal://example.org/calendar/abc.ics"
    assert webcal("http://example.org/calendar/abc.ics") == "webcal://example.org/calendar/abc.ics"
    assert subscription("https://example.org/c/x.ics").is_https
    assert not subscription("http://example.org/c/x.ics").is_https


def test_the_qr_code_is_an_svg_without_styles_or_scripts() -> None:
    found = subscription("https://example.org/calendar/abc.ics")
    assert found.qr_code.startswith("data:image/svg+xml")
    svg = unquote(found.qr_code.split(",", 1)[1])
    assert svg.startswith("<svg") and "<path" in svg
    assert "style" not in svg.lower() and "script" not in svg.lower()
    assert "http://www.w3.org/2000/svg" in svg


def _new_link_page(client: FlaskClient) -> str:
    token = csrf_token(client, "/account/")
    response = client.post("/account/calendar", data={"csrf_token": token})
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response.headers["Cache-Control"]
    return response.text


@pytest.mark.settings(BASE_URL="https://godparents.example")
def test_a_new_link_comes_with_a_subscribe_button_a_qr_code_and_how_tos(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(make_sponsor())
    page = _new_link_page(client)
    url = re.search(r'id="calendar-url">([^<]+)</pre>', page).group(1)
    assert re.fullmatch(r"https://godparents\.example/calendar/[^/]+\.ics", url)
    button = re.search(r'<a class="btn btn-primary" href="([^"]+)"[^>]*>Subscribe</a>', page)
    assert button and unescape(button.group(1)) == webcal(url)
    qr = re.search(r'<img class="qr-code" src="([^"]+)"', page).group(1)
    assert unquote(unescape(qr)).count(webcal(url).split("/")[-1]) == 0  # encoded as QR, not text
    assert unescape(qr).startswith("data:image/svg+xml")
    for how_to in ("Outlook", "Google Calendar", "Apple Calendar"):
        assert f"<summary>{how_to}" in page
    assert "only links that begin with https://" in page
    assert "Google will refuse it" not in page  # the link is https
    assert "Create a new calendar link" in page  # a lost link is replaced in one click
    assert "<style" not in page and " style=" not in page

    # The link is shown this once: the settings page afterwards does not carry it.
    assert url not in client.get("/account/").text


def test_an_http_link_warns_that_google_will_refuse_it(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    login_as(make_sponsor())
    page = _new_link_page(client)
    assert "Google will refuse it" in page
    assert 'href="webcal://godparents.test/calendar/' in page
