"""Requests that race each other, and replies whose timing could tell something, against a
served app (threads, real sockets), on SQLite and on PostgreSQL: what the app checks once
must hold however many requests arrive at once."""

from __future__ import annotations

import threading
import time
from functools import partial

import pytest
from sqlalchemy import func, select

from godparents.audit.models import AuditEvent
from godparents.extensions import db
from tests.concurrency import WebClient, at_once
from tests.factories import PASSWORD, make_coordinator, make_sponsor
from tests.helpers import totp_code

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serial")]
# A password check that takes a few milliseconds, as in production it takes many: the
# window in which requests overtake each other is as wide as the check.
SLOWER_HASHING = {"ARGON2_TIME_COST": 2, "ARGON2_MEMORY_COST": 8192}


def _events(action: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).where(AuditEvent.action == action))


def _password_step(client: WebClient, email: str, password: str = PASSWORD) -> None:
    reply = client.post("/auth/login", client.form("/auth/login", email=email, password=password))
    assert reply.location.endswith("/auth/two-factor"), reply.status


@pytest.mark.settings(
    TWO_FACTOR_LIMIT_PER_ACCOUNT="100 per 15 minutes",
    TWO_FACTOR_LIMIT_PER_ADDRESS="100 per 15 minutes",
)
def test_one_code_logs_in_once_when_sent_at_the_same_moment(app, live_server) -> None:
    """Finding 1: the last-step check read, then wrote; two logins with one code both got in."""
    for _round in range(4):  # a race may be won by chance once; four times, hardly
        coordinator = make_coordinator()
        clients = [WebClient(live_server.url) for _ in range(10)]
        for client in clients:
            _password_step(client, coordinator.email)
        code = totp_code(coordinator.email, lasting=30)  # ten posts on a busy machine
        forms = [client.form("/auth/two-factor", code=code) for client in clients]
        replies = at_once(
            [
                partial(client.post, "/auth/two-factor", form)
                for client, form in zip(clients, forms, strict=True)
            ]
        )
        statuses = sorted(reply.status for reply in replies)
        assert statuses == [200] * 9 + [302], str(statuses)
        assert all("used already" in reply.text for reply in replies if reply.status == 200)


def test_a_reset_reply_does_not_wait_for_the_mail_server(app, live_server, smtp_server) -> None:
    """Finding 3: the reset email was sent inside the request, for existing accounts only,
    so the reply took longer for them. Now the reply goes first, whatever the address: with
    the mail server holding the message, the reply for a real account still arrives."""
    email = make_sponsor().email
    smtp_server.inbox.gate = threading.Event()
    client = WebClient(live_server.url)
    replies = []
    worker = threading.Thread(
        target=lambda: replies.append(
            client.post("/auth/reset", client.form("/auth/reset", email=email))
        )
    )
    try:
        worker.start()
        worker.join(timeout=15)  # far longer than a reply takes; the mail server waits 60 s
        assert replies and replies[0].status == 302, "the reply waited for the mail server"
    finally:
        smtp_server.inbox.gate.set()
        worker.join(timeout=60)
    for _ in range(100):  # the link still goes, once the reply has gone
        if smtp_server.inbox.messages:
            break
        time.sleep(0.1)
    assert [m["To"] for m in smtp_server.inbox.messages] == [email]


@pytest.mark.settings(**SLOWER_HASHING)
def test_parallel_wrong_passwords_are_counted_before_they_are_checked(app, live_server) -> None:
    """Finding 4: failures were counted after the reply, so 30 wrong passwords sent at once
    were all checked against a limit of 10."""
    email = make_sponsor().email
    clients = [WebClient(live_server.url) for _ in range(30)]
    forms = [
        client.form("/auth/login", email=email, password=f"wrong password {n}")
        for n, client in enumerate(clients)
    ]
    replies = at_once(
        [
            partial(client.post, "/auth/login", form)
            for client, form in zip(clients, forms, strict=True)
        ]
    )
    statuses = sorted(reply.status for reply in replies)
    assert statuses == [200] * 10 + [429] * 20, str(statuses)
    assert _events("login_failed") == 10
    # And the right password, after all that, from a new browser: still refused.
    late = WebClient(live_server.url)
    assert (
        late.post("/auth/login", late.form("/auth/login", email=email, password=PASSWORD)).status
        == 429
    )


@pytest.mark.settings(LOGIN_LIMIT_PER_ADDRESS="10 per 15 minutes", **SLOWER_HASHING)
def test_parallel_logins_from_one_address_are_counted_before_they_are_checked(
    app, live_server
) -> None:
    clients = [WebClient(live_server.url) for _ in range(30)]
    forms = [
        client.form("/auth/login", email=f"someone{n}@example.org", password="not the password")
        for n, client in enumerate(clients)
    ]
    replies = at_once(
        [
            partial(client.post, "/auth/login", form)
            for client, form in zip(clients, forms, strict=True)
        ]
    )
    assert sorted(reply.status for reply in replies) == [200] * 10 + [429] * 20
    assert _events("login_failed") == 10


def test_parallel_wrong_codes_are_counted_before_they_are_checked(app, live_server) -> None:
    """Finding 4: 16 codes were checked against a limit of 5."""
    email = make_coordinator().email
    clients = [WebClient(live_server.url) for _ in range(16)]
    for client in clients:
        _password_step(client, email)
    forms = [client.form("/auth/two-factor", code=f"wrong-{n}") for n, client in enumerate(clients)]
    replies = at_once(
        [
            partial(client.post, "/auth/two-factor", form)
            for client, form in zip(clients, forms, strict=True)
        ]
    )
    assert sorted(reply.status for reply in replies) == [200] * 5 + [429] * 11
    assert _events("two_factor_failed") == 5
