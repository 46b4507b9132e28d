"""The audit log reads as sentences: every kind of event has one, names are resolved in a
bounded number of queries, noise is left out, and erased people do not come back."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select

import godparents
from godparents.audit import sentences
from godparents.audit.deeds import ACTION_SENTENCES
from godparents.audit.models import AuditEvent
from godparents.audit.sentences import ACTION_NAMES, OBJECT_SENTENCES, describe
from godparents.audit.tracking import UNTRACKED, set_actor
from godparents.extensions import Model, db
from godparents.prisoners.models import Facility, FacilityKind, PrisonerAddress
from godparents.sponsors import personal_data
from godparents.sponsorships.models import SponsorshipStatus
from tests.factories import make_coordinator, make_prisoner, make_sponsor, make_sponsorship
from tests.helpers import LoginAs

PACKAGE = Path(godparents.__file__).parent


def _literal_strings(node: ast.AST) -> set[str]:
    return {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


@cache
def recorded_actions() -> frozenset[str]:
    """Every action the code records: the second argument of ``record(...)`` (from
    ``godparents.audit.services``) and the action ``twofactor.turn_off`` is given."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports_record = any(
            isinstance(node, ast.ImportFrom)
            and node.module == "godparents.audit.services"
            and any(alias.name == "record" for alias in node.names)
            for node in ast.walk(tree)
        )
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "record" and imports_record and len(node.args) >= 2:
                found |= _literal_strings(node.args[1])
            elif name == "turn_off" and len(node.args) >= 3:
                found |= _literal_strings(node.args[2])
    return frozenset(found)


def tracked_kinds() -> set[str]:
    return {mapper.class_.__name__ for mapper in Model.registry.mappers} - UNTRACKED


def test_the_enumeration_finds_what_the_code_records() -> None:
    actions = recorded_actions()
    # A sample of each source: views, services, the command line, turn_off's argument.
    assert {"login", "erase", "set_password_command", "two_factor_reset", "retention"} <= actions
    assert {"activate", "deactivate", "access_refused", "throttled", "merge"} <= actions
    assert {"Prisoner", "Sponsorship", "Action", "User", "PrisonerAddress"} <= tracked_kinds()
    assert "AuditEvent" not in tracked_kinds()


def test_every_recorded_action_has_a_sentence_and_a_name() -> None:
    missing = sorted(recorded_actions() - set(ACTION_SENTENCES))
    assert not missing, f"audit actions without a sentence in audit/sentences.py: {missing}"
    unnamed = sorted(recorded_actions() - set(ACTION_NAMES))
    assert not unnamed, f"audit actions without a name for the filter: {unnamed}"


def test_every_tracked_kind_of_object_has_its_sentences() -> None:
    missing = sorted(tracked_kinds() - set(OBJECT_SENTENCES))
    assert not missing, f"audited objects without create/delete sentences: {missing}"
    unnamed = sorted(tracked_kinds() - set(sentences.OBJECT_NAMES))
    assert not unnamed, f"audited objects without a name for the filter: {unnamed}"


@pytest.fixture
def reading(app: Flask) -> Iterator[None]:
    with app.test_request_context("/"):
        yield


def _say(events: list[AuditEvent], locale: str = "en") -> list[str]:
    with force_locale(locale):
        return [str(line.sentence) for line in describe(events)]


def _event(
    action: str, obj: Any = None, changes: dict[str, Any] | None = None, **kw: Any
) -> AuditEvent:
    return AuditEvent(
        action=action,
        object_type=kw.pop("object_type", type(obj).__name__ if obj is not None else None),
        object_id=kw.pop("object_id", getattr(obj, "id", None)),
        changes=changes or {},
        **kw,
    )


def _sample_changes(action: str, world: dict[str, Any]) -> dict[str, Any]:
    return {
        "login": {"second_factor": "passkey"},
        "invite": {"role": "delegate", "sponsor_id": world["sponsor"].id},
        "invite_existing_account": {"sponsor_id": world["sponsor"].id},
        "remove_delegate": {"sponsor_id": world["sponsor"].id},
        "change_email": {"email": ["old@example.org", "new@example.org"]},
        "passkey_added": {"passkey": "Phone"},
        "passkey_renamed": {"passkey": ["Phone", "Old phone"]},
        "passkey_removed": {"passkey": "Phone"},
        "print_labels": {"labels": 3},
        "print_letters": {"letters": 2},
        "set_transit_time": {"country": "BY", "days": 14},
        "retention": {"audit events": 4, "ended sessions": 0},
        "encryption_key_rotated": {"key": "k1", "values": 5},
        "import": {"created": 2, "changed": 1},
        "export": {"kind": "prisoners", "rows": 10},
        "merge": {"merged": {"id": 99, "name_latin": "Darja Zwirko"}},
        "access_refused": {"status": 404, "method": "GET", "path": "/coordinator/x"},
    }.get(action, {})


