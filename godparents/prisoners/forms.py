"""Forms of the coordinators' prisoner registry."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from godparents.concurrency import VersionField
from godparents.fields import (
    BoundedIntegerField,
    DayField,
    MultiCheckboxField,
    add_error,
    database_id,
)
from godparents.labels import label
from godparents.prisoners import csvio
from godparents.prisoners.import_read import (
    FULL_NAME,
    IGNORED,
    MAX_COLUMNS,
)
from godparents.prisoners.models import (
    FacilityKind,
    Gender,
    KeyDateKind,
    Prisoner,
    PrisonerStatus,
)
from godparents.prisoners.photos import max_photo_bytes, size_in_mb
from godparents.prisoners.services import URL_MAX, AddressData, PrisonerData, split_list

NOTES_MAX = 20_000
GENDERS = {Gender.FEMALE: _l("Female"), Gender.MALE: _l("Male"), Gender.OTHER: _l("Other")}


def _optional_text(max_length: int) -> list[object]:
    return [Optional(), Length(max=max_length)]


class LettersField(SelectField):
    """Yes, no or not known: the coordinators' word on whether letters get through."""

    def process_data(self, value: object) -> None:
        self.data = {True: "yes", False: "no"}.get(value, "")  # type: ignore[call-overload]

    def process_formdata(self, valuelist: list[str]) -> None:
        # A ticked box of the form before ("y") still says yes.
        super().process_formdata(["yes" if v in ("y", "on", "true") else v for v in valuelist])

    @property
    def flag(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.data or "")


class PrisonerForm(FlaskForm):
    """Every field of a prisoner that coordinators edit."""

    name_latin = StringField(
        _l("Name in Latin letters"), validators=[DataRequired(), Length(max=200)]
    )
    name_be = StringField(_l("Name in Belarusian"), validators=_optional_text(200))
    name_ru = StringField(_l("Name in Russian"), validators=_optional_text(200))
    aliases = TextAreaField(
        _l("Other spellings"),
        validators=_optional_text(2000),
        render_kw={"rows": 3},
        description=_l("One per line, or separated by ';'. Search finds each of them."),
    )
    gender = SelectField(_l("Gender"))
    birth_date = DayField(_l("Birth date"), validators=[Optional()])
    birth_year = BoundedIntegerField(
        _l("Year of birth"), validators=[Optional()], description=_l("When only the year is known.")
    )
    status = SelectField(_l("Status"), validators=[InputRequired()])
    detained_on = DayField(_l("Detained on"), validators=[Optional()])
    released_on = DayField(_l("Released on"), validators=[Optional()])
    articles = TextAreaField(
        _l("Articles of the Criminal Code"),
        validators=_optional_text(1000),
        render_kw={"rows": 2},
        description=_l("For example: 342; 361-1"),
    )
    sentence = StringField(_l("Sentence"), validators=_optional_text(500))
    expected_release_on = DayField(_l("Expected release"), validators=[Optional()])
    can_receive_letters = LettersField(
        _l("Do letters get through?"),
        choices=[
            SelectChoice("", _l("Not known")),
            SelectChoice("yes", _l("Yes: letters are known to get through")),
            SelectChoice("no", _l("No: letters are not known to get through")),
        ],
        validators=[Optional()],
        description=_l("The figures of the letters logged are shown beside your word."),
    )
    health_notes = TextAreaField(
        _l("Health and vulnerability (internal)"),
        validators=_optional_text(NOTES_MAX),
        render_kw={"rows": 3},
    )
    public_bio = TextAreaField(
        _l("Public biography"),
        validators=_optional_text(NOTES_MAX),
        render_kw={"rows": 4},
        description=_l("Godparents read this; published only with consent."),
    )
    notes = TextAreaField(
        _l("Internal notes"), validators=_optional_text(NOTES_MAX), render_kw={"rows": 3}
    )
    source_url = StringField(_l("Source (web address)"), validators=_optional_text(URL_MAX))
    external_id = StringField(
        _l("External id"),
        validators=_optional_text(100),
        description=_l("The id in the source list; CSV imports match prisoners by it."),
    )
    has_public_consent = BooleanField(_l("Consents to being named and shown in public"))
    last_verified_on = DayField(_l("Last verified on"), validators=[Optional()])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.gender.choices = [
            SelectChoice("", _l("Not recorded")),
            *(SelectChoice(g.value, text) for g, text in GENDERS.items()),
        ]
        self.status.choices = [SelectChoice(s.value, label(s)) for s in PrisonerStatus]

    version = VersionField()  # the record's version when the form was read (concurrency.py)

    def fill(self, prisoner: Prisoner) -> None:
        """Show a stored prisoner: the fields WTForms cannot take from the object as they are."""
        self.aliases.data = "\n".join(prisoner.aliases or [])
        self.articles.data = "; ".join(prisoner.articles or [])
        self.gender.data = prisoner.gender.value if prisoner.gender else ""
        self.status.data = prisoner.status.value

    def to_data(self) -> PrisonerData:
        return PrisonerData(
            name_latin=self.name_latin.data or "",
            name_be=self.name_be.data,
            name_ru=self.name_ru.data,
            aliases=split_list(self.aliases.data),
            gender=Gender(self.gender.data) if self.gender.data else None,
            birth_date=self.birth_date.data,
            birth_year=self.birth_year.data,
            status=PrisonerStatus(self.status.data),
            detained_on=self.detained_on.data,
            released_on=self.released_on.data,
            articles=split_list(self.articles.data),
            sentence=self.sentence.data,
            expected_release_on=self.expected_release_on.data,
            can_receive_letters=self.can_receive_letters.flag,
            health_notes=self.health_notes.data,
            public_bio=self.public_bio.data,
            notes=self.notes.data,
            source_url=self.source_url.data,
            external_id=self.external_id.data,
            has_public_consent=self.has_public_consent.data,
            last_verified_on=self.last_verified_on.data,
        )


