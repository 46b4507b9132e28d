"""`flask --app godparents reminders run [--today YYYY-MM-DD] [--dry-run]` and
`reminders worker --interval SECONDS`: what cron, a systemd timer or a plain loop call."""

from __future__ import annotations

import signal
import time
from datetime import UTC, date, datetime
from types import FrameType

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from godparents.extensions import db
from godparents.reminders import services
from godparents.timeutil import campaign_today

reminders = AppGroup("reminders", help="Plan and send the reminder emails.")


def init_app(app: Flask) -> None:
    app.cli.add_command(reminders)


def _print_plan(planned: services.Planned, dry_run: bool) -> None:
    click.echo(f"window: {planned.start.isoformat()} to {planned.today.isoformat()}")
    existing = {item.key for item in planned.due} - {item.key for item in planned.new}
    for item in planned.due:
        if dry_run:
            state = "already planned" if item.key in existing else "would plan"
        else:
            state = "already planned" if item.key in existing else "planned"
        click.echo(f"{state}: {item.send_on.isoformat()} rule {item.rule.id} "
                   f"({item.rule.template}) to user {item.recipient.user_id} about "
                   f"{item.event.subject_ref} on {item.event.on.isoformat()}")
    click.echo(f"{len(planned.new)} new of {len(planned.due)} due"
               + (" (dry run: nothing written, nothing sent)" if dry_run else ""))


def run_once(today: date | None, dry_run: bool, verbose: bool = True) -> None:
    """One run, reported on the terminal; the session is closed after it, whatever happens."""
    now = datetime.now(UTC)
    day = today or campaign_today(current_app.config["TIMEZONE"], now)
    try:
        report = services.run(day, now, dry_run=dry_run)
        if verbose:
            _print_plan(report.planned, dry_run)
        else:
            click.echo(f"{now.isoformat(timespec='seconds')}: {len(report.planned.new)} planned")
        _print_delivery(report)
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()


def _print_delivery(report: services.RunReport) -> None:
    if report.written is not None:
        click.echo(f"written {report.written.count}, could not write "
                   f"{len(report.written.problems)}")
        for message_id, problem in report.written.problems.items():
            click.echo(f"  message {message_id}: {problem}", err=True)
    sent = report.delivered
    if sent is None:
        return
    click.echo(f"sent {sent.sent}, to retry {sent.retrying}, failed {sent.failed}")
    for error in sent.errors:
        click.echo(f"  {error}", err=True)


@reminders.command("run")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Plan as if it were this day (YYYY-MM-DD) in the campaign's time zone.")
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing, send nothing.")
def run(today: datetime | None, dry_run: bool) -> None:
    """Plan today's reminders into the outbox, then send what is due.

    Safe to run as often as you like and on several machines at once: every reminder has
    one key and is sent once. Missed days are caught up (REMINDER_GRACE_DAYS).
    """
    run_once(today.date() if today else None, dry_run)


@reminders.command("worker")
@click.option("--interval", type=click.IntRange(min=10), default=900, show_default=True,
              help="Seconds between runs.")
def worker(interval: int) -> None:
    """Run again and again, for hosts without cron or systemd timers; stop with Ctrl+C or
    SIGTERM (it finishes the run it is in)."""
    stopping: list[int] = []  # a plain flag: a signal handler must not take locks

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stopping:
        try:
            run_once(None, dry_run=False, verbose=False)
        except Exception:
            current_app.logger.exception("reminder run failed")
        for _second in range(interval):  # wake within a second of being told to stop
            if stopping:
                break
            time.sleep(1)
