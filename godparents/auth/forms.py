"""Forms of the accounts pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from godparents.auth.models import Role
from godparents.fields import EmailAddress, database_id


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField(
        _l("Keep me logged in on this device for two weeks"),
        description=_l("Only on a computer nobody else uses. Not offered to coordinators."),
    )
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class TwoFactorForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l(
            "The six digits your authenticator app shows now, or one of your recovery codes."
        ),
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "text",
            "autocapitalize": "off",
            "spellcheck": "false",
        },
    )
    submit = SubmitField(_l("Continue"))


class PasswordResetRequestForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), EmailAddress(), Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


class PasswordSetForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(max=1024, message=_l("Use at most %(max)d characters.")),
        ],
        description=_l("At least 12 characters. A few unrelated words make a good one."),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Set password"))


class InvitationCreateForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), EmailAddress(), Length(max=254)])
    role = SelectField(
        _l("Invite as"),
        choices=[
            SelectChoice(Role.SPONSOR.value, _l("Godparent")),
            SelectChoice(Role.DELEGATE.value, _l("Office staff of a godparent")),
        ],
        validators=[InputRequired()],
    )
    sponsor_id = SelectField(_l("Godparent"), coerce=database_id, validators=[InputRequired()])
    submit = SubmitField(_l("Send invitation"))


class PasskeyLoginForm(FlaskForm):
    # Filled in by static/js/passkeys.js with the browser's answer.
    credential = HiddenField(validators=[DataRequired(), Length(max=20000)])
    submit = SubmitField(_l("Use a passkey"))
