"""Logging actions on a pairing. Plain functions; the caller commits.

Creates, changes and deletes are audited by the flush hook in ``audit.tracking``.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.actions.posted import mail_summary
from godparents.auth.models import Role, User
from godparents.extensions import db
from godparents.sponsors.services import is_current, pairings_for
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus

SUMMARY_MAX = 2000
LINK_MAX = 500


class ActionError(ValueError):
    """Input that cannot be saved: every ``(field, message)`` found, ``field`` being the form
    field the message belongs to; ``field`` and the text are the first's."""

    def __init__(self, message: str, field: str, more: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.problems = [(field, message), *(more or [])]


def current_pairing(user: User, prisoner_id: int) -> Sponsorship | None:
    """The active pairing through which the user's team works for this prisoner, if any."""
    pairings = db.session.scalars(
        pairings_for(user, prisoner_id)
        .where(Sponsorship.status == SponsorshipStatus.ACTIVE)
        .options(joinedload(Sponsorship.prisoner))
        .order_by(Sponsorship.started_on)
    ).all()
    return next((p for p in pairings if is_current(p)), None)


def action_for(user: User, action_id: int) -> Action | None:
    """The action if it belongs to a pairing of the user's team (current or former)."""
    return db.session.scalar(
        select(Action)
        .where(Action.id == action_id)
        .where(Action.sponsorship_id.in_(pairings_for(user).with_only_columns(Sponsorship.id)))
        .options(
            joinedload(Action.sponsorship).joinedload(Sponsorship.prisoner),
            joinedload(Action.sponsorship).joinedload(Sponsorship.sponsor),
        )
    )


def can_change(user: User, action: Action) -> bool:
    """Whoever logged it may change it, and so may the sponsor; only while the pairing lasts."""
    if not is_current(action.sponsorship):
        return False
    return action.logged_by_id == user.id or (
        user.role is Role.SPONSOR and action.sponsorship.sponsor.user_id == user.id
    )


def can_record_outcome(user: User, action: Action) -> bool:
    """Anyone of the team may record what became of a letter, while the pairing lasts."""
    return action.kind.is_mail and is_current(action.sponsorship)


def action_problems(
    pairing: Sponsorship,
    kind: ActionKind | None,
    occurred_on: date | None,
    summary: str,
    link: str | None,
    today: date,
) -> list[tuple[str, str]]:
    """Every ``(field, message)`` that stops an action being saved, all at once. Works on
    a refused form's partial data: a date or kind the form could not read is None and
    not judged again."""
    problems: list[tuple[str, str]] = []
    if occurred_on is not None and occurred_on > today:
        problems.append(("occurred_on", _("This date is in the future.")))
    elif (
        occurred_on is not None
        and pairing.started_on is not None
        and occurred_on < pairing.started_on
    ):
        problems.append(
            (
                "occurred_on",
                _(
                    "The godparenthood began on %(date)s; choose that day or later.",
                    date=format_date(pairing.started_on),
                ),
            )
        )
    summary = summary.strip()
    if not summary and not (kind is not None and kind.is_mail):
        problems.append(("summary", _("Please say in a few words what you did.")))
    if len(summary) > SUMMARY_MAX:
        problems.append(
            ("summary", _("Please keep it under %(count)d characters.", count=SUMMARY_MAX))
        )
    try:
        check_link(link)
    except ActionError as error:
        problems.append(("link", str(error)))
    return problems


def _check(
    pairing: Sponsorship,
    kind: ActionKind,
    occurred_on: date,
    summary: str,
    link: str | None,
    today: date,
) -> tuple[str, str | None]:
    problems = action_problems(pairing, kind, occurred_on, summary, link, today)
    if problems:
        (field, message), *more = problems
        raise ActionError(message, field, more)
    summary = summary.strip()
    if not summary and kind.is_mail:
        summary = mail_summary(kind)  # "Card": what it was says enough
    return summary, check_link(link)


def check_link(link: str | None) -> str | None:
    link = (link or "").strip()
    if not link:
        return None
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(link) > LINK_MAX:
        raise ActionError(_("Enter a web address starting with https:// or http://."), "link")
    return link


def log_action(
    pairing: Sponsorship,
    user: User,
    kind: ActionKind,
    occurred_on: date,
    summary: str,
    link: str | None,
    today: date,
) -> Action:
    summary, link = _check(pairing, kind, occurred_on, summary, link, today)
    action = Action(
        sponsorship=pairing,
        kind=kind,
        occurred_on=occurred_on,
        summary=summary,
        link=link,
        logged_by=user,
    )
    if kind.is_mail:
        action.letter_outcome = LetterOutcome.SENT
        action.outcome_on = occurred_on
    db.session.add(action)
    db.session.flush()
    return action


def update_action(
    action: Action,
    user: User,
    kind: ActionKind,
    occurred_on: date,
    summary: str,
    link: str | None,
    today: date,
) -> None:
    summary, link = _check(action.sponsorship, kind, occurred_on, summary, link, today)
    action.kind, action.occurred_on, action.summary, action.link = (
        kind,
        occurred_on,
        summary,
        link,
    )
    if kind.is_mail and action.letter_outcome is None:
        action.letter_outcome, action.outcome_on = LetterOutcome.SENT, occurred_on
    elif not kind.is_mail:
        action.letter_outcome, action.outcome_on = None, None


def outcome_problems(action: Action, outcome_on: date | None, today: date) -> list[tuple[str, str]]:
    """Every ``(field, message)`` that stops the outcome being saved; a date the form could
    not read is None and not judged again."""
    if outcome_on is None:
        return []
    if outcome_on > today:
        return [("outcome_on", _("This date is in the future."))]
    if outcome_on < action.occurred_on:
        message = _(
            "This is before the letter was sent (%(date)s).", date=format_date(action.occurred_on)
        )
        return [("outcome_on", message)]
    return []


def set_outcome(
    action: Action, user: User, outcome: LetterOutcome, outcome_on: date, today: date
) -> None:
    if problems := outcome_problems(action, outcome_on, today):
        (field, message), *more = problems
        raise ActionError(message, field, more)
    action.letter_outcome, action.outcome_on = outcome, outcome_on


def delete_action(action: Action) -> None:
    db.session.delete(action)
