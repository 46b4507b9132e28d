"""The coordinators' reminder pages: rules (list, form, switch, preview), the outbox (list,
message, retry, cancel) and the run button; and who may see them."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import func, select

from godparents.auth.models import User
from godparents.extensions import db, mail
from godparents.reminders.models import (
    OutboxMessage,
    OutboxStatus,
    ReminderRule,
    ReminderRun,
    Trigger,
)
from godparents.timeutil import local_today
from tests.factories import (
    make_coordinator,
    make_default_rules,
    make_delegate,
    make_outbox_message,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import LoginAs, count_rows, csrf_token, field_errors, post_form

RULES = "/coordinator/reminders/"
NEW = "/coordinator/reminders/new"
OUTBOX = "/coordinator/reminders/outbox"
SANDBOX_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'"
)
_keys = itertools.count(1)

# Used only where the email templates (written elsewhere) do not exist yet: the real
# templates come first, so these never hide them.
FALLBACK_EMAILS = {
    "reminders/email/birthday_card.txt": (
        "A birthday card for {{ prisoner.name_latin }}\n\nTheir birthday is on {{ on }}.\n"
    ),
    "reminders/email/birthday_card.html": "<p>A birthday card for {{ prisoner.name_latin }}</p>",
}


@pytest.fixture
def coordinator(app: Flask, login_as: LoginAs) -> User:
    user = make_coordinator()
    login_as(user.email)
    return user


@pytest.fixture
def emails(web_app: Flask) -> Iterator[None]:
    web_app.jinja_env.loader = ChoiceLoader([web_app.jinja_env.loader, DictLoader(FALLBACK_EMAILS)])
    yield


def _flashes(response) -> list[str]:
    return [
        html.unescape(text)
        for text in re.findall(
            r'<div class="alert alert-\w+" role="\w+">([^<]*)</div>', response.text
        )
    ]


def _post(client: FlaskClient, path: str, page: str = RULES, **data: object):
    return post_form(client, path, page, **data)


def _today() -> date:
    return local_today("Europe/Berlin", "Europe/Berlin")


def make_message(rule: ReminderRule | None = None, **fields: object) -> OutboxMessage:
    return make_outbox_message(rule, **fields)


# Access ---------------------------------------------------------------------------------------


def _routes(rule: ReminderRule, message: OutboxMessage) -> list[tuple[str, str]]:
    r, m = f"{RULES}{rule.id}", f"{OUTBOX}/{message.id}"
    return [
        ("GET", RULES),
        ("GET", NEW),
        ("POST", NEW),
        ("GET", f"{r}/edit"),
        ("POST", f"{r}/edit"),
        ("POST", f"{r}/toggle"),
        ("GET", f"{r}/preview"),
        ("GET", f"{r}/preview.html"),
        ("POST", f"{RULES}run"),
        ("GET", OUTBOX),
        ("GET", m),
        ("GET", f"{m}.html"),
        ("POST", f"{m}/retry"),
        ("POST", f"{m}/cancel"),
    ]


def test_anonymous_users_are_sent_to_login(app: Flask, client: FlaskClient) -> None:
    rule = make_default_rules()[0]
    message = make_message(rule, body_html="<p>Hi</p>")
    token = csrf_token(client, "/auth/login")
    for method, path in _routes(rule, message):
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/auth/login"), (method, path)


@pytest.mark.parametrize("who", ["sponsor", "delegate"])
def test_sponsors_and_delegates_get_403_everywhere(
    app: Flask, login_as: LoginAs, client: FlaskClient, who: str
) -> None:
    sponsor = make_sponsor()
    delegate = make_delegate(sponsor)
    rule = make_default_rules()[0]
    message = make_message(rule, body_html="<p>Hi</p>")
    login_as(sponsor.email if who == "sponsor" else delegate.email)
    token = csrf_token(client, "/sponsor/")
    for method, path in _routes(rule, message):
        response = client.open(
            path,
            method=method,
            data={
                "csrf_token": token,
                "name": "Taken over",
                "trigger": "birthday",
                "days": "1",
                "to_sponsor": "y",
                "template": "birthday",
            },
        )
        assert response.status_code == 403, (method, path)
    db.session.expire_all()
    assert db.session.get(ReminderRule, rule.id).name == "Birthday card"
    assert db.session.get(ReminderRule, rule.id).is_active
    assert db.session.get(OutboxMessage, message.id).status is OutboxStatus.PENDING
    assert count_rows(ReminderRule) == 13


def test_posts_without_csrf_token_are_refused(coordinator: User, client: FlaskClient) -> None:
    rule = make_default_rules()[0]
    message = make_message(rule)
    for method, path in _routes(rule, message):
        if method == "POST":
            assert client.post(path, data={"name": "x"}).status_code == 400, path
    db.session.expire_all()
    assert db.session.get(ReminderRule, rule.id).is_active
    assert db.session.get(OutboxMessage, message.id).status is OutboxStatus.PENDING


def test_unknown_ids_give_404(coordinator: User, client: FlaskClient) -> None:
    for path in (
        f"{RULES}2147483647/edit",
        f"{RULES}2147483647/preview",
        f"{RULES}2147483647/preview.html",
        f"{OUTBOX}/2147483647",
        f"{OUTBOX}/2147483647.html",
    ):
        assert client.get(path).status_code == 404, path
    for path in (
        f"{RULES}2147483647/edit",
        f"{RULES}2147483647/toggle",
        f"{OUTBOX}/2147483647/retry",
        f"{OUTBOX}/2147483647/cancel",
    ):
        assert _post(client, path).status_code == 404, path


def test_navigation_and_dashboard_lead_to_reminders(
    app: Flask, coordinator: User, client: FlaskClient
) -> None:
    make_message(status=OutboxStatus.FAILED, last_error="550 no such mailbox")
    make_message()
    make_message()
    page = client.get("/coordinator/").text
    assert f'href="{RULES}"' in page  # the navigation and the card
    card = page[page.index('data-card="reminders"') :]
    card = card[: card.index("</section>")]
    assert "2 waiting" in card and "1 failed" in card
    assert "have not run yet" in card
    assert f'action="{RULES}run"' in card and f'href="{OUTBOX}"' in card


# Rules ----------------------------------------------------------------------------------------


def test_the_list_shows_every_rule_in_words(
    app: Flask, coordinator: User, client: FlaskClient
) -> None:
    make_default_rules()
    page = html.unescape(client.get(RULES).text)
    assert page.count("data-rule=") == 13
    for name in ("Birthday card", "Weekly digest", "Nothing logged for a while", "Welcome"):
        assert name in page
    for words in (
        "7 days before",
        "on the day",
        "14 days after the start",
        "after 60 days without an action, then every 60 days",
        "Mondays",
        "godparent, office staff",
        "Trial, appeal or hearing",
        "Switch off",
        "Run reminders now",
        "have not run yet",
        "Rules are not deleted",
    ):
        assert words in page, words
    assert f'href="{OUTBOX}"' in page and f'href="{NEW}"' in page


VALID = {
    "name": "Card, six weeks ahead",
    "trigger": "birthday",
    "days": "42",
    "to_sponsor": "y",
    "template": "birthday",
    "is_active": "y",
}


@pytest.mark.parametrize(
    ("fields", "stored"),
    [
        ({}, {"trigger": Trigger.BIRTHDAY, "offset_days": 42, "key_date_kinds": []}),
        (
            {
                "trigger": "key_date",
                "days": "3",
                "template": "key_date",
                "key_date_kinds": ["trial", "appeal"],
            },
            {"trigger": Trigger.KEY_DATE, "offset_days": 3, "key_date_kinds": ["appeal", "trial"]},
        ),
        (
            {"trigger": "sponsorship_start", "days": "21", "template": "welcome_followup"},
            {"trigger": Trigger.SPONSORSHIP_START, "offset_days": -21},
        ),
        (
            {"trigger": "inactivity", "days": "45", "template": "inactivity", "to_delegates": "y"},
            {"offset_days": -45, "to_sponsor": True, "to_delegates": True},
        ),
        (
            {
                "trigger": "coordinator_digest",
                "days": "9",
                "template": "coordinator_digest",
                "to_sponsor": "",
                "to_coordinators": "y",
                "key_date_kinds": ["trial"],
            },
            {"offset_days": 0, "to_sponsor": False, "to_coordinators": True, "key_date_kinds": []},
        ),
    ],
)
def test_create_a_rule(
    app: Flask,
    coordinator: User,
    client: FlaskClient,
    fields: dict[str, object],
    stored: dict[str, object],
) -> None:
    data = {key: value for key, value in {**VALID, **fields}.items() if value != ""}
    response = _post(client, NEW, NEW, **data)
    assert response.status_code == 302 and response.headers["Location"] == RULES
    rule = db.session.scalar(select(ReminderRule))
    assert rule.name == "Card, six weeks ahead" and rule.is_active
    for key, value in stored.items():
        assert getattr(rule, key) == value, key
    assert "is saved" in html.unescape(client.get(RULES).text)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"name": "  "}, "name", "required"),
        ({"template": "welcome"}, "template", "does not fit"),
        ({"to_sponsor": ""}, "to_sponsor", "Choose who gets"),
        ({"trigger": "inactivity", "template": "inactivity", "days": "0"}, "days", "at least 1"),
        (
            {
                "trigger": "coordinator_digest",
                "template": "coordinator_digest",
                "to_coordinators": "y",
            },
            "to_sponsor",
            "coordinators only",
        ),
        (
            {"trigger": "coordinator_digest", "template": "coordinator_digest", "to_sponsor": ""},
            "to_coordinators",
            "tick this box",
        ),
        ({"trigger": "full_moon"}, "trigger", "Not a valid choice"),
        ({"template": "../../base"}, "template", "Not a valid choice"),
        ({"days": "400"}, "days", "between 0 and 365"),
        ({"days": "soon"}, "days", "integer"),
        (
            {"trigger": "key_date", "template": "key_date", "key_date_kinds": ["moon"]},
            "key_date_kinds",
            "valid choice",
        ),
    ],
)
def test_bad_input_is_shown_at_the_field_and_changes_nothing(
    app: Flask,
    coordinator: User,
    client: FlaskClient,
    fields: dict[str, object],
    field: str,
    words: str,
) -> None:
    rule = make_default_rules()[0]
    before = count_rows(ReminderRule)
    data = {key: value for key, value in {**VALID, **fields}.items() if value != ""}
    created = _post(client, NEW, NEW, **data)
    assert created.status_code == 200
    assert words in field_errors(created).get(field, ""), field_errors(created)
    edited = _post(client, f"{RULES}{rule.id}/edit", NEW, **data)
    assert edited.status_code == 200
    assert words in field_errors(edited).get(field, "")
    assert count_rows(ReminderRule) == before
    db.session.expire_all()
    unchanged = db.session.get(ReminderRule, rule.id)
    assert (unchanged.name, unchanged.trigger, unchanged.offset_days, unchanged.template) == (
        "Birthday card",
        Trigger.BIRTHDAY,
        30,
        "birthday_card",
    )


def test_edit_a_rule(app: Flask, coordinator: User, client: FlaskClient) -> None:
    rules = make_default_rules()
    nudge = next(rule for rule in rules if rule.trigger is Trigger.INACTIVITY)
    form = client.get(f"{RULES}{nudge.id}/edit").text
    assert 'value="60"' in form  # stored as -60: the form speaks of days without an action
    assert 'value="Nothing logged for a while"' in form
    response = _post(
        client,
        f"{RULES}{nudge.id}/edit",
        f"{RULES}{nudge.id}/edit",
        name="Quiet for a month",
        trigger="inactivity",
        days="30",
        to_sponsor="y",
        to_coordinators="y",
        template="inactivity",
    )
    assert response.status_code == 302
    db.session.expire_all()
    nudge = db.session.get(ReminderRule, nudge.id)
    assert (
        nudge.name,
        nudge.offset_days,
        nudge.to_delegates,
        nudge.to_coordinators,
        nudge.is_active,
    ) == ("Quiet for a month", -30, False, True, False)
    assert "after 30 days without an action, then every 30 days" in html.unescape(
        client.get(RULES).text
    )
    assert count_rows(ReminderRule) == 13


def test_switch_a_rule_off_and_on(app: Flask, coordinator: User, client: FlaskClient) -> None:
    rule = make_default_rules()[0]
    path = f"{RULES}{rule.id}/toggle"
    off = _post(client, path)
    assert off.status_code == 302 and off.headers["Location"] == RULES
    db.session.expire_all()
    assert not db.session.get(ReminderRule, rule.id).is_active
    assert "switched off" in html.unescape(client.get(RULES).text)
    _post(client, path)
    db.session.expire_all()
    assert db.session.get(ReminderRule, rule.id).is_active


# Preview --------------------------------------------------------------------------------------


def test_preview_lists_what_the_rule_would_send(
    app: Flask, coordinator: User, client: FlaskClient, emails: None
) -> None:
    card = make_default_rules()[0]
    assert card.template == "birthday_card"
    sponsor = make_sponsor(email="mep@example.org")
    birthday = _today() + timedelta(days=35)
    prisoner = make_prisoner(
        name_latin="Maria Kalesnikava", birth_date=date(1984, birthday.month, birthday.day)
    )
    make_sponsorship(sponsor, prisoner)

    page = client.get(f"{RULES}{card.id}/preview")
    assert page.status_code == 200
    text = html.unescape(page.text)
    listed = text[text.index('data-list="preview"') : text.index("</table>")]
    assert "mep@example.org" in listed and "Maria Kalesnikava" in listed
    assert listed.count("<tr>") == 2  # the header and the one card reminder
    subject = re.search(r"data-sample-subject>([^<]*)<", page.text)
    assert subject and "Maria Kalesnikava" in html.unescape(subject.group(1))
    assert re.search(r"<pre[^>]*data-sample-text>", page.text)
    frame = f'<iframe sandbox src="{RULES}{card.id}/preview.html"'
    assert frame in page.text

    sample = client.get(f"{RULES}{card.id}/preview.html")
    assert sample.status_code == 200 and sample.mimetype == "text/html"
    assert "Maria Kalesnikava" in sample.text
    assert sample.headers["Content-Security-Policy"] == SANDBOX_CSP
    assert sample.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert count_rows(OutboxMessage) == 0  # a preview writes nothing


def test_preview_with_nothing_due(app: Flask, coordinator: User, client: FlaskClient) -> None:
    card = make_default_rules()[0]
    page = client.get(f"{RULES}{card.id}/preview")
    assert page.status_code == 200 and "data-empty" in page.text
    assert "Nothing to send in the next 30 days" in page.text
    assert "<iframe" not in page.text
    assert client.get(f"{RULES}{card.id}/preview.html").status_code == 404


def test_preview_shows_a_template_error(app: Flask, coordinator: User, client: FlaskClient) -> None:
    rule = ReminderRule(
        name="Broken", trigger=Trigger.BIRTHDAY, offset_days=3, template="no_such_template"
    )
    db.session.add(rule)
    sponsor = make_sponsor()
    birthday = _today() + timedelta(days=5)
    make_sponsorship(sponsor, make_prisoner(birth_date=date(1984, birthday.month, birthday.day)))
    page = client.get(f"{RULES}{rule.id}/preview")
    assert page.status_code == 200
    assert "data-problem" in page.text and "no_such_template" in page.text
    assert sponsor.email in page.text
    assert client.get(f"{RULES}{rule.id}/preview.html").status_code == 404


# Outbox ---------------------------------------------------------------------------------------


def _rows(page: str) -> list[str]:
    return re.findall(r'data-message="(\d+)"', page)


def test_outbox_filters_by_status_and_email(
    app: Flask, coordinator: User, client: FlaskClient
) -> None:
    rule = make_default_rules()[0]
    old = datetime(2026, 1, 5, 9, tzinfo=UTC)
    waiting = make_message(rule, recipient_email="anna@bundestag.example", created_at=old)
    sent = make_message(
        rule, status=OutboxStatus.SENT, sent_at=old, created_at=old + timedelta(hours=1)
    )
    failed = make_message(
        None,
        status=OutboxStatus.FAILED,
        attempts=5,
        last_error="550 mailbox unavailable " + "x" * 200,
        created_at=old + timedelta(hours=2),
    )
    cancelled = make_message(
        rule,
        status=OutboxStatus.CANCELLED,
        recipient_email="a_b%@ep.example",
        created_at=old + timedelta(hours=3),
    )

    everything = client.get(OUTBOX).text
    assert _rows(everything) == [str(m.id) for m in (cancelled, failed, sent, waiting)]
    assert re.search(r'data-count="all">4<', everything)
    assert re.search(r'data-count="pending">1<', everything)
    assert "Waiting" in everything and "Birthday card" in everything
    # In plain words, the server's own reply one click away.
    assert "The mail server refused to take the message. Given up after 5 attempts" in everything
    assert re.search(
        r"<summary>Technical details</summary><code data-error>550 mailbox unavailable x",
        everything,
    )

    assert _rows(client.get(f"{OUTBOX}?status=pending").text) == [str(waiting.id)]
    failed_only = client.get(f"{OUTBOX}?status=failed").text
    assert _rows(failed_only) == [str(failed.id)]
    assert f'action="{OUTBOX}/{failed.id}/retry"' in failed_only
    assert _rows(client.get(f"{OUTBOX}?status=cancelled").text) == [str(cancelled.id)]
    assert f"{OUTBOX}/{sent.id}/retry" not in client.get(f"{OUTBOX}?status=sent").text
    assert _rows(client.get(f"{OUTBOX}?q=BUNDESTAG").text) == [str(waiting.id)]
    assert _rows(client.get(f"{OUTBOX}?q=_b%25").text) == [str(cancelled.id)]
    searched = client.get(f"{OUTBOX}?q=%25").text  # a literal %, not "anything"
    assert _rows(searched) == [str(cancelled.id)]
    assert re.search(r'data-count="all">1<', searched)
    assert "No message matches" in client.get(f"{OUTBOX}?q=nobody&status=sent").text
    ignored = client.get(f"{OUTBOX}?status=lost&page=-2&q=")
    assert ignored.status_code == 200 and len(_rows(ignored.text)) == 4


def test_outbox_runs_the_same_queries_for_5_or_40_messages(
    app: Flask, coordinator: User, client: FlaskClient, count_queries
) -> None:
    rules = make_default_rules()
    for n in range(5):
        make_message(rules[n % 13], status=list(OutboxStatus)[n % 4])
    with count_queries() as few:
        first = client.get(OUTBOX)
    assert len(_rows(first.text)) == 5
    for n in range(35):
        make_message(rules[n % 13] if n % 5 else None, status=list(OutboxStatus)[n % 4])
    with count_queries() as many:
        second = client.get(OUTBOX)
    assert len(_rows(second.text)) == 40
    assert many.count == few.count


def test_message_page_escapes_what_it_shows(
    app: Flask, coordinator: User, client: FlaskClient
) -> None:
    message = make_message(
        make_default_rules()[0],
        email_subject="<script>alert(1)</script>",
        body_text="Dear <b>friend</b>\n",
        body_html="<p>Dear friend</p>",
        occurs_on=date(2026, 3, 1),
    )
    page = client.get(f"{OUTBOX}/{message.id}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert re.search(r"<pre[^>]*data-body-text>Dear &lt;b&gt;friend&lt;/b&gt;", page.text)
    assert f'<iframe sandbox src="{OUTBOX}/{message.id}.html"' in page.text
    body = client.get(f"{OUTBOX}/{message.id}.html")
    assert body.status_code == 200 and body.text == "<p>Dear friend</p>"
    assert body.headers["Content-Security-Policy"] == SANDBOX_CSP
    assert body.headers["X-Frame-Options"] == "SAMEORIGIN"
    no_html = make_message(body_html=None)
    assert client.get(f"{OUTBOX}/{no_html.id}.html").status_code == 404


def test_retry_a_failed_message(app: Flask, coordinator: User, client: FlaskClient) -> None:
    """A retry writes the message anew from today's data and sends it with the next run."""
    sponsor = make_sponsor()
    prisoner = make_prisoner(name_latin="Retried Prisoner", birth_date=date(1980, 12, 26))
    make_sponsorship(sponsor, prisoner)
    message = make_message(
        make_default_rules()[0],
        status=OutboxStatus.FAILED,
        attempts=5,
        last_error="421 try later",
        recipient_user_id=sponsor.user.id,
        recipient_email=sponsor.email,
        subject_ref=f"prisoner:{prisoner.id}",
        occurs_on=date(2026, 12, 26),
        email_subject="Old words",
    )
    path = f"{OUTBOX}/{message.id}"
    response = _post(client, f"{path}/retry", path)
    assert response.status_code == 302 and response.headers["Location"] == path
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message.id)
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)
    assert message.next_attempt_at is not None
    assert "Retried Prisoner" in message.email_subject and message.last_error is None
    assert "goes out with the next run" in html.unescape(client.get(path).text)


