"""The prisoners' pages outside the registry: a godchild's page for their godparent's team,
and a prisoner's photo for the campaign's public pages (only with the prisoner's consent).
The coordinators' registry is in admin.py."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user
from werkzeug.wrappers import Response

from godparents.actions import outcomes
from godparents.actions import services as actions
from godparents.actions.forms import DeleteForm
from godparents.prisoners import bp, services
from godparents.prisoners.photos import photo_response
from godparents.security import TEAM, public, roles_required
from godparents.sponsors import services as team_services
from godparents.timeutil import reader_today


@bp.get("/sponsor/prisoners/<int:prisoner_id>")
@roles_required(*TEAM)
def godchild(prisoner_id: int) -> str:
    """A godchild's page: what the team needs to write, and what it did."""
    today = reader_today()
    view = team_services.prisoner_view(current_user, prisoner_id, today)
    if view is None:
        abort(404)
    return render_template(
        "prisoners/godchild.html",
        view=view,
        prisoner=view.prisoner,
        today=today,
        figures=outcomes.for_prisoners([prisoner_id], today),
        can_change=lambda action: actions.can_change(current_user, action),
        can_record_outcome=lambda action: actions.can_record_outcome(current_user, action),
        delete_form=DeleteForm(),
    )


@bp.get("/sponsor/prisoners/<int:prisoner_id>/photo")
@roles_required(*TEAM)
def godchild_photo(prisoner_id: int) -> Response:
    return photo_response(team_services.photo_for(current_user, prisoner_id), "private, no-store")


@bp.get("/photos/<int:prisoner_id>.jpg")
@public
def public_photo(prisoner_id: int) -> Response:
    """A prisoner's photo for the campaign's public pages, only with the prisoner's consent.
    Cached briefly, so that a withdrawn consent takes effect within minutes."""
    return photo_response(services.public_photo(prisoner_id), "public, max-age=300")
