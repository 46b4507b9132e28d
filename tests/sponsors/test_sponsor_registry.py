"""The coordinators' register of godparents: list, detail, forms, invitations, office staff,
deactivation, and the personal-data tools (export, erase)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, insert, select

from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.audit.models import AuditEvent
from godparents.auth.models import Role, User
from godparents.extensions import db, mail
from godparents.reminders.models import OutboxMessage, OutboxStatus
from godparents.sponsors.models import Delegation, Sponsor
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus
from godparents.timeutil import campaign_today
from tests.factories import (
    make_coordinator,
    make_delegate,
    make_outbox_message,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
    make_user,
)
from tests.helpers import Auth, LoginAs, count_rows, csrf_token, field_errors, post_form

INDEX = "/coordinator/sponsors/"


def _today() -> date:
    return campaign_today("Europe/Berlin")


def make_action(pairing, by: User | None, **fields) -> Action:
    values = {
        "kind": ActionKind.LETTER,
        "occurred_on": _today() - timedelta(days=3),
        "summary": "A letter in Russian",
        "letter_outcome": LetterOutcome.SENT,
        **fields,
    }
    action = Action(sponsorship=pairing, logged_by=by, **values)
    db.session.add(action)
    db.session.commit()
    return action


def _names(page: str) -> list[str]:
    """The godparents' names in the order the list shows them."""
    return re.findall(r'href="/coordinator/sponsors/\d+" class="fw-semibold">([^<]+)<', page)


@pytest.fixture
def coordinator(app: Flask, login_as: LoginAs) -> User:
    user = make_coordinator()
    login_as(user.email)
    return user


# Access ---------------------------------------------------------------------------------------


def _routes(sponsor: Sponsor, delegate: User) -> list[tuple[str, str]]:
    s = f"/coordinator/sponsors/{sponsor.id}"
    return [
        ("GET", INDEX),
        ("GET", f"{INDEX}new"),
        ("POST", f"{INDEX}new"),
        ("GET", s),
        ("GET", f"{s}/edit"),
        ("POST", f"{s}/edit"),
        ("POST", f"{s}/invite"),
        ("GET", f"{s}/delegates"),
        ("POST", f"{s}/delegates"),
        ("POST", f"{s}/delegates/{delegate.id}/remove"),
        ("POST", f"{s}/deactivate"),
        ("POST", f"{s}/reactivate"),
        ("GET", f"{s}/personal-data"),
        ("GET", f"{s}/erase"),
        ("POST", f"{s}/erase"),
    ]


def test_anonymous_users_are_sent_to_login(app: Flask, client: FlaskClient) -> None:
    sponsor = make_sponsor()
    token = csrf_token(client, "/auth/login")
    for method, path in _routes(sponsor, make_delegate(sponsor)):
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/auth/login"), (method, path)


@pytest.mark.parametrize("who", ["sponsor", "delegate"])
def test_sponsors_and_delegates_get_403_everywhere(
    app: Flask, login_as: LoginAs, client: FlaskClient, who: str
) -> None:
    sponsor = make_sponsor(full_name="Anna Schmidt")
    delegate = make_delegate(sponsor)
    login_as(sponsor.email if who == "sponsor" else delegate.email)
    token = csrf_token(client, "/sponsor/")
    for method, path in _routes(sponsor, delegate):
        response = client.open(
            path, method=method, data={"csrf_token": token, "confirm_name": "Anna Schmidt"}
        )
        assert response.status_code == 403, (method, path)
    db.session.refresh(sponsor)
    assert sponsor.full_name == "Anna Schmidt" and sponsor.is_active


def test_unknown_ids_give_404(coordinator: User, client: FlaskClient) -> None:
    for path in (
        "/coordinator/sponsors/2147483647",
        "/coordinator/sponsors/2147483647/edit",
        "/coordinator/sponsors/2147483647/personal-data",
        "/coordinator/sponsors/2147483647/erase",
    ):
        assert client.get(path).status_code == 404, path


# The list -------------------------------------------------------------------------------------


