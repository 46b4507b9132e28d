"""Godparents hear what changed for their godchild (reminders/notices.py): a transfer, a
release or deportation, a sentence, a hearing set; whichever way it arrived (a screen's
ORM save, the CSV import); each once, in the recipient's language; switchable except
transfers; never to another team."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from godparents.extensions import db
from godparents.prisoners.merge import merge
from godparents.prisoners.models import (
    KeyDate,
    KeyDateKind,
    Prisoner,
    PrisonerAddress,
    PrisonerStatus,
)
from godparents.reminders import notices
from godparents.reminders.models import OutboxMessage, ReminderRule, Trigger
from godparents.reminders.notices import ChangeNotice
from godparents.reminders.writing import write_pending
from godparents.timeutil import campaign_today
from tests.factories import (
    make_coordinator,
    make_delegate,
    make_prisoner,
    make_sponsor,
    make_sponsorship,
)
from tests.helpers import Auth, csrf_token
from tests.prisoners.test_csv import SAMPLE, _by_external_id, _import

NEW = "212013, г. Могилёв,\nИК-15"
OLD = "220030, г. Минск,\nул. Володарского, 2,\nСИЗО-1"


def _today() -> date:
    return campaign_today("Europe/Berlin")


def _messages() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _written() -> dict[str, OutboxMessage]:
    """Write the waiting notices as the reminder job does; by recipient."""
    write_pending(_today(), datetime.now(UTC))
    db.session.expire_all()
    return {m.recipient_email: m for m in _messages()}


def _team(**prisoner: object) -> tuple[Prisoner, object, object]:
    sponsor = make_sponsor()
    german = make_delegate(sponsor, locale="de")
    held = make_prisoner(name_latin="Ihar Losik", name_ru="Игорь Лосик", **prisoner)
    make_sponsorship(sponsor, held)
    return held, sponsor, german


def _move(prisoner: Prisoner, postal: str = NEW) -> None:
    prisoner.addresses.append(
        PrisonerAddress(facility="Penal colony No. 15", postal_address=postal, valid_from=_today())
    )
    db.session.commit()


def test_a_transfer_tells_the_team_once_each_in_their_language(app: Flask) -> None:
    prisoner, sponsor, german = _team()
    make_sponsorship(make_sponsor(), make_prisoner())  # another team: told nothing
    _move(prisoner)
    messages = _messages()
    assert sorted(m.recipient_email for m in messages) == sorted([sponsor.email, german.email])
    assert {m.subject_ref for m in messages} == {
        f"notice:{db.session.scalar(select(ChangeNotice.id))}"
    }
    written = _written()
    english, deutsch = written[sponsor.email], written[german.email]
    assert english.email_subject == "Ihar Losik was moved: a new address for letters"
    assert "212013, г. Могилёв,\nИК-15\nИгорь Лосик" in english.body_text
    assert "ул. Володарского, 2, (no longer valid)" in english.body_text
    assert "<del>220030, г. Минск," in english.body_html
    assert deutsch.locale == "de" and "Guten Tag," in deutsch.body_text
    # A transfer cannot be switched off, so its email offers no way to stop it.
    assert "Stop reminders" not in english.body_text
    assert "/reminders/unsubscribe/" not in (english.body_html or "")
    # The same change saved again is not news.
    notices.record(
        db.session.connection(),
        prisoner.id,
        notices.TRANSFER,
        db.session.scalar(select(ChangeNotice.details)),
        _today(),
    )
    db.session.commit()
    assert len(_messages()) == 2
    assert db.session.scalar(select(func.count()).select_from(ChangeNotice)) == 1


def test_a_first_address_is_no_transfer(app: Flask) -> None:
    prisoner, _sponsor, _german = _team(address=None)
    _move(prisoner)
    assert _messages() == []


def test_transfers_cannot_be_switched_off_but_other_news_can(app: Flask) -> None:
    prisoner, sponsor, german = _team()
    for user in (sponsor.user, german):
        user.reminder_opt_outs = [
            Trigger.NOTICE_TRANSFER.value,
            Trigger.NOTICE_SENTENCE.value,
            Trigger.NOTICE_HEARING.value,
        ]
    german.reminder_opt_outs = [Trigger.NOTICE_HEARING.value]
    db.session.commit()
    _move(prisoner)
    assert len(_messages()) == 2
    db.session.add(
        KeyDate(prisoner=prisoner, kind=KeyDateKind.APPEAL, occurs_on=_today() + timedelta(days=9))
    )
    db.session.commit()
    assert len(_messages()) == 2  # both switched hearings off


def test_a_release_says_what_happens_next(app: Flask) -> None:
    prisoner, sponsor, _german = _team()
    prisoner.status = PrisonerStatus.DEPORTED
    db.session.commit()
    written = _written()[sponsor.email]
    assert written.email_subject == "Ihar Losik was deported"
    assert "please send no more letters to the prison" in " ".join(written.body_text.split())
    assert "Stop reminders about" in written.body_text  # this news can be switched off
    assert db.session.scalar(select(ChangeNotice.details)) == {"status": "deported"}


def test_a_sentence_is_told_with_the_sentence(app: Flask) -> None:
    prisoner, sponsor, _german = _team(status=PrisonerStatus.PRETRIAL)
    prisoner.status = PrisonerStatus.SENTENCED
    prisoner.sentence = "6 years in a penal colony"
    db.session.commit()
    written = _written()[sponsor.email]
    assert written.email_subject == "Ihar Losik was sentenced"
    assert "6 years in a penal colony" in written.body_text


def test_a_hearing_set_is_told_and_one_in_the_past_is_not(app: Flask) -> None:
    prisoner, sponsor, _german = _team()
    db.session.add(
        KeyDate(prisoner=prisoner, kind=KeyDateKind.HEARING, occurs_on=_today() - timedelta(days=3))
    )
    db.session.add(
        KeyDate(prisoner=prisoner, kind=KeyDateKind.CUSTOM, occurs_on=_today() + timedelta(days=3))
    )
    db.session.commit()
    assert _messages() == []
    on = _today() + timedelta(days=20)
    db.session.add(KeyDate(prisoner=prisoner, kind=KeyDateKind.TRIAL, occurs_on=on))
    db.session.commit()
    written = _written()[sponsor.email]
    assert written.email_subject.startswith("Ihar Losik: Trial on ")
    assert on.strftime("%B") in written.body_text


def test_the_import_tells_of_transfers_and_releases(app: Flask) -> None:
    _import(SAMPLE.read_bytes())
    moved_prisoner = _by_external_id("demo-001")
    sponsor = make_sponsor()
    make_sponsorship(sponsor, moved_prisoner)
    assert _messages() == []
    moved = (
        SAMPLE.read_text(encoding="utf-8-sig")
        .replace("Penal colony No. 3 (Viciebsk)", "Penal colony No. 15 (Mahilioŭ)")
        .replace("211300, г. Витебск,\nул. Придвинская, 3,\nИК-3", NEW)
    )
    _import(moved, today=_today())
    [message] = _messages()
    assert message.recipient_email == sponsor.email
    notice = db.session.scalar(select(ChangeNotice))
    assert notice.kind == notices.TRANSFER
    assert notice.details["new"]["postal_address"] == NEW
    assert "Придвинская" in notice.details["old"]["postal_address"]
    _import(moved, today=_today())  # the same file again: nothing new
    assert len(_messages()) == 1


def test_what_people_typed_is_escaped_in_the_notice_emails(app: Flask) -> None:
    payload = '"><svg onload=alert(1)>'
    prisoner, _sponsor, _german = _team(status=PrisonerStatus.PRETRIAL)
    prisoner.status = PrisonerStatus.SENTENCED
    prisoner.sentence = payload
    db.session.commit()
    _move(prisoner, postal=f"212013, г. Могилёв,\n{payload}")
    _written()
    written = _messages()
    assert len(written) == 4 and all(m.email_subject for m in written)
    assert all(payload not in m.body_html for m in written)
    assert all("&#34;&gt;&lt;svg onload=alert(1)&gt;" in m.body_html for m in written)


def test_a_merge_that_brings_a_newer_address_tells_the_kept_record_s_team(app: Flask) -> None:
    kept, sponsor, _german = _team()
    other = make_prisoner(name_latin="Ihar Losik (2)", address=None)
    other.addresses.append(
        PrisonerAddress(facility="Penal colony No. 15", postal_address=NEW, valid_from=_today())
    )
    older = make_prisoner(name_latin="Ihar Losik (3)", address=None)
    older.addresses.append(
        PrisonerAddress(facility="Old", postal_address="old", valid_from=date(2020, 1, 1))
    )
    db.session.commit()
    assert _messages() == []
    merge(kept, older, False, _today(), None, None)  # an older address: nothing new
    db.session.commit()
    assert _messages() == []
    merge(kept, other, False, _today(), None, None)
    db.session.commit()
    assert [m.recipient_email for m in _messages()].count(sponsor.email) == 1
    assert db.session.scalar(select(ChangeNotice.details))["new"]["postal_address"] == NEW


def test_coordinators_see_edit_and_switch_off_the_news_rules(
    app: Flask, auth: Auth, client: FlaskClient
) -> None:
    prisoner, _sponsor, _german = _team()
    _move(prisoner)  # makes the transfer rule on first use
    rule = db.session.scalar(
        select(ReminderRule).where(ReminderRule.trigger == Trigger.NOTICE_TRANSFER)
    )
    auth.login(make_coordinator().email)
    assert "News: transfer" in client.get("/coordinator/reminders/").text
    path = f"/coordinator/reminders/{rule.id}/edit"
    assert client.get(path).status_code == 200
    assert client.get(f"/coordinator/reminders/{rule.id}/preview").status_code == 200
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "name": "News: transfer",
            "trigger": "notice_transfer",
            "days": "0",
            "to_sponsor": "y",
            "template": "notice_transfer",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ReminderRule, rule.id).is_active is False
    _move(prisoner, postal="another address")
    assert len(_messages()) == 2  # the rule is off: nothing more
