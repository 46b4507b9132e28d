"""godparents: members of parliament as godparents of political prisoners."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from godparents import config as configuration
from godparents import database, encryption, errors, i18n, main, security
from godparents.account import admin as accounts
from godparents.account import views as account
from godparents.actions import registry as action_registry
from godparents.actions import views as actions
from godparents.audit import retention
from godparents.audit import tracking as audit
from godparents.audit import views as audit_views
from godparents.auth import views as auth
from godparents.calendar import views as calendar
from godparents.dashboard import views as dashboard
from godparents.demo import cli as demo
from godparents.extensions import csrf, mail
from godparents.prisoners import blueprint as prisoners
from godparents.prisoners import cli as prisoners_cli
from godparents.prisoners import photos as prisoner_photos
from godparents.reminders import cli as reminders_cli
from godparents.reminders import views as reminders
from godparents.sponsors import registry as sponsor_registry
from godparents.sponsors import views as sponsors
from godparents.sponsorships import views as sponsorships

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints and commands. Nothing more."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    configuration.load(app, config)
    security.bound_ids(app)  # before any route is registered

    encryption.init_app(app)
    database.init_app(app)
    audit.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
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
    audit_views.init_app(app)
    retention.init_app(app)
    reminders.init_app(app)
    reminders_cli.init_app(app)
    demo.init_app(app)
    return app