@pytest.fixture
def register(app: Flask) -> dict[str, Sponsor]:
    anna = make_sponsor(
        full_name="Anna Schmidt",
        body="Bundestag",
        country="DE",
        party="SPD",
        email="anna@bundestag.example",
        mandate_ends_on=date(2029, 10, 1),
    )
    jan = make_sponsor(
        full_name="Jan Kowalski",
        body="European Parliament",
        country="PL",
        party="EPP",
        email="jan@ep.example",
        with_login=False,
        mandate_ends_on=date(2029, 7, 1),
    )
    ona = make_sponsor(
        full_name="Ona Białecka",
        body="Seimas",
        country="LT",
        party="TS-LKD",
        email="ona@lrs.example",
        is_active=False,
    )
    ola = make_sponsor(
        full_name="Ola Nordmann",
        body="European Parliament",
        country="NO",
        party=None,
        email=None,
        with_login=False,
    )
    ola.user = make_user(Role.SPONSOR, email="ola@invited.example", password=None)
    db.session.commit()
    for _ in range(2):
        make_sponsorship(anna, make_prisoner())
    pairing = make_sponsorship(jan, make_prisoner())
    make_sponsorship(jan, make_prisoner(), status=SponsorshipStatus.ENDED)
    make_action(pairing, jan.user, occurred_on=date(2025, 3, 25))
    make_action(
        make_sponsorship(ona, make_prisoner(), status=SponsorshipStatus.ENDED),
        None,
        occurred_on=date(2024, 5, 21),
    )
    return {"anna": anna, "jan": jan, "ona": ona, "ola": ola}


def test_the_list_shows_each_godparent_with_counts_and_login(
    register, coordinator: User, client: FlaskClient
) -> None:
    page = client.get(INDEX).text
    assert _names(page) == ["Anna Schmidt", "Jan Kowalski", "Ola Nordmann", "Ona Białecka"]
    row = {name: re.search(rf">{name}<.*?</tr>", page, re.S).group(0) for name in _names(page)}
    assert re.search(r"data-pairings>2<", row["Anna Schmidt"])
    assert re.search(r"data-pairings>1<", row["Jan Kowalski"])  # the ended one does not count
    assert 'datetime="2025-03-25"' in row["Jan Kowalski"]
    assert "Has an account" in row["Anna Schmidt"]
    assert "No login" in row["Jan Kowalski"]
    assert "Invited" in row["Ola Nordmann"]
    assert "Inactive" in row["Ona Białecka"] and "SPD" in row["Anna Schmidt"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("schmidt", ["Anna Schmidt"]),
        ("KOWALSKI", ["Jan Kowalski"]),
        ("jan@ep", ["Jan Kowalski"]),  # email
        ("epp", ["Jan Kowalski"]),  # party
        ("european parliament", ["Jan Kowalski", "Ola Nordmann"]),  # parliament, two words
        ("Białecka", ["Ona Białecka"]),
        ("nobody", []),
        ("100%", []),  # LIKE wildcards are taken literally
    ],
)
def test_search(
    register, coordinator: User, client: FlaskClient, query: str, expected: list[str]
) -> None:
    page = client.get(INDEX, query_string={"q": query}).text
    assert _names(page) == expected
    if not expected:
        assert "No godparent matches" in page


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"body": "European Parliament"}, ["Jan Kowalski", "Ola Nordmann"]),
        ({"country": "de"}, ["Anna Schmidt"]),
        ({"active": "no"}, ["Ona Białecka"]),
        ({"active": "yes", "body": "Seimas"}, []),
        (
            {"active": "maybe", "page": "x", "sort": "DROP TABLE"},
            ["Anna Schmidt", "Jan Kowalski", "Ola Nordmann", "Ona Białecka"],
        ),
    ],
)
def test_filters(
    register, coordinator: User, client: FlaskClient, args: dict, expected: list[str]
) -> None:
    response = client.get(INDEX, query_string=args)
    assert response.status_code == 200
    assert _names(response.text) == expected


