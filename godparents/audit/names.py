"""Who and what an audit event is about, in words: names, field labels and values.

An event names its actor, its object and the objects its values point to by id, and its
fields by column name. ``Names`` loads every object a page of events mentions, each kind
once for the whole page (an action names its pairing, a pairing its prisoner and
godparent: three rounds at most, however many events); ``field_label`` names a column as
the form that edits it does; ``shown`` gives a value as the screens show it.

Names come from the rows as they are now, never from old values in the log: once a
godparent's personal data is erased (``sponsors/personal_data``), the log's values about
them are scrubbed and their row carries the erased marker, so no sentence can name them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Any

from flask_babel import format_date, get_domain, get_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from wtforms.fields.core import UnboundField

from godparents.audit.models import AuditEvent
from godparents.audit.tracking import HIDDEN
from godparents.extensions import Model, db
from godparents.formats import format_moment
from godparents.labels import label

# Never shown, whatever an older event holds: bookkeeping a reader did not change.
NOISE = HIDDEN | frozenset({"session_generation", "erased_at", "id"})
EMPTY = "–"
# A language setting (a user's locale, a godparent's or a letter's language) by its name.
LANGUAGE_NAMES = {
    "en": _l("English"),
    "de": _l("German"),
    "ru": _l("Russian"),
    "be": _l("Belarusian"),
}

# Columns that hold another object's id, and the kind of that object.
REFERENCES = {
    "prisoner_id": "Prisoner",
    "sponsor_id": "Sponsor",
    "sponsorship_id": "Sponsorship",
    "user_id": "User",
    "logged_by_id": "User",
    "updated_by_id": "User",
    "requested_by_id": "User",
    "facility_id": "Facility",
    "rule_id": "ReminderRule",
    "bounce_id": "Bounce",
}

# What each kind of object is loaded as: its columns, in the order references are followed
# (an action names its pairing, a pairing its prisoner and godparent).
STAGES: list[dict[str, tuple[str, ...]]] = [
    {
        "Action": ("sponsorship_id", "kind", "occurred_on"),
        "KeyDate": ("prisoner_id", "kind", "occurs_on"),
        "PrisonerAddress": ("prisoner_id", "facility", "facility_id", "valid_from"),
        "ChangeNotice": ("prisoner_id", "kind"),
        "Passkey": ("user_id", "name"),
    },
    {"Sponsorship": ("prisoner_id", "sponsor_id")},
    {
        "Prisoner": ("name_latin",),
        "Sponsor": ("full_name",),
        "Facility": ("name_en", "name_de", "name_ru", "name_be"),
        "CampaignDay": ("name",),
        "Parliament": ("name_en",),
        "ReminderRule": ("name",),
        "LetterTemplate": ("title",),
        "WatchWord": ("phrase",),
        "Bounce": ("email",),
        "UndeliverableAddress": ("email",),
        "ImportMapping": ("id",),
    },
]


# Field names the forms do not give (or give as a question), per kind of object or for all.
OWN_LABELS: dict[tuple[str | None, str], Any] = {
    (None, "prisoner_id"): _l("Prisoner"),
    (None, "sponsor_id"): _l("Godparent"),
    (None, "user_id"): _l("Account"),
    (None, "facility_id"): _l("Facility"),
    (None, "sponsorship_id"): _l("Godparenthood"),
    (None, "logged_by_id"): _l("Logged by"),
    (None, "is_active"): _l("Active"),
    (None, "kind"): _l("Kind"),
    (None, "name"): _l("Name"),
    (None, "email"): _l("Email address"),
    (None, "status"): _l("Status"),
    (None, "started_on"): _l("Started on"),
    (None, "ended_on"): _l("Ended on"),
    (None, "end_reason"): _l("Reason for ending"),
    (None, "announced_on"): _l("Announced on"),
    (None, "has_public_consent"): _l("Consents to being named in public"),
    (None, "month"): _l("Month"),
    (None, "day"): _l("Day"),
    (None, "password_hash"): _l("Password"),
    (None, "totp_secret"): _l("Two-factor key"),
    (None, "calendar_token_hash"): _l("Calendar link"),
    (None, "role"): _l("Role"),
    (None, "reminder_opt_outs"): _l("Reminders switched off"),
    (None, "birthday_card_days"): _l("Days before a birthday to be reminded"),
    (None, "offset_days"): _l("Days before"),
    (None, "days"): _l("Days"),
    (None, "country"): _l("Country"),
    (None, "details"): _l("What the news says"),
    (None, "occurred_on"): _l("Date"),
    (None, "since"): _l("Since"),
    (None, "method"): _l("Request method"),
    (None, "path"): _l("Page address"),
    (None, "is_public"): _l("May be shown in public"),
    (None, "credential_id"): _l("Passkey id"),
    (None, "mimetype"): _l("File type"),
    ("Action", "kind"): _l("What was done"),
    ("User", "locale"): _l("Language"),
}


@cache
def _forms() -> dict[str, list[type]]:
    """The forms that edit each kind of object: their labels name its fields."""
    from godparents.account.forms import ProfileForm
    from godparents.actions.forms import ActionForm, OutcomeForm
    from godparents.letters.forms import LetterTemplateForm, TransitTimeForm, WatchWordForm
    from godparents.prisoners.forms import (
        AddressChangeForm,
        FacilityForm,
        KeyDateAddForm,
        PrisonerCreateForm,
    )
    from godparents.public.forms import PublicSettingsForm
    from godparents.reminders.forms import RuleForm
    from godparents.sponsors.registry_forms import SponsorForm

    return {
        "Prisoner": [PrisonerCreateForm],
        "PrisonerAddress": [AddressChangeForm],
        "KeyDate": [KeyDateAddForm],
        "Facility": [FacilityForm],
        "Sponsor": [SponsorForm],
        "Action": [ActionForm, OutcomeForm],
        "ReminderRule": [RuleForm],
        "LetterTemplate": [LetterTemplateForm],
        "WatchWord": [WatchWordForm],
        "TransitTime": [TransitTimeForm],
        "User": [ProfileForm],
        "PublicSettings": [PublicSettingsForm],
    }


def field_label(object_type: str | None, key: str) -> str:
    """A column's name as the screens name it: the form's label, else our own, else the
    column's name in words."""
    own = OWN_LABELS.get((object_type, key))
    if own is not None:
        return str(own)
    for form in _forms().get(object_type or "", []):
        unbound = getattr(form, key, None)
        if isinstance(unbound, UnboundField):
            text = unbound.args[0] if unbound.args else unbound.kwargs.get("label")
            if text:
                return str(text)
    own = OWN_LABELS.get((None, key))
    if own is not None:
        return str(own)
    return key.replace("_", " ").capitalize()


