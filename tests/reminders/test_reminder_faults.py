"""Exactly once under faults, with real processes and a mail server that misbehaves.

Each test counts the messages the server received per outbox message (by Message-ID) and
checks the promise: no message lost; at most the one in flight at a crash received twice;
none twice otherwise. The runners are the real command (`flask --app godparents reminders
run`) in processes of their own, killed, terminated and raced as in production; they run on
the test's database, SQLite or PostgreSQL.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from godparents.extensions import db
from godparents.reminders import delivery
from godparents.reminders.models import OutboxMessage, OutboxStatus, ReminderRun, RunStatus
from godparents.reminders.runner import plan_day
from godparents.reminders.writing import write_pending
from tests.conftest import SERVER_URL
from tests.factories import make_default_rules, make_prisoner, make_sponsor, make_sponsorship
from tests.faultsmtp import FaultyInbox, Server, faulty_server, mute_server
from tests.processes import Runners

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serial")]

TODAY = date(2026, 11, 26)  # the birthdays below are 30 days on: the card is due today


def plan_messages(count: int) -> list[str]:
    """``count`` birthday cards, planned and written (as a run before the fault would
    have); their Message-IDs."""
    make_default_rules()
    for number in range(count):
        sponsor = make_sponsor(email=f"mp{number:03}@example.org")
        make_sponsorship(
            sponsor, make_prisoner(name_latin=f"Prisoner {number}", birth_date=date(1980, 12, 26))
        )
    now = datetime.now(UTC)
    plan_day(TODAY, now)
    write_pending(TODAY, now)
    return message_ids()


def message_ids() -> list[str]:
    db.session.rollback()  # a fresh look: the runners write from other processes
    return sorted(db.session.scalars(select(OutboxMessage.email_message_id)))


def rows() -> list[OutboxMessage]:
    db.session.rollback()
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def assert_exactly_once(server: Server, expected: list[str], may_repeat: int = 0) -> None:
    """Every message arrived; at most ``may_repeat`` (the ones in flight at a crash)
    arrived twice, none more often; every row says sent."""
    counts = server.inbox.counts()
    assert sorted(counts) == sorted(expected), "lost or unknown messages"
    repeated = {mid: n for mid, n in counts.items() if n > 1}
    assert len(repeated) <= may_repeat and all(n == 2 for n in repeated.values()), repeated
    assert {row.status for row in rows()} == {OutboxStatus.SENT}


def wait_for(condition: Callable[[], bool], seconds: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what or condition}")
        time.sleep(0.02)


def finish(process: subprocess.Popen[str], seconds: float = 60) -> tuple[int, str]:
    out, err = process.communicate(timeout=seconds)
    return process.returncode, out + err


# Crashes ----------------------------------------------------------------------------------


def test_kill_9_mid_batch_sends_again_only_the_message_in_flight(runners: Runners) -> None:
    expected = plan_messages(12)
    with faulty_server(FaultyInbox(delay=0.3)) as server:  # takes it, then answers slowly
        first = runners.start(server.port)
        wait_for(lambda: server.inbox.count() >= 6, what="six messages")
        first.send_signal(signal.SIGKILL)  # between its 250s: the one in flight is unmarked
        first.wait(timeout=10)
        marked = sum(row.status is OutboxStatus.SENT for row in rows())
        assert 5 <= marked <= server.inbox.count()  # marked one by one, right after each
        # The next run takes the rest once the dead runner's lease has run out.
        time.sleep(4.5)
        code, output = finish(runners.start(server.port))
        assert code == 0, output
        assert_exactly_once(server, expected, may_repeat=1)


def test_sigterm_stops_between_two_messages_and_hands_the_rest_back(runners: Runners) -> None:
    expected = plan_messages(12)
    with faulty_server(FaultyInbox(delay=0.3)) as server:
        process = runners.start(server.port)
        wait_for(lambda: server.inbox.count() >= 3, what="three messages")
        asked = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code, output = finish(process, seconds=30)
        assert time.monotonic() - asked < 5  # the message in flight, and no more
        assert code == 0, output
        assert "stopped" in output
        got = server.inbox.count()
        waiting = [row for row in rows() if row.status is OutboxStatus.PENDING]
        assert len(waiting) == 12 - got  # each one that went was marked before it stopped
        # Handed back: due at once, no lease, no attempt used up.
        assert {(row.claimed_by, row.attempts) for row in waiting} == {(None, 0)}
        assert all(
            row.next_attempt_at is None or row.next_attempt_at <= datetime.now(UTC)
            for row in waiting
        )
        code, output = finish(runners.start(server.port))
        assert code == 0, output
        assert_exactly_once(server, expected)


def test_the_worker_stops_on_sigterm_within_one_message(runners: Runners) -> None:
    expected = plan_messages(10)
    with faulty_server(FaultyInbox(delay=0.3)) as server:
        worker = runners.start(server.port, "reminders", "worker", "--interval", "600")
        wait_for(lambda: server.inbox.count() >= 2, what="two messages")
        received = server.inbox.count()
        worker.send_signal(signal.SIGTERM)
        code, output = finish(worker, seconds=30)
        assert code == 0, output
        # It finished the message in flight and took no other (a count, not a duration: a
        # loaded machine may take seconds to get there).
        assert server.inbox.count() <= received + 1 < len(expected)
        code, output = finish(runners.start(server.port))
        assert code == 0, output
        assert_exactly_once(server, expected)


def test_three_runners_with_a_slow_server_and_a_short_lease_send_each_once(
    runners: Runners,
) -> None:
    """The lease (4 s) is far shorter than a runner's share of the work (12 messages of
    0.4 s): only renewing it as the batch goes on keeps the others off its messages. The
    third runner starts after the first one's lease would have run out unrenewed."""
    expected = plan_messages(18)
    with faulty_server(FaultyInbox(delay=0.4)) as server:
        processes = [runners.start(server.port, GODPARENTS_REMINDER_BATCH_SIZE="12")]
        time.sleep(1)
        processes.append(runners.start(server.port, GODPARENTS_REMINDER_BATCH_SIZE="12"))
        time.sleep(4.5)
        processes.append(runners.start(server.port, GODPARENTS_REMINDER_BATCH_SIZE="12"))
        for process in processes:
            code, output = finish(process, seconds=90)
            assert code == 0, output
        assert_exactly_once(server, expected)


