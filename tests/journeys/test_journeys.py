"""Journeys in real Chromium through the demo data."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from godparents.extensions import db
from godparents.prisoners.models import HELD_STATUSES, Prisoner
from tests.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEMO_PASSWORD = "demo password for the journeys"


@pytest.fixture
def demo_logins(runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    monkeypatch.setenv("GODPARENTS_DEMO_PASSWORD", DEMO_PASSWORD)
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    logins: dict[str, list[str]] = {}
    for email, role in re.findall(r"^login: (\S+) (\w+)$", result.output, re.M):
        logins.setdefault(role, []).append(email)
    return logins


def _log_in(page, email: str) -> None:
    log_in(page, email, DEMO_PASSWORD)


def test_coordinator_sees_the_dashboard_counts(page, demo_logins) -> None:
    held = db.session.scalar(
        select(func.count()).select_from(Prisoner).where(Prisoner.status.in_(HELD_STATUSES))
    )
    _log_in(page, demo_logins["coordinator"][0])
    page.wait_for_url("**/coordinator/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    assert page.locator('[data-count="prisoners-held"]').inner_text() == f"{held:,}"
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/auth/login")


def test_sponsor_sees_their_godchildren_and_copies_an_address(page, demo_logins) -> None:
    _log_in(page, demo_logins["sponsor"][0])
    page.wait_for_url("**/sponsor/")
    cards = page.locator("article.card")
    assert cards.count() >= 1
    first = cards.first
    name = first.locator("h3").inner_text()
    prisoner = db.session.scalar(select(Prisoner).where(Prisoner.name_latin == name))
    assert prisoner is not None and prisoner.is_held
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    first.get_by_role("button", name="Copy address").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(prisoner.current_address.postal_address)
    assert "\n" in copied  # line breaks kept
