"""One tap "posted": the log form already filled from a link on the home or in a reminder.

A link names the kind (``kind=card``), the occasion (``occasion=birthday``) and, where it
matters, the day (``on=2027-03-01``, never after today). The summary is the occasion's
default in the reader's language ("Birthday card"); for letters, cards and parcels the
summary may also be left empty, and the kind's name is saved in its place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from godparents.actions.models import ActionKind
from godparents.calendar.dates import DateKind
from godparents.labels import label

# What each occasion suggests doing, when the link does not say.
SUGGESTED_KIND = {
    DateKind.BIRTHDAY: ActionKind.CARD,
    DateKind.CAMPAIGN_DAY: ActionKind.CARD,
    DateKind.DETENTION_ANNIVERSARY: ActionKind.STATEMENT,
    DateKind.DETENTION_MILESTONE: ActionKind.STATEMENT,
    DateKind.TRIAL: ActionKind.STATEMENT,
    DateKind.APPEAL: ActionKind.STATEMENT,
    DateKind.HEARING: ActionKind.STATEMENT,
    DateKind.EXPECTED_RELEASE: ActionKind.LETTER_TO_AUTHORITIES,
    DateKind.CUSTOM: ActionKind.LETTER,
}
# The occasion each reminder template is about, for its link's default summary.
OCCASION_OF_TEMPLATE = {
    "birthday_card": DateKind.BIRTHDAY,
    "birthday": DateKind.BIRTHDAY,
    "campaign_day": DateKind.CAMPAIGN_DAY,
    "detention_anniversary": DateKind.DETENTION_ANNIVERSARY,
    "detention_milestone": DateKind.DETENTION_MILESTONE,
}
# Once a card would arrive late: what still works for the day.
TOO_LATE_KIND = ActionKind.SOCIAL_MEDIA


def default_summary(kind: ActionKind, occasion: DateKind | None) -> str:
    """The words a quick entry is saved with, in the reader's language."""
    if occasion is DateKind.BIRTHDAY:
        if kind is ActionKind.CARD:
            return _("Birthday card")
        if kind is ActionKind.LETTER:
            return _("Birthday letter")
        if kind is ActionKind.PARCEL:
            return _("Birthday parcel")
        if kind in (ActionKind.SOCIAL_MEDIA, ActionKind.STATEMENT):
            return _("Birthday greeting in public")
    if occasion is DateKind.CAMPAIGN_DAY:
        if kind is ActionKind.CARD:
            return _("Card for the campaign day")
        return _("Message for the campaign day")
    if occasion in (DateKind.TRIAL, DateKind.APPEAL, DateKind.HEARING) and kind in (
        ActionKind.STATEMENT,
        ActionKind.SOCIAL_MEDIA,
    ):
        return _("Statement on the trial")
    if occasion in (DateKind.DETENTION_ANNIVERSARY, DateKind.DETENTION_MILESTONE) and kind in (
        ActionKind.STATEMENT,
        ActionKind.SOCIAL_MEDIA,
    ):
        return _("Statement on the days in detention")
    return mail_summary(kind) if kind.is_mail else ""


def mail_summary(kind: ActionKind) -> str:
    """What a letter, card or parcel logged without words is saved as: its kind's name."""
    return label(kind)


@dataclass(frozen=True)
class Prefilled:
    """What a quick link filled in, for the save button at the top of the form."""

    kind: ActionKind
    occurred_on: date
    summary: str


def _day(value: str, today: date) -> date | None:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if day <= today else None


def read(args: Mapping[str, str], today: date) -> Prefilled | None:
    """The entry a link asks for; None when it names no occasion (a plain "log" link)."""
    try:
        occasion = DateKind(args.get("occasion", ""))
    except ValueError:
        return None
    try:
        kind = ActionKind(args.get("kind", ""))
    except ValueError:
        kind = SUGGESTED_KIND.get(occasion, ActionKind.LETTER)
    on = _day(args.get("on", ""), today) or today
    return Prefilled(kind, on, default_summary(kind, occasion))


def prefill(form: object, args: Mapping[str, str], today: date) -> Prefilled | None:
    """Fill a fresh ``ActionForm`` from a quick link's arguments; what it filled, or None."""
    found = read(args, today)
    if found is None:
        return None
    form.kind.data = found.kind.value  # type: ignore[attr-defined]
    form.occurred_on.data = found.occurred_on  # type: ignore[attr-defined]
    form.summary.data = found.summary  # type: ignore[attr-defined]
    return found
