"""Form fields the features share."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import quote

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from wtforms import DateField, Field, Form, IntegerField, SelectField, SelectMultipleField
from wtforms.meta import DefaultMeta
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from godparents import formats

# The largest id any of our databases holds (PostgreSQL's integer); beyond it nothing exists.
MAX_ID = 2**31 - 1


def database_id(value: object) -> int:
    """A select's value as an id: a number the database can look up, else ValueError (the
    select then says "not a valid choice")."""
    number = int(str(value))
    if not 0 < number <= MAX_ID:
        raise ValueError("not an id")
    return number


def add_error(field: Field, message: str) -> None:
    """Show ``message`` at ``field`` when the form is drawn again: a refusal found after the
    form's own validation (a service's rule, a taken address). Works before validation too,
    when WTForms' ``errors`` is still its class-level empty tuple."""
    field.errors = (*field.errors, message)


def add_errors(form: Form, problems: list[tuple[str, str]]) -> None:
    """``add_error`` for each ``(field name, message)`` a service found, except at a field
    that already shows an error of its own (one message per mistake)."""
    for name, message in problems:
        field = form[name]
        if not field.errors:
            add_error(field, message)


def unrefused(field: Field) -> str | None:
    """The field's text for a service's rules; None if the form refused it already (empty,
    too long, not an address): that mistake is shown, not judged twice."""
    return None if field.errors or not isinstance(field.data, str) else field.data


class BoundedIntegerField(IntegerField):
    """An integer of at most nine digits: WTForms' NumberRange cannot compare a number with
    hundreds of digits (it raises OverflowError instead of saying "out of range")."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and len(str(valuelist[0]).strip().lstrip("+-")) > 9:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        super().process_formdata(valuelist)


# The name part of an address (before the @) may hold ? & = % # / and more by the RFC, but
# those mean something in a link: "name?cc=spy%40evil.example&x=@example.org" is a valid
# address that, in a mailto: link, copies the mail to someone else. No real address needs
# them: letters, digits and . _ - + ' are enough.
_PLAIN_NAME_PART = re.compile(r"[A-Za-z0-9._+'-]+")


class EmailError(ValueError):
    """Not an address the app accepts; the message is for the person who typed it."""


def checked_email(value: str) -> str:
    """An address our mail server can deliver to and a link cannot misread: a valid one,
    with a plain ASCII name part (most servers do not offer SMTPUTF8, and see above). An
    internationalised domain is kept in its ASCII form (xn--...), which goes over the wire.
    """
    try:
        checked = validate_email(value.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise EmailError(
            _("Enter an email address such as name@example.org, in Latin letters.")
        ) from error
    if not _PLAIN_NAME_PART.fullmatch(checked.local_part):
        raise EmailError(_("Use only letters, digits and . _ - + ' before the @."))
    return checked.ascii_email or checked.normalized


def mailto(address: str | None) -> str:
    """A mailto: link for a stored address, percent-encoded: whatever an old record holds,
    the link has one recipient and no other field (cc, bcc, subject, body)."""
    return "mailto:" + quote(address or "", safe="@")


class EmailAddress:
    """A form field's validator: ``checked_email``, the field's data in its checked form."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form: Form, field: Field) -> None:
        if not field.data:
            return
        try:
            field.data = checked_email(str(field.data))
        except EmailError as error:
            raise ValidationError(self.message or str(error)) from error


# The day a date field's example shows: day and month both above 12, so the order reads.
EXAMPLE_DAY = date(2026, 5, 21)


def parse_day(text: str) -> date:
    """A date as a picker sends it (ISO, 2026-05-21) or as the reader writes it in their
    language's digits (21/05/2026, 21.05.2026, 5/21/2026); ValueError otherwise."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
        year, month, day = (int(part) for part in text.split("-"))
        return date(year, month, day)
    # The reader's pattern ("dd/MM/y", "dd.MM.y", "M/d/y") gives the order and separator.
    pattern = formats.numeric_date_pattern()
    separator = re.escape((re.findall(r"[^A-Za-z]", pattern) or ["/"])[0])
    parts = re.fullmatch(rf"(\d{{1,2}}){separator}(\d{{1,2}}){separator}(\d{{4}})", text)
    if not parts:
        raise ValueError(text)
    day_first = pattern.find("d") < pattern.find("M")
    first, second, year = (int(part) for part in parts.groups())
    day, month = (first, second) if day_first else (second, first)
    return date(year, month, day)


class DayField(DateField):
    """A date: the browser's date picker shows it in the browser's way and sends it as
    ISO; where there is no picker (or a script posts), the reader may type it as their
    language writes it, and the error's example is written that way ("21/05/2026",
    "21.05.2026"). No placeholder: HTML allows none on a date input."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        # A blank date is an error here too: Optional() clears it where blank is allowed,
        # and InputRequired() lets spaces through.
        try:
            self.data = parse_day(str(valuelist[0]))
        except ValueError as error:
            self.data = None
            raise ValueError(date_error()) from error


def date_error() -> str:
    """What a date field says about a date it cannot read, with an example in the form the
    field shows."""
    return _("Enter a date such as %(example)s.", example=formats.example_date(EXAMPLE_DAY))


class MultiCheckboxField(SelectMultipleField):
    # WTForms has no types: mypy takes the widgets' types from the base class's defaults.
    widget = ListWidget(prefix_label=False)  # type: ignore[assignment]
    option_widget = CheckboxInput()  # type: ignore[assignment]


def _render_without_shared_ids(self: Any, field: Field, render_kw: dict[str, Any]) -> Any:
    """Draw ``field`` as WTForms does, but valid HTML on every page:

    - no ``id`` on the CSRF token and the submit button: a page with several forms would
      repeat ``id="csrf_token"`` and ``id="submit"``, which HTML forbids (no label points at
      either); a template may still pass ``id=``;
    - no ``required`` on a select whose first option is a real choice (HTML allows
      ``required`` only with an empty placeholder first; such a select always has a value,
      and the server checks it anyway)."""
    if field.type in ("CSRFTokenField", "SubmitField") and "id" not in render_kw:
        render_kw = {**render_kw, "id": False}
    if isinstance(field, SelectField) and "required" not in render_kw:
        first = next(iter(field.iter_choices()), None)
        if first is not None and first[0] not in ("", None):
            render_kw = {**render_kw, "required": False}
    return _wtforms_render_field(self, field, render_kw)


def own_ids(form: Form, prefix: str) -> Form:
    """Give ``form``'s fields ids of their own (``prefix-name``), for a page that shows two
    forms with a field of the same name (two "current password" fields); the names that are
    posted stay as they are."""
    for item in form:
        item.id = f"{prefix}-{item.id}"
        item.label.field_id = item.id
    return form


def install() -> None:
    """Draw every form's fields with ``_render_without_shared_ids`` (called by create_app)."""
    from flask_wtf import FlaskForm

    FlaskForm.Meta.render_field = _render_without_shared_ids  # type: ignore[method-assign]


_wtforms_render_field = DefaultMeta.render_field
