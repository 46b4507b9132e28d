"""The rules a campaign starts with, and the email templates a rule can use.

The migration that seeds the rules carries its own copy of ``DEFAULT_RULES`` (a migration
must not change when this file does); a test checks that the two agree.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from godparents.prisoners.models import KeyDateKind
from godparents.reminders.models import ReminderRule, Trigger

_TEAM = {"to_sponsor": True, "to_delegates": True, "to_coordinators": False}
_COURT = [KeyDateKind.TRIAL.value, KeyDateKind.APPEAL.value, KeyDateKind.HEARING.value]

DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "name": "Birthday card",
        "trigger": Trigger.BIRTHDAY,
        "offset_days": 30,
        "template": "birthday_card",
        **_TEAM,
    },
    {
        "name": "Birthday greeting",
        "trigger": Trigger.BIRTHDAY,
        "offset_days": 0,
        "template": "birthday",
        **_TEAM,
    },
    {
        "name": "Detention anniversary, a week before",
        "trigger": Trigger.DETENTION_ANNIVERSARY,
        "offset_days": 7,
        "template": "detention_anniversary",
        **_TEAM,
    },
    {
        "name": "Detention anniversary, on the day",
        "trigger": Trigger.DETENTION_ANNIVERSARY,
        "offset_days": 0,
        "template": "detention_anniversary",
        **_TEAM,
    },
    {
        "name": "Days in detention",
        "trigger": Trigger.DETENTION_MILESTONE,
        "offset_days": 3,
        "template": "detention_milestone",
        **_TEAM,
    },
    {
        "name": "Trial or hearing, a week before",
        "trigger": Trigger.KEY_DATE,
        "offset_days": 7,
        "template": "key_date",
        "key_date_kinds": _COURT,
        **_TEAM,
    },
    {
        "name": "Trial or hearing, the day before",
        "trigger": Trigger.KEY_DATE,
        "offset_days": 1,
        "template": "key_date",
        "key_date_kinds": _COURT,
        **_TEAM,
    },
    {
        "name": "Expected release",
        "trigger": Trigger.KEY_DATE,
        "offset_days": 14,
        "template": "expected_release",
        "key_date_kinds": [KeyDateKind.EXPECTED_RELEASE.value],
        **_TEAM,
    },
    {
        "name": "Campaign day",
        "trigger": Trigger.CAMPAIGN_DAY,
        "offset_days": 7,
        "template": "campaign_day",
        **_TEAM,
    },
    {
        "name": "Nothing logged for a while",
        "trigger": Trigger.INACTIVITY,
        "offset_days": -60,
        "template": "inactivity",
        **_TEAM,
    },
    {
        "name": "Welcome",
        "trigger": Trigger.SPONSORSHIP_START,
        "offset_days": 0,
        "template": "welcome",
        **_TEAM,
    },
    {
        "name": "First steps, two weeks later",
        "trigger": Trigger.SPONSORSHIP_START,
        "offset_days": -14,
        "template": "welcome_followup",
        **_TEAM,
    },
    {
        "name": "Weekly digest",
        "trigger": Trigger.COORDINATOR_DIGEST,
        "offset_days": 0,
        "template": "coordinator_digest",
        "to_sponsor": False,
        "to_delegates": False,
        "to_coordinators": True,
    },
]

# The default names, for the catalogs: a rule still called so is shown in the reader's language.
DEFAULT_NAMES = (
    _l("Birthday card"),
    _l("Birthday greeting"),
    _l("Detention anniversary, a week before"),
    _l("Detention anniversary, on the day"),
    _l("Days in detention"),
    _l("Trial or hearing, a week before"),
    _l("Trial or hearing, the day before"),
    _l("Expected release"),
    _l("Campaign day"),
    _l("Nothing logged for a while"),
    _l("Welcome"),
    _l("First steps, two weeks later"),
    _l("Weekly digest"),
)
_DEFAULT_NAME_SET = frozenset(str(fields["name"]) for fields in DEFAULT_RULES)


def shown_name(name: str) -> str:
    """A rule's name as the reader reads it: a default one in their language, any name a
    coordinator gave as typed (the rules pages, the outbox and the audit log)."""
    return gettext(name) if name in _DEFAULT_NAME_SET else name


# Each email template (templates/reminders/email/NAME.txt and .html) and what it is for.
TEMPLATES: dict[str, Any] = {
    "birthday_card": _l("Send a birthday card"),
    "birthday": _l("Birthday greeting on the day"),
    "detention_anniversary": _l("Anniversary of the detention"),
    "detention_milestone": _l("Round number of days in detention"),
    "key_date": _l("Trial, appeal or hearing"),
    "expected_release": _l("Expected release"),
    "campaign_day": _l("Campaign day"),
    "inactivity": _l("Nothing logged for a while"),
    "welcome": _l("Welcome to a new godparenthood"),
    "welcome_followup": _l("First steps, if nothing was logged yet"),
    "coordinator_digest": _l("Weekly digest for coordinators"),
    "reminder": _l("General reminder of a date"),
}

# The news of a godchild (notices.py) and the Monday question about letters: templates for
# rules that are not planned from a date like the others (kept apart from TEMPLATES, whose
# every entry the message tests write out for a dated event).
NEWS_TEMPLATES: dict[str, Any] = {
    "notice_transfer": _l("News: a godchild moved to another prison"),
    "notice_release": _l("News: a godchild released or deported"),
    "notice_sentence": _l("News: a godchild sentenced"),
    "notice_hearing": _l("News: a trial or hearing set"),
    "letter_outcomes": _l("Did your letters arrive? (Mondays)"),
}
ALL_TEMPLATES: dict[str, Any] = {**TEMPLATES, **NEWS_TEMPLATES}

# Which templates fit which trigger (the first is the default for a new rule).
TEMPLATES_FOR: dict[Trigger, tuple[str, ...]] = {
    Trigger.BIRTHDAY: ("birthday_card", "birthday", "reminder"),
    Trigger.DETENTION_ANNIVERSARY: ("detention_anniversary", "reminder"),
    Trigger.DETENTION_MILESTONE: ("detention_milestone", "reminder"),
    Trigger.KEY_DATE: ("key_date", "expected_release", "reminder"),
    Trigger.CAMPAIGN_DAY: ("campaign_day",),
    Trigger.INACTIVITY: ("inactivity",),
    Trigger.SPONSORSHIP_START: ("welcome", "welcome_followup"),
    Trigger.COORDINATOR_DIGEST: ("coordinator_digest",),
    Trigger.NOTICE_TRANSFER: ("notice_transfer",),
    Trigger.NOTICE_RELEASE: ("notice_release",),
    Trigger.NOTICE_SENTENCE: ("notice_sentence",),
    Trigger.NOTICE_HEARING: ("notice_hearing",),
    Trigger.LETTER_OUTCOMES: ("letter_outcomes",),
}

# The birthday card's lead time is each recipient's own (their settings), not the rule's.
PERSONAL_LEAD_TEMPLATES = frozenset({"birthday_card"})


def default_rules() -> list[ReminderRule]:
    return [ReminderRule(**fields) for fields in DEFAULT_RULES]