def test_the_parliament_filter_offers_the_parliaments_in_the_register(
    register, coordinator: User, client: FlaskClient
) -> None:
    page = client.get(INDEX).text
    select_body = re.search(r'<select[^>]*id="body".*?</select>', page, re.S).group(0)
    assert re.findall(r'<option value="([^"]+)"', select_body) == [
        "Bundestag",
        "European Parliament",
        "Seimas",
    ]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-name", ["Ona Białecka", "Ola Nordmann", "Jan Kowalski", "Anna Schmidt"]),
        ("-pairings", ["Anna Schmidt", "Jan Kowalski", "Ona Białecka", "Ola Nordmann"]),
        ("-last_action", ["Jan Kowalski", "Ona Białecka", "Anna Schmidt", "Ola Nordmann"]),
        ("last_action", ["Ona Białecka", "Jan Kowalski", "Anna Schmidt", "Ola Nordmann"]),
        ("mandate", ["Jan Kowalski", "Anna Schmidt", "Ona Białecka", "Ola Nordmann"]),
        ("-mandate", ["Anna Schmidt", "Jan Kowalski", "Ona Białecka", "Ola Nordmann"]),
        ("country", ["Anna Schmidt", "Ona Białecka", "Ola Nordmann", "Jan Kowalski"]),
    ],
)
def test_sort(
    register, coordinator: User, client: FlaskClient, sort: str, expected: list[str]
) -> None:
    assert _names(client.get(INDEX, query_string={"sort": sort}).text) == expected


def test_pagination_keeps_the_filters(app: Flask, coordinator: User, client: FlaskClient) -> None:
    db.session.add_all(
        [Sponsor(full_name=f"Member {n:03}", body="Sejm", country="PL") for n in range(60)]
    )
    db.session.add(Sponsor(full_name="Elsewhere", body="Bundestag", country="DE"))
    db.session.commit()
    first = client.get(INDEX, query_string={"body": "Sejm"}).text
    assert len(_names(first)) == 50 and _names(first)[0] == "Member 000"
    assert "60 entries" in first
    assert "body=Sejm" in re.search(r'href="([^"]*page=2[^"]*)"', first).group(1)
    second = client.get(INDEX, query_string={"body": "Sejm", "page": 2}).text
    assert _names(second) == [f"Member {n:03}" for n in range(50, 60)]


def _seed_sponsors(count: int, start: int, prisoner_id: int) -> None:
    """``count`` godparents, half with a login, a third paired, each pairing with an action."""
    users = [User(email=f"bulk{start + n}@example.org", role=Role.SPONSOR) for n in range(count)]
    sponsors = [
        Sponsor(
            full_name=f"Bulk {start + n}",
            body=f"Body {n % 7}",
            country="DE",
            user=users[n] if n % 2 else None,
        )
        for n in range(count)
    ]
    db.session.add_all(sponsors)
    db.session.commit()
    db.session.execute(
        insert(Sponsorship),
        [
            {
                "sponsor_id": s.id,
                "prisoner_id": prisoner_id,
                "status": SponsorshipStatus.ACTIVE,
                "started_on": date(2024, 1, 1),
            }
            for s in sponsors[::3]
        ],
    )
    pairing_ids = db.session.scalars(
        select(Sponsorship.id).where(Sponsorship.sponsor_id.in_([s.id for s in sponsors]))
    ).all()
    db.session.execute(
        insert(Action),
        [
            {
                "sponsorship_id": pairing_id,
                "kind": ActionKind.LETTER,
                "occurred_on": date(2025, 1, 1),
                "summary": "Letter",
            }
            for pairing_id in pairing_ids
        ],
    )
    db.session.commit()


@pytest.mark.parametrize("sort", ["name", "-pairings", "last_action"])
def test_the_list_runs_the_same_queries_for_10_or_510_godparents(
    app: Flask, coordinator: User, client: FlaskClient, count_queries, sort: str
) -> None:
    prisoner_id = make_prisoner().id
    _seed_sponsors(10, 0, prisoner_id)
    with count_queries() as few:
        assert client.get(INDEX, query_string={"sort": sort}).status_code == 200
    _seed_sponsors(500, 10, prisoner_id)
    with count_queries() as many:
        page = client.get(INDEX, query_string={"sort": sort}).text
    assert len(_names(page)) == 50
    assert many.count == few.count


# Detail ---------------------------------------------------------------------------------------


