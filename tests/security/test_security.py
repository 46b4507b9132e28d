"""Login by default, roles, safe redirects and response headers."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from godparents.security import is_public_endpoint, safe_next, web_link
from tests.factories import make_coordinator, make_delegate, make_sponsor
from tests.helpers import Auth, LoginAs, csrf_token

PUBLIC = {
    "static",
    "main.healthz",
    "auth.login",
    "auth.two_factor",  # the second step of logging in: needs the first step's session
    "auth.two_factor_passkey",  # the same step, with a passkey
    "auth.request_password_reset",
    "auth.reset_password",
    "auth.accept_invitation",
    "i18n.set_locale",
    "calendar.feed",
    "prisoners.public_photo",
    "reminders.unsubscribe",  # from the emails; a signed token decides (RFC 8058)
    "reminders.status",  # monitoring: a coordinator's login or the status token
    # The campaign's public pages and open data (404 until the coordinators switch them on).
    "public.index",
    "public.godparents",
    "public.prisoner",
    "public.news",
    "public.join",
    "public.news_feed",
    "public.sitemap",
    "public.data_json",
    "public.data_csv",
}


def test_only_the_listed_endpoints_are_public(web_app: Flask) -> None:
    public = {
        rule.endpoint
        for rule in web_app.url_map.iter_rules()
        if is_public_endpoint(web_app, rule.endpoint)
    }
    assert public == PUBLIC


def test_every_other_page_sends_anonymous_users_to_login(
    web_app: Flask, client: FlaskClient
) -> None:
    for rule in web_app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        path = rule.build({arg: "1" for arg in rule.arguments})[1]
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(path, method=method)
        if method == "POST":
            assert response.status_code in (302, 400), rule  # CSRF may answer first
        else:
            assert response.status_code == 302, rule
            assert response.headers["Location"].startswith("/auth/login?next="), rule


@pytest.mark.parametrize("path", ["/coordinator/", "/auth/invite"])
def test_sponsors_and_delegates_get_403_on_coordinator_pages(
    login_as: LoginAs, auth: Auth, client: FlaskClient, path: str
) -> None:
    sponsor = make_sponsor()
    delegate = make_delegate(sponsor)
    for email in (sponsor.email, delegate.email):
        login_as(email)
        response = client.get(path)
        assert response.status_code == 403
        assert "You do not have access to this page." in response.text
        auth.logout()


def test_coordinators_get_403_on_the_sponsor_home(login_as: LoginAs, client: FlaskClient) -> None:
    login_as(make_coordinator().email)
    assert client.get("/sponsor/").status_code == 403


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        " //evil.example",
        "evil.example",
        "",
    ],
)
def test_next_never_leaves_the_site(target: str) -> None:
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/", "/sponsor/", "/coordinator/?page=2#top"])
def test_next_keeps_paths_on_the_site(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "https://evil.example/x"])
def test_login_with_a_foreign_next_lands_at_home(auth: Auth, target: str) -> None:
    sponsor = make_sponsor()
    response = auth.login(sponsor.email, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_follows_a_local_next(auth: Auth, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    first = client.get("/sponsor/")
    assert first.headers["Location"] == "/auth/login?next=/sponsor/"
    response = auth.login(sponsor.email, next="/sponsor/")
    assert response.headers["Location"] == "/sponsor/"


def test_headers_forbid_inline_code_framing_and_caching(client: FlaskClient) -> None:
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in response.text and "style=" not in response.text


def test_session_cookie_is_httponly_and_samesite(auth: Auth, client: FlaskClient) -> None:
    response = auth.login(make_sponsor().email)
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("godparents_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    # The known-device cookie (auth/devices.py): never for script, never sent cross-site,
    # only to the login pages.
    device = next(c for c in cookies if c.startswith("godparents_device="))
    assert "HttpOnly" in device and "SameSite=Strict" in device and "Path=/auth/" in device


def test_unknown_page_is_a_plain_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "There is no page at this address." in response.text


@pytest.mark.settings(PROPAGATE_EXCEPTIONS=False)
def test_a_crash_shows_a_500_page_that_leaks_nothing(web_app: Flask, client: FlaskClient) -> None:
    @web_app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail: token=abc123")

    web_app.view_functions["boom"]._public = True  # type: ignore[attr-defined]
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret detail" not in response.text and "Traceback" not in response.text


def test_every_coordinator_route_refuses_sponsors_and_delegates(
    login_as: LoginAs, web_app: Flask, auth: Auth, client: FlaskClient
) -> None:
    """Whatever is added under /coordinator/ later, godparents and their staff get 403."""
    sponsor = make_sponsor()
    delegate = make_delegate(sponsor)
    rules = [rule for rule in web_app.url_map.iter_rules() if rule.rule.startswith("/coordinator/")]
    assert len(rules) > 30
    for email in (sponsor.email, delegate.email):
        login_as(email)
        token = csrf_token(client, "/sponsor/")
        for rule in rules:
            path = rule.build({arg: "1" for arg in rule.arguments})[1]
            method = "GET" if "GET" in rule.methods else "POST"
            data = {"csrf_token": token} if method == "POST" else None
            response = client.open(path, method=method, data=data)
            assert response.status_code == 403, (email, method, path)
        auth.logout()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("https://spring96.org/en/news/1", "https://spring96.org/en/news/1"),
        ("HTTP://example.org", "HTTP://example.org"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//evil.example", None),
        ("", None),
        (None, None),
    ],
)
def test_stored_links_reach_an_href_only_when_they_are_web_links(value, shown) -> None:
    assert web_link(value) == shown
