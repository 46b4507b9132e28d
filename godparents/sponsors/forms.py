"""Forms of the godparent's pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SubmitField
from wtforms.validators import DataRequired, Length

from godparents.fields import EmailAddress


class DelegateInviteForm(FlaskForm):
    email = EmailField(
        _l("Email of your colleague"), validators=[DataRequired(), EmailAddress(), Length(max=254)]
    )
    submit = SubmitField(_l("Send invitation"))


class DelegateRemoveForm(FlaskForm):
    submit = SubmitField(_l("Remove"))
