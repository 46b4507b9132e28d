"""`flask --app godparents prisoners import FILE [--dry-run]` and `prisoners export FILE`."""

from __future__ import annotations

import hashlib
import sys
from typing import BinaryIO

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from godparents.audit.services import record
from godparents.extensions import db
from godparents.prisoners import csvio
from godparents.timeutil import campaign_today

prisoners = AppGroup("prisoners", help="Import and export the prisoner registry as CSV.")


def init_app(app: Flask) -> None:
    app.cli.add_command(prisoners)


def _print_plan(plan: csvio.ImportPlan) -> None:
    for row in plan.created:
        click.echo(f"create {row.external_id}: {row.name}")
    for change in plan.changed:
        click.echo(f"change {change.row.external_id}: {change.row.name}")
        for column, old, new in change.shown():
            click.echo(f"    {column}: {old!r} -> {new!r}")


@prisoners.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True,
              help="Check the file and print what would change; write nothing.")
def import_prisoners(file: BinaryIO, dry_run: bool) -> None:
    """Create and update prisoners from a CSV FILE, matched by external_id.

    The file is checked completely first: if any row is bad, every problem is printed and
    nothing is written (exit code 1). A changed address is added to the address history.
    """
    data = file.read()
    result = csvio.read_prisoners(data)
    if not result.ok:
        for error in result.errors:
            click.echo(str(error), err=True)
        raise click.ClickException(
            f"{len(result.errors)} problem(s) in {result.bad_lines} row(s); nothing was imported.")

    with click.progressbar(result.rows, label="Comparing with the registry",
                           file=sys.stderr) as rows:
        plan = csvio.plan_import(rows, db.session)
    if dry_run:
        _print_plan(plan)
        click.echo(f"Dry run: {plan.summary()}. Nothing was written.")
        return

    today = campaign_today(current_app.config["TIMEZONE"])
    try:
        with click.progressbar(length=plan.writes, label="Writing", file=sys.stderr) as bar:
            csvio.apply_import(plan, db.session, today, progress=bar.update)
        record(None, "import", None, {"created": len(plan.created),
                                      "changed": len(plan.changed),
                                      "file_sha256": hashlib.sha256(data).hexdigest()})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"Imported: {plan.summary()}.")


@prisoners.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def export_prisoners(file: str) -> None:
    """Write every prisoner to FILE (`-` for standard output) in the import format."""
    if file == "-":
        count = csvio.export_prisoners(db.session, sys.stdout)
    else:
        with open(file, "w", encoding="utf-8", newline="") as stream:
            count = csvio.export_prisoners(db.session, stream)
    click.echo(f"Exported {count} prisoner(s).", err=True)
