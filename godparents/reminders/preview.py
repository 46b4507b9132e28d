"""What a rule would send over the coming days, for the coordinators' rule pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from godparents.reminders.messages import Rendered
from godparents.reminders.models import ReminderRule
from godparents.reminders.planner import Due, plan
from godparents.reminders.writing import render_due


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
        outcome = render_due([result.sample_due], result.sample_due.send_on)[result.sample_due.key]
        if isinstance(outcome, Rendered):
            result.sample = outcome
        else:
            result.problem = outcome
    return result
