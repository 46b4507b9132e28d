"""Writing a reminder: the subject and the text and HTML bodies, in the recipient's language.

Templates live in ``templates/reminders/email/NAME.txt`` and ``NAME.html``; the first line
the text template renders is the subject. Both get the context that ``context()`` builds.
"""

from __future__ import annotations

import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, render_template, url_for
from flask_mail import Message
from itsdangerous import BadSignature, URLSafeSerializer

from godparents import formats
from godparents.actions import outcomes, postby, posted
from godparents.actions.models import ActionKind
from godparents.auth.models import Role, User
from godparents.prisoners.models import Prisoner
from godparents.reminders import notices, nudges
from godparents.reminders.models import CampaignDay, OutboxMessage, OutboxStatus, Trigger
from godparents.reminders.planner import Due
from godparents.salutations import display_name, salutation
from godparents.sponsors.models import Sponsor

UNSUBSCRIBE_SALT = "reminders-unsubscribe"
MAX_SUBJECT = 200

# The action each template suggests logging, already chosen on the form it links to.
SUGGESTED_ACTION = {
    "birthday_card": ActionKind.CARD,
    "birthday": ActionKind.SOCIAL_MEDIA,
    "detention_anniversary": ActionKind.STATEMENT,
    "detention_milestone": ActionKind.STATEMENT,
    "key_date": ActionKind.STATEMENT,
    "expected_release": ActionKind.LETTER_TO_AUTHORITIES,
    "campaign_day": ActionKind.SOCIAL_MEDIA,
    "inactivity": ActionKind.LETTER,
    "welcome": ActionKind.LETTER,
    "welcome_followup": ActionKind.LETTER,
}


class TemplateProblem(Exception):
    """A template could not be rendered; the message it was for fails, the others go on."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass
class Digest:
    """What the coordinators' Monday email lists."""

    week_start: date
    week_end: date
    dates: list[dict[str, Any]] = field(default_factory=list)
    failed_count: int = 0
    failed: list[OutboxMessage] = field(default_factory=list)
    inactive_count: int = 0
    inactive: list[tuple[Any, date | None]] = field(default_factory=list)  # (sponsor, last)
    # Letters returned or censored in the week before (actions/outcomes.CameBack).
    letters_back_count: int = 0
    letters_back: list[Any] = field(default_factory=list)
    # Pairings whose last inactivity nudge went out in the week before (nudges.LastNudge).
    last_nudged_count: int = 0
    last_nudged: list[Any] = field(default_factory=list)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int, trigger: Trigger) -> str:
    """A link secret for stopping one kind of reminder for one person; no login needed."""
    return _serializer().dumps([user_id, trigger.value])


