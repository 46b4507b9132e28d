"""Unsubscribing from a kind of reminder, from the email's link: no login, only by POST,
the one-click POST of RFC 8058 without a form, and nothing for a forged or spoiled link."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient

from godparents.auth.models import User
from godparents.extensions import db
from godparents.reminders.messages import unsubscribe_token
from godparents.reminders.models import OutboxMessage, OutboxStatus, ReminderRule, Trigger
from tests.factories import make_default_rules, make_sponsor


def _link(web_app: Flask, user_id: int, trigger: Trigger = Trigger.BIRTHDAY) -> str:
    """The link as the serving app signs it (each test app has a key of its own)."""
    with web_app.app_context():
        return f"/reminders/unsubscribe/{unsubscribe_token(user_id, trigger)}"


def _waiting(rule: ReminderRule, user: User, key: str) -> OutboxMessage:
    message = OutboxMessage(
        rule=rule,
        recipient_user_id=user.id,
        recipient_email=user.email,
        subject_ref=f"prisoner:{key}",
        occurs_on=date(2026, 12, 26),
        email_subject="Card",
        body_text="Card\n",
    )
    db.session.add(message)
    db.session.commit()
    return message


def test_one_click_unsubscribes_without_login_and_cancels_what_waits(
    app: Flask, web_app: Flask, client: FlaskClient
):
    rules = {rule.template: rule for rule in make_default_rules()}
    user = make_sponsor(email="mep@example.org").user
    card = _waiting(rules["birthday_card"], user, "a")
    anniversary = _waiting(rules["detention_anniversary"], user, "b")
    path = _link(web_app, user.id)

    # What a mail program sends (RFC 8058): a POST with this body, no cookie, no token.
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).reminder_opt_outs == ["birthday"]
    assert db.session.get(OutboxMessage, card.id).status is OutboxStatus.CANCELLED
    assert db.session.get(OutboxMessage, anniversary.id).status is OutboxStatus.PENDING
    again = client.post(path)  # twice is the same as once
    assert again.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).reminder_opt_outs == ["birthday"]


def test_looking_at_the_page_changes_nothing(app: Flask, web_app: Flask, client: FlaskClient):
    user = make_sponsor(email="mep@example.org").user
    page = client.get(_link(web_app, user.id))

    assert page.status_code == 200
    assert "me…@example.org" in page.text and "mep@example.org" not in page.text
    assert '<form method="post">' in page.text
    db.session.expire_all()
    assert db.session.get(User, user.id).reminder_opt_outs == []


def test_a_forged_or_spoiled_link_does_nothing(app: Flask, web_app: Flask, client: FlaskClient):
    user = make_sponsor().user
    good = _link(web_app, user.id)
    # The test's own app has another secret key: its signature is a forgery here.
    signed_elsewhere = f"/reminders/unsubscribe/{unsubscribe_token(user.id, Trigger.BIRTHDAY)}"
    for path in (
        good[:-2] + "xx",
        "/reminders/unsubscribe/nonsense",
        _link(web_app, user.id + 99, Trigger.KEY_DATE),
        signed_elsewhere,
    ):
        response = client.post(path)
        assert response.status_code == 404
        assert "not valid" in response.text
    db.session.expire_all()
    assert db.session.get(User, user.id).reminder_opt_outs == []
