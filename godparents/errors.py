"""Error pages that say what happened and nothing more."""

from __future__ import annotations

from flask import Flask, current_app, flash, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from godparents import idempotency
from godparents.audit.services import record
from godparents.auth import throttling
from godparents.extensions import db

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    403: (_l("Not allowed"), _l("You do not have access to this page.")),
    404: (_l("Not found"), _l("There is no page at this address.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    409: (
        _l("Saved by someone else"),
        _l(
            "Someone else saved this at the same moment. Nothing of yours was saved: go "
            "back, reload the page to see their version, and make your change again."
        ),
    ),
    413: (_l("Too large"), _l("The file or form you sent is too large.")),
    429: (_l("Too many attempts"), _l("Please wait a moment and try again.")),
    500: (_l("Something went wrong"), _l("The error has been logged. Please try again later.")),
}


def _render(code: int, message: str | None = None) -> tuple[str, int]:
    title, default = MESSAGES.get(code, MESSAGES[500])
    return render_template(
        "errors/error.html", code=code, title=title, message=message or default
    ), code


def _record_refusal(code: int) -> None:
    """A logged-in user refused a page that exists (403), or an object that is not theirs or
    not there (404 on a matched route): the audit log keeps it, for spotting probing.

    At most ``REFUSAL_AUDIT_LIMIT`` of them per user: every audit row also empties the
    page caches (its id is their data version), and a user must not be able to write rows
    as fast as they can ask for missing pages. The first ones show the probing well enough.
    """
    if not current_user.is_authenticated or request.url_rule is None:
        return
    if code not in (403, 404) or request.endpoint == "static":
        return
    counter = throttling.Counter("refusals", str(current_user.id), "REFUSAL_AUDIT_LIMIT")
    try:
        with throttling.attempt(counter) as attempt:
            attempt.fail()  # every refusal recorded counts
    except throttling.Throttled:
        return
    try:
        db.session.rollback()  # whatever the refused view had started is not kept
        idempotency.forget()  # this commit is the refusal's record, not the form's outcome
        record(
            current_user,
            "access_refused",
            changes={"status": code, "method": request.method, "path": request.path[:300]},
            ip=request.remote_addr,
        )
        db.session.commit()
    except SQLAlchemyError:  # the refusal page must show even if the log cannot be written
        db.session.rollback()
        current_app.logger.exception("could not record a refused request")


def handle_http_error(error: HTTPException) -> tuple[str, int] | Response:
    code = error.code or 500
    if code == 500 and idempotency.committed():
        return _saved_then_failed(error)
    _record_refusal(code)
    return _render(code if code in MESSAGES else 500)


def _saved_then_failed(error: HTTPException) -> Response:
    """Something failed after the request's changes were committed: an error page would
    hide a saved change (and invite doing it again). Say it is saved and show the page."""
    original = getattr(error, "original_exception", None) or error
    current_app.logger.error(
        "failed after its changes were committed: %s %s",
        request.method,
        request.path,
        exc_info=original,
    )
    try:
        db.session.rollback()
    except SQLAlchemyError:  # a session that failed in the middle of its commit
        db.session.remove()
    flash(
        _l("Your change is saved. Something went wrong after that; it has been logged."), "warning"
    )
    return redirect(idempotency.saved_location() or request.path, code=303)


def handle_stale_data(error: StaleDataError) -> tuple[str, int]:
    """Two saves of one record in the same instant: the database let the other one win."""
    db.session.rollback()
    return _render(409)


def handle_csrf_error(error: CSRFError) -> tuple[str, int]:
    return _render(
        400,
        str(
            _l(
                "The form has expired or was not sent from this site. "
                "Please go back, reload the page and try again."
            )
        ),
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(StaleDataError, handle_stale_data)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_http_error)
