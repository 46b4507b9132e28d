"""The second security round's findings that are not races (those are in test_races.py):
each test failed on the code before its fix."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from godparents.auth import services as accounts
from godparents.auth.models import Role, User
from godparents.extensions import db
from godparents.types import utcnow
from tests.conftest import Auth, csrf_token
from tests.factories import (
    make_coordinator,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)

# 6: a deactivated godparent ------------------------------------------------------------------

def test_an_inactive_godparent_cannot_be_invited(app: Flask, auth: Auth,
                                                 client: FlaskClient) -> None:
    sponsor = make_sponsor(with_login=False, is_active=False)
    auth.login(make_coordinator().email)
    response = client.post(f"/coordinator/sponsors/{sponsor.id}/invite", data={
        "csrf_token": csrf_token(client, f"/coordinator/sponsors/{sponsor.id}"),
        "email": sponsor.email})
    assert "This godparent is inactive" in response.text
    assert db.session.scalar(select(func.count()).select_from(User)
                             .where(User.email == sponsor.email)) == 0
    with pytest.raises(accounts.AccountError):  # nor their office staff
        accounts.invite("office@example.org", Role.DELEGATE, sponsor, make_coordinator(),
                        utcnow())


def test_an_inactive_godparent_whose_account_stayed_on_sees_nothing(
        app: Flask, auth: Auth, client: FlaskClient) -> None:
    """As the demo seeded it: the godparent inactive, the account left on."""
    sponsor = make_sponsor()
    prisoner = make_prisoner()
    make_sponsorship(sponsor, prisoner)
    sponsor.is_active = False
    db.session.commit()
    auth.login(sponsor.email)
    assert client.get(f"/sponsor/prisoners/{prisoner.id}").status_code == 404
    assert prisoner.name_latin not in client.get("/sponsor/").text

