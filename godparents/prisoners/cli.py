"""`flask --app godparents prisoners import FILE [--dry-run] [--accept-identity-changes]`
and `prisoners export FILE`."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import BinaryIO

import click
from flask import current_app
from flask.cli import AppGroup

from godparents.audit.services import record
from godparents.extensions import db
from godparents.prisoners import csvio, import_mapping
from godparents.prisoners.import_apply import apply_import
from godparents.prisoners.import_plan import ImportPlan, plan_import
from godparents.prisoners.import_read import read_prisoners, read_table
from godparents.timeutil import campaign_today

prisoners = AppGroup("prisoners", help="Import and export the prisoner registry.")


def _print_plan(plan: ImportPlan) -> None:
    for row in plan.created:
        click.echo(f"create {row.external_id}: {row.name}")
        for found in plan.duplicates.get(row.external_id, []):
            click.echo(f"    possible duplicate of {found.external_id}: {found.name_latin}")
    for change in plan.changed:
        click.echo(f"change {change.row.external_id}: {change.row.name}")
        for column, old, new in change.shown():
            click.echo(f"    {column}: {old!r} -> {new!r}")
        if change.ends_detention and change.godparents:
            click.echo(f"    ends the godparenthoods of {', '.join(change.godparents)}")
    _print_identity_changes(plan)


def _print_identity_changes(plan: ImportPlan) -> None:
    for change in plan.identity_changes:
        click.echo(
            f"IDENTITY CHANGE {change.row.external_id} ({', '.join(change.identity)}): "
            f"{change.current.name_latin!r} would become {change.row.name!r}"
        )
        for column, old, new in change.side_by_side():
            if old != new:
                click.echo(f"    {column}: {old!r} -> {new!r}")
        if change.godparents:
            click.echo(
                f"    godparents who would follow the new person: {', '.join(change.godparents)}"
            )


def _mapping_for(data: bytes) -> dict[str, str] | None:
    """The mapping remembered for the file's headings, when they are not the format's."""
    try:
        headings = read_table(data).headings
    except ValueError:
        return None
    return import_mapping.remembered(db.session(), headings)


@prisoners.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--dry-run", is_flag=True, help="Check the file and print what would change; write nothing."
)
@click.option(
    "--accept-identity-changes",
    is_flag=True,
    help="Also apply rows whose external_id names a prisoner who is someone else "
    "(other names, birth or gender). Without it such a file is refused.",
)
def import_prisoners(file: BinaryIO, dry_run: bool, accept_identity_changes: bool) -> None:
    """Create and update prisoners from a CSV or XLSX FILE, matched by external_id.

    The file is checked completely first: if any row is bad, every problem is printed and
    nothing is written (exit code 1). A file with other headings is read through the mapping
    a coordinator chose for them in the web import. A changed address is added to the address
    history; a status that ends the detention ends the prisoner's godparenthoods.
    """
    data = file.read()
    result = read_prisoners(data, Path(file.name).name, mapping=_mapping_for(data))
    if not result.ok:
        for error in result.errors:
            click.echo(str(error), err=True)
        if result.needs_mapping:
            click.echo(
                "These headings are not the import format's: map them once in the "
                "web import (Prisoners > Import); the mapping is then remembered.",
                err=True,
            )
        more = " (at least; reading stopped there)" if result.stopped_early else ""
        raise click.ClickException(
            f"{len(result.errors)} problem(s){more} in {result.bad_lines} row(s); "
            "nothing was imported."
        )

    with click.progressbar(
        result.rows, label="Comparing with the registry", file=sys.stderr
    ) as rows:
        plan = plan_import(rows, db.session())
    if dry_run:
        _print_plan(plan)
        click.echo(f"Dry run: {plan.summary()}. Nothing was written.")
        return
    if plan.identity_changes and not accept_identity_changes:
        _print_identity_changes(plan)
        raise click.ClickException(
            f"{len(plan.identity_changes)} row(s) would change who a prisoner is; nothing was "
            "imported. Correct the external_id, or run again with --accept-identity-changes."
        )

    today = campaign_today(current_app.config["TIMEZONE"])
    accepted = [change.row.external_id for change in plan.identity_changes]
    try:
        with click.progressbar(length=plan.writes, label="Writing", file=sys.stderr) as bar:
            done = apply_import(plan, db.session(), today, accepted=accepted, progress=bar.update)
        record(
            None,
            "import",
            None,
            {
                "created": done.created,
                "changed": done.changed,
                "identity_changes": done.identity_changes,
                "pairings_ended": done.pairings_ended,
                "file_sha256": hashlib.sha256(data).hexdigest(),
            },
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"Imported: {plan.summary()}.")
    if done.pairings_ended:
        click.echo(f"Ended {done.pairings_ended} godparenthood(s) of prisoners no longer held.")


@prisoners.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def export_prisoners(file: str) -> None:
    """Write every prisoner to FILE (`-` for standard output) in the import format."""
    if file == "-":
        count = csvio.export_prisoners(db.session(), sys.stdout)
    else:
        with open(file, "w", encoding="utf-8", newline="") as stream:
            count = csvio.export_prisoners(db.session(), stream)
    click.echo(f"Exported {count} prisoner(s).", err=True)