def read_unsubscribe_token(token: str) -> tuple[int, Trigger] | None:
    try:
        user_id, trigger = _serializer().loads(token)
        return int(user_id), Trigger(trigger)
    except (BadSignature, ValueError, TypeError):
        return None


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link on the configured base URL (never on a request's Host header)."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def single_line(text: str) -> str:
    """A header value: one line whatever the data holds, so no header can be smuggled in."""
    return " ".join(text.split())[:MAX_SUBJECT]


def envelope_address(prisoner: Prisoner) -> str | None:
    """The envelope for the prisoner's current address (None when none is known)."""
    address = prisoner.current_address
    return prisoner.envelope(address) if address is not None else None


@contextmanager
def url_context() -> Iterator[None]:
    """Links in emails need a request to build URLs on; the command line has none."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context("/", base_url=current_app.config["BASE_URL"]):
        yield


def context(
    due: Due,
    user: User,
    today: date,
    prisoner: Prisoner | None,
    campaign_day: CampaignDay | None,
    digest: Digest | None,
    godparent: Sponsor | None = None,
) -> dict[str, Any]:
    """What the templates get. ``user`` is the recipient's account; ``godparent`` the
    sponsor of the pairing the reminder is about (office staff read whose godchild it is);
    ``sponsor`` the recipient's own, when they are the godparent."""
    rule, event = due.rule, due.event
    links = {
        "home": external_url("main.index"),
        "settings": external_url("account.profile", _anchor="reminders"),
        "unsubscribe": external_url(
            "reminders.unsubscribe", token=unsubscribe_token(user.id, rule.trigger)
        )
        if rule.trigger.can_be_stopped
        else None,
    }
    suggested = SUGGESTED_ACTION.get(rule.template)
    occasion = posted.OCCASION_OF_TEMPLATE.get(rule.template)
    if prisoner is not None and not user.is_coordinator:
        links["prisoner"] = external_url("prisoners.godchild", prisoner_id=prisoner.id)
        links["log"] = external_url(
            "actions.create",
            prisoner_id=prisoner.id,
            kind=suggested.value if suggested else None,
            # "Posted" in one tap: the form opens filled in (actions/posted.py).
            occasion=occasion.value if occasion else None,
        )
    if user.is_coordinator:
        links["dashboard"] = external_url("dashboard.index")
        links["outbox"] = external_url("reminders.outbox")
        if prisoner is not None:
            links["prisoner"] = external_url("prisoners.detail", prisoner_id=prisoner.id)
    sponsor = user.sponsor if due.recipient.sponsor_id is not None else None
    godparent = godparent or sponsor or _only_godparent_of(user)
    return {
        "recipient": user,
        "sponsor": sponsor,
        "godparent": godparent,
        # "Sehr geehrte Frau Dr. Lindner," / "Dear Dr Lindner,": a godparent as their
        # record says, anyone else as their settings say (godparents/salutations.py).
        "greeting": salutation(sponsor or user, user.locale),
        # Whom office staff work for, named: "Dr Margarete Lindner".
        "godparent_name": display_name(godparent, user.locale),
        "rule": rule,
        "event": event,
        "on": event.on,
        "today": today,
        "days_left": (event.on - today).days,
        "prisoner": prisoner,
        "envelope": envelope_address(prisoner) if prisoner is not None else None,
        "campaign_day": campaign_day,
        "digest": digest,
        "suggested_action": suggested,
        "nudge": nudges.nudge_for(rule, event) if rule.trigger is Trigger.INACTIVITY else None,
        # The day to post a card by (actions/postby.py), for a birthday or a campaign day.
        "notice": notices.details(event),  # what changed, for the notices' templates
        # The letters the weekly question asks about, each with its one-click answers.
        "letters": outcomes.questions(event.sponsor_id, event.on, external_url)
        if event.subject_ref.startswith("letters:") and event.sponsor_id
        else [],
        "post_by": postby.for_day(event.on, today) if occasion in postby.CARD_DATES else None,
        "links": links,
    }


def _only_godparent_of(user: User) -> Sponsor | None:
    """The godparent office staff work for, when they work for one only (a reminder about
    no godparent in particular, such as a campaign day, still names them)."""
    if user.role is not Role.DELEGATE:
        return None
    sponsors = [delegation.sponsor for delegation in user.delegations]
    return sponsors[0] if len(sponsors) == 1 else None


def render(template: str, locale: str, values: dict[str, Any]) -> Rendered:
    """Both bodies in ``locale``; any error in the template becomes a TemplateProblem."""
    try:
        with formats.in_language(locale):
            text = render_template(f"reminders/email/{template}.txt", **values)
            subject, _newline, body = text.lstrip().partition("\n")
            subject = single_line(subject)
            html = render_template(f"reminders/email/{template}.html", subject=subject, **values)
    except Exception as error:
        raise TemplateProblem(f"{type(error).__name__}: {error}") from error
    if not subject:
        raise TemplateProblem("the template rendered no subject line")
    return Rendered(subject, body.strip("\n") + "\n", html)


def outbox_row(due: Due, now: datetime) -> dict[str, Any]:
    """The values of the outbox message for ``due``, planned and not yet written out (the
    empty subject says so)."""
    return {
        "rule_id": due.rule.id,
        "recipient_user_id": due.recipient.user_id,
        "recipient_email": due.recipient.email,
        "subject_ref": due.event.subject_ref,
        "occurs_on": due.event.on,
        "locale": due.recipient.locale,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "last_error": None,
        "email_subject": "",
        "created_at": now,
    }


WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998)


def compose(
    subject: str,
    text: str,
    html: str | None,
    email: str,
    user_id: int | None,
    trigger: Trigger | None,
) -> bytes:
    """The email as it goes over the wire, through Flask-Mail (addresses, encodings, the
    Message-ID); delivery adds only the date. Header injection fails here, for good."""
    headers = (
        list_unsubscribe_headers(user_id, trigger)
        if user_id and trigger and trigger.can_be_stopped
        else {}
    )
    message = Message(
        subject=subject, recipients=[email], body=text, html=html, extra_headers=headers
    )
    message.msgId = make_msgid(domain=urlsplit(current_app.config["BASE_URL"]).hostname)
    if message.has_bad_headers():
        raise TemplateProblem("a header would hold a line break")
    # Flask-Mail writes with policy.SMTP, which folds any header longer than 78 characters
    # and so turns the long unsubscribe link into RFC 2047 encoded words that mail
    # programs do not read as a link. Headers may run to 998 characters (RFC 5322); the
    # bodies are encoded already, so only the header folding changes.
    try:
        return message._message().as_bytes(policy=WIRE_POLICY)
    except UnicodeEncodeError as error:  # a non-ASCII name part in the address
        raise TemplateProblem("the address cannot be written in an email header") from error


def dated(data: bytes, when: float | None = None) -> bytes:
    """``data`` with its Date header set to ``when`` (now): the time it is really sent."""
    start = data.find(b"\nDate: ") + 1
    if start == 0:
        return data
    end = data.find(b"\n", start)
    return b"".join((data[:start], b"Date: ", formatdate(when, usegmt=True).encode(), data[end:]))


def message_id_of(data: bytes) -> str | None:
    """The Message-ID header of a composed email (bounces quote it back)."""
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    for line in head.splitlines():
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() == b"message-id":
            return value.strip().decode("ascii", "replace")[:255] or None
    return None


def list_unsubscribe_headers(user_id: int, trigger: Trigger) -> dict[str, str]:
    """RFC 2369 and RFC 8058: mail programs offer a one-click "unsubscribe" from this kind."""
    link = external_url("reminders.unsubscribe", token=unsubscribe_token(user_id, trigger))
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
