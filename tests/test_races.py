"""Requests that race each other, against a served app (threads, real sockets), on SQLite
and on PostgreSQL: what the app checks once must hold however many requests arrive at once."""

from __future__ import annotations

from functools import partial

import pytest

from tests.concurrency import WebClient, at_once
from tests.conftest import totp_code
from tests.factories import PASSWORD, make_coordinator

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serial")]


def _password_step(client: WebClient, email: str, password: str = PASSWORD) -> None:
    reply = client.post("/auth/login", client.form("/auth/login", email=email,
                                                   password=password))
    assert reply.location.endswith("/auth/two-factor"), reply.status


@pytest.mark.settings(TWO_FACTOR_LIMIT_PER_ACCOUNT="100 per 15 minutes",
                      TWO_FACTOR_LIMIT_PER_ADDRESS="100 per 15 minutes")
def test_one_code_logs_in_once_when_sent_at_the_same_moment(app, live_server) -> None:
    """Finding 1: the last-step check read, then wrote; two logins with one code both got in."""
    for _round in range(4):  # a race may be won by chance once; four times, hardly
        coordinator = make_coordinator()
        clients = [WebClient(live_server.url) for _ in range(10)]
        for client in clients:
            _password_step(client, coordinator.email)
        code = totp_code(coordinator.email)
        forms = [client.form("/auth/two-factor", code=code) for client in clients]
        replies = at_once([partial(client.post, "/auth/two-factor", form)
                           for client, form in zip(clients, forms, strict=True)])
        statuses = sorted(reply.status for reply in replies)
        assert statuses == [200] * 9 + [302], str(statuses)
        assert all("used already" in reply.text for reply in replies if reply.status == 200)
