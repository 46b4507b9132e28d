"""`flask --app godparents demo seed [--scale N]`: fictional demo data, once."""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

demo = AppGroup("demo", help="Fictional demo data.")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo)