# Connections -----------------------------------------------------------------------------


@pytest.mark.skipif(not SERVER_URL, reason="a terminated backend is PostgreSQL's")
def test_a_terminated_database_connection_sends_nothing_twice(
    runners: Runners, database_url: str
) -> None:
    """No transaction is open while SMTP talks (never "idle in transaction" for long);
    a connection killed mid-run is replaced and the marks still land."""
    expected = plan_messages(12)
    watcher = create_engine(database_url, isolation_level="AUTOCOMMIT")
    longest_idle, longest_query = 0.0, ""
    try:
        with faulty_server(FaultyInbox(delay=0.3)) as server, watcher.connect() as look:
            process = runners.start(server.port, name="runner-under-test")
            terminated = False
            while process.poll() is None:
                sending = server.inbox.count() > 0  # delivery under way, not the start
                for idle, query in look.execute(
                    text(
                        "SELECT extract(epoch FROM now() - state_change), query "
                        "FROM pg_stat_activity WHERE application_name = 'runner-under-test' "
                        "AND state = 'idle in transaction'"
                    )
                ):
                    if sending and float(idle) > longest_idle:
                        longest_idle, longest_query = float(idle), query
                if not terminated and server.inbox.count() >= 5:
                    killed = look.execute(
                        text(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE application_name = 'runner-under-test'"
                        )
                    ).scalar()
                    assert killed >= 1
                    terminated = True
                time.sleep(0.05)
            code, output = finish(process)
            assert terminated and code == 0, output
            assert_exactly_once(server, expected)
    finally:
        watcher.dispose()
    # A mark's own transaction, never a message's 0.3 s.
    assert longest_idle < 0.25, (longest_idle, longest_query)


def test_a_connection_dropped_in_data_is_opened_again_for_the_rest(app: Flask) -> None:
    """The 6th message's connection drops before the server took it: that message waits
    like a 4xx (one attempt used), the rest go on a new connection in the same run."""
    expected = plan_messages(10)
    now = datetime.now(UTC)
    with faulty_server(FaultyInbox(drop_at=6)) as server:
        app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_SUPPRESS_SEND=False)
        report = delivery.deliver(now)
        assert (report.sent, report.retrying, report.failed) == (9, 1, 0)
        [waiting] = [row for row in rows() if row.status is OutboxStatus.PENDING]
        assert waiting.attempts == 1 and "connection lost" in waiting.last_error
        assert {row.attempts for row in rows() if row.status is OutboxStatus.SENT} == {1}
        later = delivery.deliver(now + timedelta(minutes=5))
        assert later.sent == 1
        assert_exactly_once(server, expected)


def test_a_reply_lost_after_the_server_took_the_message_sends_that_one_twice(app: Flask) -> None:
    """The limit of SMTP: the server took the 6th and the connection died before its
    250 came back. The sender cannot know; it tries again, and that one arrives twice."""
    expected = plan_messages(8)
    now = datetime.now(UTC)
    with faulty_server(FaultyInbox(drop_at=6, drop_after_taking=True)) as server:
        app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_SUPPRESS_SEND=False)
        delivery.deliver(now)
        delivery.deliver(now + timedelta(minutes=5))
        assert_exactly_once(server, expected, may_repeat=1)
        assert sum(server.inbox.counts().values()) == 9


