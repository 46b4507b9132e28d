"""How fast reminders are planned, written and delivered, on a campaign ten times real size.

1. Builds a throw-away SQLite database (migrations, then ``demo seed --scale N``, timed).
2. Plans one day (the first run: today only) and then a whole year, day by day, as a daily
   job would (each day's plan inserted into the outbox), and reports both times.
3. Writes out (renders) a sample of the planned messages and reports the rate: writing is
   a step of its own between planning and delivery.
4. Delivers 5,000 written messages to a local SMTP sink (aiosmtpd in a process of its own)
   and, in the same run, sends the very same messages with raw ``smtplib`` over one
   connection; reports both rates and their ratio (five rounds back to back, medians),
   and what each message costs beyond raw smtplib: its own commit as sent (the price of
   "exactly once"), the claim and the lease.

Targets (2-core machine, SQLite): one day under 0.5 s, a year under 30 s, delivery at
least 0.5 of raw smtplib (each message commits on its own; a real mail server takes far
longer per message than that commit). Exit code 0 when all three are met.

Run from the project root:

    .venv/bin/python bench/reminders.py [--scale 10] [--messages 5000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import random
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import selectinload

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from godparents import create_app  # noqa: E402
from godparents.actions.models import Action, ActionKind  # noqa: E402
from godparents.extensions import db  # noqa: E402
from godparents.reminders import delivery, runner, writing  # noqa: E402
from godparents.reminders.models import OutboxMessage, OutboxStatus  # noqa: E402
from godparents.sponsorships.models import Sponsorship, SponsorshipStatus  # noqa: E402

BIN = Path(sys.executable).parent
# The key for the two-factor keys in the database: one for the bench's processes.
ENCRYPTION_KEY = Fernet.generate_key().decode()
TARGET_DAY, TARGET_YEAR, TARGET_RATIO = 0.5, 30.0, 0.5

SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller

class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def flask(database: str, *args: str) -> str:
    environment = {
        **os.environ,
        "GODPARENTS_SQLALCHEMY_DATABASE_URI": database,
        "GODPARENTS_SECRET_KEY": "bench",
        "GODPARENTS_DEMO_PASSWORD": "bench-password",
        "GODPARENTS_ENCRYPTION_KEY": ENCRYPTION_KEY,
    }
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "godparents", *args],
        env=environment,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def at_six(day: date) -> datetime:
    return datetime.combine(day, clock(6), tzinfo=UTC)


class Finding:
    """Times ``runner.plan`` (finding what is due, without inserting it) as it runs."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.original = runner.plan

    def __call__(self, *args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return self.original(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


class Campaign:
    """The campaign going on while the year is replayed: each day, as many actions as it
    logged on an average day of its history, on pairings picked at random. Without them
    every pairing would fall quiet and be nudged, which no real year looks like."""

    def __init__(self) -> None:
        first, last, count = db.session.execute(
            select(
                func.min(Action.occurred_on), func.max(Action.occurred_on), func.count(Action.id)
            )
        ).one()
        self.per_day = round(count / max((last - first).days, 1)) if count else 0
        self.pairings = list(
            db.session.scalars(
                select(Sponsorship.id).where(Sponsorship.status == SponsorshipStatus.ACTIVE)
            )
        )
        self.random = random.Random(2026)  # noqa: S311  (a benchmark's dice)

    def log_actions(self, day: date) -> None:
        if not self.pairings:
            return
        db.session.execute(
            insert(Action),
            [
                {
                    "sponsorship_id": self.random.choice(self.pairings),
                    "kind": ActionKind.LETTER,
                    "occurred_on": day,
                    "summary": "A letter (benchmark)",
                    "is_public": False,
                }
                for _ in range(self.per_day)
            ],
        )
        db.session.commit()


def plan(today: date, days: int) -> tuple[float, float, float, int, int]:
    """One day, then ``days`` more day by day, as a daily job would plan them (each
    day's plan inserted into the outbox and committed); also how much of the year was
    spent finding what is due. The actions the campaign logs meanwhile are not timed."""
    started = time.perf_counter()
    first = runner.plan_day(today, at_six(today))
    one_day = time.perf_counter() - started
    planned = len(first.new)
    campaign = Campaign()
    finding = runner.plan = Finding()
    year = 0.0
    try:
        for offset in range(1, days + 1):
            day = today + timedelta(days=offset)
            campaign.log_actions(day - timedelta(days=1))  # yesterday's letters
            started = time.perf_counter()
            planned += len(runner.plan_day(day, at_six(day)).new)
            year += time.perf_counter() - started
    finally:
        runner.plan = finding.original
    return one_day, year, finding.seconds, planned, campaign.per_day


def keep_only(count: int, today: date) -> list[int]:
    """Leave exactly ``count`` messages due (written), cancelling the rest for the test."""
    ids = list(db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id).limit(count)))
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.not_in(ids))
        .values(status=OutboxStatus.CANCELLED)
    )
    db.session.commit()
    return ids