def test_each_action_reads_as_a_sentence_in_both_languages(app: Flask, reading: None) -> None:
    coordinator = make_coordinator(email="anna@example.org")
    sponsor = make_sponsor(full_name="Dr Margarete Lindner")
    prisoner = make_prisoner(name_latin="Darya Tsvirko")
    world = {"sponsor": sponsor}
    events = []
    for action in sorted(recorded_actions()):
        obj = {"merge": prisoner, "erase": sponsor, "export_personal_data": sponsor}.get(
            action, coordinator
        )
        events.append(_event(action, obj, _sample_changes(action, world), actor_id=coordinator.id))
    for locale in ("en", "de"):
        said = _say(events, locale)
        for event, text in zip(events, said, strict=True):
            assert "%(" not in text and text.strip(), (event.action, text)
            # Not the fallback for kinds of events without a sentence ("actor: action").
            assert f": {event.action}" not in text, f"{event.action} is not said in words"
    english = dict(zip([e.action for e in events], _say(events), strict=True))
    assert english["login"] == "anna@example.org logged in with a passkey"
    assert english["invite"] == (
        "anna@example.org invited anna@example.org to work in the office of Dr Margarete Lindner"
    )
    assert english["merge"] == (
        "anna@example.org merged the duplicate record Darja Zwirko into Darya Tsvirko"
    )
    assert (
        english["set_transit_time"]
        == "anna@example.org set how long post takes to Belarus: 14 days"
    )


def test_each_kind_of_object_reads_in_both_languages(app: Flask, reading: None) -> None:
    events = [
        _event(action, object_type=kind, object_id=12345, changes={"x_field": [1, 2]})
        if action == "update"
        else _event(action, object_type=kind, object_id=12345, changes={})
        for kind in sorted(tracked_kinds())
        for action in ("create", "update", "delete")
    ]
    for locale in ("en", "de"):
        for event, text in zip(events, _say(events, locale), strict=True):
            assert "%(" not in text and text.strip(), (event.object_type, event.action, text)
            # The class name is not shown as such ("Passkey" is also the German word).
            if (locale, event.object_type) != ("de", "Passkey"):
                assert event.object_type not in text.split(), (event.object_type, text)


def test_pairing_and_facility_change_read_as_the_screens_say_them(
    app: Flask, reading: None
) -> None:
    coordinator = make_coordinator(email="anna@example.org")
    lindner = make_sponsor(full_name="Dr Margarete Lindner", with_login=False)
    set_actor(coordinator.id, "127.0.0.1")
    try:
        prisoner = make_prisoner(name_latin="Darya Tsvirko", address=None)
        sizo = Facility(
            name_en="SIZO No. 1", name_de="Untersuchungsgefängnis Nr. 1", kind=FacilityKind.PRETRIAL
        )
        colony = Facility(
            name_en="Penal colony No. 3",
            name_de="Strafkolonie Nr. 3",
            kind=FacilityKind.PENAL_COLONY,
        )
        db.session.add_all([sizo, colony])
        db.session.flush()
        db.session.add(
            PrisonerAddress(
                prisoner=prisoner,
                facility_record=sizo,
                facility_id=sizo.id,
                valid_from=date(2021, 7, 14),
            )
        )
        db.session.commit()
        db.session.add(
            PrisonerAddress(prisoner=prisoner, facility_id=colony.id, valid_from=date(2024, 3, 1))
        )
        db.session.commit()
        pairing = make_sponsorship(lindner, prisoner)
        prisoner.sentence = "5 years"
        prisoner.notes = "A long note\nover two lines"
        db.session.commit()
        pairing.status = SponsorshipStatus.ENDED
        db.session.commit()
    finally:
        set_actor(None, None)
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    said = _say(events)
    assert "anna@example.org added Darya Tsvirko to the registry" in said
    assert (
        "anna@example.org changed Darya Tsvirko's facility from SIZO No. 1 to Penal colony No. 3"
        in said
    )
    assert "anna@example.org paired Darya Tsvirko with Dr Margarete Lindner" in said
    assert "anna@example.org changed Darya Tsvirko's sentence and internal notes" in said
    assert (
        "anna@example.org ended the godparenthood of Dr Margarete Lindner for Darya Tsvirko" in said
    )
    german = _say(events, "de")
    assert any("Untersuchungsgefängnis Nr. 1" in s and "Strafkolonie Nr. 3" in s for s in german)
    # The sentence's field names are the form's, its values as the screens show them.
    with force_locale("en"):
        lines = describe(events)
    update = next(
        line
        for line in lines
        if line.event.action == "update" and line.event.object_type == "Prisoner"
    )
    assert [c.label for c in update.changes] == ["Sentence", "Internal notes"]
    assert all(
        c.key not in ("updated_at", "version", "search_text")
        for line in lines
        for c in line.changes
    )


