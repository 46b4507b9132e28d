"""Writing: render the planned messages in their recipients' languages and compose each
email for the wire, a batch and a commit at a time, before any of them is sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload, selectinload

from godparents.auth.models import User
from godparents.database import begin_write
from godparents.extensions import db
from godparents.prisoners.models import KeyDate, Prisoner
from godparents.reminders import events, notices
from godparents.reminders.digest import digest, prisoners_by_id
from godparents.reminders.messages import (
    Digest,
    Rendered,
    TemplateProblem,
    compose,
    context,
    message_id_of,
    render,
    url_context,
)
from godparents.reminders.models import (
    CampaignDay,
    OutboxMessage,
    OutboxStatus,
    Trigger,
)
from godparents.reminders.planner import Due, Recipient
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship

GONE = "the rule, the recipient or what it is about no longer exists"

Key = tuple[date, int, int, str]


@dataclass
class Written:
    count: int = 0
    problems: dict[int, str] = field(default_factory=dict)  # message id -> why not


def render_due(
    items: list[Due], today: date, digests: dict[date, Digest] | None = None
) -> dict[Key, Rendered | str]:
    """Each reminder written out, or the reason it could not be (by key). A failure is
    that message's alone: the others are written all the same."""
    prisoners = prisoners_by_id(
        {item.event.prisoner_id for item in items if item.event.prisoner_id}
    )
    sponsors = _sponsors({item.event.sponsor_id for item in items if item.event.sponsor_id})
    campaign_ids = {item.event.campaign_day_id for item in items if item.event.campaign_day_id}
    campaign = (
        {
            day.id: day
            for day in db.session.scalars(
                select(CampaignDay).where(CampaignDay.id.in_(sorted(campaign_ids)))
            )
        }
        if campaign_ids
        else {}
    )
    users = (
        {
            user.id: user
            for user in db.session.scalars(
                select(User)
                .where(User.id.in_(sorted({item.recipient.user_id for item in items})))
                .options(selectinload(User.sponsor))
            )
        }
        if items
        else {}
    )
    digests = {} if digests is None else digests
    written: dict[Key, Rendered | str] = {}
    with url_context():
        for item in items:
            try:
                weekly = None
                if item.rule.trigger is Trigger.COORDINATOR_DIGEST:
                    if item.event.on not in digests:
                        digests[item.event.on] = digest(today, item.event.on)
                    weekly = digests[item.event.on]
                user = users[item.recipient.user_id]
                values = context(
                    item,
                    user,
                    today,
                    prisoners.get(item.event.prisoner_id or 0),
                    campaign.get(item.event.campaign_day_id or 0),
                    weekly,
                    sponsors.get(item.event.sponsor_id or 0),
                )
                written[item.key] = render(item.rule.template, user.locale, values)
            except TemplateProblem as problem:
                written[item.key] = str(problem)
            except SQLAlchemyError:
                raise  # the database's trouble is the run's, not one message's
            except Exception as error:
                written[item.key] = f"{type(error).__name__}: {error}"
            if isinstance(written[item.key], str):
                current_app.logger.warning(
                    "reminder %s (template %s) could not be written: %s",
                    item.key,
                    item.rule.template,
                    written[item.key],
                )
    return written


def _sponsors(ids: set[int]) -> dict[int, Sponsor]:
    if not ids:
        return {}
    return {
        sponsor.id: sponsor
        for sponsor in db.session.scalars(select(Sponsor).where(Sponsor.id.in_(sorted(ids))))
    }


def _unwritten() -> ColumnElement[bool]:
    return (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.email_subject == "")


