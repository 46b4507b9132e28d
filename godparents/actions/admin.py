"""Every action across the campaign, for coordinators: newest first, filtered, one query a page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import render_template, request
from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import contains_eager, joinedload

from godparents.actions import bp
from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.auth.models import Role
from godparents.listing import paginate
from godparents.security import roles_required
from godparents.sponsors.models import Sponsor
from godparents.sponsors.registry_services import bodies
from godparents.sponsorships.models import Sponsorship

KINDS = {kind.value: kind for kind in ActionKind}
OUTCOMES = {outcome.value: outcome for outcome in LetterOutcome}


@dataclass(frozen=True)
class ActionFilters:
    """What the list is narrowed to; None and "" do not filter."""

    kind: ActionKind | None = None
    date_from: date | None = None
    date_to: date | None = None
    body: str = ""
    outcome: LetterOutcome | None = None
    q: str = ""

    @property
    def any(self) -> bool:
        return any((self.kind, self.date_from, self.date_to, self.body, self.outcome, self.q))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def action_list_query(filters: ActionFilters) -> Select[Action]:
    """The actions with their pairing, godparent, prisoner and author joined into the same
    query, so that a page of any size costs one query (plus the count)."""
    query = (
        select(Action)
        .join(Action.sponsorship)
        .join(Sponsorship.sponsor)
        .join(Sponsorship.prisoner)
        .options(
            contains_eager(Action.sponsorship).contains_eager(Sponsorship.sponsor),
            contains_eager(Action.sponsorship).contains_eager(Sponsorship.prisoner),
            joinedload(Action.logged_by),
        )
    )
    if filters.kind is not None:
        query = query.where(Action.kind == filters.kind)
    if filters.outcome is not None:
        query = query.where(Action.letter_outcome == filters.outcome)
    if filters.date_from is not None:
        query = query.where(Action.occurred_on >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(Action.occurred_on <= filters.date_to)
    if filters.body:
        query = query.where(Sponsor.body == filters.body)
    if filters.q:
        # lower() on both sides: ASCII case-folding, enough for searching summaries.
        pattern = literal(f"%{_escape_like(filters.q)}%")
        query = query.where(func.lower(Action.summary).like(func.lower(pattern), escape="\\"))
    return query.order_by(Action.occurred_on.desc(), Action.id.desc())


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _filters() -> ActionFilters:
    """The filters from the query string; unknown or malformed values are ignored."""
    args = request.args
    return ActionFilters(
        kind=KINDS.get(args.get("kind", "")),
        date_from=_date_arg("from"),
        date_to=_date_arg("to"),
        body=args.get("body", "").strip(),
        outcome=OUTCOMES.get(args.get("outcome", "")),
        q=args.get("q", "").strip()[:200],
    )


@bp.get("/coordinator/actions/")
@roles_required(Role.COORDINATOR)
def index() -> str:
    filters = _filters()
    page = paginate(action_list_query(filters))
    return render_template(
        "actions/index.html",
        page=page,
        filters=filters,
        bodies=bodies(),
        kinds=list(ActionKind),
        outcomes=list(LetterOutcome),
    )