def test_noise_is_left_out_and_a_single_change_is_said_with_its_values(
    app: Flask, reading: None
) -> None:
    prisoner = make_prisoner(name_latin="Darya Tsvirko")
    event = _event(
        "update",
        prisoner,
        {
            "status": ["sentenced", "released"],
            "updated_at": ["2026-01-01T00:00:00", "2026-01-02T00:00:00"],
            "version": [1, 2],
            "search_text": ["a", "b"],
            "home_version": [3, 4],
        },
    )
    [line] = describe([event])
    assert (
        str(line.sentence) == "The system changed Darya Tsvirko's status from Sentenced to Released"
    )
    assert [(c.key, c.old, c.new) for c in line.changes] == [("status", "Sentenced", "Released")]


def test_languages_moments_and_request_fields_read_as_words(app: Flask, reading: None) -> None:
    """A language is named, not coded; an address's "since" is a moment, shown as one; the
    fields of a refused request are labelled, in German too."""
    user = make_coordinator()
    refused = _event(
        "access_refused", object_type=None, changes={"method": "GET", "path": "/coordinator/"}
    )
    changed = _event("update", user, {"locale": ["en", "de"]})
    since = _event(
        "create",
        object_type="UndeliverableAddress",
        object_id=1,
        changes={"since": "2026-12-03T17:14:28.173405+00:00"},
    )
    with force_locale("de"):
        lines = describe([refused, changed, since])
        shown = [[(str(c.label), c.old, c.new) for c in line.changes] for line in lines]
    assert shown[0] == [("Anfragemethode", None, "GET"), ("Seitenadresse", None, "/coordinator/")]
    assert shown[1] == [("Sprache", "Englisch", "Deutsch")]
    [(label, _old, new)] = shown[2]
    assert label == "Seit" and new.startswith("03.12.2026, ") and "T17" not in new


def test_names_are_escaped(app: Flask, reading: None) -> None:
    prisoner = make_prisoner(name_latin="<b>Darya</b>")
    [line] = describe([_event("create", prisoner, {"name_latin": "<b>Darya</b>"})])
    assert "&lt;b&gt;Darya&lt;/b&gt;" in str(line.sentence) and "<b>" not in str(line.sentence)


def test_names_are_loaded_once_per_kind_however_many_events(
    app: Flask, reading: None, count_queries: Any
) -> None:
    coordinator = make_coordinator()

    def events(n: int) -> list[AuditEvent]:
        found = []
        for _ in range(n):
            sponsor = make_sponsor(with_login=True)
            prisoner = make_prisoner()
            pairing = make_sponsorship(sponsor, prisoner)
            found += [
                _event(
                    "create",
                    pairing,
                    {"sponsor_id": sponsor.id, "prisoner_id": prisoner.id, "status": "active"},
                    actor_id=coordinator.id,
                ),
                _event(
                    "update", pairing, {"status": ["active", "ended"]}, actor_id=sponsor.user_id
                ),
                _event(
                    "update",
                    prisoner,
                    {"status": ["sentenced", "released"]},
                    actor_id=coordinator.id,
                ),
                _event(
                    "create",
                    prisoner.addresses[0],
                    {"prisoner_id": prisoner.id, "facility": "SIZO"},
                ),
                _event("invite", sponsor.user, {"role": "sponsor", "sponsor_id": sponsor.id}),
            ]
        return found

    few, many = events(2), events(20)
    with count_queries() as small:
        describe(few)
    with count_queries() as large:
        said = describe(many)
    assert small.count == large.count
    assert all("deleted" not in str(line.sentence) for line in said)


