"""The coordinators' settings for the public pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SubmitField
from wtforms.validators import Length, Optional

from godparents.fields import EmailAddress


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class PublicSettingsForm(FlaskForm):
    is_enabled = BooleanField(
        _l("Public pages are on"),
        description=_l(
            "Anyone can then see the campaign's figures, the godparents and godchildren who "
            "consented, the news and the open data feed."
        ),
    )
    contact_email = EmailField(
        _l("Contact address for new godparents"),
        filters=[_strip],
        validators=[Optional(), EmailAddress(), Length(max=254)],
        description=_l('Shown on "Become a godparent". Use a shared address of the campaign.'),
    )
    submit = SubmitField(_l("Save"))
