"""Forms for logging actions and their outcomes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from godparents.actions.models import ActionKind, LetterOutcome
from godparents.actions.services import LINK_MAX, SUMMARY_MAX
from godparents.concurrency import VersionField
from godparents.fields import DayField
from godparents.labels import label


def kind_choices() -> list[SelectChoice]:
    return [SelectChoice(kind.value, label(kind)) for kind in ActionKind]


def outcome_choices() -> list[SelectChoice]:
    return [SelectChoice(outcome.value, label(outcome)) for outcome in LetterOutcome]


class ActionForm(FlaskForm):
    kind = RadioField(_l("What did you do?"), validators=[InputRequired()])
    occurred_on = DayField(_l("When"), validators=[InputRequired()])
    summary = TextAreaField(
        _l("In a few words"),
        # Letters, cards and parcels may go without words (services._check).
        validators=[Optional(), Length(max=SUMMARY_MAX)],
        description=_l("For example: Birthday card in Russian, posted from Berlin."),
    )
    link = StringField(
        _l("Link (optional)"),
        validators=[Optional(), Length(max=LINK_MAX)],
        description=_l("A speech, a post or an article, if there is one."),
    )
    version = VersionField()  # the entry's version when the form was read (concurrency.py)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = kind_choices()


class OutcomeForm(FlaskForm):
    letter_outcome = SelectField(_l("What became of it"), validators=[InputRequired()])
    outcome_on = DayField(_l("Since"), validators=[InputRequired()])
    version = VersionField()
    submit = SubmitField(_l("Update"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.letter_outcome.choices = outcome_choices()


class DeleteForm(FlaskForm):
    submit = SubmitField(_l("Delete"))