class PrisonerCreateForm(PrisonerForm):
    """A new prisoner, with the first postal address if it is known."""

    facility = StringField(
        _l("Facility"),
        validators=_optional_text(300),
        description=_l("For example: Penal colony No. 3 (Viciebsk)"),
    )
    postal_address = TextAreaField(
        _l("Postal address"),
        validators=_optional_text(2000),
        render_kw={"rows": 4, "lang": "ru"},
        description=_l("In Cyrillic, exactly as on the envelope, without the name."),
    )
    valid_from = DayField(_l("Valid from"), validators=[Optional()])

    def first_address(self, today: date) -> AddressData | None:
        """The address to store, or None when neither facility nor address was given."""
        if not (self.postal_address.data or "").strip() and not (self.facility.data or "").strip():
            return None
        return AddressData(
            postal_address=self.postal_address.data or "",
            valid_from=self.valid_from.data or today,
            facility=self.facility.data,
        )


class AddressChangeForm(FlaskForm):
    facility = StringField(
        _l("Facility"),
        validators=_optional_text(300),
        description=_l(
            "For example: Penal colony No. 3 (Viciebsk). A "
            "facility of the registry is matched by any of its "
            "names; a new one is added."
        ),
        render_kw={"list": "facility-names"},
    )
    postal_address = TextAreaField(
        _l("Postal address"),
        validators=_optional_text(2000),
        render_kw={"rows": 4, "lang": "ru"},
        description=_l(
            "In Cyrillic, exactly as on the envelope, without the name. Leave it "
            "empty when only the facility is known (or its address is on record): "
            "godparents are told when it is unknown."
        ),
    )
    valid_from = DayField(_l("Valid from"), validators=[InputRequired()])
    submit = SubmitField(_l("Save the new address"))

    def to_data(self) -> AddressData:
        return AddressData(
            postal_address=self.postal_address.data or "",
            valid_from=self.valid_from.data,
            facility=self.facility.data,
        )


