"""The coordinators' Monday email: the week's dates, the messages that failed, the quiet
godparents and the addresses that bounce."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from godparents.actions import outcomes
from godparents.dashboard import services as work_lists
from godparents.extensions import db
from godparents.prisoners.models import Prisoner
from godparents.reminders import events, nudges
from godparents.reminders.messages import Digest

DIGEST_LIST = 20  # rows of each list in the digest; the counts are complete
QUIET_DAYS = 60  # the digest's godparents "with nothing logged in 60 days"


def digest(today: date, monday: date) -> Digest:
    """The coordinators' week: dates of the week, messages that failed, quiet godparents."""
    sunday = monday + timedelta(days=6)
    result = Digest(monday, sunday)
    week_range = [(monday, sunday)]
    week = [
        *events.birthdays(week_range),
        *events.detention_anniversaries(week_range),
        *events.detention_milestones(week_range),
        *events.key_dates(week_range, []),
        *events.campaign_days(week_range),
    ]
    seen: dict[tuple[str, date], events.Event] = {}
    for event in week:
        seen.setdefault((event.subject_ref, event.on), event)
    prisoners = prisoners_by_id({event.prisoner_id for event in seen.values() if event.prisoner_id})
    result.dates = [
        {
            "event": event,
            "prisoner": prisoners.get(event.prisoner_id) if event.prisoner_id else None,
        }
        for event in sorted(seen.values(), key=lambda e: (e.on, e.subject_ref))
    ]
    # The same work lists as the dashboard's, with the digest's own 60 days of quiet.
    result.failed_count = work_lists.failed_message_count()
    result.failed = work_lists.failed_messages(DIGEST_LIST)
    result.inactive_count = work_lists.inactive_sponsor_count(today, QUIET_DAYS)
    result.inactive = [
        (row, row.last_on) for row in work_lists.inactive_sponsors(today, DIGEST_LIST, QUIET_DAYS)
    ]
    # Letters that came back or were censored lately: a facility may have stopped post.
    result.letters_back_count, result.letters_back = outcomes.came_back(
        today, days=7, limit=DIGEST_LIST
    )
    # Godparents told for the last time last week that nothing was logged: a person's turn.
    result.last_nudged_count, result.last_nudged = nudges.last_nudges(monday, DIGEST_LIST)
    return result


def prisoners_by_id(ids: set[int]) -> dict[int, Prisoner]:
    """The prisoners with these ids and their addresses, in one query each."""
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Prisoner)
        .where(Prisoner.id.in_(sorted(ids)))
        .options(selectinload(Prisoner.addresses))
    )
    return {prisoner.id: prisoner for prisoner in rows}
