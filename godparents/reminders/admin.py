"""Reminder rules and the outbox for coordinators (the unsubscribe page and the job's status
for everyone are in views.py).

Coordinators see what the reminder job will send and what it sent, and fix what failed. The
email bodies are shown in a sandboxed frame served with its own strict headers, so nothing in
an email (or a broken template) can run in the app's pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import (
    abort,
    flash,
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
from godparents.auth.models import Role
from godparents.extensions import db
from godparents.labels import label
from godparents.listing import paginate
from godparents.prisoners.models import KeyDateKind, Prisoner
from godparents.reminders import bp, failures, runner
from godparents.reminders import outbox as outbox_services
from godparents.reminders import preview as previews
from godparents.reminders.defaults import ALL_TEMPLATES as TEMPLATES
from godparents.reminders.defaults import PERSONAL_LEAD_TEMPLATES, shown_name
from godparents.reminders.forms import DAYS_BEFORE, RuleForm
from godparents.reminders.models import (
    OutboxMessage,
    OutboxStatus,
    ReminderRule,
    ReminderRun,
    RunStatus,
    Trigger,
    UndeliverableAddress,
)
from godparents.security import or_404, roles_required, safe_next
from godparents.timeutil import reader_today

PREVIEW_DAYS = 30
# An email body is shown in a frame of its own: no scripts, no requests, an opaque origin.
SANDBOX_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "sandbox; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
}


def _now() -> datetime:
    return datetime.now(UTC)


# Words for rules, also used by the outbox pages.


@bp.app_template_filter("rule_name")
def rule_name(rule: ReminderRule | None) -> str:
    """A rule still called by its default name is shown in the reader's language."""
    if rule is None:
        return _("(rule deleted)")
    return shown_name(rule.name)


@bp.app_template_filter("failure")
def failure(message: OutboxMessage) -> str:
    """Why a message did not go and what happens next, in plain words (failures.py)."""
    return failures.explain(message)


@bp.app_template_filter("failure_cause")
def failure_cause(raw: str | None) -> str:
    """What failed, for a run's error: the server could not be reached, the login..."""
    return failures.what_failed(raw)


@bp.app_template_filter("raw_error")
def raw_error(raw: str | None) -> str:
    return failures.raw_error(raw)


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


@bp.get("/coordinator/reminders/")
@roles_required(Role.COORDINATOR)
def rules() -> str:
    found = db.session.scalars(select(ReminderRule).order_by(ReminderRule.id))
    return render_template(
        "reminders/rules.html", rules=list(found), last=runner.last_run(), kinds=_kind_labels()
    )


@bp.route("/coordinator/reminders/new", methods=["GET", "POST"])
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


@bp.route("/coordinator/reminders/<int:rule_id>/edit", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def edit(rule_id: int) -> Response | str:
    rule = or_404(db.session.get(ReminderRule, rule_id))
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


@bp.post("/coordinator/reminders/<int:rule_id>/toggle")
@roles_required(Role.COORDINATOR)
def toggle(rule_id: int) -> Response:
    rule = or_404(db.session.get(ReminderRule, rule_id))
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


@bp.get("/coordinator/reminders/<int:rule_id>/preview")
@roles_required(Role.COORDINATOR)
def preview(rule_id: int) -> str:
    """What the rule would send over the coming days, and one of its emails written out."""
    rule = or_404(db.session.get(ReminderRule, rule_id))
    result = previews.preview(rule, reader_today(), PREVIEW_DAYS)
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


@bp.get("/coordinator/reminders/<int:rule_id>/preview.html")
@roles_required(Role.COORDINATOR)
def preview_html(rule_id: int) -> Response:
    """The sample email's HTML, for the preview page's sandboxed frame."""
    result = previews.preview(
        or_404(db.session.get(ReminderRule, rule_id)), reader_today(), PREVIEW_DAYS
    )
    if result.sample is None:
        abort(404)
    return _sandboxed(result.sample.html)


@bp.post("/coordinator/reminders/run")
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


@bp.get("/coordinator/reminders/runs/<int:run_id>")
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


@bp.get("/coordinator/reminders/outbox")
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
    return or_404(message)


@bp.get("/coordinator/reminders/outbox/<int:message_id>")
@roles_required(Role.COORDINATOR)
def message(message_id: int) -> str:
    return render_template("reminders/message.html", message=_message_or_404(message_id))


@bp.get("/coordinator/reminders/outbox/<int:message_id>.html")
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


@bp.post("/coordinator/reminders/outbox/<int:message_id>/retry")
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


@bp.post("/coordinator/reminders/outbox/<int:message_id>/cancel")
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


@bp.post("/coordinator/reminders/outbox/retry-failed")
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


@bp.post("/coordinator/reminders/undeliverable/<int:address_id>/clear")
@roles_required(Role.COORDINATOR)
def clear_undeliverable(address_id: int) -> Response:
    """The address works again (checked with the person): mail may go to it."""
    found = db.get_or_404(UndeliverableAddress, address_id)
    outbox_services.clear_address(found)
    db.session.commit()
    flash(_("Reminders go to %(email)s again.", email=found.email), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.index"))
