"""`flask --app godparents users ...`"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from godparents.audit.services import record
from godparents.auth import services, twofactor
from godparents.auth.models import Role, User
from godparents.extensions import db
from godparents.sponsors.models import Delegation, Sponsor

users = AppGroup("users", help="Manage accounts.")


def _read_password() -> str:
    """From the terminal with confirmation, or the first line of standard input."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--name", help="Full name of the godparent (role sponsor; default: the email).")
@click.option("--body", default="", help="Parliament of the godparent (role sponsor).")
@click.option("--country", default="", help="ISO country code of the godparent (role sponsor).")
@click.option("--sponsor", "sponsor_email", help="Email of the godparent a delegate works for.")
def create_user(
    email: str, role: str, name: str | None, body: str, country: str, sponsor_email: str | None
) -> None:
    """Create an account; the password is read from the prompt or from standard input."""
    sponsor = None
    if role == Role.DELEGATE:
        if not sponsor_email:
            raise click.UsageError("a delegate needs --sponsor EMAIL of the godparent")
        owner = services.find_user(sponsor_email)
        sponsor = owner.sponsor if owner else None
        if sponsor is None:
            sponsor = db.session.scalar(
                select(Sponsor).where(Sponsor.email == sponsor_email.strip().lower())
            )
        if sponsor is None:
            raise click.UsageError(f"no godparent with the email {sponsor_email}")
    password = _read_password()
    try:
        user = services.create_user(email, Role(role), password)
    except services.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    if role == Role.SPONSOR:
        db.session.add(
            Sponsor(
                full_name=name or user.email,
                body=body,
                country=country.upper(),
                email=user.email,
                user=user,
            )
        )
    elif sponsor is not None:
        db.session.add(Delegation(sponsor=sponsor, user=user))
    db.session.commit()
    click.echo(f"created: {user.email} {user.role.value}")


def _existing(email: str) -> User:
    user = services.find_user(email)
    if user is None:
        raise click.ClickException(f"no account with the email {email}")
    return user


@users.command("password")
@click.argument("email")
def set_password(email: str) -> None:
    """Set a new password (the same rules as on the site); every session of it ends."""
    user = _existing(email)
    try:
        services.set_password(user, _read_password())
    except services.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    record(None, "set_password_command", user)
    db.session.commit()
    click.echo(f"password changed: {user.email}")


@users.command("reset-two-factors")
@click.argument("email")
def reset_two_factors(email: str) -> None:
    """Forget an account's second factor (phone and recovery codes lost): the user sets it
    up again at the next login; every session of it ends."""
    user = _existing(email)
    twofactor.turn_off(user, None, "two_factor_reset")
    db.session.commit()
    click.echo(f"two factors reset: {user.email}")