def test_retry_that_cannot_write_the_message_says_why(
    app: Flask, coordinator: User, client: FlaskClient
) -> None:
    """A message whose template had failed has no text; without its rule it cannot be
    written again, and stays failed."""
    message = make_message(
        None,
        status=OutboxStatus.FAILED,
        body_text="",
        last_error="TemplateNotFound: reminders/email/gone.txt",
    )
    path = f"{OUTBOX}/{message.id}"
    assert _post(client, f"{path}/retry", path).status_code == 302
    assert "could not be written again" in html.unescape(client.get(path).text)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status is OutboxStatus.FAILED


def test_retry_from_the_list_returns_to_the_list(
    app: Flask, coordinator: User, client: FlaskClient
) -> None:
    message = make_message(status=OutboxStatus.FAILED, attempts=5)
    back = f"{OUTBOX}?status=failed"
    response = _post(client, f"{OUTBOX}/{message.id}/retry", back, next=back)
    assert response.headers["Location"] == back
    elsewhere = _post(client, f"{OUTBOX}/{message.id}/cancel", back, next="//evil.example/")
    assert elsewhere.headers["Location"] == f"{OUTBOX}/{message.id}"


def test_cancel_a_waiting_message(app: Flask, coordinator: User, client: FlaskClient) -> None:
    message = make_message()
    path = f"{OUTBOX}/{message.id}"
    assert _post(client, f"{path}/cancel", path).status_code == 302
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status is OutboxStatus.CANCELLED
    assert "is cancelled" in client.get(path).text


