"""Real Chromium for the journeys a person clicks through, and a live server for it to visit.

Debian's ``chromium`` is driven by the ``playwright`` package (no ``playwright install``:
nothing is downloaded). Without Chromium the journeys are skipped with the reason, unless
``GODPARENTS_REQUIRE_BROWSER=1`` (as in CI) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def find_chromium() -> str | None:
    for candidate in (
        os.environ.get("GODPARENTS_CHROMIUM"),
        shutil.which("chromium"),
        "/usr/lib/chromium/chromium",
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def skip_or_fail(reason: str) -> None:
    if os.environ.get("GODPARENTS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (GODPARENTS_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = find_chromium()
    if executable is None:
        skip_or_fail(
            "browser journeys skipped: Chromium is not installed "
            "(apt-get install chromium, or run `make test` as root)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class LiveServer:
    """The served app on a free port of 127.0.0.1, in a thread of this process."""

    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(web_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(web_app) as server:
        yield server


@pytest.fixture
def page(browser: object, live_server: LiveServer) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url, locale="en-GB")  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    # A CSP violation or a script error shows up here: the journeys must have none.
    assert errors == []


def log_in(page: Any, email: str, password: str) -> None:
    """Log in through the form as a person would, typing the app's code when asked."""
    from tests.helpers import totp_code

    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    if "/auth/two-factor" in page.url:
        page.get_by_label("Code").fill(totp_code(email, lasting=10))
        page.get_by_role("button", name="Continue").click()
