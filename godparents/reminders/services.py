"""The reminder job and the outbox: plain functions with an explicit ``today`` and ``now``.

``run`` plans the day into the outbox (one transaction) and then delivers; the command
line, the worker loop and the dashboard button all call it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload, selectinload

from godparents.auth.models import User
from godparents.dashboard import services as work_lists
from godparents.database import begin_write
from godparents.extensions import db
from godparents.prisoners.models import KeyDate, Prisoner
from godparents.reminders import delivery, events
from godparents.reminders.delivery import DeliveryReport
from godparents.reminders.messages import (
    Digest,
    Rendered,
    TemplateProblem,
    compose,
    context,
    outbox_row,
    render,
    url_context,
)
from godparents.reminders.models import (
    CampaignDay,
    OutboxMessage,
    OutboxStatus,
    ReminderRule,
    ReminderRun,
    Trigger,
)
from godparents.reminders.planner import Due, Recipient, plan
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship
from godparents.timeutil import campaign_today

DIGEST_LIST = 20  # rows of each list in the digest; the counts are complete
QUIET_DAYS = 60  # the digest's godparents "with nothing logged in 60 days"


@dataclass
class Planned:
    """What a planning run found: every reminder due, and which of them are new."""

    today: date
    start: date
    due: list[Due] = field(default_factory=list)
    new: list[Due] = field(default_factory=list)


@dataclass
class RunReport:
    planned: Planned
    written: Written | None = None
    delivered: DeliveryReport | None = None


def last_planned_day() -> date | None:
    return events.columns(_last_planned_statement()).scalar()


@cache
def _last_planned_statement() -> Any:
    return select(func.max(ReminderRun.planned_for))


def window_start(today: date, grace: int, last: date | None) -> date:
    """Catch up from the day of the last run (again: it may have run before a change made
    later that day), but never more than ``grace`` days back."""
    earliest = today - timedelta(days=grace)
    if last is None or last > today:
        return today
    return max(last, earliest)


def _existing_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in range(0, len(keys), 500):
        found.update(db.session.scalars(select(OutboxMessage.idempotency_key).where(
            OutboxMessage.idempotency_key.in_(keys[chunk:chunk + 500]))))
    return found


def digest(today: date, monday: date) -> Digest:
    """The coordinators' week: dates of the week, messages that failed, quiet godparents."""
    sunday = monday + timedelta(days=6)
    result = Digest(monday, sunday)
    week_range = [(monday, sunday)]
    week = [*events.birthdays(week_range), *events.detention_anniversaries(week_range),
            *events.detention_milestones(week_range), *events.key_dates(week_range, []),
            *events.campaign_days(week_range)]
    seen: dict[tuple[str, date], events.Event] = {}
    for event in week:
        seen.setdefault((event.subject_ref, event.on), event)
    prisoners = _prisoners({event.prisoner_id for event in seen.values() if event.prisoner_id})
    result.dates = [{"event": event, "prisoner": prisoners.get(event.prisoner_id)}
                    for event in sorted(seen.values(), key=lambda e: (e.on, e.subject_ref))]
    # The same work lists as the dashboard's, with the digest's own 60 days of quiet.
    result.failed_count = work_lists.failed_message_count()
    result.failed = work_lists.failed_messages(DIGEST_LIST)
    result.inactive_count = work_lists.inactive_sponsor_count(today, QUIET_DAYS)
    result.inactive = [(row, row.last_on)
                       for row in work_lists.inactive_sponsors(today, DIGEST_LIST, QUIET_DAYS)]
    return result


def _prisoners(ids: set[int]) -> dict[int, Prisoner]:
    if not ids:
        return {}
    rows = db.session.scalars(select(Prisoner).where(Prisoner.id.in_(sorted(ids)))
                              .options(selectinload(Prisoner.addresses)))
    return {prisoner.id: prisoner for prisoner in rows}


