"""Languages and time zones: the user's own, else this browser's choice, else what the
browser's Accept-Language asks for first (by quality). How dates and numbers are written
in the language chosen is in ``formats``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from flask import (
    Blueprint,
    Flask,
    current_app,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import format_decimal, get_locale
from flask_login import current_user
from werkzeug.wrappers import Response

from godparents import catalogs, formats, labels
from godparents.extensions import db
from godparents.security import public, safe_next

bp = Blueprint("i18n", __name__)


# One entry of an Accept-Language header: a language range and an optional quality.
_RANGE = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]{1,5}))?\s*$"
)


def browser_language(header: str | None, languages: Sequence[str]) -> str | None:
    """The first of ``languages`` the browser asks for, by quality and then by order: for
    "en-US,de;q=0.9" English, since en-US (quality 1) comes before de (0.9). A region asks
    for its language ("en-US" is English). Werkzeug's best_match prefers an exact match of
    a lower quality, and would answer German there."""
    ranked: list[tuple[float, int, str]] = []
    for position, entry in enumerate((header or "")[:1000].split(",")):
        match = _RANGE.match(entry)
        if not match:
            continue
        try:
            quality = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if not 0 < quality <= 1:
            continue
        ranked.append((-quality, position, match.group(1).lower()))
    for _quality, _position, wanted in sorted(ranked):
        if wanted == "*":
            return languages[0] if languages else None
        language = re.split(r"[-_]", wanted)[0]
        if language in languages:
            return language
    return None


def select_language() -> str | None:
    """The reader's language: their profile's, else this browser's choice in the footer,
    else the first the browser's Accept-Language asks for that the app speaks."""
    languages = current_app.config["LANGUAGES"]
    if current_user.is_authenticated and current_user.locale in languages:
        return str(current_user.locale)
    if session.get("locale") in languages:
        return str(session["locale"])
    return browser_language(request.headers.get("Accept-Language"), languages)


def select_locale() -> str | None:
    if not has_request_context():  # the command line; emails choose theirs with in_language
        return None
    return formats.babel_locale(select_language() or current_app.config["BABEL_DEFAULT_LOCALE"])


def select_timezone() -> str | None:
    if has_request_context() and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["TIMEZONE"]


@bp.post("/locale")
@public
def set_locale() -> Response:
    """Switch the language from the footer, for this browser and the user's profile."""
    locale = request.form.get("locale", "")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))


def _template_context() -> dict[str, object]:
    locale = get_locale()
    return {"current_locale": locale.language if locale else "en"}


def compile_missing_catalogs(app: Flask) -> None:
    """Compile catalogs that are missing or older than their ``.po`` (a checkout or an
    editable install; a wheel ships them compiled). Where the package cannot be written, say
    so: ``doctor`` reports the missing catalog too."""
    try:
        catalogs.compile_all(only_stale=True)
    except OSError as error:
        app.logger.warning("translation catalogs could not be compiled: %s", error)


def init_app(app: Flask) -> None:
    """The templates' language helpers (Babel itself is bound in create_app)."""
    compile_missing_catalogs(app)
    app.context_processor(_template_context)
    app.add_template_filter(format_decimal, "number")
    app.add_template_filter(formats.format_moment, "datetimeformat")  # replaces Flask-Babel's
    labels.init_app(app)