def model_class(name: str | None) -> type | None:
    found = Model.registry._class_registry.get(name or "")
    return found if isinstance(found, type) else None


@dataclass
class Change:
    """One field of an event, readable: its label, and the value before and after (an
    update) or its value (a create or delete, in ``new``)."""

    key: str
    label: str
    old: str | None
    new: str


class Names:
    """Every object a page of events mentions, loaded once per kind."""

    def __init__(self, events: list[AuditEvent]) -> None:
        self.rows: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
        self.users: dict[int, str] = {}
        self.addresses: dict[int, list[dict[str, Any]]] = defaultdict(list)
        wanted: dict[str, set[int]] = defaultdict(set)
        for event in events:
            if event.actor_id is not None:
                wanted["User"].add(event.actor_id)
            if event.object_type and isinstance(event.object_id, int):
                wanted[event.object_type].add(event.object_id)
            for key, value in (event.changes or {}).items():
                self._want_reference(wanted, key, value)
        for stage in STAGES:
            for kind, columns in stage.items():
                ids = wanted.pop(kind, set())
                if ids:
                    self._load(kind, columns, ids, wanted)
        if wanted.get("User"):
            self._load_users(wanted["User"])
        self._load_previous_addresses(events)

    @staticmethod
    def _want_reference(wanted: dict[str, set[int]], key: str, value: Any) -> None:
        kind = REFERENCES.get(key)
        if kind is None:
            return
        values = value if isinstance(value, list) else [value]
        wanted[kind].update(v for v in values if isinstance(v, int) and not isinstance(v, bool))

    def _load(
        self, kind: str, columns: tuple[str, ...], ids: set[int], wanted: dict[str, set[int]]
    ) -> None:
        model = model_class(kind)
        if model is None or not hasattr(model, "id"):
            return
        query = select(model.id, *(getattr(model, c) for c in columns)).where(
            model.id.in_(sorted(ids))
        )
        for row in db.session.execute(query).mappings():
            values = dict(row)
            self.rows[kind][values["id"]] = values
            for key, value in values.items():
                self._want_reference(wanted, key, value)

    def _load_users(self, ids: set[int]) -> None:
        from godparents.auth.models import User
        from godparents.sponsors.models import Sponsor

        query = (
            select(User.id, User.email, User.full_name, Sponsor.full_name)
            .outerjoin(Sponsor, Sponsor.user_id == User.id)
            .where(User.id.in_(sorted(ids)))
        )
        # A godparent's name as the registry has it, else the name the person gave in
        # their settings, else their login.
        for user_id, email, own_name, sponsor_name in db.session.execute(query):
            self.users[user_id] = sponsor_name or own_name or email

    def _load_previous_addresses(self, events: list[AuditEvent]) -> None:
        """For "changed Darya's facility from A to B": the addresses of the prisoners whose
        address changed, in one query."""
        from godparents.prisoners.models import PrisonerAddress

        prisoners = {
            (event.changes or {}).get("prisoner_id")
            for event in events
            if event.object_type == "PrisonerAddress" and event.action == "create"
        }
        prisoners = {p for p in prisoners if isinstance(p, int)}
        if not prisoners:
            return
        query = (
            select(
                PrisonerAddress.id,
                PrisonerAddress.prisoner_id,
                PrisonerAddress.facility,
                PrisonerAddress.facility_id,
                PrisonerAddress.valid_from,
            )
            .where(PrisonerAddress.prisoner_id.in_(sorted(prisoners)))
            .order_by(PrisonerAddress.valid_from, PrisonerAddress.id)
        )
        facilities: set[int] = set()
        for row in db.session.execute(query).mappings():
            self.addresses[row["prisoner_id"]].append(dict(row))
            if row["facility_id"] is not None and row["facility_id"] not in self.rows["Facility"]:
                facilities.add(row["facility_id"])
        if facilities:
            self._load("Facility", STAGES[2]["Facility"], facilities, defaultdict(set))

    # -- names -----------------------------------------------------------------------

    def user(self, user_id: Any) -> str:
        if isinstance(user_id, int) and user_id in self.users:
            return self.users[user_id]
        return gettext("a deleted account")

    def row(self, kind: str, object_id: Any) -> dict[str, Any] | None:
        return self.rows[kind].get(object_id) if isinstance(object_id, int) else None

    def facility(self, facility_id: Any, typed: Any = None) -> str:
        row = self.row("Facility", facility_id)
        if row is not None:
            preferred = row["name_de"] if language() == "de" else row["name_en"]
            return str(
                preferred
                or row["name_en"]
                or row["name_de"]
                or row["name_be"]
                or row["name_ru"]
                or ""
            )
        return str(typed) if typed else gettext("an unknown place")

    def name(self, kind: str, object_id: Any, hint: dict[str, Any] | None = None) -> str:
        """The object as the screens name it; ``hint`` (a create's or delete's values)
        names one that is gone."""
        hint = hint or {}
        if kind == "User":
            if isinstance(object_id, int) and object_id in self.users:
                return self.users[object_id]
            return str(hint.get("email") or gettext("a deleted account"))
        if kind == "Facility":
            if self.row("Facility", object_id) is None and not hint:
                return gettext("a deleted facility")
            return self.facility(
                object_id, hint.get("name_en") or hint.get("name_de") or hint.get("name_ru")
            )
        if kind == "TransitTime":
            return country_name(hint.get("country"))
        if kind == "SearchWord":
            return str(hint.get("word") or "")
        row = self.row(kind, object_id) or {}
        values = {**hint, **row}
        if kind == "Prisoner":
            return str(values.get("name_latin") or gettext("a deleted prisoner record"))
        if kind == "Sponsor":
            return str(values.get("full_name") or gettext("a deleted godparent"))
        if kind == "ReminderRule" and values.get("name"):
            from godparents.reminders.defaults import shown_name

            return shown_name(str(values["name"]))
        if kind == "Sponsorship":
            return gettext(
                "the godparenthood of %(prisoner)s with %(sponsor)s",
                prisoner=self.name("Prisoner", values.get("prisoner_id")),
                sponsor=self.name("Sponsor", values.get("sponsor_id")),
            )
        if kind == "Action":
            sponsorship = self.row("Sponsorship", values.get("sponsorship_id")) or {}
            return gettext(
                "“%(kind)s” for %(prisoner)s",
                kind=shown_enum("Action", "kind", values.get("kind")),
                prisoner=self.name("Prisoner", sponsorship.get("prisoner_id")),
            )
        if kind == "KeyDate":
            return gettext(
                "the date “%(kind)s” of %(prisoner)s",
                kind=shown_enum("KeyDate", "kind", values.get("kind")),
                prisoner=self.name("Prisoner", values.get("prisoner_id")),
            )
        if kind == "PrisonerAddress":
            return gettext(
                "an address of %(prisoner)s",
                prisoner=self.name("Prisoner", values.get("prisoner_id")),
            )
        if kind == "PrisonerPhoto":
            return gettext("the photo of %(prisoner)s", prisoner=self.name("Prisoner", object_id))
        if kind == "ChangeNotice":
            return gettext(
                "the news about %(prisoner)s",
                prisoner=self.name("Prisoner", values.get("prisoner_id")),
            )
        if kind == "Delegation":
            return gettext(
                "the office of %(sponsor)s",
                sponsor=self.name("Sponsor", values.get("sponsor_id")),
            )
        if kind == "ImportMapping":
            return gettext("a saved reading of spreadsheet columns")
        for column in ("name", "title", "phrase", "email"):
            if values.get(column):
                return str(values[column])
        return gettext("a deleted record")


