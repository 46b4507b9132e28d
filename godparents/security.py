"""Login required by default, role checks, safe redirects and the response headers.

Every endpoint needs a logged-in user unless its view is marked ``@public``; the public
ones are few and listed by that decorator (and a test checks the list).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import IntegerConverter, Map

from godparents.auth.models import Role
from godparents.fields import MAX_ID, mailto

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",  # Bootstrap draws form controls with data: SVGs
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class DatabaseId(IntegerConverter):
    """``<int:...>`` in every route: at most what an id column holds (PostgreSQL's integer).

    A larger number is no id of anything: the route does not match, a 404, instead of an
    overflow inside the database driver.
    """

    def __init__(
        self,
        url_map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)


def bound_ids(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseId


def public(view: F) -> F:
    """Mark a view as reachable without logging in."""
    view._public = True  # type: ignore[attr-defined]
    return view


def or_404(found: T | None) -> T:
    """What a view looked up, or a 404 when there is none. Lookups that check the reader's
    right to see (their team's prisoner, their own passkey) return None for "not yours" too,
    so that the answer never tells whether the object exists."""
    if found is None:
        abort(404)
    return found


# Who works for a godparent: the godparent and their office staff.
TEAM = (Role.SPONSOR, Role.DELEGATE)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Let only these roles in; others get 403 (anonymous users were sent to login)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def is_public_endpoint(app: Flask, endpoint: str | None) -> bool:
    if endpoint is None:  # no route matched: let the 404 (or 405) through
        return True
    if endpoint == "static":
        return True
    view = app.view_functions.get(endpoint)
    return bool(getattr(view, "_public", False))


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None.

    Browsers read a backslash as a slash and ignore tabs and newlines in URLs, so
    ``/\\evil.example`` and ``//evil.example`` both leave the site: refuse them all.
    """
    if not target or len(target) > 2000:
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    normalised = target.replace("\\", "/")
    if not normalised.startswith("/") or normalised.startswith("//"):
        return None
    parts = urlsplit(normalised)
    if parts.scheme or parts.netloc:
        return None
    return target


# A coordinator without a second factor reaches these and nothing else.
TWO_FACTOR_SETUP_ENDPOINTS = frozenset(
    {
        "account.two_factor",
        "account.enable_two_factor",
        "auth.logout",
        "i18n.set_locale",
    }
)


def web_link(value: str | None) -> str | None:
    """``value`` if it is an http(s) link, else None: a template filter for stored links.

    The forms and the import accept only http(s) already; this keeps a ``javascript:`` or
    ``data:`` link that reached the database some other way out of an ``href``.
    """
    if not value:
        return None
    scheme = urlsplit(value.strip()).scheme.lower()
    return value if scheme in ("http", "https") else None


def _refuse_nul_characters() -> None:
    """No one types a NUL character; PostgreSQL cannot even hold one in a text column or a
    query parameter. A request carrying one anywhere is refused before any view sees it."""
    values = [
        request.path,
        *request.args.keys(),
        *request.args.values(),
        *request.form.keys(),
        *request.form.values(),
        *(upload.filename or "" for upload in request.files.values()),
    ]
    # A malformed multipart body can give a field without a name (None).
    if any(value and "\x00" in value for value in values):
        abort(400)


def clear_session() -> None:
    """Empty the cookie session; only the chosen language outlives it."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def _require_login() -> Any:
    if current_user.is_authenticated:
        if (
            current_user.needs_two_factors
            and request.endpoint not in TWO_FACTOR_SETUP_ENDPOINTS
            and not is_public_endpoint(current_app, request.endpoint)
        ):
            flash(_("Coordinators need a second factor. Set it up to continue."), "warning")
            return redirect(url_for("account.two_factor"))
        return None
    if "_user_id" in session:  # a session the server has ended or that timed out
        clear_session()
        if g.get("session_expired") and not is_public_endpoint(current_app, request.endpoint):
            flash(
                _("You were logged out after a while without activity. Please log in again."),
                "info",
            )
    if is_public_endpoint(current_app, request.endpoint):
        return None
    next_path = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=next_path))


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if not (current_app.debug or current_app.testing):
        # Outside development every request is over TLS; browsers must never try without.
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if request.endpoint != "static":
        # Pages carry personal data: no shared or back-button cache may keep them.
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.add_template_filter(web_link, "web_link")
    app.add_template_filter(mailto, "mailto")
    app.before_request(_refuse_nul_characters)
    app.before_request(_require_login)
    app.after_request(_set_headers)
