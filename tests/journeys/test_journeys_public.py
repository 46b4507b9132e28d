"""The campaign in public, in real Chromium: a coordinator switches the public pages on; a
pairing where everyone consented appears, one whose godparenthood lacks consent does not."""

from __future__ import annotations

import pytest

from tests.browser import log_in
from tests.factories import (
    PASSWORD,
    make_coordinator,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_coordinator_switches_the_public_pages_on(page, browser, live_server) -> None:
    coordinator = make_coordinator()
    sponsor = make_sponsor(full_name="Katrin Albers", body="Bundestag", has_public_consent=True)
    shown = make_prisoner(name_latin="Palina Sharenda", has_public_consent=True)
    make_sponsorship(sponsor, shown, has_public_consent=True)
    # The prisoner and the godparent consent, this godparenthood does not.
    hidden = make_prisoner(name_latin="Ihar Karnei", has_public_consent=True)
    make_sponsorship(sponsor, hidden, has_public_consent=False)
    quiet = make_sponsor(full_name="Lars Quiet", has_public_consent=False)
    make_sponsorship(quiet, make_prisoner(name_latin="Nobody Knows"), has_public_consent=True)

    visitor = browser.new_context(base_url=live_server.url, locale="de-DE").new_page()
    errors: list[str] = []  # a CSP violation or a script error shows up here
    visitor.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    assert visitor.goto("/public/godparents").status == 404  # off by default
    errors.clear()  # the 404 itself is logged as an error by Chromium

    log_in(page, coordinator.email, PASSWORD)
    page.goto("/coordinator/public/")
    page.get_by_label("Public pages are on").check()
    page.get_by_label("Contact address for new godparents").fill("join@campaign.example")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("The public pages are on.").wait_for()

    response = visitor.goto("/public/godparents?lang=en")
    assert response.status == 200
    listing = visitor.locator("main")
    assert listing.get_by_text("Katrin Albers").is_visible()
    assert listing.get_by_role("link", name="Palina Sharenda").is_visible()
    assert listing.get_by_text("Ihar Karnei").count() == 0
    assert listing.get_by_text("Lars Quiet").count() == 0
    assert listing.get_by_text("Nobody Knows").count() == 0

    listing.get_by_role("link", name="Palina Sharenda").click()
    visitor.get_by_role("heading", name="Palina Sharenda", exact=True).wait_for()
    assert visitor.get_by_text("Katrin Albers").is_visible()
    visitor.get_by_role("link", name="News").click()
    assert visitor.get_by_role("link", name="Palina Sharenda").is_visible()
    assert visitor.get_by_text("Ihar Karnei").count() == 0
    visitor.get_by_role("link", name="Become a godparent").first.click()
    assert visitor.locator('a[href="mailto:join@campaign.example"]').is_visible()
    visitor.context.close()
    assert errors == []
