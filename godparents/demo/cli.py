"""`flask --app godparents demo seed [--scale N]`: fictional demo data, once."""

from __future__ import annotations

import base64
import binascii
import os
import secrets

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select, text

from godparents.auth import twofactor
from godparents.auth.models import User
from godparents.auth.passwords import hash_password
from godparents.demo import data
from godparents.demo.seed import demo_data_exists, seed_demo
from godparents.extensions import db
from godparents.timeutil import campaign_today

demo = AppGroup("demo", help="Fictional demo data.")

PASSWORD_VARIABLE = "GODPARENTS_DEMO_PASSWORD"  # noqa: S105  (a name)  # nosec B105
TOTP_VARIABLE = "GODPARENTS_DEMO_TOTP_KEY"


def configured_password() -> str | None:
    """GODPARENTS_DEMO_PASSWORD from the environment, else DEMO_PASSWORD from the config.

    The environment comes first because Flask parses prefixed variables as JSON on the way
    into the config, which would turn a password such as "123456789012" into a number.
    """
    value = os.environ.get(PASSWORD_VARIABLE) or current_app.config.get("DEMO_PASSWORD")
    return str(value) if value not in (None, "") else None


def configured_totp_key() -> str | None:
    """GODPARENTS_DEMO_TOTP_KEY (base32), the demo coordinators' two-factor key."""
    value = os.environ.get(TOTP_VARIABLE) or current_app.config.get("DEMO_TOTP_KEY")
    if not value:
        return None
    key = str(value).strip().replace(" ", "").upper()
    try:
        base64.b32decode(key, casefold=True)
    except binascii.Error as error:
        raise click.UsageError(f"{TOTP_VARIABLE} is not a base32 key") from error
    return key


def _refuse_production(public_demo: bool) -> None:
    """The demo's coordinators share one password and one second factor, printed here:
    never on a database with real people in it, nor on a server that looks public. (Where
    the demo is in already, nothing of it is made again: a developer's own accounts beside
    it are no reason to stop `make run`.)"""
    if demo_data_exists():
        return
    real = db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(~User.email.like(f"%@{data.DOMAIN}"), ~User.email.like(f"%.{data.DOMAIN}"))
    )
    if real:
        raise click.ClickException(
            f"this database has {real} account(s) that are not the demo's: it is not a demo "
            "database, and the demo's shared logins must never be added to it."
        )
    base_url = str(current_app.config.get("BASE_URL", ""))
    if base_url.startswith("https://") and not current_app.debug and not public_demo:
        raise click.ClickException(
            f"BASE_URL is {base_url}, a public address: this looks like a production server. "
            "Load the demo there only for a public demonstration, with --public-demo."
        )


@demo.command("seed")
@click.option(
    "--scale",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also add N times the real campaign's size (1,500 prisoners, 600 sponsors, "
    "2,000 pairings, 50,000 actions each), for benchmarks.",
)
@click.option(
    "--public-demo",
    is_flag=True,
    help="Allow it on a server whose BASE_URL is https:// (a demonstration server).",
)
def seed(scale: int, public_demo: bool) -> None:
    """Load the fictional demo data once and print the demo logins.

    Running it again adds nothing (missing campaign days and bulk data excepted). It refuses
    a database that holds accounts of real people.
    """
    _refuse_production(public_demo)
    configured = configured_password()
    password = configured or secrets.token_urlsafe(12)
    totp_key = configured_totp_key() or twofactor.new_secret()
    today = campaign_today(current_app.config["TIMEZONE"])
    try:
        # One hash for every new account (argon2 is slow on purpose); unused if none is new.
        result = seed_demo(today, hash_password(password), scale, totp_key)
        db.session.commit()
        if result.scale_units_added:
            # Bulk rows change the tables' shape: give the query planner fresh figures now.
            # (PostgreSQL's autovacuum would, minutes later; until then it took the godchild
            # card's letter figures for a scan of a year's letters: 180 ms instead of 0.2.)
            db.session.execute(text("ANALYZE"))
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise

    for email, role in result.logins:
        click.echo(f"login: {email} {role}")
    if not result.demo_created:
        click.echo("password: unchanged (set when the demo data was first loaded)")
        click.echo("The demo data was already there: none of it was added again.")
    elif configured:
        click.echo(f"password: (the value of {PASSWORD_VARIABLE})")
    else:
        click.echo(f"password: {password}")
    if result.demo_created:
        # Coordinators must use two factors: add this key to an authenticator app.
        click.echo(f"two-factor key of the coordinators: {totp_key}")
    if scale:
        click.echo(
            f"bulk data: {result.scale_units_added} unit(s) added, "
            f"{result.scale_units} in the database"
        )
    click.echo(result.summary())