class KeyDateAddForm(FlaskForm):
    """Shown on the prisoner's page beside the photo form: its button is in the template."""

    kind = SelectField(_l("Kind"), validators=[InputRequired()])
    occurs_on = DayField(_l("Date"), validators=[InputRequired()])
    is_yearly = BooleanField(_l("Every year"))
    note = StringField(_l("Note"), validators=_optional_text(500))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice(k.value, label(k)) for k in KeyDateKind]


class KeyDateDeleteForm(FlaskForm):
    submit = SubmitField(_l("Delete"))


class PhotoUploadForm(FlaskForm):
    """Shown on the prisoner's page beside the key date form: its button is in the template."""

    photo = FileField(
        _l("Photo"),
        validators=[FileRequired()],
        render_kw={"accept": "image/jpeg,image/png,image/gif,image/webp"},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.photo.description = _(
            "JPEG, PNG, GIF or WebP, at most %(size)s MB. It is stored smaller and without "
            "its metadata (such as the place where it was taken).",
            size=size_in_mb(max_photo_bytes()),
        )


def _text(label_text: Any, length: int) -> StringField:
    return StringField(label_text, validators=[Optional(), Length(max=length)])


class FacilityForm(FlaskForm):
    name_en = _text(_l("Name in English"), 300)
    name_de = _text(_l("Name in German"), 300)
    name_ru = _text(_l("Name in Russian"), 300)
    name_be = _text(_l("Name in Belarusian"), 300)
    kind = SelectField(_l("Kind"), validators=[InputRequired()])
    postcode = _text(_l("Postcode"), 40)
    region = _text(_l("Region and district"), 200)
    town = _text(_l("Town"), 200)
    street = _text(_l("Street and number"), 300)
    institution = _text(_l("Institution line"), 300)
    postal_address = TextAreaField(
        _l("Postal address as on the envelope"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 4, "lang": "ru"},
        description=_l(
            "In Cyrillic, without the name. Left empty, it is written from the "
            "parts above; with no part either, the address is unknown."
        ),
    )
    submit = SubmitField(_l("Save the facility"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice(kind.value, label(kind)) for kind in FacilityKind]

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not any(
            (field.data or "").strip()
            for field in (self.name_en, self.name_de, self.name_ru, self.name_be)
        ):
            add_error(self.name_en, _("Give the facility a name in at least one language."))
            return False
        return True


def optional_id(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return database_id(value)
    except ValueError:
        return None


class MergeForm(FlaskForm):
    other = HiddenField(validators=[InputRequired()], filters=[optional_id])
    keep_other_photo = BooleanField(_l("Keep the other record's photo instead of this one's"))
    submit = SubmitField(_l("Merge into this record"))


class ImportForm(FlaskForm):
    file = FileField(
        _l("File"),
        validators=[
            FileRequired(_l("Choose a CSV or XLSX file.")),
            FileAllowed(
                ["csv", "xlsx"], _l("Choose a CSV or XLSX file (its name ends in .csv or .xlsx).")
            ),
        ],
        description=_l(
            "A workbook (.xlsx), or a text file saved as “CSV UTF-8”, separated "
            "by commas or semicolons."
        ),
        render_kw={
            "accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-"
            "officedocument.spreadsheetml.sheet"
        },
    )
    submit = SubmitField(_l("Check the file"))


def _target_label(column: str) -> str:
    if column == IGNORED:
        return str(_l("(do not import)"))
    if column == FULL_NAME:
        return str(_l("Whole name in one column (split on import)"))
    return column


class ImportMappingForm(FlaskForm):
    """One choice per heading of the file: which import column it holds."""

    token = HiddenField(validators=[DataRequired()])
    columns = FieldList(SelectField(validate_choice=False), max_entries=MAX_COLUMNS)
    submit = SubmitField(_l("Read the file this way"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            SelectChoice(target, _target_label(target))
            for target in (IGNORED, FULL_NAME, *csvio.COLUMNS)
        ]
        for entry in self.columns:
            entry.choices = choices


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    # The identity changes to apply, by external_id (the preview offers them, unticked).
    accept = MultiCheckboxField(_l("Apply this identity change"), validate_choice=False)
    submit = SubmitField(_l("Confirm import"))