def test_a_waiting_message_is_not_retried(
    app: Flask, coordinator: User, client: FlaskClient
) -> None:
    """A worker may be sending it this very moment: a retry could send it twice."""
    lease = datetime.now(UTC) + timedelta(minutes=10)
    message = make_message(attempts=1, next_attempt_at=lease)
    path = f"{OUTBOX}/{message.id}"
    assert f"{path}/retry" not in client.get(path).text
    assert _post(client, f"{path}/retry", path).status_code == 302
    assert "still waiting to go" in html.unescape(client.get(path).text)
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message.id)
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)


@pytest.mark.parametrize("action", ["retry", "cancel"])
def test_a_sent_message_stays_sent(
    app: Flask, coordinator: User, client: FlaskClient, action: str
) -> None:
    sent_at = datetime(2026, 2, 1, 8, tzinfo=UTC)
    message = make_message(status=OutboxStatus.SENT, attempts=1, sent_at=sent_at)
    path = f"{OUTBOX}/{message.id}"
    page = client.get(path).text
    assert f"{path}/retry" not in page and f"{path}/cancel" not in page
    response = _post(client, f"{path}/{action}", path)
    assert response.status_code == 302
    assert "sent already" in html.unescape(client.get(path).text)
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message.id)
    assert (message.status, message.attempts, message.sent_at) == (OutboxStatus.SENT, 1, sent_at)