def render_due(items: list[Due], today: date,
               digests: dict[date, Digest] | None = None) -> dict[str, Rendered | str]:
    """Each reminder written out, or the reason it could not be (by key). A failure is
    that message's alone: the others are written all the same."""
    prisoners = _prisoners({item.event.prisoner_id for item in items if item.event.prisoner_id})
    sponsors = _sponsors({item.event.sponsor_id for item in items if item.event.sponsor_id})
    campaign_ids = {item.event.campaign_day_id for item in items if item.event.campaign_day_id}
    campaign = {day.id: day for day in db.session.scalars(
        select(CampaignDay).where(CampaignDay.id.in_(sorted(campaign_ids))))} if campaign_ids \
        else {}
    users = {user.id: user for user in db.session.scalars(
        select(User).where(User.id.in_(sorted({item.recipient.user_id for item in items})))
        .options(selectinload(User.sponsor)))} if items else {}
    digests = {} if digests is None else digests
    written: dict[str, Rendered | str] = {}
    with url_context():
        for item in items:
            try:
                weekly = None
                if item.rule.trigger is Trigger.COORDINATOR_DIGEST:
                    if item.event.on not in digests:
                        digests[item.event.on] = digest(today, item.event.on)
                    weekly = digests[item.event.on]
                user = users[item.recipient.user_id]
                values = context(item, user, today, prisoners.get(item.event.prisoner_id or 0),
                                 campaign.get(item.event.campaign_day_id or 0), weekly,
                                 sponsors.get(item.event.sponsor_id or 0))
                written[item.key] = render(item.rule.template, user.locale, values)
            except TemplateProblem as problem:
                written[item.key] = str(problem)
            except SQLAlchemyError:
                raise  # the database's trouble is the run's, not one message's
            except Exception as error:
                written[item.key] = f"{type(error).__name__}: {error}"
            if isinstance(written[item.key], str):
                current_app.logger.warning("reminder %s (template %s) could not be written: %s",
                                           item.key, item.rule.template, written[item.key])
    return written


def _sponsors(ids: set[int]) -> dict[int, Sponsor]:
    if not ids:
        return {}
    return {sponsor.id: sponsor for sponsor in db.session.scalars(
        select(Sponsor).where(Sponsor.id.in_(sorted(ids))))}


def active_rules() -> list[ReminderRule]:
    return list(db.session.scalars(_active_rules_statement()))


@cache
def _active_rules_statement() -> Any:
    return select(ReminderRule).where(ReminderRule.is_active.is_(True)).order_by(ReminderRule.id)


def plan_day(today: date, now: datetime, *, dry_run: bool = False) -> Planned:
    """Plan ``today`` (and the missed days before it) into the outbox, in one transaction.

    A key already in the outbox is skipped, also when another run inserts it at the same
    moment (the database's unique index decides). The messages are written out afterwards
    (``write_pending``). ``dry_run`` writes nothing.
    """
    last = last_planned_day()
    start = window_start(today, current_app.config["REMINDER_GRACE_DAYS"], last)
    result = Planned(today, start, plan(active_rules(), start, today, planned_before=last))
    if dry_run:
        existing = _existing_keys([item.key for item in result.due])
        result.new = [item for item in result.due if item.key not in existing]
        db.session.rollback()
        return result
    begin_write()
    inserted = _insert_planned(result.due, now)
    result.new = [item for item in result.due if item.key in inserted]  # the rest: known
    db.session.add(ReminderRun(planned_for=today, window_start=start, planned=len(result.new),
                               finished_at=now))
    db.session.commit()
    return result


@dataclass
class Written:
    count: int = 0
    problems: dict[int, str] = field(default_factory=dict)  # message id -> why not


def _unwritten() -> object:
    return (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.email_subject == "")


def _preload(rows: list[OutboxMessage]) -> list[object]:
    """Load what writing these messages reads, a query per table: then ``events.rebuild``
    and the recipients come from the session's identity map instead of a query each. The
    caller keeps the returned objects alive (the identity map only holds them weakly)."""
    users = {row.recipient_user_id for row in rows if row.recipient_user_id}
    loaded: list[object] = list(db.session.scalars(
        select(User).where(User.id.in_(sorted(users))).options(selectinload(User.sponsor))))
    refs: dict[str, set[int]] = {}
    for row in rows:
        kind, _colon, ident = row.subject_ref.partition(":")
        if ident.isdigit():
            refs.setdefault(kind, set()).add(int(ident))
    if refs.get("key_date"):
        loaded.extend(db.session.scalars(
            select(KeyDate).where(KeyDate.id.in_(sorted(refs["key_date"])))))
    if refs.get("sponsorship"):
        loaded.extend(db.session.scalars(select(Sponsorship).where(
            Sponsorship.id.in_(sorted(refs["sponsorship"])))))
    prisoner_ids = refs.get("prisoner", set()) | refs.get("release", set())
    if prisoner_ids:
        loaded.extend(db.session.scalars(
            select(Prisoner).where(Prisoner.id.in_(sorted(prisoner_ids)))))
    if refs.get("campaign_day"):
        loaded.extend(db.session.scalars(
            select(CampaignDay).where(CampaignDay.id.in_(sorted(refs["campaign_day"])))))
    return loaded


def _composed(row: OutboxMessage, rendered: Rendered) -> bytes | str:
    """The email composed for the wire, or why it cannot be sent."""
    try:
        with url_context():
            return compose(rendered.subject, rendered.text, rendered.html, row.recipient_email,
                           row.recipient_user_id, row.rule.trigger if row.rule else None)
    except TemplateProblem as problem:
        return str(problem)


