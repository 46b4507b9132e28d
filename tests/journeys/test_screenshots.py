"""The README's screenshots, taken by Chromium from the demo data: a godparent's home and the
coordinators' dashboard. `make screenshots` writes them into docs/screenshots/ (the variable
GODPARENTS_SCREENSHOTS names the folder); otherwise they go to a temporary folder. Either way
the test checks that each is a picture of the page it names, at the size the README shows."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from godparents.auth import twofactor
from godparents.auth.passwords import hash_password
from godparents.demo.seed import seed_demo
from godparents.extensions import db
from godparents.timeutil import campaign_today
from tests.browser import log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1280, 800


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_the_readme_screenshots_show_the_demo(app, page, tmp_path) -> None:
    folder = Path(os.environ.get("GODPARENTS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    seed_demo(
        campaign_today(app.config["TIMEZONE"]), hash_password(PASSWORD), 0, twofactor.new_secret()
    )
    db.session.commit()
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})

    log_in(page, "helen.whitfield@demo.example", PASSWORD)
    page.wait_for_url("**/sponsor/")
    assert page.locator("article.card").count() >= 1, "the godparent's home shows no godchild"
    page.screenshot(path=str(folder / "sponsor-home.png"))

    page.context.clear_cookies()
    log_in(page, "coordinator@demo.example", PASSWORD)
    page.wait_for_url("**/coordinator/")
    assert page.get_by_role("heading", name="Dashboard").count() == 1
    page.screenshot(path=str(folder / "dashboard.png"))

    for name in ("sponsor-home.png", "dashboard.png"):
        assert _png_size(folder / name) == (WIDTH, HEIGHT), name
