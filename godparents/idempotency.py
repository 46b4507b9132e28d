"""The same POST twice is applied once: forms carry a token, the commit remembers it.

A coordinator whose save timed out (a dropped connection, a proxy's 502) cannot tell
whether it was saved, and sends it again. Forms that create or change records therefore
carry ``{{ form_token() }}``, a random token. When a request with a token commits, a
``FormSubmission`` row with that token is written in the same transaction; the place the
request then redirects to is added after. A later POST with the same token, by the same
user, is not applied again: it is answered with a redirect to that place (or, if the first
request never got that far, to the page itself) and the message "already saved".

And if something fails *after* a commit (sending an email, rendering the next page), the
error page would hide a change that was made: the 500 handler asks ``committed()`` and sends
the user to the saved result instead (``errors.py``).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import Flask, flash, g, has_request_context, redirect, request
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import ForeignKey, String, delete, event, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.wrappers import Response

from godparents.extensions import Model, db
from godparents.security import safe_next
from godparents.types import UTCDateTime, utcnow

FIELD = "form_token"
KEEP = timedelta(days=2)  # a repeat comes within minutes; two days is generous


class FormSubmission(Model):
    """A committed form: its token, whose it was, and where its answer sent the user."""

    __tablename__ = "form_submissions"

    # Per user: another user's token (copied, or guessed) is simply a new one for them.
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def form_token() -> Markup:
    """The hidden field a form includes (a template global)."""
    return Markup('<input type="hidden" name="%s" value="%s">') % (FIELD, secrets.token_urlsafe(24))


def _token() -> str | None:
    """The request's token, if it is a logged-in user's POST that carries a sane one."""
    if request.method != "POST" or not current_user.is_authenticated:
        return None
    token = request.form.get(FIELD, "")
    return token if 16 <= len(token) <= 64 else None


def _replay() -> Response | None:
    """Before the view: a token already committed is answered, not applied again."""
    token = _token()
    if token is None:
        return None
    row = db.session.execute(
        select(FormSubmission.location).where(
            FormSubmission.token == token, FormSubmission.user_id == current_user.id
        )
    ).first()
    if row is None:
        g.form_token = token
        return None
    flash(_("This was already saved: here is the result."), "info")
    return redirect(safe_next(row.location) or request.path, code=303)


@event.listens_for(Session, "before_commit")
def _remember(session: Session) -> None:
    """In the committing transaction: the token of the form whose changes these are."""
    if not has_request_context() or g.get("form_token") is None:
        return
    token, g.form_token = g.form_token, None  # one row per request, at its first commit
    session.execute(delete(FormSubmission).where(FormSubmission.created_at < utcnow() - KEEP))
    session.add(
        FormSubmission(
            token=token,
            user_id=current_user.id,  # flushed by the commit
            location=saved_location(),
        )
    )
    g.form_token_saved = token


def forget() -> None:
    """This request's commits are not the form's outcome (an error page's own record)."""
    if has_request_context():
        g.form_token = None


# Rows that are bookkeeping, not a change a person made: a session's last request, the
# audit trail, this module's own rows.
BOOKKEEPING = frozenset({"UserSession", "AuditEvent", "FormSubmission"})


@event.listens_for(Session, "after_flush")
def _changes_flushed(session: Session, flush_context: object) -> None:
    if has_request_context() and any(
        type(obj).__name__ not in BOOKKEEPING
        for obj in (*session.new, *session.dirty, *session.deleted)
    ):
        g.changes_pending = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if has_request_context() and g.pop("changes_pending", False):
        g.committed = True


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: object) -> None:
    if has_request_context():
        g.pop("changes_pending", None)


def committed() -> bool:
    """Whether this request has committed a change someone made (then its error must not
    hide it): a form's commit, or any commit of changed records. Bookkeeping commits (a
    session's last-seen time, an audit entry of a refusal) do not count."""
    return bool(g.get("committed") or g.get("form_token_saved"))


def saved_location() -> str | None:
    """Where the view said its saved result is (``show_after_save``), if it said."""
    return safe_next(g.get("saved_location"))


def show_after_save(location: str) -> None:
    """Tell a failure after the commit, and a repeat of this form, where the saved result
    is shown (a view that creates something calls it before committing)."""
    g.saved_location = location


def _record_location(response: Response) -> Response:
    """After the view: where the saved form's answer sends the user, for a repeat."""
    token = g.get("form_token_saved")
    if token is None or response.status_code not in (301, 302, 303, 307, 308):
        return response
    if saved_location() is not None:  # stored with the commit already
        return response
    location = safe_next(response.headers.get("Location"))
    if location is None:
        return response
    try:
        db.session.execute(
            update(FormSubmission)
            .where(FormSubmission.user_id == current_user.id, FormSubmission.token == token)
            .values(location=location[:500])
        )
        db.session.commit()
    except SQLAlchemyError:  # the change itself is saved; a repeat then lands on the form
        db.session.rollback()
    return response


def init_app(app: Flask) -> None:
    app.add_template_global(form_token)
    app.before_request(_replay)
    app.after_request(_record_location)
