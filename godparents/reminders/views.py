"""Reminder rules and the outbox for coordinators; the unsubscribe page for everyone.

Coordinators see what the reminder job will send and what it sent, and fix what failed. The
email bodies are shown in a sandboxed frame served with its own strict headers, so nothing in
an email (or a broken template) can run in the app's pages.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from godparents import concurrency
from godparents.auth.models import Role, User
from godparents.extensions import csrf, db
from godparents.labels import label
from godparents.listing import paginate
from godparents.prisoners.models import KeyDateKind, Prisoner
from godparents.reminders import outbox as outbox_services
from godparents.reminders import preview as previews
from godparents.reminders import runner
from godparents.reminders.defaults import ALL_TEMPLATES as TEMPLATES
from godparents.reminders.defaults import DEFAULT_RULES, PERSONAL_LEAD_TEMPLATES
from godparents.reminders.forms import DAYS_BEFORE, RuleForm
from godparents.reminders.messages import read_unsubscribe_token
from godparents.reminders.models import (
    OutboxMessage,
    OutboxStatus,
    ReminderRule,
    ReminderRun,
    RunStatus,
    Trigger,
    UndeliverableAddress,
)
from godparents.security import public, roles_required, safe_next
from godparents.timeutil import local_today

bp = Blueprint("reminders", __name__, url_prefix="/coordinator/reminders")
public_bp = Blueprint("reminders_public", __name__, url_prefix="/reminders")

PREVIEW_DAYS = 30
# An email body is shown in a frame of its own: no scripts, no requests, an opaque origin.
SANDBOX_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "sandbox; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
}
_DEFAULT_NAMES = frozenset(fields["name"] for fields in DEFAULT_RULES)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(public_bp)


def _now() -> datetime:
    return datetime.now(UTC)


def _reader_today() -> date:
    return local_today(current_user.timezone, current_app.config["TIMEZONE"])


# Words for rules, also used by the outbox pages.


@bp.app_template_filter("rule_name")
def rule_name(rule: ReminderRule | None) -> str:
    """A rule still called by its default name is shown in the reader's language."""
    if rule is None:
        return _("(rule deleted)")
    return _(rule.name) if rule.name in _DEFAULT_NAMES else rule.name


@bp.app_template_filter("rule_when")
def rule_when(rule: ReminderRule) -> str:
    """When the rule writes, as a coordinator would say it."""
    days = rule.offset_days
    if rule.trigger in DAYS_BEFORE:
        if rule.template in PERSONAL_LEAD_TEMPLATES:
            return _("as many days before as each recipient chose")
        if days == 0:
            return _("on the day")
        if days < 0:
            return ngettext("%(num)d day after", "%(num)d days after", -days)
        return ngettext("%(num)d day before", "%(num)d days before", days)
    if rule.trigger is Trigger.SPONSORSHIP_START:
        if days >= 0:
            return _("on the day it starts")
        return ngettext("%(num)d day after the start", "%(num)d days after the start", -days)
    if rule.trigger is Trigger.INACTIVITY:
        return ngettext(
            "after %(num)d day without an action, then every day",
            "after %(num)d days without an action, then every %(num)d days",
            max(-days, 1),
        )
    return _("Mondays")


@bp.app_template_filter("rule_recipients")
def rule_recipients(rule: ReminderRule) -> str:
    found = [
        text
        for wanted, text in [
            (rule.to_sponsor, _("godparent")),
            (rule.to_delegates, _("office staff")),
            (rule.to_coordinators, _("coordinators")),
        ]
        if wanted
    ]
    return ", ".join(found) or _("nobody")


@bp.app_template_filter("template_label")
def template_label(name: str) -> str:
    return str(TEMPLATES.get(name, name))


@dataclass(frozen=True)
class OutboxSummary:
    waiting: int
    failed: int
    last_run_at: datetime | None


def outbox_summary() -> OutboxSummary:
    """For the dashboard's card: waiting and failed messages and the last run, one query."""
    last_run = (
        select(ReminderRun.finished_at)
        .where(ReminderRun.finished_at.is_not(None))
        .order_by(ReminderRun.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    row = db.session.execute(
        select(
            func.count().filter(OutboxMessage.status == OutboxStatus.PENDING),
            func.count().filter(OutboxMessage.status == OutboxStatus.FAILED),
            last_run,
        )
        .select_from(OutboxMessage)
        .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]))
    ).one()
    return OutboxSummary(row[0] or 0, row[1] or 0, row[2])