def test_the_detail_page_shows_everything(
    app: Flask, coordinator: User, client: FlaskClient, count_queries
) -> None:
    sponsor = make_sponsor(
        full_name="Anna Schmidt",
        title="MdB",
        phone="+49 30 227 0",
        notes="Prefers calls before 10",
        public_quote="Free them all",
    )
    make_delegate(sponsor, email="office@bundestag.example")
    current = make_sponsorship(sponsor, make_prisoner(name_latin="Alena Krautsova"))
    make_sponsorship(
        sponsor,
        make_prisoner(name_latin="Free Now"),
        status=SponsorshipStatus.ENDED,
        ended_on=date(2025, 6, 21),
        end_reason=EndReason.RELEASED,
    )
    make_action(current, sponsor.user, summary="Birthday card from Berlin")
    path = f"/coordinator/sponsors/{sponsor.id}"
    with count_queries() as few:
        page = client.get(path).text
    for text_shown in (
        "Anna Schmidt",
        "MdB",
        "+49 30 227 0",
        "Prefers calls before 10",
        "Free them all",
        "office@bundestag.example",
        "Alena Krautsova",
        "Free Now",
        "Prisoner released",
        "Birthday card from Berlin",
        "Export personal data",
        "Erase personal data",
        "Deactivate",
        f"/coordinator/sponsorships/{current.id}/handover",
    ):
        assert text_shown in page, text_shown
    for _ in range(5):
        pairing = make_sponsorship(sponsor, make_prisoner())
        make_action(pairing, sponsor.user)
        make_delegate(sponsor)
    with count_queries() as many:
        client.get(path)
    assert many.count == few.count


# Create and edit ------------------------------------------------------------------------------

VALID = {
    "full_name": "Petra Novak",
    "title": "",
    "body": "National Council",
    "country": "ch",
    "party": "",
    "email": "petra@parl.example",
    "phone": "",
    "language": "de",
    "mandate_ends_on": "2027-12-01",
    "public_quote": "",
    "notes": "Met at the embassy",
    "is_active": "y",
}


def test_create_a_godparent(coordinator: User, client: FlaskClient) -> None:
    response = post_form(client, f"{INDEX}new", **VALID)
    assert response.status_code == 302
    sponsor = db.session.scalar(select(Sponsor).where(Sponsor.full_name == "Petra Novak"))
    assert response.headers["Location"] == f"/coordinator/sponsors/{sponsor.id}"
    assert sponsor.country == "CH"  # upper-cased
    assert sponsor.title is None and sponsor.party is None  # empty is None, not ""
    assert sponsor.language == "de" and sponsor.mandate_ends_on == date(2027, 12, 1)
    assert sponsor.is_active and not sponsor.has_public_consent


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "  ", "This field is required."),
        ("body", "", "Choose the parliament, or type its name"),
        ("country", "Deutschland", "Enter the two-letter country code"),
        ("country", "D1", "Enter the two-letter country code"),
        (
            "email",
            "not-an-email",
            "Enter an email address such as name@example.org, in Latin letters.",
        ),
        ("mandate_ends_on", "1.12.2027", "Enter a date such as"),
        ("language", "fr", "Not a valid choice."),
    ],
)
def test_create_refuses_bad_input_at_the_field(
    coordinator: User, client: FlaskClient, field: str, value: str, message: str
) -> None:
    before = count_rows(Sponsor)
    response = post_form(client, f"{INDEX}new", **{**VALID, field: value})
    assert response.status_code == 200
    assert message in field_errors(response)[field]
    assert count_rows(Sponsor) == before
    assert "Met at the embassy" in response.text  # nothing typed is lost


def test_edit_a_godparent(coordinator: User, client: FlaskClient) -> None:
    sponsor = make_sponsor(full_name="Anna Schmidt", party="SPD")
    path = f"/coordinator/sponsors/{sponsor.id}/edit"
    assert 'value="Anna Schmidt"' in client.get(path).text
    response = post_form(
        client, path, **{**VALID, "full_name": "Anna Schmidt-Berg", "has_public_consent": "y"}
    )
    assert response.status_code == 302
    db.session.refresh(sponsor)
    assert sponsor.full_name == "Anna Schmidt-Berg" and sponsor.party is None
    assert sponsor.has_public_consent and sponsor.notes == "Met at the embassy"


def test_edit_refuses_bad_input_and_changes_nothing(coordinator: User, client: FlaskClient) -> None:
    sponsor = make_sponsor(full_name="Anna Schmidt", country="DE")
    response = post_form(
        client,
        f"/coordinator/sponsors/{sponsor.id}/edit",
        **{**VALID, "full_name": "Renamed", "country": "XYZ"},
    )
    assert response.status_code == 200
    assert "two-letter" in field_errors(response)["country"]
    db.session.refresh(sponsor)
    assert (sponsor.full_name, sponsor.country) == ("Anna Schmidt", "DE")


# Invitations and office staff -----------------------------------------------------------------


