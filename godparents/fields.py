"""Form fields the features share."""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, Field, Form, IntegerField, SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

# The largest id any of our databases holds (PostgreSQL's integer); beyond it nothing exists.
MAX_ID = 2**31 - 1


def database_id(value: object) -> int:
    """A select's value as an id: a number the database can look up, else ValueError (the
    select then says "not a valid choice")."""
    number = int(str(value))
    if not 0 < number <= MAX_ID:
        raise ValueError("not an id")
    return number


class BoundedIntegerField(IntegerField):
    """An integer of at most nine digits: WTForms' NumberRange cannot compare a number with
    hundreds of digits (it raises OverflowError instead of saying "out of range")."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and len(str(valuelist[0]).strip().lstrip("+-")) > 9:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        super().process_formdata(valuelist)


class EmailAddress:
    """An address our mail server can deliver to: a valid one, with an ASCII name part
    (most servers do not offer SMTPUTF8). An internationalised domain is kept in its ASCII
    form (xn--...), which is what goes over the wire."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message

    def __call__(self, form: Form, field: Field) -> None:
        if not field.data:
            return
        try:
            checked = validate_email(str(field.data).strip(), check_deliverability=False,
                                     allow_smtputf8=False)
        except EmailNotValidError as error:
            raise ValidationError(self.message or _l(
                "Enter an email address such as name@example.org, in Latin letters."),
            ) from error
        field.data = checked.ascii_email or checked.normalized


class DayField(DateField):
    """A date (a browser date picker; ISO when typed) with an error that shows the format."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_("Enter the date as shown, for example 2026-05-21.")) from error


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