def _kind_labels() -> dict[str, str]:
    return {kind.value: label(kind) for kind in KeyDateKind}


def _sandboxed(html: str) -> Response:
    response = Response(html, mimetype="text/html")
    response.headers.update(SANDBOX_HEADERS)
    return response


# Rules.


def _rule_or_404(rule_id: int) -> ReminderRule:
    rule = db.session.get(ReminderRule, rule_id)
    if rule is None:
        abort(404)
    return rule


@bp.get("/")
@roles_required(Role.COORDINATOR)
def rules() -> str:
    found = db.session.scalars(select(ReminderRule).order_by(ReminderRule.id))
    return render_template(
        "reminders/rules.html", rules=list(found), last=runner.last_run(), kinds=_kind_labels()
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def create() -> Response | str:
    form = RuleForm(data={"to_sponsor": True, "is_active": True})
    if form.validate_on_submit():
        rule = ReminderRule()
        form.apply_to(rule)
        db.session.add(rule)
        db.session.commit()
        flash(_("The rule “%(name)s” is saved.", name=rule.name), "success")
        return redirect(url_for("reminders.rules"))
    return render_template("reminders/form.html", form=form, rule=None)


@bp.route("/<int:rule_id>/edit", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def edit(rule_id: int) -> Response | str:
    rule = _rule_or_404(rule_id)
    form = RuleForm.for_rule(rule)
    conflict = None
    if form.validate_on_submit() and not (
        conflict := concurrency.conflict(rule, form, lambda: RuleForm.for_rule(rule, formdata=None))
    ):
        form.apply_to(rule)
        db.session.commit()
        flash(_("Your changes are saved."), "success")
        return redirect(url_for("reminders.rules"))
    return render_template("reminders/form.html", form=form, rule=rule, conflict=conflict)


@bp.post("/<int:rule_id>/toggle")
@roles_required(Role.COORDINATOR)
def toggle(rule_id: int) -> Response:
    rule = _rule_or_404(rule_id)
    rule.is_active = not rule.is_active
    db.session.commit()
    if rule.is_active:
        flash(_("“%(name)s” is switched on.", name=rule_name(rule)), "success")
    else:
        flash(
            _("“%(name)s” is switched off: it plans no new reminders.", name=rule_name(rule)),
            "info",
        )
    return redirect(url_for("reminders.rules"))


@bp.get("/<int:rule_id>/preview")
@roles_required(Role.COORDINATOR)
def preview(rule_id: int) -> str:
    """What the rule would send over the coming days, and one of its emails written out."""
    rule = _rule_or_404(rule_id)
    result = previews.preview(rule, _reader_today(), PREVIEW_DAYS)
    ids = sorted({item.event.prisoner_id for item in result.due if item.event.prisoner_id})
    names = (
        {
            row.id: row.name_latin
            for row in db.session.execute(
                select(Prisoner.id, Prisoner.name_latin).where(Prisoner.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    return render_template(
        "reminders/preview.html",
        rule=rule,
        result=result,
        names=names,
        kinds=_kind_labels(),
        days=PREVIEW_DAYS,
    )


@bp.get("/<int:rule_id>/preview.html")
@roles_required(Role.COORDINATOR)
def preview_html(rule_id: int) -> Response:
    """The sample email's HTML, for the preview page's sandboxed frame."""
    result = previews.preview(_rule_or_404(rule_id), _reader_today(), PREVIEW_DAYS)
    if result.sample is None:
        abort(404)
    return _sandboxed(result.sample.html)


@bp.post("/run")
@roles_required(Role.COORDINATOR)
def run() -> Response:
    """Ask for a run: the worker takes it up within seconds, else the next scheduled run.
    The web server never waits for the mail server."""
    found = runner.request_run(current_user, _now())
    if found.requested_by_id == current_user.id and found.status is RunStatus.REQUESTED:
        flash(
            _(
                "A run is asked for: it starts within seconds when the worker runs, else "
                "with the next scheduled run."
            ),
            "success",
        )
    else:
        flash(_("A run is already under way: here is how far it got."), "info")
    return redirect(url_for("reminders.run_detail", run_id=found.id))


@bp.get("/runs/<int:run_id>")
@roles_required(Role.COORDINATOR)
def run_detail(run_id: int) -> str:
    """How a run is getting on; the page reloads itself while it waits or runs."""
    found = db.get_or_404(ReminderRun, run_id)
    return render_template(
        "reminders/run.html",
        run=found,
        health=outbox_services.health(_now()),
        active=found.status in runner.ACTIVE,
    )


# The outbox.


def _status_filter() -> OutboxStatus | None:
    try:
        return OutboxStatus(request.args.get("status", ""))
    except ValueError:
        return None  # all; an unknown status is ignored


@bp.get("/outbox")
@roles_required(Role.COORDINATOR)
def outbox() -> str:
    """Every message, newest first; by status and by a part of the recipient's address."""
    status = _status_filter()
    q = request.args.get("q", "").strip()[:254]
    where = (
        [func.lower(OutboxMessage.recipient_email).contains(q.lower(), autoescape=True)]
        if q
        else []
    )
    query = select(OutboxMessage).options(joinedload(OutboxMessage.rule)).where(*where)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    page = paginate(query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()))
    return render_template(
        "reminders/outbox.html",
        page=page,
        status=status,
        q=q,
        counts=outbox_services.status_counts(*where),
        statuses=list(OutboxStatus),
    )


def _message_or_404(message_id: int) -> OutboxMessage:
    message = db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .options(joinedload(OutboxMessage.rule))
    )
    if message is None:
        abort(404)
    return message


@bp.get("/outbox/<int:message_id>")
@roles_required(Role.COORDINATOR)
def message(message_id: int) -> str:
    return render_template("reminders/message.html", message=_message_or_404(message_id))


@bp.get("/outbox/<int:message_id>.html")
@roles_required(Role.COORDINATOR)
def message_html(message_id: int) -> Response:
    """The message's HTML body, for the message page's sandboxed frame."""
    found = _message_or_404(message_id)
    if not found.body_html:
        abort(404)
    return _sandboxed(found.body_html)


def _back(message: OutboxMessage) -> Response:
    """Back to the list the button was on, else to the message."""
    target = safe_next(request.form.get("next"))
    return redirect(target or url_for("reminders.message", message_id=message.id))


@bp.post("/outbox/<int:message_id>/retry")
@roles_required(Role.COORDINATOR)
def retry(message_id: int) -> Response:
    found = _message_or_404(message_id)
    try:
        outbox_services.retry(found, _now())
    except ValueError:
        db.session.rollback()
        if found.status is OutboxStatus.SENT:
            flash(_("This message was sent already: it is not sent again."), "danger")
        else:
            flash(
                _(
                    "This message is still waiting to go: only a failed or cancelled message "
                    "is sent again."
                ),
                "warning",
            )
        return _back(found)
    db.session.commit()
    if found.status is OutboxStatus.PENDING:
        flash(
            _("The message to %(email)s goes out with the next run.", email=found.recipient_email),
            "success",
        )
    else:
        flash(
            _("The message could not be written again: %(error)s", error=found.last_error or ""),
            "danger",
        )
    return _back(found)


@bp.post("/outbox/<int:message_id>/cancel")
@roles_required(Role.COORDINATOR)
def cancel(message_id: int) -> Response:
    found = _message_or_404(message_id)
    try:
        outbox_services.cancel(found)
    except ValueError:
        db.session.rollback()
        flash(_("This message was sent already: it cannot be cancelled."), "danger")
        return _back(found)
    db.session.commit()
    flash(_("The message to %(email)s is cancelled.", email=found.recipient_email), "info")
    return _back(found)


@bp.post("/outbox/retry-failed")
@roles_required(Role.COORDINATOR)
def retry_failed() -> Response:
    """Every failed message goes again with the next run, written anew."""
    count = outbox_services.retry_failed(_now())
    db.session.commit()
    if count:
        flash(
            ngettext(
                "%(num)d failed message goes again with the next run.",
                "%(num)d failed messages go again with the next run.",
                count,
            ),
            "success",
        )
    else:
        flash(_("No failed message to send again."), "info")
    return redirect(
        safe_next(request.form.get("next")) or url_for("reminders.outbox", status="pending")
    )


@bp.post("/undeliverable/<int:address_id>/clear")
@roles_required(Role.COORDINATOR)
def clear_undeliverable(address_id: int) -> Response:
    """The address works again (checked with the person): mail may go to it."""
    found = db.get_or_404(UndeliverableAddress, address_id)
    outbox_services.clear_address(found)
    db.session.commit()
    flash(_("Reminders go to %(email)s again.", email=found.email), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.index"))


# For everyone, from the emails.


@public_bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
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


@public_bp.get("/status")
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
