"""godparents: members of parliament as godparents of political prisoners."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from flask import Flask

from godparents import (
    account,
    actions,
    audit,
    auth,
    calendar,
    dashboard,
    database,
    doctor,
    encryption,
    errors,
    fields,
    i18n,
    idempotency,
    letters,
    logs,
    main,
    prisoners,
    public,
    reminders,
    reports,
    security,
    sponsors,
    sponsorships,
)
from godparents import config as configuration
from godparents.actions import outcomes, postby
from godparents.audit import retention, tracking
from godparents.auth import cli as users_cli
from godparents.auth import passwords, throttling
from godparents.auth.views import load_user
from godparents.backup import cli as backup_cli
from godparents.demo import cli as demo_cli
from godparents.extensions import babel, csrf, db, limiter, login_manager, mail, migrate
from godparents.prisoners import cli as prisoners_cli
from godparents.reminders import cli as reminders_cli
from godparents.reminders import notices

# isort: split
# The modules that hold pages. Importing one attaches its routes to its package's blueprint
# (``bp`` in the package's __init__.py), which create_app registers. views.py: the pages of
# godparents, their office staff and the public; admin.py: the coordinators' pages.
from godparents.account import admin as _account_admin  # noqa: F401
from godparents.account import views as _account_views  # noqa: F401
from godparents.actions import admin as _actions_admin  # noqa: F401
from godparents.actions import views as _actions_views  # noqa: F401
from godparents.audit import admin as _audit_admin  # noqa: F401
from godparents.auth import views as _auth_views  # noqa: F401
from godparents.calendar import views as _calendar_views  # noqa: F401
from godparents.dashboard import admin as _dashboard_admin  # noqa: F401
from godparents.letters import admin as _letters_admin  # noqa: F401
from godparents.letters import views as _letters_views  # noqa: F401
from godparents.prisoners import admin as _prisoners_admin  # noqa: F401
from godparents.prisoners import admin_facilities as _prisoners_facilities  # noqa: F401
from godparents.prisoners import admin_merge as _prisoners_merge  # noqa: F401
from godparents.prisoners import admin_transfer as _prisoners_transfer  # noqa: F401
from godparents.prisoners import views as _prisoners_views  # noqa: F401
from godparents.public import admin as _public_admin  # noqa: F401
from godparents.public import views as _public_views  # noqa: F401
from godparents.reminders import admin as _reminders_admin  # noqa: F401
from godparents.reminders import views as _reminders_views  # noqa: F401
from godparents.reports import admin as _reports_admin  # noqa: F401
from godparents.sponsors import admin as _sponsors_admin  # noqa: F401
from godparents.sponsors import views as _sponsors_views  # noqa: F401
from godparents.sponsorships import admin as _sponsorships_admin  # noqa: F401

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
    """Build the app: configuration, extensions, request hooks, blueprints and commands.

    The order of the hooks is the order below: each ``init_app`` of the app's own modules
    adds its request hooks where it is called, and ``before_request`` hooks run in the order
    they were added (logs first, so that every later hook's log lines carry the request id;
    the audit's actor before CSRF, CSRF before the login check, throttling last).
    """
    app = Flask(
        __name__,
        instance_path=str(instance_folder()),
        instance_relative_config=True,
        template_folder=str(shipped("templates")),
        static_folder=str(shipped("static")),
    )
    configuration.load(app, config)
    security.bound_ids(app)  # before any route is registered
    logs.init_app(app)  # request ids and the request log

    encryption.init_app(app)  # the key for the two-factor secrets; `flask secrets`
    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(database.MIGRATIONS), render_as_batch=True, compare_type=True
    )
    tracking.init_app(app)  # the audit log's actor for each request
    csrf.init_app(app)
    fields.install()  # no repeated ids on pages with several forms
    mail.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)  # catalogs compiled, template helpers
    security.init_app(app)  # login required by default, response headers
    idempotency.init_app(app)  # a form posted twice is done once
    errors.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.user_loader(load_user)
    passwords.init_app(app)  # the Argon2 hasher with the configured cost
    throttling.trust_proxies(app)  # PROXY_HOPS: the client's address from X-Forwarded-For
    limiter.init_app(app)
    throttling.init_app(app)  # the login limits' counters

    # Template helpers the features share with every page.
    app.add_template_global(postby.for_occurrence, "post_by_of")
    app.add_template_global(outcomes.for_prisoner, "letter_figures")
    notices.init_app(app)  # the filters the change notices' emails use

    # Pages: one blueprint per feature package, named after it.
    for blueprint in (
        main.bp,  # /, /healthz
        i18n.bp,  # /locale
        auth.bp,  # /auth/
        account.bp,  # /account/, /coordinator/accounts/
        sponsors.bp,  # /sponsor/, /coordinator/sponsors/
        actions.bp,  # /sponsor/actions/, /coordinator/actions/
        prisoners.bp,  # /sponsor/prisoners/, /coordinator/prisoners/, /photos/
        sponsorships.bp,  # /coordinator/sponsorships/
        reminders.bp,  # /coordinator/reminders/, /reminders/
        dashboard.bp,  # /coordinator/
        audit.bp,  # /coordinator/audit/
        calendar.bp,  # /calendar/
        letters.bp,  # /sponsor/letters/, /coordinator/letters/
        reports.bp,  # /coordinator/reports/
        public.bp,  # /public/, /coordinator/public/
    ):
        app.register_blueprint(blueprint)

    # Commands: flask --app godparents <command>.
    for command in (
        users_cli.users,
        encryption.secrets_cli,
        prisoners_cli.prisoners,
        retention.retention,
        reminders_cli.reminders,
        demo_cli.demo,
        doctor.doctor,
        backup_cli.backup,
    ):
        app.cli.add_command(command)
    return app
