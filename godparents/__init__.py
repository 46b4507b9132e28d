"""godparents: members of parliament as godparents of political prisoners."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from flask import Flask

from godparents import config as configuration
from godparents import (
    database,
    doctor,
    encryption,
    errors,
    i18n,
    idempotency,
    logs,
    main,
    security,
)
from godparents.account import admin as accounts
from godparents.account import views as account
from godparents.actions import registry as action_registry
from godparents.actions import transit_views as transit
from godparents.actions import views as actions
from godparents.audit import retention
from godparents.audit import tracking as audit
from godparents.audit import views as audit_views
from godparents.auth import views as auth
from godparents.backup import cli as backup
from godparents.calendar import views as calendar
from godparents.dashboard import views as dashboard
from godparents.demo import cli as demo
from godparents.extensions import csrf, mail
from godparents.prisoners import blueprint as prisoners
from godparents.prisoners import cli as prisoners_cli
from godparents.prisoners import photos as prisoner_photos
from godparents.reminders import cli as reminders_cli
from godparents.reminders import notices
from godparents.reminders import views as reminders
from godparents.sponsors import registry as sponsor_registry
from godparents.sponsors import views as sponsors
from godparents.sponsorships import views as sponsorships

PACKAGE = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE.parent


def shipped(name: str) -> Path:
    """``templates`` or ``static``: inside the package when installed from a wheel (the
    build hook in setup.py copies them there), else at the checkout's top level."""
    packaged = PACKAGE / name
    return packaged if packaged.is_dir() else PROJECT_ROOT / name


def instance_folder() -> Path:
    """``GODPARENTS_INSTANCE_PATH`` if set; else ``instance/`` in a checkout; else, for an
    installed wheel (the package carries its templates), ``<venv>/var/godparents-instance``,
    Flask's own default for installed packages, never site-packages."""
    configured = os.environ.get("GODPARENTS_INSTANCE_PATH")
    if configured:
        return Path(configured).resolve()
    if (PACKAGE / "templates").is_dir():
        return Path(sys.prefix) / "var" / "godparents-instance"
    return PROJECT_ROOT / "instance"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints and commands. Nothing more."""
    app = Flask(
        __name__,
        instance_path=str(instance_folder()),
        instance_relative_config=True,
        template_folder=str(shipped("templates")),
        static_folder=str(shipped("static")),
    )
    configuration.load(app, config)
    security.bound_ids(app)  # before any route is registered
    logs.init_app(app)  # first: every later hook's log lines carry the request id

    encryption.init_app(app)
    database.init_app(app)
    audit.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    idempotency.init_app(app)
    errors.init_app(app)
    main.init_app(app)
    auth.init_app(app)
    sponsors.init_app(app)
    actions.init_app(app)
    account.init_app(app)
    accounts.init_app(app)
    calendar.init_app(app)
    dashboard.init_app(app)
    prisoners.init_app(app)
    prisoner_photos.init_app(app)
    prisoners_cli.init_app(app)
    sponsor_registry.init_app(app)
    sponsorships.init_app(app)
    action_registry.init_app(app)
    transit.init_app(app)
    audit_views.init_app(app)
    retention.init_app(app)
    reminders.init_app(app)
    reminders_cli.init_app(app)
    notices.init_app(app)
    demo.init_app(app)
    doctor.init_app(app)
    backup.init_app(app)
    return app
