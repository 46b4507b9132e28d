"""Forms of the print kit."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from godparents.actions import postby
from godparents.fields import BoundedIntegerField
from godparents.letters.models import LetterLanguage, Occasion

TEXT_MAX = 10_000
OCCASIONS = {
    Occasion.BIRTHDAY: _l("Birthday"),
    Occasion.NEW_YEAR: _l("New Year"),
    Occasion.SUPPORT: _l("Support"),
    Occasion.AFTER_SENTENCING: _l("After sentencing"),
}
LETTER_LANGUAGES = {
    LetterLanguage.RUSSIAN: _l("Russian"),
    LetterLanguage.BELARUSIAN: _l("Belarusian"),
}
WORD_LANGUAGES = {
    "ru": _l("Russian"),
    "be": _l("Belarusian"),
    "de": _l("German"),
    "en": _l("English"),
}
SIZES = {"dl": _l("DL (220 x 110 mm)"), "c6": _l("C6 (162 x 114 mm)")}


class LetterTemplateForm(FlaskForm):
    occasion = SelectField(
        _l("Occasion"),
        choices=[SelectChoice(o.value, text) for o, text in OCCASIONS.items()],
        validators=[InputRequired()],
    )
    language = SelectField(
        _l("Language of the letter"),
        choices=[SelectChoice(lang.value, text) for lang, text in LETTER_LANGUAGES.items()],
        validators=[InputRequired()],
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(
        _l("Text of the letter"),
        validators=[DataRequired(), Length(max=TEXT_MAX)],
        render_kw={"rows": 10, "lang": "ru", "data-letter-check": ""},
        description=_l(
            "{name} is replaced by the prisoner's name, {first_name} by the first name."
        ),
    )
    translation_de = TextAreaField(
        _l("German translation"),
        validators=[Optional(), Length(max=TEXT_MAX)],
        render_kw={"rows": 6, "lang": "de"},
    )
    translation_en = TextAreaField(
        _l("English translation"),
        validators=[Optional(), Length(max=TEXT_MAX)],
        render_kw={"rows": 6, "lang": "en"},
    )
    is_active = BooleanField(_l("Offered to godparents"), default=True)
    check = SubmitField(_l("Check the text"))
    submit = SubmitField(_l("Save"))


class TemplateDeleteForm(FlaskForm):
    submit = SubmitField(_l("Delete"))


class WatchWordForm(FlaskForm):
    phrase = StringField(
        _l("Word or phrase"),
        validators=[DataRequired(), Length(max=200)],
        description=_l(
            'Whole words; end it with * for every ending: "свобод*" also finds "свободы".'
        ),
    )
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, text) for code, text in WORD_LANGUAGES.items()],
        validators=[InputRequired()],
    )
    reason = StringField(
        _l("Why letters are withheld"), validators=[DataRequired(), Length(max=300)]
    )
    submit = SubmitField(_l("Add to the list"))


class WatchWordDeleteForm(FlaskForm):
    submit = SubmitField(_l("Remove"))


class SenderAddressForm(FlaskForm):
    postal_address = TextAreaField(
        _l("Sender's postal address"),
        validators=[Optional(), Length(max=500)],
        render_kw={"rows": 5},
        description=_l(
            "Printed on the envelope as the sender: your office's address, for example. "
            "Prisons hand over letters with a sender's address more often."
        ),
    )
    submit = SubmitField(_l("Save the sender's address"))


class LetterForm(FlaskForm):
    """A godparent's letter: a template's text to change, checked, printed."""

    text = TextAreaField(
        _l("Your letter"),
        validators=[DataRequired(), Length(max=TEXT_MAX)],
        render_kw={"rows": 14, "lang": "ru", "data-letter-check": ""},
    )
    check = SubmitField(_l("Check the text"))
    submit = SubmitField(_l("Print the letter (PDF)"))


class TransitTimeForm(FlaskForm):
    country = StringField(
        _l("Destination country"),
        default=postby.DESTINATION,
        validators=[
            InputRequired(),
            Regexp(r"^\s*[A-Za-z]{2}\s*$", message=_l("Two letters, such as BY for Belarus.")),
        ],
        description=_l("Two letters, such as BY for Belarus."),
    )
    days = BoundedIntegerField(
        _l("Days in the post"),
        default=postby.FALLBACK_TRANSIT_DAYS,
        validators=[
            InputRequired(),
            NumberRange(min=0, max=postby.MAX_TRANSIT_DAYS),
        ],
        description=_l("Cards are to be posted this many days before the date."),
    )
    submit = SubmitField(_l("Save"))