def test_an_erased_godparent_does_not_reappear(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    coordinator = make_coordinator()
    set_actor(coordinator.id, "127.0.0.1")
    try:
        sponsor = make_sponsor(full_name="Hidden Person", email="hidden@example.org")
        prisoner = make_prisoner(name_latin="Darya Tsvirko")
        make_sponsorship(sponsor, prisoner)
        sponsor.title = "Dr"
        db.session.commit()
        personal_data.erase(sponsor, coordinator, date(2026, 12, 3), sponsor.created_at)
        db.session.commit()
    finally:
        set_actor(None, None)
    login_as(coordinator)
    page = client.get("/coordinator/audit/").text
    assert "Darya Tsvirko" in page and "paired" in page
    assert "Hidden Person" not in page and "hidden@example.org" not in page
    assert "Erased godparent" in page


def test_the_page_shows_sentences_raw_values_and_filters(
    app: Flask, login_as: LoginAs, client: FlaskClient
) -> None:
    coordinator = make_coordinator(email="anna@example.org")
    other = make_coordinator(email="ben@example.org")
    set_actor(coordinator.id, "127.0.0.1")
    try:
        prisoner = make_prisoner(name_latin="Darya Tsvirko")
        prisoner.sentence = "5 years"
        db.session.commit()
    finally:
        set_actor(None, None)
    login_as(other)
    page = client.get("/coordinator/audit/").text
    assert "anna@example.org changed Darya Tsvirko's sentence from – to 5 years" in page
    assert "<details>" in page and "<code>sentence</code>" in page  # the raw values
    mine = client.get(f"/coordinator/audit/?actor_id={coordinator.id}").text
    assert "Darya Tsvirko" in mine and "ben@example.org logged" not in mine
    about = client.get(f"/coordinator/audit/?object=Prisoner&object_id={prisoner.id}").text
    assert "Darya Tsvirko" in about and "SIZO" not in about
    assert "Changed" in client.get("/coordinator/audit/").text  # the filter's words
    german = client.get("/coordinator/audit/", headers={"Accept-Language": "de"}).text
    assert "Darya Tsvirko" in german
    assert client.get("/coordinator/audit/?actor_id=99999999999999").status_code == 200
    # The prisoner's and the godparent's pages link to their entries.
    prisoner_page = client.get(f"/coordinator/prisoners/{prisoner.id}").text
    assert f"/coordinator/audit/?object=Prisoner&amp;object_id={prisoner.id}" in prisoner_page
    sponsor = make_sponsor()
    sponsor_page = client.get(f"/coordinator/sponsors/{sponsor.id}").text
    assert f"/coordinator/audit/?object=Sponsor&amp;object_id={sponsor.id}" in sponsor_page
    assert f"/coordinator/audit/?actor_id={sponsor.user_id}" in sponsor_page


def test_an_unknown_kind_of_event_is_said_plainly_not_hidden(app: Flask, reading: None) -> None:
    [line] = describe([_event("teleport", object_type="Spaceship", object_id=None)])
    assert str(line.sentence) == "The system: teleport Spaceship"
    [line] = describe([_event("teleport", object_type="<i>x</i>", object_id=7, ip="10.0.0.1")])
    assert str(line.sentence) == "Someone not logged in: teleport &lt;i&gt;x&lt;/i&gt; #7"


def test_a_sentence_escapes_its_values_whoever_builds_it(app: Flask) -> None:
    """Sentences are made as Markup one way: the translation trusted, every value escaped,
    so a sentence that forgets to escape cannot put a typed name on the page as HTML."""
    from godparents.audit.names import fill, markup_gettext, markup_ngettext

    typed = '<svg onload="x">'
    with force_locale("en"):
        assert markup_gettext("%(actor)s logged in", actor=typed) == (
            "&lt;svg onload=&#34;x&#34;&gt; logged in"
        )
        assert "<svg" not in markup_ngettext(
            "%(actor)s printed %(num)d label", "%(actor)s printed %(num)d labels", 2, actor=typed
        )
        assert "<svg" not in fill("%(actor)s deleted %(object)s", actor=typed, object=typed)
    # A plain string (no sentence should give one) is escaped whole, not trusted.
    assert sentences._say(typed) == "&lt;svg onload=&#34;x&#34;&gt;"
