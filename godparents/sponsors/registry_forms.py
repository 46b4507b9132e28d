"""Forms of the coordinators' register of godparents."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from godparents.concurrency import VersionField
from godparents.fields import DayField, EmailAddress
from godparents.labels import label
from godparents.salutations import AcademicTitle, FormOfAddress
from godparents.sponsors.parliaments import all_parliaments


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _upper(value: str | None) -> str | None:
    return value.strip().upper() if isinstance(value, str) else value


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "en"


def _choice(value: object) -> str:
    """A stored value as a select's option value: None is the empty option."""
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def form_of_address_choices() -> list[SelectChoice]:
    return [SelectChoice(form.value, label(form)) for form in FormOfAddress]


def academic_title_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("None")), *(SelectChoice(t.value, label(t)) for t in AcademicTitle)]


class AddressFields:
    """How emails address the person (godparents/salutations.py): on the godparent form
    and on one's own settings."""

    form_of_address = SelectField(
        _l("Address as"),
        coerce=_choice,
        default=FormOfAddress.NEUTRAL.value,
        description=_l(
            "How emails open: “Dear Ms Lindner”, “Dear Mr Hoffmann”, or by the whole name."
        ),
    )
    academic_title = SelectField(
        _l("Academic title"),
        coerce=_choice,
        validators=[Optional()],
        description=_l("Used in salutations, for example “Dear Dr Lindner”."),
    )

    def set_address_choices(self) -> None:
        self.form_of_address.choices = form_of_address_choices()
        self.academic_title.choices = academic_title_choices()


class SponsorForm(AddressFields, FlaskForm):
    full_name = StringField(
        _l("Full name"), filters=[_strip], validators=[DataRequired(), Length(max=200)]
    )
    title = StringField(
        _l("Parliamentary title"),
        filters=[_strip],
        validators=[Optional(), Length(max=100)],
        description=_l("For example: MdB, MEP, Abg.z.NR. Shown on lists, not in salutations."),
    )
    parliament_id = SelectField(_l("Parliament"), coerce=_choice, validators=[Optional()])
    body = StringField(
        _l("Other parliament"),
        filters=[_strip],
        validators=[Length(max=200)],
        description=_l("Only if the parliament is not on the list: its name."),
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

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.set_address_choices()
        self.parliament_id.choices = [
            SelectChoice("", _l("Other: not on the list")),
            *(SelectChoice(str(p.id), p.name_in(_language())) for p in all_parliaments()),
        ]
        if not self.is_submitted() and self.parliament_id.data:
            self.body.data = ""  # the list's name is the parliament's; the box is for others

    def validate_body(self, field: StringField) -> None:
        if not self.parliament_id.data and not field.data:
            raise ValidationError(
                _l("Choose the parliament, or type its name if it is not on the list.")
            )


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