def _keep(row: OutboxMessage, rendered: Rendered, data: bytes) -> None:
    row.email_subject = rendered.subject
    row.body_text, row.body_html, row.mime = rendered.text, rendered.html, data


def write_pending(today: date, now: datetime, batch_size: int | None = None) -> Written:
    """Write out (render) the planned messages, a batch and a commit at a time.

    A message whose template or data fails is marked failed with the reason; the rest go on.
    Two runs writing the same message at once write the same words: harmless.
    """
    report = Written()
    size = batch_size or current_app.config["REMINDER_BATCH_SIZE"]
    digests: dict[date, Digest] = {}
    done: set[int] = set()
    with url_context():
        while _write_batch(today, size, digests, done, report):
            pass
    return report


def _write_batch(today: date, size: int, digests: dict[date, Digest], done: set[int],
                 report: Written) -> bool:
    """Write the next batch; False when nothing was left to write.

    Two runs may write the same messages at once: PostgreSQL hands each row to one of them
    (SKIP LOCKED); on SQLite the one that takes the write lock second finds them written
    and leaves them be.
    """
    query = (select(OutboxMessage).where(_unwritten(), OutboxMessage.id.not_in(done))
             .options(joinedload(OutboxMessage.rule), selectinload(OutboxMessage.content))
             .order_by(OutboxMessage.id).limit(size))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    rows = db.session.scalars(query).all()
    if not rows:
        db.session.rollback()
        return False
    kept = _preload(rows)
    dues = {row.id: _due_again(row) for row in rows}
    written = render_due([due for due in dues.values() if due is not None], today, digests)
    outcomes: dict[int, tuple[Rendered, bytes] | str] = {}
    for row in rows:
        done.add(row.id)
        due = dues[row.id]
        outcome = written.get(due.key, "") if due is not None else \
            "the rule, the recipient or what it is about no longer exists"
        if isinstance(outcome, Rendered):
            data = _composed(row, outcome)
            outcomes[row.id] = (outcome, data) if isinstance(data, bytes) else data
        else:
            outcomes[row.id] = outcome
    begin_write()
    still = set(db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.id.in_(list(outcomes)), _unwritten())))
    for row in rows:
        if row.id not in still:
            continue  # another run wrote it meanwhile
        outcome = outcomes[row.id]
        if isinstance(outcome, tuple):
            _keep(row, *outcome)
            report.count += 1
        else:
            row.status, row.last_error = OutboxStatus.FAILED, outcome
            report.problems[row.id] = outcome
    db.session.commit()
    del kept
    return True


_SQLITE_INSERT = (
    "INSERT INTO outbox_messages (idempotency_key, rule_id, recipient_user_id, "
    "recipient_email, subject_ref, occurs_on, locale, status, attempts, email_subject, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, '', ?) "
    "ON CONFLICT (idempotency_key) DO NOTHING"
)


def _insert_planned(items: list[Due], now: datetime) -> set[str]:
    """Insert the planned messages; the keys that were new.

    PostgreSQL: ON CONFLICT DO NOTHING, and RETURNING says which went in. SQLite: the
    write lock is already held (BEGIN IMMEDIATE), and the rows go through the driver's own
    executemany (on a busy day the ORM's per-row work cost more than the database's), also
    with ON CONFLICT DO NOTHING; no other writer can come between, so the rows after the
    newest message there was are the ones that went in (SQLite numbers a new row after the
    largest id in the table).
    """
    if db.engine.dialect.name != "sqlite":
        rows = [outbox_row(item, now) for item in items]
        inserted: set[str] = set()
        for chunk in range(0, len(rows), 1000):
            inserted.update(db.session.scalars(
                _insert_new().returning(OutboxMessage.__table__.c.idempotency_key),
                rows[chunk:chunk + 1000]))
        return inserted
    if not items:
        return set()
    newest = events.columns(_newest_message_statement()).scalar() or 0
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # how UTCDateTime stores it
    db.session.connection().exec_driver_sql(_SQLITE_INSERT, [
        (item.key, item.rule.id, item.recipient.user_id, item.recipient.email,
         item.event.subject_ref, item.event.on.isoformat() if item.event.on else None,
         item.recipient.locale, stamp)
        for item in items])
    return set(events.columns(_keys_after_statement(), {"newest": newest}).scalars())


@cache
def _newest_message_statement() -> Any:
    return select(func.max(OutboxMessage.id))


@cache
def _keys_after_statement() -> Any:
    return select(OutboxMessage.idempotency_key).where(OutboxMessage.id > bindparam("newest"))


