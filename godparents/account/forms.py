"""Forms of the profile page."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from godparents.auth.forms import PasswordSetForm
from godparents.fields import BoundedIntegerField, EmailAddress, MultiCheckboxField
from godparents.reminders.models import Trigger
from godparents.sponsors.registry_forms import AddressFields

# Offered first; any other IANA zone is accepted too.
COMMON_TIMEZONES = (
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Dublin",
    "Europe/Helsinki",
    "Europe/Lisbon",
    "Europe/London",
    "Europe/Luxembourg",
    "Europe/Madrid",
    "Europe/Paris",
    "Europe/Prague",
    "Europe/Riga",
    "Europe/Rome",
    "Europe/Stockholm",
    "Europe/Tallinn",
    "Europe/Vienna",
    "Europe/Vilnius",
    "Europe/Warsaw",
    "Europe/Zurich",
    "America/New_York",
    "America/Toronto",
    "UTC",
)

SPONSOR_REMINDERS = {
    Trigger.BIRTHDAY: _l("Birthdays (a reminder to send a card in time, and on the day)"),
    Trigger.DETENTION_ANNIVERSARY: _l("Anniversaries of the detention"),
    Trigger.DETENTION_MILESTONE: _l("Round numbers of days in detention (500, 1,000, ...)"),
    Trigger.KEY_DATE: _l("Trials, appeals and hearings"),
    Trigger.CAMPAIGN_DAY: _l("Campaign days"),
    Trigger.INACTIVITY: _l("A nudge when nothing has been logged for a while"),
    Trigger.SPONSORSHIP_START: _l("Welcome and first steps of a new godparenthood"),
    # What changed for a godchild (reminders/notices.py); a transfer is always told, since
    # letters to the old address are lost.
    Trigger.NOTICE_RELEASE: _l("News: a godchild released or deported"),
    Trigger.NOTICE_SENTENCE: _l("News: a godchild sentenced"),
    Trigger.NOTICE_HEARING: _l("News: a trial or hearing set"),
    Trigger.LETTER_OUTCOMES: _l("On Mondays: did your letters arrive?"),
}
COORDINATOR_REMINDERS = {Trigger.COORDINATOR_DIGEST: _l("The weekly digest (Mondays)")}


@cache
def _timezones() -> tuple[tuple[str, str], ...]:
    """The time zones to choose from, common ones first. Read once per process:
    ``available_timezones`` walks the time zone database on disk (7 ms a call)."""
    zones = list(COMMON_TIMEZONES) + sorted(available_timezones() - set(COMMON_TIMEZONES))
    return tuple((zone, zone.replace("_", " ")) for zone in zones)


class ProfileForm(AddressFields, FlaskForm):
    full_name = StringField(
        _l("Your name"),
        validators=[Optional(), Length(max=200)],
        description=_l("As emails should address you. Leave it empty for “Hello,” alone."),
    )
    title = StringField(
        _l("Parliamentary title"),
        validators=[Optional(), Length(max=100)],
        description=_l("For example: MdB, MEP, Abg.z.NR. Shown on lists, not in salutations."),
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    contact_email = EmailField(
        _l("Contact email"),
        validators=[Optional(), EmailAddress(), Length(max=254)],
        description=_l("Where the campaign writes to you, if not to your login address."),
    )
    locale = SelectField(
        _l("Language"), choices=[SelectChoice("en", "English"), SelectChoice("de", "Deutsch")]
    )
    timezone = SelectField(_l("Time zone"), validators=[InputRequired()])
    reminders = MultiCheckboxField(_l("Send me reminders about"), validators=[Optional()])
    birthday_card_days = BoundedIntegerField(
        _l("Birthday card reminder, days before the birthday"),
        validators=[InputRequired(), NumberRange(min=7, max=90)],
        description=_l("Post to Belarus takes two to five weeks: 30 days is a safe choice."),
    )
    submit = SubmitField(_l("Save"))

    def __init__(
        self, *args: object, reminder_kinds: dict[Trigger, object], **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.set_address_choices()
        self.timezone.choices = [SelectChoice(zone, text) for zone, text in _timezones()]
        self.reminders.choices = [
            SelectChoice(kind.value, str(text)) for kind, text in reminder_kinds.items()
        ]


class PasswordChangeForm(PasswordSetForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=1024)]
    )
    submit = SubmitField(_l("Change password"))


class CalendarForm(FlaskForm):
    submit = SubmitField(_l("Create a new calendar link"))


class CalendarOffForm(FlaskForm):
    submit = SubmitField(_l("Turn the calendar link off"))


def _current_password() -> PasswordField:
    return PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])


class EmailChangeForm(FlaskForm):
    email = EmailField(
        _l("New login email"), validators=[DataRequired(), EmailAddress(), Length(max=254)]
    )
    current_password = _current_password()
    submit = SubmitField(_l("Change login email"))


class TwoFactorEnableForm(FlaskForm):
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(), Length(max=10)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    current_password = _current_password()
    submit = SubmitField(_l("Turn on two factors"))


class PasswordConfirmedForm(FlaskForm):
    """A button that changes how one logs in: it asks for the current password again."""

    current_password = _current_password()


class RecoveryCodesForm(PasswordConfirmedForm):
    submit = SubmitField(_l("Make new recovery codes"))


class TwoFactorDisableForm(PasswordConfirmedForm):
    submit = SubmitField(_l("Turn two factors off"))


class TwoFactorReplaceForm(PasswordConfirmedForm):
    submit = SubmitField(_l("Move to a new phone"))


class SignOutEverywhereForm(FlaskForm):
    submit = SubmitField(_l("Log out everywhere"))


class AccountActionForm(FlaskForm):
    """The CSRF token of the accounts page's one-button forms."""


class TwoFactorResetForm(FlaskForm):
    current_password = PasswordField(
        _l("Your password"), validators=[DataRequired(), Length(max=1024)]
    )
    submit = SubmitField(_l("Reset two factors"))


def _passkey_name() -> StringField:
    return StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l(
            "So that you know which one it is, e.g. “Laptop” or “Security key on my keyring”."
        ),
    )


class PasskeyAddForm(FlaskForm):
    name = _passkey_name()
    current_password = _current_password()
    # Filled in by static/js/passkeys.js with the browser's answer.
    credential = HiddenField(validators=[Length(max=20000)])
    submit = SubmitField(_l("Add a passkey"))


class PasskeyRenameForm(FlaskForm):
    name = _passkey_name()
    submit = SubmitField(_l("Rename"))


class PasskeyRemoveForm(PasswordConfirmedForm):
    submit = SubmitField(_l("Remove"))
