"""Forms for pairing, ending, handing over and recording a release."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired

from godparents.fields import DayField, MultiCheckboxField, database_id
from godparents.labels import label
from godparents.prisoners.models import PrisonerStatus
from godparents.sponsorships.models import EndReason, SponsorshipStatus
from godparents.sponsorships.services import RELEASE_STATUSES


def _optional_int(value: object) -> int | None:
    """An id from a select; the empty "choose" option is None (InputRequired reports it)."""
    if value is None or value == "":
        return None
    return database_id(value)


def end_reason_choices() -> list[SelectChoice]:
    return [SelectChoice(reason.value, label(reason)) for reason in EndReason]


class PairForm(FlaskForm):
    # The choices list the active godparents and held prisoners; the service gives a clearer
    # message than "Not a valid choice" for anyone else, so the select does not check.
    sponsor_id = SelectField(
        _l("Godparent"), coerce=_optional_int, validate_choice=False, validators=[InputRequired()]
    )
    prisoner_id = SelectField(
        _l("Prisoner"), coerce=_optional_int, validate_choice=False, validators=[InputRequired()]
    )
    started_on = DayField(_l("Starts on"), validators=[InputRequired()])
    status = SelectField(_l("Status"), validators=[InputRequired()])
    has_public_consent = BooleanField(_l("Both agree that this godparenthood is made public"))
    submit = SubmitField(_l("Pair"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [
            SelectChoice(SponsorshipStatus.ACTIVE.value, label(SponsorshipStatus.ACTIVE)),
            SelectChoice(SponsorshipStatus.PROPOSED.value, label(SponsorshipStatus.PROPOSED)),
        ]


class EndForm(FlaskForm):
    ended_on = DayField(_l("Ended on"), validators=[InputRequired()])
    end_reason = SelectField(_l("Why"), validators=[InputRequired()])
    submit = SubmitField(_l("End the godparenthood"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.end_reason.choices = end_reason_choices()


class HandoverForm(FlaskForm):
    sponsor_id = SelectField(
        _l("New godparent"),
        coerce=_optional_int,
        validate_choice=False,
        validators=[InputRequired()],
    )
    on = DayField(_l("Hand over on"), validators=[InputRequired()])
    end_reason = SelectField(_l("Why the current godparent stops"), validators=[InputRequired()])
    submit = SubmitField(_l("Hand over"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.end_reason.choices = end_reason_choices()


# Own words for the ways a detention ends: ``labels.label`` keys on the value alone, so
# "released" and "died" would read as the end reasons of the same name.
RELEASE_LABELS = {
    PrisonerStatus.RELEASED: _l("Released"),
    PrisonerStatus.PARDONED: _l("Pardoned"),
    PrisonerStatus.DEPORTED: _l("Deported"),
    PrisonerStatus.DIED: _l("Died in custody"),
}


class ReleaseForm(FlaskForm):
    status = SelectField(_l("What happened"), validators=[InputRequired()])
    released_on = DayField(_l("On"), validators=[InputRequired()])
    pairing_ids = MultiCheckboxField(_l("End these godparenthoods on that day"), coerce=database_id)
    submit = SubmitField(_l("Record"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice(s.value, RELEASE_LABELS[s]) for s in RELEASE_STATUSES]


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("Confirm"))


class BulkUploadForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a CSV file."))],
        description=_l(
            "Two columns, external_id and email (the godparent's), one pairing per row."
        ),
        render_kw={"accept": ".csv,text/csv"},
    )
    status = SelectField(_l("Pair as"), validators=[InputRequired()])
    submit = SubmitField(_l("Check the file"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [
            SelectChoice(SponsorshipStatus.PROPOSED.value, label(SponsorshipStatus.PROPOSED)),
            SelectChoice(SponsorshipStatus.ACTIVE.value, label(SponsorshipStatus.ACTIVE)),
        ]


class BulkConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Pair them"))
