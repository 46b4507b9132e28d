"""Every model, for Alembic and for code that needs several features' models at once.

The models themselves live with their feature (``godparents/<feature>/models.py``).
"""

from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.actions.postby import TransitTime
from godparents.audit.models import AuditEvent
from godparents.auth.models import Role, User
from godparents.idempotency import FormSubmission
from godparents.letters.models import LetterTemplate, WatchWord
from godparents.prisoners.models import (
    Gender,
    KeyDate,
    KeyDateKind,
    Prisoner,
    PrisonerAddress,
    PrisonerPhoto,
    PrisonerStatus,
)
from godparents.public.models import ConsentEvent, PublicSettings
from godparents.reminders.models import (
    CampaignDay,
    OutboxContent,
    OutboxMessage,
    OutboxStatus,
    ReminderRule,
    ReminderRun,
    Trigger,
)
from godparents.reminders.notices import ChangeNotice
from godparents.search import SearchWord
from godparents.sponsors.models import Delegation, Parliament, Sponsor
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus

__all__ = [
    "Action",
    "ActionKind",
    "AuditEvent",
    "CampaignDay",
    "ChangeNotice",
    "ConsentEvent",
    "Delegation",
    "EndReason",
    "FormSubmission",
    "Gender",
    "KeyDate",
    "KeyDateKind",
    "LetterOutcome",
    "LetterTemplate",
    "OutboxContent",
    "OutboxMessage",
    "OutboxStatus",
    "Parliament",
    "Prisoner",
    "PrisonerAddress",
    "PrisonerPhoto",
    "PrisonerStatus",
    "PublicSettings",
    "ReminderRule",
    "ReminderRun",
    "Role",
    "SearchWord",
    "Sponsor",
    "Sponsorship",
    "SponsorshipStatus",
    "TransitTime",
    "Trigger",
    "User",
    "WatchWord",
]