def test_invite_a_godparent_to_log_in(coordinator: User, client: FlaskClient) -> None:
    sponsor = make_sponsor(with_login=False, email="Petra@Parl.example", language="de")
    path = f"/coordinator/sponsors/{sponsor.id}"
    assert "Invite to log in" in client.get(path).text
    with mail.record_messages() as outbox:
        response = post_form(client, f"{path}/invite", form_page=path, email="")
    assert response.status_code == 302
    assert outbox[0].recipients == ["petra@parl.example"]
    assert "http://godparents.test/auth/invitation/" in outbox[0].body
    db.session.refresh(sponsor)
    assert sponsor.user.role is Role.SPONSOR and not sponsor.user.has_password
    assert sponsor.user.locale == "de"
    assert "Invited" in client.get(path).text


def test_an_invitation_to_a_used_address_is_refused_at_the_field(
    coordinator: User, client: FlaskClient
) -> None:
    sponsor = make_sponsor(with_login=False)
    path = f"/coordinator/sponsors/{sponsor.id}"
    with mail.record_messages() as outbox:
        response = post_form(client, f"{path}/invite", form_page=path, email=coordinator.email)
    assert response.status_code == 200
    assert "already exists" in field_errors(response)["email"]
    assert outbox == []
    db.session.refresh(sponsor)
    assert sponsor.user_id is None


def test_a_godparent_without_email_needs_one_typed(coordinator: User, client: FlaskClient) -> None:
    sponsor = make_sponsor(with_login=False, email=None)
    path = f"/coordinator/sponsors/{sponsor.id}"
    response = post_form(client, f"{path}/invite", form_page=path, email="")
    assert response.status_code == 200
    assert "no email address" in field_errors(response)["email"]
    assert count_rows(User) == 1  # the coordinator


def test_invite_and_remove_office_staff(
    coordinator: User, web_app: Flask, client: FlaskClient
) -> None:
    sponsor = make_sponsor(full_name="Anna Schmidt")
    old = make_delegate(sponsor, email="old@office.example")
    path = f"/coordinator/sponsors/{sponsor.id}/delegates"
    assert "old@office.example" in client.get(path).text
    with mail.record_messages() as outbox:
        response = post_form(client, path, email="new@office.example")
    assert response.status_code == 302
    assert outbox[0].recipients == ["new@office.example"]
    new = db.session.scalar(select(User).where(User.email == "new@office.example"))
    assert new.role is Role.DELEGATE
    assert db.session.get(Delegation, (sponsor.id, new.id)) is not None

    browser = web_app.test_client()
    Auth(browser).login(old.email)
    assert browser.get("/sponsor/").status_code == 200
    response = post_form(client, f"{path}/{old.id}/remove", form_page=path)
    assert response.status_code == 302
    assert db.session.get(Delegation, (sponsor.id, old.id)) is None
    assert browser.get("/sponsor/").status_code == 302  # logged out: works for nobody now


