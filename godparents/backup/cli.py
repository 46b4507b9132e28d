"""``flask --app godparents backup create|verify|restore|prune|new-key``."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from godparents.backup import keys, retention, snapshot

backup = AppGroup("backup", help="Encrypted backups of the database: make, check, restore.")


def _folder(folder: Path | None) -> Path:
    configured = current_app.config.get("BACKUP_FOLDER")
    chosen = folder or (
        Path(configured) if configured else Path(current_app.instance_path) / "backups"
    )
    chosen.mkdir(mode=0o700, parents=True, exist_ok=True)
    return chosen


def _key() -> keys.Fernet:
    try:
        return keys.load_key(current_app)
    except keys.BackupKeyError as error:
        raise click.ClickException(str(error)) from error


def _summary(metadata: dict[str, object]) -> str:
    counts = metadata.get("counts")
    rows = sum(counts.values()) if isinstance(counts, dict) else 0
    shown = ", ".join(
        f"{name} {counts[name]}"
        for name in ("prisoners", "sponsors", "sponsorships", "actions", "users")
        if isinstance(counts, dict) and name in counts
    )
    return (
        f"{metadata.get('database')} at revision {metadata.get('revision')}, "
        f"taken {metadata.get('created_at')}: {rows} rows ({shown})"
    )


@backup.command("create")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where backups go (default: BACKUP_FOLDER, else instance/backups).",
)
@click.option(
    "--prune/--no-prune",
    default=True,
    show_default=True,
    help="Delete what the retention (BACKUP_KEEP_DAILY, _WEEKLY) no longer keeps.",
)
def create(folder: Path | None, prune: bool) -> None:
    """Write an encrypted backup of the database while the app keeps running."""
    fernet = _key()
    target = _folder(folder)
    path = target / retention.file_name(datetime.now(UTC))
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("xb") as stream:
            os.chmod(partial, 0o600)
            metadata = snapshot.create(current_app, stream, fernet)
            stream.flush()
            os.fsync(stream.fileno())
        partial.rename(path)  # a backup is under its real name only once it is whole
    except snapshot.BackupError as error:
        partial.unlink(missing_ok=True)
        raise click.ClickException(str(error)) from error
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    click.echo(f"backup: {path} ({path.stat().st_size} bytes), {_summary(metadata)}")
    if prune:
        for old in retention.prune(
            target,
            current_app.config["BACKUP_KEEP_DAILY"],
            current_app.config["BACKUP_KEEP_WEEKLY"],
        ):
            click.echo(f"deleted (retention): {old}")


@backup.command("verify")
@click.argument(
    "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False
)
@click.option("--latest", is_flag=True, help="The newest backup in the backup folder.")
def verify(path: Path | None, latest: bool) -> None:
    """Decrypt and check a backup completely, without touching any database."""
    if latest == (path is not None):
        raise click.UsageError("name a backup file, or say --latest")
    if path is None:
        found = retention.backups(_folder(None))
        if not found:
            raise click.ClickException(f"no backups in {_folder(None)}")
        path = found[0][1]
    try:
        metadata = snapshot.verify(current_app, path, _key())
    except snapshot.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"ok: {path}: {_summary(metadata)}")


@backup.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(path: Path) -> None:
    """Restore a backup into the configured database, which must be new and empty."""
    try:
        metadata = snapshot.restore(current_app, path, _key())
    except snapshot.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"restored: {path}: {_summary(metadata)}; row counts match the backup")


@backup.command("prune")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
def prune_command(folder: Path | None, dry_run: bool) -> None:
    """Apply the retention: the newest backup of each of the last BACKUP_KEEP_DAILY days
    and of the last BACKUP_KEEP_WEEKLY weeks stay; the rest go."""
    for old in retention.prune(
        _folder(folder),
        current_app.config["BACKUP_KEEP_DAILY"],
        current_app.config["BACKUP_KEEP_WEEKLY"],
        dry_run=dry_run,
    ):
        click.echo(f"{'would delete' if dry_run else 'deleted'}: {old}")


@backup.command("new-key")
def new_key() -> None:
    """Print a new backup key (for GODPARENTS_BACKUP_KEY or instance/backup_key)."""
    click.echo(keys.new_key())
