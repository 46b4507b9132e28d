"""Form fields the features share."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from wtforms import DateField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


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
