"""The reminder-rule form: coordinators think in "days before" and "days after", the rule
stores one signed ``offset_days``; this form translates between the two and checks that the
trigger, the recipients and the email template fit together."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from godparents.concurrency import VersionField
from godparents.fields import BoundedIntegerField, MultiCheckboxField
from godparents.labels import label
from godparents.prisoners.models import KeyDateKind
from godparents.reminders.defaults import ALL_TEMPLATES as TEMPLATES
from godparents.reminders.defaults import TEMPLATES_FOR
from godparents.reminders.models import ReminderRule, Trigger

# The triggers whose days count before the date; the others count after, or not at all.
DAYS_BEFORE = frozenset(
    {
        Trigger.BIRTHDAY,
        Trigger.DETENTION_ANNIVERSARY,
        Trigger.DETENTION_MILESTONE,
        Trigger.KEY_DATE,
        Trigger.CAMPAIGN_DAY,
    }
)
DAYS_AFTER = frozenset({Trigger.SPONSORSHIP_START, Trigger.INACTIVITY})


def offset_for(trigger: Trigger, days: int) -> int:
    """The stored ``offset_days`` for ``days`` as the form asks for them."""
    if trigger in DAYS_BEFORE:
        return days
    if trigger in DAYS_AFTER:
        return -days
    return 0  # the digest goes on Mondays


def days_for(rule: ReminderRule) -> int:
    """The form's days for a stored rule (the inverse of ``offset_for``)."""
    if rule.trigger in DAYS_BEFORE:
        return rule.offset_days
    if rule.trigger in DAYS_AFTER:
        return -rule.offset_days
    return 0


def _trigger(value: object) -> Trigger | None:
    if not isinstance(value, str):
        return None
    try:
        return Trigger(value)
    except ValueError:
        return None


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class RuleForm(FlaskForm):
    version = VersionField()  # the rule's version when the form was read (concurrency.py)
    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[DataRequired(), Length(max=200)],
        description=_l("What coordinators call this reminder; recipients do not see it."),
    )
    trigger = SelectField(_l("Reminds of"), validators=[InputRequired()])
    days = BoundedIntegerField(
        _l("Days"),
        default=0,
        validators=[InputRequired(), NumberRange(min=0, max=365)],
        description=_l(
            "Birthday, anniversary, days in detention, key date, campaign day: days "
            "before the date (0: on the day; for the birthday card each godparent's "
            "own setting counts). Start of a godparenthood: days after the start "
            "(0: on the day). Nothing logged: days without an action, then again "
            "every as many days. Weekly digest: not used (Mondays)."
        ),
    )
    key_date_kinds = MultiCheckboxField(
        _l("Kinds of key date"),
        description=_l("Only for key dates. Tick none for every kind."),
    )
    to_sponsor = BooleanField(_l("The godparent"))
    to_delegates = BooleanField(_l("Their office staff"))
    to_coordinators = BooleanField(_l("Coordinators"))
    template = SelectField(
        _l("Email"),
        validators=[InputRequired()],
        description=_l("The email must fit what the rule reminds of."),
    )
    is_active = BooleanField(_l("Switched on"), default=True)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.trigger.choices = [SelectChoice(t.value, label(t)) for t in Trigger]
        self.key_date_kinds.choices = [SelectChoice(k.value, label(k)) for k in KeyDateKind]
        self.template.choices = [SelectChoice(name, str(text)) for name, text in TEMPLATES.items()]

    @classmethod
    def for_rule(cls, rule: ReminderRule, **options: Any) -> RuleForm:
        """The form filled in from ``rule`` (on a POST the submitted values win, unless
        ``formdata=None``: the rule as saved now)."""
        return cls(
            **options,
            data={
                "version": rule.version,
                "name": rule.name,
                "trigger": rule.trigger.value,
                "days": days_for(rule),
                "key_date_kinds": list(rule.key_date_kinds or []),
                "to_sponsor": rule.to_sponsor,
                "to_delegates": rule.to_delegates,
                "to_coordinators": rule.to_coordinators,
                "template": rule.template,
                "is_active": rule.is_active,
            },
        )

    @property
    def chosen_trigger(self) -> Trigger | None:
        return _trigger(self.trigger.data)

    def validate_days(self, field: Field) -> None:
        if self.chosen_trigger is Trigger.INACTIVITY and (field.data or 0) < 1:
            raise ValidationError(_("Enter at least 1 day without an action."))

    def validate_template(self, field: Field) -> None:
        trigger = self.chosen_trigger
        if trigger is None or field.data not in TEMPLATES:
            return  # the select's own check reports it
        fitting = TEMPLATES_FOR[trigger]
        if field.data not in fitting:
            raise ValidationError(
                _(
                    "This email does not fit “%(trigger)s”. Choose one of: %(templates)s.",
                    trigger=label(trigger),
                    templates=", ".join(f"“{TEMPLATES[name]}”" for name in fitting),
                )
            )

    def validate_to_sponsor(self, field: Field) -> None:
        if self.chosen_trigger is Trigger.COORDINATOR_DIGEST:
            if field.data:
                raise ValidationError(_("The weekly digest goes to coordinators only."))
        elif not (field.data or self.to_delegates.data or self.to_coordinators.data):
            raise ValidationError(_("Choose who gets the reminder."))

    def validate_to_delegates(self, field: Field) -> None:
        if self.chosen_trigger is Trigger.COORDINATOR_DIGEST and field.data:
            raise ValidationError(_("The weekly digest goes to coordinators only."))

    def validate_to_coordinators(self, field: Field) -> None:
        if self.chosen_trigger is Trigger.COORDINATOR_DIGEST and not field.data:
            raise ValidationError(_("The weekly digest goes to coordinators: tick this box."))

    def apply_to(self, rule: ReminderRule) -> None:
        """Write the checked values into ``rule``."""
        trigger = Trigger(self.trigger.data)
        rule.name = self.name.data or ""
        rule.trigger = trigger
        rule.offset_days = offset_for(trigger, self.days.data or 0)
        rule.key_date_kinds = (
            sorted(self.key_date_kinds.data or []) if trigger is Trigger.KEY_DATE else []
        )
        rule.to_sponsor = bool(self.to_sponsor.data)
        rule.to_delegates = bool(self.to_delegates.data)
        rule.to_coordinators = bool(self.to_coordinators.data)
        rule.template = self.template.data
        rule.is_active = bool(self.is_active.data)