def test_run_button_asks_the_worker_and_shows_how_the_run_gets_on(
    app: Flask, coordinator: User, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    message_id = make_message(recipient_email="mep@example.org", email_subject="Card time").id
    token = csrf_token(client, "/coordinator/")
    with mail.record_messages() as sent:  # mail is suppressed under TESTING, and recorded
        response = client.post(f"{RULES}run", data={"csrf_token": token})
    assert sent == []  # the web request never talks to the mail server
    run_page = response.headers["Location"]
    assert response.status_code == 302 and run_page.startswith(f"{RULES}runs/")
    page = client.get(run_page)
    assert 'data-run-status="requested"' in page.text
    assert '<meta http-equiv="refresh" content="3">' in page.text
    # A second click while it waits asks for nothing more: it shows the same run.
    again = client.post(f"{RULES}run", data={"csrf_token": token})
    assert again.headers["Location"] == run_page
    assert db.session.scalar(select(func.count()).select_from(ReminderRun)) == 1

    result = runner.invoke(args=["reminders", "run", "--quiet"])  # the next scheduled run

    assert result.exit_code == 0, result.output
    done = client.get(run_page)
    assert 'data-run-status="finished"' in done.text and "refresh" not in done.text
    assert re.search(r'data-count="sent">1<', done.text)
    assert db.session.scalar(select(func.count()).select_from(ReminderRun)) == 1
    message = db.session.get(OutboxMessage, message_id)
    assert message.status is OutboxStatus.SENT and message.sent_at is not None
    assert "Last run" in client.get("/coordinator/").text
    assert "Last run for" in client.get(RULES).text


def test_a_stale_rule_form_does_not_undo_a_newer_save(
    app: Flask, coordinator: User, client: FlaskClient
) -> None:
    """Two coordinators edit the same rule: the second, from a form read before the first
    saved, is shown what changed and keeps it unless they choose to save theirs over it."""
    rule = make_default_rules()[0]
    path = f"{RULES}{rule.id}/edit"
    page = client.get(path).text
    read_at = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    fields = {
        "csrf_token": token,
        "trigger": "birthday",
        "days": "30",
        "to_sponsor": "y",
        "template": "birthday_card",
        "is_active": "y",
    }
    assert (
        client.post(
            path, data={**fields, "version": read_at, "name": "Card, first save"}
        ).status_code
        == 302
    )

    stale = client.post(path, data={**fields, "version": read_at, "name": "Card, stale"})

    assert stale.status_code == 200 and 'id="conflict"' in stale.text
    assert "Card, first save" in html.unescape(stale.text)
    db.session.expire_all()
    assert db.session.get(ReminderRule, rule.id).name == "Card, first save"
    current = re.search(r'name="version"[^>]*value="(\d+)"', stale.text).group(1)
    kept = client.post(
        path, data={**fields, "version": current, "name": "Card, stale", "keep": "mine"}
    )
    assert kept.status_code == 302
    db.session.expire_all()
    assert db.session.get(ReminderRule, rule.id).name == "Card, stale"
