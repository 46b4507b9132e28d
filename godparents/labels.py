"""The words users read for the values the code stores, in their language."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask import Flask, g
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from godparents import salutations
from godparents.actions.models import ActionKind, LetterOutcome
from godparents.auth.models import Role
from godparents.extensions import db
from godparents.prisoners.models import FacilityKind, KeyDateKind, PrisonerStatus
from godparents.reminders.models import CampaignDay, OutboxStatus, RunStatus, Trigger
from godparents.salutations import AcademicTitle, FormOfAddress
from godparents.sponsors.models import Parliament
from godparents.sponsorships.models import EndReason, SponsorshipStatus

# Pairs, not a dict keyed by member: StrEnum members equal their values, so the prisoner
# status "released" and the end reason "released" would be one key.
_PAIRS: list[tuple[StrEnum, LazyString]] = [
    (Role.COORDINATOR, _l("Coordinator")),
    (Role.SPONSOR, _l("Godparent")),
    (Role.DELEGATE, _l("Office staff")),
    (PrisonerStatus.PRETRIAL, _l("In pre-trial detention")),
    (PrisonerStatus.SENTENCED, _l("Sentenced")),
    (PrisonerStatus.RELEASED, _l("Released")),
    (PrisonerStatus.PARDONED, _l("Pardoned")),
    (PrisonerStatus.DEPORTED, _l("Deported")),
    (PrisonerStatus.DIED, _l("Died in custody")),
    (PrisonerStatus.UNKNOWN, _l("Status unknown")),
    (FacilityKind.PRETRIAL, _l("Pre-trial detention centre")),
    (FacilityKind.PENAL_COLONY, _l("Penal colony")),
    (FacilityKind.PRISON, _l("Prison")),
    (FacilityKind.SETTLEMENT, _l("Colony-settlement")),
    (FacilityKind.TEMPORARY, _l("Temporary detention")),
    (FacilityKind.OTHER, _l("Other place of detention")),
    (KeyDateKind.TRIAL, _l("Trial")),
    (KeyDateKind.APPEAL, _l("Appeal hearing")),
    (KeyDateKind.HEARING, _l("Hearing")),
    (KeyDateKind.EXPECTED_RELEASE, _l("Expected release")),
    (KeyDateKind.CUSTOM, _l("Key date")),
    (SponsorshipStatus.PROPOSED, _l("Proposed")),
    (SponsorshipStatus.ACTIVE, _l("Active")),
    (SponsorshipStatus.ENDED, _l("Ended")),
    (EndReason.RELEASED, _l("Prisoner released")),
    (EndReason.PARDONED, _l("Prisoner pardoned")),
    (EndReason.DEPORTED, _l("Prisoner deported")),
    (EndReason.MANDATE_ENDED, _l("Mandate ended")),
    (EndReason.WITHDREW, _l("Godparent withdrew")),
    (EndReason.DIED, _l("Prisoner died")),
    (EndReason.OTHER, _l("Other reason")),
    (ActionKind.LETTER, _l("Letter")),
    (ActionKind.CARD, _l("Card")),
    (ActionKind.PARCEL, _l("Parcel")),
    (ActionKind.LETTER_TO_AUTHORITIES, _l("Letter to the authorities")),
    (ActionKind.EMBASSY_CONTACT, _l("Contact with the embassy")),
    (ActionKind.SPEECH, _l("Speech")),
    (ActionKind.PARLIAMENTARY_QUESTION, _l("Parliamentary question")),
    (ActionKind.STATEMENT, _l("Statement")),
    (ActionKind.SOCIAL_MEDIA, _l("Social media")),
    (ActionKind.EVENT, _l("Event")),
    (ActionKind.PETITION, _l("Petition")),
    (ActionKind.VISIT, _l("Visit")),
    (ActionKind.FAMILY_CONTACT, _l("Contact with the family")),
    (ActionKind.OTHER, _l("Other")),
    (LetterOutcome.SENT, _l("Sent")),
    (LetterOutcome.DELIVERED, _l("Delivered")),
    (LetterOutcome.REPLY_RECEIVED, _l("Reply received")),
    (LetterOutcome.RETURNED, _l("Returned")),
    (LetterOutcome.CENSORED, _l("Censored")),
    (LetterOutcome.UNKNOWN, _l("Unknown")),
    (Trigger.BIRTHDAY, _l("Birthday")),
    (Trigger.DETENTION_ANNIVERSARY, _l("Anniversary of the detention")),
    (Trigger.DETENTION_MILESTONE, _l("Days in detention (500, 1,000, ...)")),
    (Trigger.KEY_DATE, _l("Key date (trial, hearing, release)")),
    (Trigger.CAMPAIGN_DAY, _l("Campaign day")),
    (Trigger.INACTIVITY, _l("Nothing logged for a while")),
    (Trigger.SPONSORSHIP_START, _l("Start of a godparenthood")),
    (Trigger.COORDINATOR_DIGEST, _l("Weekly digest (Mondays)")),
    (Trigger.NOTICE_TRANSFER, _l("A godchild moved to another prison")),
    (Trigger.NOTICE_RELEASE, _l("A godchild released or deported")),
    (Trigger.NOTICE_SENTENCE, _l("A godchild sentenced")),
    (Trigger.NOTICE_HEARING, _l("A trial or hearing set")),
    (Trigger.LETTER_OUTCOMES, _l("Did your letters arrive? (Mondays)")),
    (OutboxStatus.PENDING, _l("Waiting")),
    (OutboxStatus.SENT, _l("Sent")),
    (OutboxStatus.FAILED, _l("Failed")),
    (OutboxStatus.CANCELLED, _l("Cancelled")),
    (RunStatus.REQUESTED, _l("Asked for, waiting to start")),
    (RunStatus.RUNNING, _l("Running")),
    (RunStatus.FINISHED, _l("Finished")),
    (RunStatus.UNDELIVERED, _l("Could not deliver everything")),
    (RunStatus.STOPPED, _l("Stopped before the end")),
    (RunStatus.CRASHED, _l("Ended by an error")),
    (FormOfAddress.NEUTRAL, _l("By name (neutral)")),
    (FormOfAddress.FEMALE, _l("Ms")),
    (FormOfAddress.MALE, _l("Mr")),
    (AcademicTitle.DR, _l("Dr.")),
    (AcademicTitle.PROF, _l("Prof.")),
    (AcademicTitle.PROF_DR, _l("Prof. Dr.")),
]
LABELS: dict[tuple[type, str], LazyString] = {
    (type(member), member.value): text for member, text in _PAIRS
}


def label(value: StrEnum | None) -> str:
    if value is None:
        return ""
    return str(LABELS.get((type(value), value.value), value.value))


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "en"


def _names(key: str, query: Any) -> dict[str, str]:
    """English name -> German name, read once per application context (a request, or a
    reminder run): the lists are short and change seldom."""
    cached = g.get(key)
    if cached is None:
        cached = {english: german for english, german in db.session.execute(query) if german}
        setattr(g, key, cached)
    return cached


def parliament(name: str | None) -> str:
    """A parliament's name (as ``Sponsor.body`` holds it) in the reader's language. A name
    typed as "other" stays as typed."""
    if not name:
        return ""
    if _language() != "de":
        return name
    return _names("_parliament_names", select(Parliament.name_en, Parliament.name_de)).get(
        name, name
    )


def campaign_day(day: CampaignDay | str | None) -> str:
    """A campaign day's name in the reader's language; given a day or its English name."""
    if day is None:
        return ""
    if isinstance(day, CampaignDay):
        return day.name_in(_language())
    if _language() != "de":
        return day
    return _names("_campaign_day_names", select(CampaignDay.name, CampaignDay.name_de)).get(
        day, day
    )


def facility_name(address: Any) -> str:
    """Where an address is, in the reader's language: the facility registry's name when the
    address is linked to it and the registry has that language (``facility_en`` and
    ``facility_de`` as a query gives them, or the linked record), else the text as typed."""
    record = getattr(address, "facility_record", None)
    english = getattr(address, "facility_en", None) or (record.name_en if record else None)
    german = getattr(address, "facility_de", None) or (record.name_de if record else None)
    preferred = german if _language() == "de" else english
    return preferred or getattr(address, "facility", None) or ""


def init_app(app: Flask) -> None:
    app.add_template_filter(label, "label")
    app.add_template_filter(parliament, "parliament")
    app.add_template_filter(campaign_day, "campaign_day")
    app.add_template_global(parliament, "parliament_name")
    app.add_template_filter(facility_name, "facility_name")
    app.add_template_filter(
        lambda person: salutations.salutation(person, _language()), "salutation"
    )
    app.add_template_filter(
        lambda person: salutations.display_name(person, _language()), "display_name"
    )
