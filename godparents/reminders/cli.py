"""`flask --app godparents reminders run [--today YYYY-MM-DD] [--dry-run]`,
`reminders worker --interval SECONDS` and `reminders bounces`: what cron, a systemd timer
or a plain loop call.

Exit codes of `run`: 0 when every due message was dealt with (or it was told to stop);
1 when the mail server could not be reached, time ran out or the run failed, so that the
timer's unit shows as failed and monitoring sees it; 2 when it refused to start (the
database is not at the migrations' head).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from types import FrameType

import click
from flask import current_app
from flask.cli import AppGroup

from godparents.extensions import db
from godparents.reminders import bounces, runner
from godparents.reminders.delivery import system_clock
from godparents.reminders.models import RunStatus
from godparents.timeutil import campaign_today

reminders = AppGroup("reminders", help="Plan and send the reminder emails.")

EXIT_UNDELIVERED = 1
EXIT_REFUSED = 2


def _print_plan(planned: runner.Planned, dry_run: bool) -> None:
    click.echo(f"window: {planned.start.isoformat()} to {planned.today.isoformat()}")
    new = {item.key for item in planned.new}
    for item in planned.due:
        fresh = "would plan" if dry_run else "planned"
        state = fresh if item.key in new else "already planned"
        click.echo(
            f"{state}: {item.send_on.isoformat()} rule {item.rule.id} "
            f"({item.rule.template}) to user {item.recipient.user_id} about "
            f"{item.event.subject_ref} on {item.event.on.isoformat()}"
        )
    click.echo(
        f"{len(planned.new)} new of {len(planned.due)} due"
        + (" (dry run: nothing written, nothing sent)" if dry_run else "")
    )


def _summary(report: runner.RunReport) -> str:
    """One line per run, for the log and the terminal."""
    written = report.written.count if report.written else 0
    problems = len(report.written.problems) if report.written else 0
    sent = report.delivered
    line = (
        f"reminder run {report.run_id}: {report.status}; planned {len(report.planned.new)},"
        f" written {written}, could not write {problems}"
    )
    if sent is not None:
        line += f", sent {sent.sent}, to retry {sent.retrying}, failed {sent.failed}"
        if sent.unreachable:
            line += f" ({sent.unreachable})"
        if sent.lost_leases:
            line += f", {sent.lost_leases} sent after their lease ran out"
    return line


def run_once(
    today: date | None, dry_run: bool, stop: Callable[[], bool], verbose: bool = True
) -> int:
    """One run, reported on the terminal and in the log; its exit code. The session is
    closed after it, whatever happens."""
    now = system_clock()
    day = today or campaign_today(current_app.config["TIMEZONE"], now)
    try:
        runner.check_schema()
        report = runner.run(day, system_clock, dry_run=dry_run, stop=stop)
        if verbose or dry_run:
            _print_plan(report.planned, dry_run)
    except runner.SchemaMismatch as error:
        click.echo(f"Refusing to run: {error}", err=True)
        return EXIT_REFUSED
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()
    if dry_run:
        return 0
    line = _summary(report)
    click.echo(line)
    current_app.logger.info("%s", line)
    if report.written is not None:
        for message_id, problem in report.written.problems.items():
            click.echo(f"  message {message_id}: {problem}", err=True)
    if report.delivered is not None:
        for failure in report.delivered.errors:
            click.echo(f"  {failure}", err=True)
    if report.status in (RunStatus.UNDELIVERED, RunStatus.CRASHED):
        return EXIT_UNDELIVERED
    return 0


def _stop_flag() -> Callable[[], bool]:
    """Stop between two messages on SIGTERM or Ctrl+C; the message on its way finishes
    within its own deadline (REMINDER_MESSAGE_SECONDS)."""
    stopping: list[int] = []  # a plain flag: a signal handler must not take locks

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return lambda: bool(stopping)


@reminders.command("run")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Plan as if it were this day (YYYY-MM-DD) in the campaign's time zone.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing, send nothing.")
@click.option("--quiet", is_flag=True, help="Print the summary only, not every reminder.")
def run(today: datetime | None, dry_run: bool, quiet: bool) -> None:
    """Plan today's reminders into the outbox, then send what is due.

    Safe to run as often as you like and on several machines at once: every reminder is
    sent once (see docs/reminders.md for the one exception). Missed days are caught up
    (REMINDER_GRACE_DAYS). Exit code 1 when not everything due could be delivered, 2 when
    the database needs `db upgrade` first.
    """
    code = run_once(today.date() if today else None, dry_run, _stop_flag(), not quiet)
    raise SystemExit(code)


@reminders.command("worker")
@click.option(
    "--interval",
    type=click.IntRange(min=10),
    default=900,
    show_default=True,
    help="Seconds between runs.",
)
def worker(interval: int) -> None:
    """Run again and again, for hosts without cron or systemd timers; a coordinator's "Run
    reminders now" starts a run within seconds. Stop with Ctrl+C or SIGTERM: it stops
    between two messages."""
    stopping = _stop_flag()
    while not stopping():
        try:
            code = run_once(None, dry_run=False, stop=stopping, verbose=False)
        except Exception:
            current_app.logger.exception("reminder run failed")
            code = EXIT_UNDELIVERED
        if code == EXIT_REFUSED:
            time.sleep(1)  # a deploy half done: wait for the upgrade, but not in a tight loop
        _wait(interval, stopping)


def _wait(interval: int, stopping: Callable[[], bool]) -> None:
    """Sleep until the next run is due, a coordinator asks for one, or it is told to stop
    (looked at every second; the database every few)."""
    for second in range(interval):
        if stopping():
            return
        if second % 2 == 1:
            try:
                if runner.requested_run_waiting():
                    return
            except Exception:
                current_app.logger.exception("could not look for requested runs")
            finally:
                db.session.remove()
        time.sleep(1)


@reminders.command("bounces")
@click.option(
    "--mailbox",
    default=None,
    help="maildir:/path or imaps://user:password@host/FOLDER (default: REMINDER_BOUNCE_MAILBOX).",
)
def read_bounces(mailbox: str | None) -> None:
    """Read delivery reports from the bounce mailbox: hard bounces stop mail to that
    address, soft ones send the message again later. `reminders run` does this too when
    REMINDER_BOUNCE_MAILBOX is set."""
    location = mailbox or current_app.config.get("REMINDER_BOUNCE_MAILBOX")
    if not location:
        raise click.UsageError("no mailbox: give --mailbox or set REMINDER_BOUNCE_MAILBOX")
    try:
        outcome = bounces.read_mailbox(location, datetime.now(UTC))
    except bounces.MailboxError as error:
        click.echo(f"Could not read the bounce mailbox: {error}", err=True)
        raise SystemExit(EXIT_UNDELIVERED) from error
    finally:
        db.session.remove()
    click.echo(
        f"hard bounces {outcome.hard}, soft bounces {outcome.soft}, other mail {outcome.ignored}"
    )
