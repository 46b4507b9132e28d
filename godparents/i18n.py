"""Languages and time zones: the user's own, else the browser's choice."""

from __future__ import annotations

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

from godparents import catalogs, labels
from godparents.extensions import db
from godparents.security import public, safe_next

bp = Blueprint("i18n", __name__)


def select_locale() -> str | None:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the command line; emails choose theirs with force_locale
        return None
    if current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return request.accept_languages.best_match(languages)


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
    return {"current_locale": str(get_locale() or "en")}


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
    labels.init_app(app)