def _preload(rows: Sequence[OutboxMessage]) -> list[object]:
    """Load what writing these messages reads, a query per table: then ``events.rebuild``
    and the recipients come from the session's identity map instead of a query each. The
    caller keeps the returned objects alive (the identity map only holds them weakly)."""
    users = {row.recipient_user_id for row in rows}
    loaded: list[object] = list(
        db.session.scalars(
            select(User).where(User.id.in_(sorted(users))).options(selectinload(User.sponsor))
        )
    )
    refs: dict[str, set[int]] = {}
    for row in rows:
        kind, _colon, ident = row.subject_ref.partition(":")
        if ident.isdigit():
            refs.setdefault(kind, set()).add(int(ident))
    if refs.get("key_date"):
        loaded.extend(
            db.session.scalars(select(KeyDate).where(KeyDate.id.in_(sorted(refs["key_date"]))))
        )
    if refs.get("sponsorship"):
        loaded.extend(
            db.session.scalars(
                select(Sponsorship).where(Sponsorship.id.in_(sorted(refs["sponsorship"])))
            )
        )
    prisoner_ids = refs.get("prisoner", set()) | refs.get("release", set())
    if prisoner_ids:
        loaded.extend(
            db.session.scalars(select(Prisoner).where(Prisoner.id.in_(sorted(prisoner_ids))))
        )
    if refs.get("campaign_day"):
        loaded.extend(
            db.session.scalars(
                select(CampaignDay).where(CampaignDay.id.in_(sorted(refs["campaign_day"])))
            )
        )
    return loaded


def _composed(row: OutboxMessage, rendered: Rendered) -> bytes | str:
    """The email composed for the wire, or why it cannot be sent."""
    try:
        with url_context():
            return compose(
                rendered.subject,
                rendered.text,
                rendered.html,
                row.recipient_email,
                row.recipient_user_id,
                row.rule.trigger,
            )
    except TemplateProblem as problem:
        return str(problem)


def _keep(row: OutboxMessage, rendered: Rendered, data: bytes) -> None:
    row.email_subject = rendered.subject
    row.body_text, row.body_html, row.mime = rendered.text, rendered.html, data
    row.email_message_id = message_id_of(data)


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


def _write_batch(
    today: date, size: int, digests: dict[date, Digest], done: set[int], report: Written
) -> bool:
    """Write the next batch; False when nothing was left to write.

    Two runs may write the same messages at once: PostgreSQL hands each row to one of them
    (SKIP LOCKED); on SQLite the one that takes the write lock second finds them written
    and leaves them be.
    """
    query = (
        select(OutboxMessage)
        .where(_unwritten(), OutboxMessage.id.not_in(done))
        .options(joinedload(OutboxMessage.rule), selectinload(OutboxMessage.content))
        .order_by(OutboxMessage.id)
        .limit(size)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    rows = db.session.scalars(query).all()
    if not rows:
        db.session.rollback()
        return False
    kept = _preload(rows)
    dues = {row.id: due_again(row) for row in rows}
    written = render_due([due for due in dues.values() if due is not None], today, digests)
    outcomes: dict[int, tuple[Rendered, bytes] | str] = {}
    for row in rows:
        done.add(row.id)
        due = dues[row.id]
        outcome = written.get(due.key, "") if due is not None else GONE
        if isinstance(outcome, Rendered):
            data = _composed(row, outcome)
            outcomes[row.id] = (outcome, data) if isinstance(data, bytes) else data
        else:
            outcomes[row.id] = outcome
    begin_write()
    still = set(
        db.session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.id.in_(list(outcomes)), _unwritten())
        )
    )
    for row in rows:
        if row.id not in still:
            continue  # another run wrote it meanwhile
        result = outcomes[row.id]
        if isinstance(result, tuple):
            _keep(row, *result)
            report.count += 1
        else:
            row.status, row.last_error = OutboxStatus.FAILED, result
            report.problems[row.id] = result
    db.session.commit()
    del kept
    return True


def write_message(message: OutboxMessage, today: date) -> None:
    """Write one message now (for a retry); it fails, with the reason, if it cannot be."""
    due = due_again(message)
    outcome = render_due([due], today)[due.key] if due is not None else GONE
    if isinstance(outcome, Rendered):
        data = _composed(message, outcome)
        if isinstance(data, bytes):
            _keep(message, outcome, data)
            message.last_error = None
            return
        outcome = data
    message.status, message.last_error = OutboxStatus.FAILED, outcome


def due_again(message: OutboxMessage) -> Due | None:
    """The reminder an outbox message was planned for, read again from today's data."""
    user = db.session.get(User, message.recipient_user_id)
    if user is None:
        return None
    event = notices.rebuild(message.subject_ref, message.occurs_on) or events.rebuild(
        message.subject_ref, message.occurs_on, message.rule.trigger.value
    )
    if event is None:
        return None
    recipient = Recipient.of(user, message.recipient_email, user.sponsor)
    return Due(message.rule, recipient, event, message.occurs_on)