def test_a_server_that_never_greets_ends_the_run_with_nothing_used_up(runners: Runners) -> None:
    plan_messages(4)
    with mute_server() as mute:
        # It ends (finish raises if the run is still there after 30 s) because the greeting
        # did not come within MAIL_TIMEOUT (2 s here), whatever the machine's load.
        code, output = finish(runners.start(mute.port), seconds=30)
    assert code == 1, output
    assert "did not answer in time" in output
    assert {(row.status, row.attempts, row.claimed_by) for row in rows()} == {
        (OutboxStatus.PENDING, 0, None)
    }
    run = db.session.scalar(select(ReminderRun).order_by(ReminderRun.id.desc()).limit(1))
    assert run.status is RunStatus.UNDELIVERED


def test_a_server_slower_than_a_message_may_take_is_cut_off(app: Flask) -> None:
    """Each message has a deadline of its own (here 1 s): a server that takes 3 s to
    answer is cut off, and the message waits like a 4xx."""
    plan_messages(1)
    app.config.update(REMINDER_MESSAGE_SECONDS=1)
    with faulty_server(FaultyInbox(delay=3)) as server:
        app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_SUPPRESS_SEND=False)
        started = time.monotonic()
        report = delivery.deliver(datetime.now(UTC))
        assert time.monotonic() - started < 2.5
    assert report.retrying == 1
    [row] = rows()
    assert "no reply within 1 s" in row.last_error and row.attempts == 1


def test_a_server_that_dies_mid_run_leaves_the_rest_untried_and_the_run_failed(
    runners: Runners,
) -> None:
    expected = plan_messages(10)
    with faulty_server(FaultyInbox(delay=0.2)) as server:
        process = runners.start(server.port)
        wait_for(lambda: server.inbox.count() >= 4, what="four messages")
        server.stop()
        code, output = finish(process)
        assert code == 1, output  # could not deliver: the timer's unit shows as failed
        got = server.inbox.count()
        pending = [row for row in rows() if row.status is OutboxStatus.PENDING]
        # The one on its way when the server died may have arrived without its reply.
        assert 10 - got <= len(pending) <= 11 - got
        assert sum(row.attempts for row in pending) <= 1  # at most the one it was sending
        server.start()
        # The one in flight when the server died waits its backoff: pass it.
        db.session.execute(OutboxMessage.__table__.update().values(next_attempt_at=None))
        db.session.commit()
        code, output = finish(runners.start(server.port))
        assert code == 0, output
        assert_exactly_once(server, expected, may_repeat=1)


# Claims and the schema ---------------------------------------------------------------------


@pytest.mark.skipif(not SERVER_URL, reason="the planner's trap is PostgreSQL's")
def test_a_claim_takes_exactly_its_limit_on_postgresql_with_a_real_plan(app: Flask, runner) -> None:
    """At scale 1 and after ANALYZE, PostgreSQL may run a LIMIT ... SKIP LOCKED subquery
    again inside a semi-join and claim far more than asked; the claim must not."""
    make_default_rules()  # the migrations seed them; this database is made from the models
    result = runner.invoke(args=["demo", "seed", "--scale", "1"])
    assert result.exit_code == 0, result.output
    user_id, rule_id = db.session.execute(
        text("SELECT (SELECT min(id) FROM users), (SELECT min(id) FROM reminder_rules)")
    ).one()
    db.session.execute(
        text(
            "INSERT INTO outbox_messages (rule_id, recipient_user_id, recipient_email, "
            "subject_ref, occurs_on, locale, status, attempts, email_subject, created_at) "
            "SELECT :rule, :user, 'mp@example.org', 'prisoner:' || n, DATE '2026-11-26', 'en', "
            "'pending', 0, 'Card', now() FROM generate_series(1, 5000) AS n"
        ),
        {"rule": rule_id, "user": user_id},
    )
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()

    claimed = delivery.claim("owner-a", datetime.now(UTC), 50, timedelta(minutes=10))

    assert len(claimed) == 50
    owned = db.session.scalar(select(func.count()).where(OutboxMessage.claimed_by == "owner-a"))
    assert owned == 50
    again = delivery.claim("owner-b", datetime.now(UTC), 50, timedelta(minutes=10))
    assert len(again) == 50 and not set(again) & set(claimed)


def test_the_job_refuses_a_database_that_is_not_at_head(runners: Runners, databases) -> None:
    """A database left behind by a forgotten `db upgrade` (here: never migrated)."""
    runners.database_url = databases.create()
    engine = create_engine(runners.database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('8e3b1c7d2a55')"))
    engine.dispose()
    code, output = finish(runners.start(9))
    assert code == 2, output
    assert "db upgrade" in output and "8e3b1c7d2a55" in output
