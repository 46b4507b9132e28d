"""Reminders in real Chromium, with a real SMTP server: a coordinator previews a rule and
runs the reminders from the dashboard; the email arrives; its recipient unsubscribes from
the link without logging in."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

from godparents.auth.models import User
from godparents.extensions import db
from godparents.timeutil import campaign_today
from tests.browser import log_in
from tests.factories import (
    PASSWORD,
    make_coordinator,
    make_default_rules,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.processes import Runners

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _birth_date_in(days: int) -> date:
    """A birth date whose birthday falls ``days`` from the campaign's today (not 29 Feb)."""
    birthday = campaign_today("Europe/Berlin") + timedelta(days=days)
    if (birthday.month, birthday.day) == (2, 29):
        birthday += timedelta(days=1)
    return birthday.replace(year=1985)


def test_run_reminders_then_unsubscribe_from_the_email(
    page, live_server, smtp_server, browser, runners: Runners, web_app
) -> None:
    make_default_rules()
    coordinator = make_coordinator()
    sponsor = make_sponsor(full_name="Marta Nowicka", email="marta@example.org")
    prisoner = make_prisoner(
        name_latin="Ales Navumau", name_ru="Алесь Наумов", birth_date=_birth_date_in(30)
    )
    make_sponsorship(sponsor, prisoner)
    user_id = sponsor.user.id

    log_in(page, coordinator.email, PASSWORD)
    page.wait_for_url("**/coordinator/")

    page.get_by_role("link", name="Rules").click()
    page.get_by_role("row", name=re.compile("Birthday card")).get_by_role(
        "link", name="Preview"
    ).click()
    assert "marta@example.org" in page.content()
    assert page.locator("iframe[sandbox]").count() == 1

    page.goto("/coordinator/")
    page.get_by_role("button", name="Run reminders now").click()
    page.wait_for_url("**/coordinator/reminders/runs/*")
    assert "Asked for, waiting to start" in page.locator("[data-run-status]").inner_text()
    # The worker, a process of its own, takes the request up; the page follows it.
    runners.start(
        smtp_server.port,
        "reminders",
        "worker",
        "--interval",
        "600",
        GODPARENTS_BASE_URL=live_server.url,
        GODPARENTS_SECRET_KEY=web_app.config["SECRET_KEY"],
    )  # signs the links
    page.wait_for_selector('[data-run-status="finished"]', timeout=30_000)
    assert page.locator('[data-count="sent"]').inner_text() == "1"
    page.get_by_role("link", name="Outbox").click()
    page.get_by_role("link", name=re.compile("Ales Navumau")).first.click()
    assert "220030, г. Минск," in page.locator("[data-body-text]").inner_text()

    [email] = [m for m in smtp_server.inbox.messages if m["To"] == "marta@example.org"]
    assert "Ales Navumau" in email["Subject"]
    unsubscribe = urlsplit(email["List-Unsubscribe"].strip("<>")).path

    stranger = browser.new_context(base_url=live_server.url, locale="en-GB")  # not logged in
    try:
        visitor = stranger.new_page()
        visitor.goto(unsubscribe)
        assert "ma…@example.org" in visitor.content()  # enough to recognise, not to harvest
        db.session.expire_all()
        assert db.session.get(User, user_id).reminder_opt_outs == []  # looking changes nothing
        visitor.get_by_role("button", name="Unsubscribe").click()
        assert "Done" in visitor.locator(".alert-success").inner_text()
    finally:
        stranger.close()
    db.session.expire_all()
    assert db.session.get(User, user_id).reminder_opt_outs == ["birthday"]
