"""`flask --app godparents prisoners import FILE [--dry-run]` and `prisoners export FILE`."""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

prisoners = AppGroup("prisoners", help="Import and export the prisoner registry as CSV.")


def init_app(app: Flask) -> None:
    app.cli.add_command(prisoners)