def write(today: date) -> tuple[float, int]:
    started = time.perf_counter()
    written = writing.write_pending(today, at_six(today))
    return time.perf_counter() - started, written.count


def reset(ids: list[int]) -> None:
    """The messages waiting again, as written (delivery alone keeps the composed bytes)."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=None,
            sent_at=None,
            claimed_by=None,
        )
    )
    db.session.commit()


def ours(ids: list[int], now: datetime) -> float:
    started = time.perf_counter()
    report = delivery.deliver(now)
    elapsed = time.perf_counter() - started
    if report.sent != len(ids):
        raise RuntimeError(f"only {report.sent} of {len(ids)} sent: {report.errors[:3]}")
    return len(ids) / elapsed


def raw(ids: list[int], port: int, sender: str) -> float:
    """The same messages, composed beforehand, over one plain smtplib connection."""
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .options(selectinload(OutboxMessage.content))
        .order_by(OutboxMessage.id)
    ).all()
    wire = [(row.recipient_email, row.mime) for row in rows if row.mime is not None]
    started = time.perf_counter()
    connection = smtplib.SMTP("127.0.0.1", port)
    for to, data in wire:
        connection.sendmail(sender, [to], data)
    connection.quit()
    return len(wire) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="godparents-bench-") as folder:
        database = f"sqlite:///{Path(folder) / 'bench.db'}"
        started = time.perf_counter()
        flask(database, "db", "upgrade")
        flask(database, "demo", "seed", "--public-demo", "--scale", str(options.scale))
        print(f"seed --scale {options.scale}: {time.perf_counter() - started:.1f} s")

        port = free_port()
        sink = subprocess.Popen(
            [sys.executable, "-c", SINK, str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if sink.stdout is None or sink.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP sink did not start")
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database,
                "SECRET_KEY": "bench",
                "ENCRYPTION_KEY": ENCRYPTION_KEY,
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": port,
                "MAIL_SUPPRESS_SEND": False,
                "BASE_URL": "https://godparents.example",
            }
        )
        try:
            with app.app_context():
                today = date.today()
                one_day, year, finding, planned, per_day = plan(today, options.days)
                print(f"plan one day: {one_day:.3f} s (target < {TARGET_DAY} s)")
                print(
                    f"plan {options.days} days, day by day: {year:.1f} s "
                    f"(target < {TARGET_YEAR} s), {planned:,} messages planned "
                    f"while the campaign logged {per_day} actions a day; of that, "
                    f"finding what is due {finding:.1f} s and inserting it into the "
                    f"outbox {year - finding:.1f} s"
                )
                ids = keep_only(options.messages, today)
                seconds, count = write(today)
                print(f"write {count:,} messages: {seconds:.1f} s ({count / seconds:,.0f}/s)")
                ratios, raw_rates, our_rates = [], [], []
                for _round in range(options.rounds):  # back to back, so drifts cancel out
                    reset(ids)
                    raw_rates.append(raw(ids, port, app.config["MAIL_DEFAULT_SENDER"]))
                    reset(ids)
                    our_rates.append(ours(ids, at_six(today)))
                    ratios.append(our_rates[-1] / raw_rates[-1])
                ratio = statistics.median(ratios)
                ours_ms = 1000 / statistics.median(our_rates)
                raw_ms = 1000 / statistics.median(raw_rates)
                print(
                    f"per message: ours {ours_ms:.2f} ms, raw smtplib {raw_ms:.2f} ms; the "
                    f"difference, {ours_ms - raw_ms:.2f} ms, is mostly the message's own "
                    f"commit as sent"
                )
                print(
                    f"deliver {len(ids):,}, {options.rounds} rounds: ours "
                    f"{statistics.median(our_rates):,.0f}/s, raw smtplib "
                    f"{statistics.median(raw_rates):,.0f}/s (medians); ratio {ratio:.2f} "
                    f"(median of the rounds' {', '.join(f'{r:.2f}' for r in ratios)}; "
                    f"target >= {TARGET_RATIO})"
                )
                db.session.remove()
        finally:
            if sink.stdin is not None:
                sink.stdin.close()
            sink.wait(timeout=10)
        met = one_day < TARGET_DAY and year < TARGET_YEAR and ratio >= TARGET_RATIO
        print("all targets met" if met else "TARGETS MISSED")
        return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