def test_a_bad_delegate_address_is_refused_at_the_field(
    coordinator: User, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    response = post_form(client, f"/coordinator/sponsors/{sponsor.id}/delegates", email="nope")
    assert response.status_code == 200
    assert "such as name@example.org, in Latin letters." in field_errors(response)["email"]


# Deactivation ---------------------------------------------------------------------------------


def test_deactivation_logs_the_godparent_out_and_offers_handovers(
    coordinator: User, web_app: Flask, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    pairing = make_sponsorship(sponsor, make_prisoner(name_latin="Alena Krautsova"))
    browser = web_app.test_client()
    Auth(browser).login(sponsor.email)
    assert browser.get("/sponsor/").status_code == 200

    path = f"/coordinator/sponsors/{sponsor.id}"
    response = post_form(client, f"{path}/deactivate", form_page=path)
    assert response.status_code == 302
    assert browser.get("/sponsor/").status_code == 302  # their session is over
    db.session.refresh(sponsor)
    db.session.refresh(pairing)
    assert not sponsor.is_active and not sponsor.user.is_active
    assert pairing.status is SponsorshipStatus.ACTIVE  # not silently ended
    page = client.get(path).text
    assert "still has 1 active godparenthood" in page
    assert f"/coordinator/sponsorships/{pairing.id}/handover" in page
    assert Auth(browser).login(sponsor.email).status_code == 200  # cannot log in again

    response = post_form(client, f"{path}/reactivate", form_page=path)
    assert response.status_code == 302
    db.session.refresh(sponsor)
    assert sponsor.is_active and sponsor.user.is_active
    assert Auth(browser).login(sponsor.email).status_code == 302


def test_unchecking_active_in_the_form_deactivates_too(
    coordinator: User, web_app: Flask, client: FlaskClient
) -> None:
    sponsor = make_sponsor()
    browser = web_app.test_client()
    Auth(browser).login(sponsor.email)
    values = {**VALID}
    del values["is_active"]
    assert (
        post_form(client, f"/coordinator/sponsors/{sponsor.id}/edit", **values).status_code == 302
    )
    assert browser.get("/sponsor/").status_code == 302


# Personal data --------------------------------------------------------------------------------


@pytest.fixture
def anna(app: Flask) -> Sponsor:
    """A godparent with a login, two office staff (one also works for Jan), pairings, actions."""
    sponsor = make_sponsor(
        full_name="Anna Schmidt",
        email="anna.schmidt@bundestag.example",
        phone="+49 30 1234",
        notes="Anna Schmidt prefers calls",
    )
    sponsor.user.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    sponsor.user.calendar_token_hash = "f" * 64
    db.session.commit()
    solo = make_delegate(sponsor, email="solo@anna-office.example")
    shared = make_delegate(sponsor, email="shared@office.example")
    db.session.add(Delegation(sponsor=make_sponsor(full_name="Jan Kowalski"), user=shared))
    db.session.commit()
    pairing = make_sponsorship(sponsor, make_prisoner(name_latin="Alena Krautsova"))
    make_action(pairing, sponsor.user, summary="Birthday card from Berlin")
    make_action(pairing, solo, summary="Letter posted by the office")
    old = make_sponsorship(
        sponsor,
        make_prisoner(),
        status=SponsorshipStatus.ENDED,
        ended_on=date(2024, 1, 1),
        end_reason=EndReason.WITHDREW,
    )
    make_action(
        old, sponsor.user, summary="An old speech", kind=ActionKind.SPEECH, letter_outcome=None
    )
    _email(sponsor.email, "Dear Anna Schmidt, a birthday is coming up.", sponsor.user)
    _email(solo.email, "Dear office, please post the card.", solo)
    _email("coordinator@ngo.example", "Inactive for 90 days: Anna Schmidt.")
    return sponsor


def test_export_holds_everything_but_secrets(
    login_as: LoginAs, anna: Sponsor, coordinator: User, auth: Auth, client: FlaskClient
) -> None:
    auth.logout()
    auth.login(anna.email)  # a login event whose actor is Anna
    auth.logout()
    login_as(coordinator.email)
    response = client.get(f"/coordinator/sponsors/{anna.id}/personal-data")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.data)
    assert data["sponsor"]["full_name"] == "Anna Schmidt"
    assert data["sponsor"]["notes"] == "Anna Schmidt prefers calls"
    assert data["user"]["email"] == "anna.schmidt@bundestag.example"
    assert data["user"]["has_two_factor"] is True
    assert {d["email"] for d in data["delegates"]} == {
        "solo@anna-office.example",
        "shared@office.example",
    }
    assert len(data["pairings"]) == 2
    assert {a["summary"] for a in data["actions"]} == {
        "Birthday card from Berlin",
        "Letter posted by the office",
        "An old speech",
    }
    assert any(
        e["action"] == "login" and e["actor_id"] == anna.user_id for e in data["audit_events"]
    )
    assert not {"password_hash", "totp_secret", "calendar_token_hash"} & set(data["user"])
    raw = response.get_data(as_text=True)
    for secret in ("$argon2", "JBSWY3DPEHPK3PXP", "f" * 64):
        assert secret not in raw, secret


def _traces(*needles: str) -> list[str]:
    """Every row of every table in which one of ``needles`` still appears."""
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            flat = json.dumps([str(value) for value in row], ensure_ascii=False).lower()
            found += [f"{table.name}: {needle}" for needle in needles if needle.lower() in flat]
    return found


def _email(recipient: str, body: str, user: User | None = None) -> OutboxMessage:
    return make_outbox_message(
        recipient=user,
        recipient_email=recipient,
        subject_ref="test",
        email_subject="Reminder",
        body_text=body,
        status=OutboxStatus.SENT,
    )


def test_erase_requires_the_name(anna: Sponsor, coordinator: User, client: FlaskClient) -> None:
    path = f"/coordinator/sponsors/{anna.id}/erase"
    assert "Erase the personal data of Anna Schmidt" in client.get(path).text
    response = post_form(client, path, confirm_name="Anna")
    assert response.status_code == 200
    assert "not the godparent's name" in field_errors(response)["confirm_name"]
    db.session.refresh(anna)
    assert anna.full_name == "Anna Schmidt" and anna.erased_at is None


def test_erase_leaves_actions_counted_and_no_trace_of_the_person(
    login_as: LoginAs, anna: Sponsor, coordinator: User, auth: Auth, client: FlaskClient
) -> None:
    sponsor_id, user_id = anna.id, anna.user_id
    auth.logout()
    login_as(anna.email)
    auth.logout()
    login_as(coordinator.email)
    # An edit through the app leaves the old name in the audit log's old values.
    edit = f"/coordinator/sponsors/{sponsor_id}/edit"
    post_form(
        client,
        edit,
        **{**VALID, "full_name": "Anna Schmidt-Berg", "email": "anna.schmidt@bundestag.example"},
    )
    assert _traces("Anna Schmidt", "anna.schmidt@bundestag")  # the test can see them
    actions_before = count_rows(Action)

    response = post_form(
        client, f"/coordinator/sponsors/{sponsor_id}/erase", confirm_name=" anna  schmidt-berg "
    )
    assert response.status_code == 302

    db.session.expire_all()
    sponsor = db.session.get(Sponsor, sponsor_id)
    assert sponsor.full_name == f"Erased godparent #{sponsor_id}"
    assert (
        sponsor.title,
        sponsor.party,
        sponsor.email,
        sponsor.phone,
        sponsor.notes,
        sponsor.public_quote,
    ) == (None, None, None, None, None, None)
    assert not sponsor.is_active and not sponsor.has_public_consent
    assert sponsor.erased_at is not None and sponsor.user_id is None
    assert db.session.get(User, user_id) is None
    assert db.session.scalar(select(User).where(User.email == "solo@anna-office.example")) is None
    shared = db.session.scalar(select(User).where(User.email == "shared@office.example"))
    assert shared is not None and [d.sponsor.full_name for d in shared.delegations] == [
        "Jan Kowalski"
    ]

    assert count_rows(Action) == actions_before  # still counted
    summaries = db.session.execute(
        select(Action.summary, Action.logged_by_id)
        .join(Action.sponsorship)
        .where(Sponsorship.sponsor_id == sponsor_id)
    ).all()
    assert len(summaries) == 3 and all(by is None for _, by in summaries)  # anonymous
    statuses = db.session.execute(
        select(Sponsorship.status, Sponsorship.end_reason).where(
            Sponsorship.sponsor_id == sponsor_id
        )
    ).all()
    assert sorted(statuses) == sorted(
        [(SponsorshipStatus.ENDED, EndReason.OTHER), (SponsorshipStatus.ENDED, EndReason.WITHDREW)]
    )

    assert (
        _traces(
            "Anna Schmidt",
            "anna.schmidt@bundestag",
            "solo@anna-office",
            "+49 30 1234",
            "prefers calls",
        )
        == []
    )
    digest = db.session.scalar(select(OutboxMessage))
    assert digest.recipient_email == "coordinator@ngo.example"  # the ledger stays, blanked
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    erase_events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "erase")).all()
    assert [(e.actor_id, e.changes) for e in erase_events] == [
        (coordinator.id, {"sponsor_id": sponsor_id})
    ]
    page = client.get(f"/coordinator/sponsors/{sponsor_id}").text
    assert f"Erased godparent #{sponsor_id}" in page and "Edit" not in page
    assert client.get(edit).status_code == 302  # an erased record is not edited


def test_erasing_a_godparent_without_login_or_staff(coordinator: User, client: FlaskClient) -> None:
    sponsor = make_sponsor(full_name="Ola Nordmann", with_login=False)
    response = post_form(
        client, f"/coordinator/sponsors/{sponsor.id}/erase", confirm_name="Ola Nordmann"
    )
    assert response.status_code == 302
    db.session.refresh(sponsor)
    assert sponsor.erased_at is not None
    assert _traces("Ola Nordmann") == []
