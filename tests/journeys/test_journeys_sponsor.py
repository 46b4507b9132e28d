"""A godparent and their office in real Chromium: copy the address, log a letter, mark it
delivered, see it in the history; the office logs a card for the same godchild."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.extensions import db
from tests.browser import log_in
from tests.factories import PASSWORD, make_delegate, make_prisoner, make_sponsor, make_sponsorship

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADDRESS = "211300, г. Витебск,\nул. Придвинская, 3,\nИК-3"


def _log_in(page, email: str) -> None:
    log_in(page, email, PASSWORD)
    page.wait_for_url("**/sponsor/")


def test_sponsor_and_office_log_for_their_godchild(page, live_server) -> None:
    sponsor = make_sponsor(full_name="Anna Schmidt")
    delegate = make_delegate(sponsor, email="office.schmidt@example.org")
    prisoner = make_prisoner(
        name_latin="Andrei Vasilenka",
        name_ru="Андрей Василенко",
        birth_year=1979,
        address=ADDRESS,
        detained_on=date(2021, 7, 14),
    )
    make_sponsorship(sponsor, prisoner, started_on=date(2023, 3, 1))

    _log_in(page, sponsor.email)
    card = page.locator("article.card", has_text="Andrei Vasilenka")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    card.get_by_role("button", name="Copy address").click()
    assert page.evaluate("navigator.clipboard.readText()") == (
        ADDRESS + "\nАндрей Василенко, 1979 г.р."
    )
    assert card.get_by_role("button", name="Copied").is_visible()

    card.get_by_role("link", name="Log what you did").click()
    page.get_by_text("Letter", exact=True).click()
    page.get_by_label("In a few words").fill("Letter in Russian about the autumn in Berlin")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/sponsor/prisoners/{prisoner.id}#action-*")
    entry = page.locator("li", has_text="Letter in Russian about the autumn in Berlin")
    assert entry.get_by_text("Sent").is_visible()

    entry.get_by_role("link", name="Update outcome").click()
    page.get_by_label("What became of it").select_option("delivered")
    page.get_by_role("button", name="Update").click()
    entry = page.locator("li", has_text="Letter in Russian about the autumn in Berlin")
    assert "Delivered" in entry.locator("[data-outcome]").inner_text()
    letter = db.session.scalar(select(Action).where(Action.kind == ActionKind.LETTER))
    assert letter.letter_outcome is LetterOutcome.DELIVERED

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/auth/login")
    _log_in(page, delegate.email)
    page.locator("article.card", has_text="Andrei Vasilenka").get_by_role(
        "link", name="Log what you did"
    ).click()
    page.get_by_text("Card", exact=True).click()
    page.get_by_label("In a few words").fill("Birthday card from the office")
    page.get_by_role("button", name="Save").click()
    entry = page.locator("li", has_text="Birthday card from the office")
    assert entry.get_by_text("Logged by office.schmidt@example.org").is_visible()
    history = page.locator("ol.history > li")
    assert history.count() == 2
