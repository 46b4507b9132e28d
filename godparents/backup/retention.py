"""Which backups to keep: the newest of each of the last N days and of the last M weeks.

Files are named ``godparents-YYYYmmddTHHMMSSZ.backup`` (UTC), so the name alone says when a
backup was taken; files that do not match are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

PATTERN = re.compile(r"^godparents-(\d{8}T\d{6}Z)\.backup$")
STAMP = "%Y%m%dT%H%M%SZ"


def file_name(taken_at: datetime) -> str:
    return f"godparents-{taken_at.astimezone(UTC).strftime(STAMP)}.backup"


def taken_at(path: Path) -> datetime | None:
    match = PATTERN.match(path.name)
    return datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC) if match else None


def backups(folder: Path) -> list[tuple[datetime, Path]]:
    """The backups in ``folder``, newest first."""
    found = [(when, path) for path in folder.iterdir() if (when := taken_at(path)) is not None]
    return sorted(found, reverse=True)


def to_keep(times: Iterable[datetime], daily: int, weekly: int) -> set[datetime]:
    """The newest backup of each of the ``daily`` most recent days that have one, and of
    each of the ``weekly`` most recent ISO weeks that have one; the newest of all always."""
    newest_first = sorted(times, reverse=True)
    keep: set[datetime] = set(newest_first[:1])
    days: set[object] = set()
    weeks: set[object] = set()
    for when in newest_first:
        day, week = when.date(), when.isocalendar()[:2]
        if day not in days and len(days) < daily:
            days.add(day)
            keep.add(when)
        if week not in weeks and len(weeks) < weekly:
            weeks.add(week)
            keep.add(when)
    return keep


def prune(folder: Path, daily: int, weekly: int, dry_run: bool = False) -> list[Path]:
    """Delete the backups that ``to_keep`` does not keep; the deleted (or, on a dry run,
    the would-be deleted) files."""
    found = backups(folder)
    keep = to_keep([when for when, _path in found], daily, weekly)
    doomed = [path for when, path in found if when not in keep]
    if not dry_run:
        for path in doomed:
            path.unlink()
    return doomed
