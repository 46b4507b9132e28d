"""The reminders' pages for everyone: the unsubscribe page the emails link to (no login) and
the job's status for monitoring."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from flask import current_app, jsonify, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from godparents.auth.models import User
from godparents.extensions import csrf, db
from godparents.labels import label
from godparents.reminders import bp
from godparents.reminders import outbox as outbox_services
from godparents.reminders.messages import read_unsubscribe_token
from godparents.security import public


def _now() -> datetime:
    return datetime.now(UTC)


@bp.route("/reminders/unsubscribe/<token>", methods=["GET", "POST"])
@public
@csrf.exempt  # RFC 8058: mail programs POST here without a form; the signed token decides
def unsubscribe(token: str) -> Response | str | tuple[str, int]:
    """Stop one kind of reminder without logging in: the page asks, only a POST does it."""
    found = read_unsubscribe_token(token)
    user = db.session.get(User, found[0]) if found else None
    if found is None or user is None:
        return render_template("reminders/unsubscribe.html", invalid=True), 404
    trigger = found[1]
    done = False
    if request.method == "POST":
        outbox_services.unsubscribe(user, trigger)
        db.session.commit()
        done = True
    return render_template(
        "reminders/unsubscribe.html",
        invalid=False,
        done=done,
        kind=label(trigger),
        email=_masked(user.email),
        already=not done and trigger.value in (user.reminder_opt_outs or []),
    )


def _masked(email: str) -> str:
    """Enough of the address to recognise it, not enough to harvest it from a link."""
    name, _at, domain = email.partition("@")
    return f"{name[:2]}…@{domain}"


@bp.get("/reminders/status")
@public
def status() -> tuple[Response, int]:
    """The job's health for monitoring: JSON, 200 when all is well, 503 when not. Open to
    a logged-in coordinator or with the token (``Authorization: Bearer ...``); it carries
    numbers and times only, never a name or an address."""
    if (
        not (current_user.is_authenticated and current_user.is_coordinator)
        and not _status_token_ok()
    ):
        return jsonify({"error": "a coordinator's login or the status token is needed"}), 401
    now = _now()
    found = outbox_services.health(now)
    return jsonify(outbox_services.health_document(found, now)), 200 if found.ok else 503


def _status_token_ok() -> bool:
    expected = current_app.config.get("REMINDER_STATUS_TOKEN")
    given = request.headers.get("Authorization", "")
    if not expected or not given.startswith("Bearer "):
        return False
    digest = hashlib.sha256
    return hmac.compare_digest(
        digest(given.removeprefix("Bearer ").encode()).digest(),
        digest(str(expected).encode()).digest(),
    )
