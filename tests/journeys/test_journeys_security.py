"""A coordinator sets up two factors in Chromium, then logs in with a code."""

from __future__ import annotations

import pyotp
import pytest

from tests.browser import log_in
from tests.factories import PASSWORD, make_coordinator

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_new_coordinator_sets_up_two_factors_and_logs_in_with_a_code(page, live_server) -> None:
    coordinator = make_coordinator(totp_secret=None)
    log_in(page, coordinator.email, PASSWORD)
    page.wait_for_url("**/account/two-factor")
    assert page.get_by_role("heading", name="Set up two factors").is_visible()
    qr_code = page.get_by_role("img", name="QR code with the key for your authenticator app")
    assert qr_code.evaluate("image => image.naturalWidth") > 0  # drawn, and allowed by the CSP
    key = page.locator("#totp-key").inner_text().replace(" ", "")

    page.get_by_label("Code from the app").fill(pyotp.TOTP(key).now())
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_role("button", name="Turn on two factors").click()
    assert page.get_by_role("heading", name="Your recovery codes").is_visible()
    assert page.locator("#recovery-codes li").count() == 10
    page.get_by_role("link", name="I have saved them").click()
    page.wait_for_url("**/coordinator/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/auth/login")

    log_in(page, coordinator.email, PASSWORD)  # the code, from the same key
    page.wait_for_url("**/coordinator/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