def _insert_new() -> object:
    """INSERT that skips a key already there (ON CONFLICT DO NOTHING, both databases)."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    table = OutboxMessage.__table__  # Core, not the ORM: thousands of rows a day
    return dialect_insert(table).on_conflict_do_nothing(index_elements=[table.c.idempotency_key])


def run(today: date, now: datetime, *, dry_run: bool = False,
        limit: int | None = None) -> RunReport:
    """Plan, write the new messages, then deliver what is due. A dry run only plans, and
    keeps nothing."""
    report = RunReport(plan_day(today, now, dry_run=dry_run))
    if not dry_run:
        report.written = write_pending(today, now)
        report.delivered = delivery.deliver(now, limit=limit)
        delivery.forget_composed()
        optimize_database()
    return report


def optimize_database() -> None:
    """SQLite plans its queries well only with statistics; let it refresh them when useful
    (cheap when nothing changed). PostgreSQL's autovacuum does this by itself."""
    if db.engine.dialect.name == "sqlite":
        begin_write()  # it may write statistics
        db.session.execute(text("PRAGMA optimize"))
        db.session.commit()


def last_run() -> ReminderRun | None:
    return db.session.scalar(select(ReminderRun).order_by(ReminderRun.id.desc()).limit(1))


# The outbox, for coordinators.

def retry(message: OutboxMessage, now: datetime) -> None:
    """Send a failed or cancelled message again, written anew from today's data (the
    address may have changed, the template may be fixed), with a fresh set of attempts.

    A message still waiting is left alone: a worker may be sending it this very moment.
    """
    if message.status not in (OutboxStatus.FAILED, OutboxStatus.CANCELLED):
        raise ValueError(f"a {message.status} message is not retried")
    message.status, message.attempts, message.next_attempt_at = OutboxStatus.PENDING, 0, now
    message.email_subject, message.body_text, message.body_html, message.mime = "", "", None, None
    write_pending_message(message, campaign_today(current_app.config["TIMEZONE"], now))


def write_pending_message(message: OutboxMessage, today: date) -> None:
    """Write one message now (for a retry); it fails, with the reason, if it cannot be."""
    due = _due_again(message)
    outcome = render_due([due], today)[due.key] if due is not None else \
        "the rule, the recipient or what it is about no longer exists"
    if isinstance(outcome, Rendered):
        data = _composed(message, outcome)
        if isinstance(data, bytes):
            _keep(message, outcome, data)
            message.last_error = None
            return
        outcome = data
    message.status, message.last_error = OutboxStatus.FAILED, outcome


def _due_again(message: OutboxMessage) -> Due | None:
    user = db.session.get(User, message.recipient_user_id) if message.recipient_user_id else None
    if message.rule is None or user is None or message.occurs_on is None:
        return None
    event = events.rebuild(message.subject_ref, message.occurs_on, message.rule.trigger.value)
    if event is None:
        return None
    recipient = Recipient.of(user, message.recipient_email, user.sponsor)
    return Due(message.rule, recipient, event, message.occurs_on)


def cancel(message: OutboxMessage) -> None:
    """Do not send it. (If a worker is sending it this very moment, it goes, and shows as
    sent: the outbox says what happened.)"""
    if message.status is OutboxStatus.SENT:
        raise ValueError("a sent message cannot be cancelled")
    message.status, message.next_attempt_at = OutboxStatus.CANCELLED, None


def unsubscribe(user: User, trigger: Trigger) -> int:
    """Stop this kind of reminder for ``user``; waiting messages of that kind are cancelled."""
    if trigger.value not in (user.reminder_opt_outs or []):
        user.reminder_opt_outs = sorted({*(user.reminder_opt_outs or []), trigger.value})
    waiting = db.session.scalars(
        select(OutboxMessage).join(ReminderRule, ReminderRule.id == OutboxMessage.rule_id)
        .where(OutboxMessage.recipient_user_id == user.id, ReminderRule.trigger == trigger,
               OutboxMessage.status == OutboxStatus.PENDING)).all()
    for message in waiting:
        cancel(message)
    return len(waiting)


# Rules, for coordinators.

@dataclass
class Preview:
    """What a rule would send over the coming days, and one of the messages written out."""

    rule: ReminderRule
    start: date
    end: date
    due: list[Due] = field(default_factory=list)
    sample: Rendered | None = None
    sample_due: Due | None = None
    problem: str | None = None


def preview(rule: ReminderRule, today: date, days: int = 30) -> Preview:
    """Plan ``rule`` day by day from today, as the daily runs would, writing nothing."""
    result = Preview(rule, today, today + timedelta(days=days - 1))
    for offset in range(days):
        day = today + timedelta(days=offset)
        result.due.extend(plan([rule], day, day))
    if result.due:
        result.sample_due = result.due[0]
        outcome = render_due([result.sample_due], result.sample_due.send_on)[
            result.sample_due.key]
        if isinstance(outcome, Rendered):
            result.sample = outcome
        else:
            result.problem = outcome
    return result
