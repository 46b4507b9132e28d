"""The personal calendar feed: the godchildren's dates as iCalendar, and nothing more.

Each event carries a name and the kind of date, never an address or a note: calendars get
synced to phones and third-party servers.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from godparents import formats
from godparents.account.services import token_hash
from godparents.actions import postby
from godparents.auth.models import Role, User
from godparents.extensions import db
from godparents.prisoners.models import KeyDateKind, Prisoner
from godparents.reminders.models import CampaignDay
from godparents.sponsors.services import is_current, pairings_for
from godparents.sponsorships.models import Sponsorship
from godparents.timeutil import local_today

DOMAIN = "godparents"


def user_for_token(token: str) -> User | None:
    if not token or len(token) > 100:
        return None
    user = db.session.scalar(select(User).where(User.calendar_token_hash == token_hash(token)))
    return user if user is not None and user.is_active else None


def _event(
    uid: str,
    summary: str,
    on: date,
    now: datetime,
    *,
    yearly: bool = False,
    last_of_february: bool = False,
) -> Event:
    event = Event()
    event.add("uid", f"{uid}@{DOMAIN}")
    event.add("dtstamp", now)
    event.add("summary", summary)
    event.add("dtstart", on)
    event.add("dtend", on + timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    if last_of_february:
        # RFC 5545: a yearly rule from 29 February fires only in leap years; the last day
        # of February is the 29th in leap years and the 28th in the others.
        event.add("rrule", {"freq": "yearly", "bymonth": 2, "bymonthday": -1})
    elif yearly:
        event.add("rrule", {"freq": "yearly"})
    return event


def _yearly(uid: str, summary: str, origin: date, now: datetime) -> Event:
    return _event(
        uid,
        summary,
        origin,
        now,
        yearly=True,
        last_of_february=(origin.month, origin.day) == (2, 29),
    )


def feed(user: User, now: datetime) -> bytes:
    pairings = []
    if user.role in (Role.SPONSOR, Role.DELEGATE):
        pairings = [
            p
            for p in db.session.scalars(
                pairings_for(user).options(
                    selectinload(Sponsorship.prisoner).selectinload(Prisoner.key_dates)
                )
            )
            if is_current(p)
        ]
    prisoners = {p.prisoner_id: p.prisoner for p in pairings}.values()
    campaign_days = db.session.scalars(select(CampaignDay).where(CampaignDay.is_active))

    # Post-by days are dated events (not a yearly rule): a 29 February birthday's moves.
    today = local_today(user.timezone, current_app.config["TIMEZONE"], now)
    transit = postby.transit().to(postby.DESTINATION)
    calendar = Calendar()
    calendar.add("prodid", "-//godparents//calendar feed//EN")
    calendar.add("version", "2.0")
    with formats.in_language(user.locale):
        calendar.add("x-wr-calname", _("Godchildren's dates"))
        for prisoner in sorted(prisoners, key=lambda p: p.id):
            name = prisoner.name_latin
            if prisoner.birth_date:
                calendar.add_component(
                    _yearly(
                        f"birthday-{prisoner.id}",
                        _("Birthday: %(name)s", name=name),
                        prisoner.birth_date,
                        now,
                    )
                )
                for on in postby.coming_occasions(
                    prisoner.birth_date.month, prisoner.birth_date.day, today
                ):
                    calendar.add_component(
                        _event(
                            f"post-by-birthday-{prisoner.id}-{on.year}",
                            _("Post the birthday card by today: %(name)s", name=name),
                            postby.post_by(on, transit),
                            now,
                        )
                    )
            if prisoner.detained_on:
                calendar.add_component(
                    _yearly(
                        f"detention-{prisoner.id}",
                        _("Anniversary of detention: %(name)s", name=name),
                        prisoner.detained_on,
                        now,
                    )
                )
            has_release_date = False
            for key_date in prisoner.key_dates:
                has_release_date |= key_date.kind is KeyDateKind.EXPECTED_RELEASE
                calendar.add_component(
                    _event(
                        f"keydate-{key_date.id}",
                        _key_date_summary(key_date.kind, name),
                        key_date.occurs_on,
                        now,
                        yearly=key_date.is_yearly,
                    )
                )
            if prisoner.expected_release_on and not has_release_date:
                calendar.add_component(
                    _event(
                        f"release-{prisoner.id}",
                        _("Expected release: %(name)s", name=name),
                        prisoner.expected_release_on,
                        now,
                    )
                )
        for day in campaign_days:
            calendar.add_component(
                _yearly(
                    f"campaign-day-{day.id}",
                    day.name_in(user.locale),
                    date(2020, day.month, day.day),
                    now,
                )
            )
            for on in postby.coming_occasions(day.month, day.day, today):
                calendar.add_component(
                    _event(
                        f"post-by-campaign-day-{day.id}-{on.year}",
                        _("Post cards for %(day)s by today", day=day.name_in(user.locale)),
                        postby.post_by(on, transit),
                        now,
                    )
                )
    return calendar.to_ical()


def _key_date_summary(kind: KeyDateKind, name: str) -> str:
    texts = {
        KeyDateKind.TRIAL: _("Trial: %(name)s", name=name),
        KeyDateKind.APPEAL: _("Appeal hearing: %(name)s", name=name),
        KeyDateKind.HEARING: _("Hearing: %(name)s", name=name),
        KeyDateKind.EXPECTED_RELEASE: _("Expected release: %(name)s", name=name),
        KeyDateKind.CUSTOM: _("Key date: %(name)s", name=name),
    }
    return texts[kind]
