"""Forms of the coordinators' register of godparents."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from godparents.concurrency import VersionField
from godparents.fields import DayField, EmailAddress


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _upper(value: str | None) -> str | None:
    return value.strip().upper() if isinstance(value, str) else value


class SponsorForm(FlaskForm):
    full_name = StringField(
        _l("Full name"), filters=[_strip], validators=[DataRequired(), Length(max=200)]
    )
    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[Optional(), Length(max=100)],
        description=_l("For example: Dr., MEP, Member of the Bundestag."),
    )
    body = StringField(
        _l("Parliament"),
        filters=[_strip],
        validators=[DataRequired(), Length(max=200)],
        description=_l("For example: European Parliament, Bundestag."),
    )
    country = StringField(
        _l("Country"),
        filters=[_upper],
        validators=[
            DataRequired(),
            Regexp(r"^[A-Z]{2}$", message=_l("Enter the two-letter country code, for example DE.")),
        ],
        description=_l("Two-letter code (ISO 3166), for example DE, PL, LT."),
    )
    party = StringField(
        _l("Party or group"), filters=[_strip], validators=[Optional(), Length(max=200)]
    )
    email = EmailField(
        _l("Email"), filters=[_strip], validators=[Optional(), EmailAddress(), Length(max=254)]
    )
    phone = StringField(_l("Phone"), filters=[_strip], validators=[Optional(), Length(max=50)])
    language = SelectField(
        _l("Language for emails"),
        choices=[SelectChoice("en", "English"), SelectChoice("de", "Deutsch")],
    )
    mandate_ends_on = DayField(_l("Mandate ends on"), validators=[Optional()])
    has_public_consent = BooleanField(_l("Agrees to be named publicly"))
    public_quote = TextAreaField(
        _l("Public quote"), filters=[_strip], validators=[Optional(), Length(max=2000)]
    )
    notes = TextAreaField(
        _l("Internal notes"),
        filters=[_strip],
        validators=[Optional(), Length(max=5000)],
        description=_l("Seen by coordinators only."),
    )
    is_active = BooleanField(_l("Active"), default=True)
    version = VersionField()  # the record's version when the form was read (concurrency.py)
    submit = SubmitField(_l("Save"))


class SponsorInviteForm(FlaskForm):
    email = EmailField(
        _l("Email to send the invitation to"),
        filters=[_strip],
        validators=[Optional(), EmailAddress(), Length(max=254)],
        description=_l("Leave empty to use the godparent's email."),
    )
    submit = SubmitField(_l("Invite to log in"))


class DelegateInviteForm(FlaskForm):
    email = EmailField(
        _l("Email of the office staff member"),
        filters=[_strip],
        validators=[DataRequired(), EmailAddress(), Length(max=254)],
    )
    submit = SubmitField(_l("Send invitation"))


class ConfirmForm(FlaskForm):
    """A button that changes something: the form carries the CSRF token."""

    submit = SubmitField(_l("Confirm"))


class EraseForm(FlaskForm):
    confirm_name = StringField(
        _l("Type the godparent's full name to confirm"),
        filters=[_strip],
        validators=[DataRequired()],
    )
    submit = SubmitField(_l("Erase personal data"))