def language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "en"


def country_name(code: Any) -> str:
    if not isinstance(code, str) or not code:
        return gettext("a country")
    locale = get_locale()
    territories = locale.territories if locale is not None else {}
    return str(territories.get(code.upper(), code))


def shown_enum(object_type: str | None, key: str, value: Any) -> str:
    model = model_class(object_type)
    column = getattr(getattr(model, "__table__", None), "c", {}).get(key) if model else None
    enum_class = getattr(getattr(column, "type", None), "enum_class", None)
    if isinstance(value, str) and enum_class is not None and issubclass(enum_class, StrEnum):
        try:
            return label(enum_class(value))
        except ValueError:
            return value
    return str(value) if value is not None else EMPTY


def shown(names: Names, object_type: str | None, key: str, value: Any) -> str:
    """A stored value as the screens show it."""
    if value is None or value == "" or value == []:
        return EMPTY
    if value == "[changed]":
        return gettext("changed")
    if value == "[redacted]":
        return gettext("not shown")
    if key in REFERENCES and isinstance(value, int) and not isinstance(value, bool):
        kind = REFERENCES[key]
        if kind == "User":
            return names.user(value)
        if kind == "Facility":
            return names.facility(value)
        return names.name(kind, value)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if key == "country" and isinstance(value, str) and len(value) == 2:
        return country_name(value)
    if key in ("locale", "language") and value in LANGUAGE_NAMES:
        return str(LANGUAGE_NAMES[value])
    if isinstance(value, str):
        enum_text = shown_enum(object_type, key, value)
        if enum_text != value:
            return enum_text
        if key.endswith("_on") or key in ("birth_date", "valid_from", "since"):
            try:
                return format_date(date.fromisoformat(value), "medium")
            except ValueError:
                pass  # a moment, not a day (an undeliverable address's "since")
        if key.endswith("_at") or key == "since":
            try:
                return format_moment(datetime.fromisoformat(value), "short")
            except ValueError:
                return value
        return value
    if isinstance(value, list):
        return ", ".join(shown(names, object_type, key, v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {shown(names, None, str(k), v)}" for k, v in value.items())
    return str(value)


# Sentences are Markup built one way: the translation is trusted, and every value (a name,
# a facility, an email address, anything a person typed) is escaped by Markup's ``%``. No
# sentence has to remember to escape; sentences.py and deeds.py import these as ``gettext``
# and ``ngettext`` (the names the catalog's extraction looks for).


def markup_gettext(string: str, **values: Any) -> Markup:
    # A translation, trusted; the values are escaped by the ``%`` below.
    text = Markup(gettext(string))  # noqa: S704  # nosec B704
    return text % values if values else text


def markup_ngettext(singular: str, plural: str, num: int, **values: Any) -> Markup:
    translated = get_domain().get_translations().ungettext(singular, plural, num)
    return Markup(translated) % {"num": num, **values}  # noqa: S704  # nosec B704


def fill(template: Any, **values: Any) -> Markup:
    """A sentence marked with ``_l`` where it is written, in the reader's language, with
    its values escaped."""
    return Markup(str(template)) % values  # noqa: S704  # nosec B704


Context = dict[str, Any]
Sentence = Callable[[Names, AuditEvent, Context], str]


def object_of(names: Names, event: AuditEvent) -> str:
    hint = event.changes if event.action in ("create", "delete") else None
    return names.name(event.object_type or "", event.object_id, hint)


def count_of(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
