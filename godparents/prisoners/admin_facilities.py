"""Facilities as records, for coordinators: the list, and each one's names and address."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from werkzeug.wrappers import Response as BaseResponse

from godparents.actions import outcomes
from godparents.auth.models import Role
from godparents.extensions import db
from godparents.listing import paginate
from godparents.prisoners import bp
from godparents.prisoners.facilities import compose_postal_address, postal_parts
from godparents.prisoners.forms import FacilityForm
from godparents.prisoners.models import HELD_STATUSES, Facility, FacilityKind, Prisoner
from godparents.prisoners.queries import current_address_ids
from godparents.security import or_404, roles_required


def _held_here() -> Any:
    """Held prisoners per facility of their current address, as a subquery."""
    current = current_address_ids().subquery()
    return (
        select(current.c.facility_id, func.count().label("held"))
        .join(Prisoner, Prisoner.id == current.c.prisoner_id)
        .where(Prisoner.status.in_(HELD_STATUSES))
        .group_by(current.c.facility_id)
        .subquery()
    )


@bp.get("/coordinator/prisoners/facilities/")
@roles_required(Role.COORDINATOR)
def facilities() -> str:
    """Every facility with its kind, its address (or that it is unknown) and how many held
    prisoners are there now: three queries, whatever the number."""
    held = _held_here()
    query: Select[Any] = (
        select(Facility)
        .outerjoin(held, held.c.facility_id == Facility.id)
        .order_by(func.coalesce(held.c.held, 0).desc(), Facility.id)
    )
    unknown = request.args.get("unknown") == "1"
    if unknown:
        query = query.where(Facility.postal_address.is_(None))
    page = paginate(query)
    ids = [facility.id for facility in page.items]
    counts: dict[int, int] = (
        dict(
            db.session.execute(
                select(held.c.facility_id, held.c.held).where(held.c.facility_id.in_(ids))
            ).all()
        )
        if ids
        else {}
    )
    return render_template(
        "prisoners/facilities.html",
        page=page,
        counts=counts,
        unknown=unknown,
        # What became of letters there in the last twelve months (one more query).
        letter_figures=outcomes.for_facilities(ids, outcomes.reader_today()),
    )


@bp.route("/coordinator/prisoners/facilities/<int:facility_id>/edit", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def facility_edit(facility_id: int) -> BaseResponse | str:
    facility = or_404(db.session.get(Facility, facility_id))
    form = FacilityForm(obj=facility)
    if form.validate_on_submit():
        for name in (
            "name_en",
            "name_de",
            "name_ru",
            "name_be",
            "postcode",
            "region",
            "town",
            "street",
            "institution",
        ):
            setattr(facility, name, (getattr(form, name).data or "").strip() or None)
        facility.kind = FacilityKind(form.kind.data)
        text = (form.postal_address.data or "").replace("\r\n", "\n").strip()
        if text and not any(
            (
                facility.postcode,
                facility.region,
                facility.town,
                facility.street,
                facility.institution,
            )
        ):
            parts = postal_parts(text)
            facility.postcode, facility.region, facility.town = (
                parts.postcode,
                parts.region,
                parts.town,
            )
            facility.street, facility.institution = parts.street, parts.institution
        facility.postal_address = text or compose_postal_address(facility) or None
        db.session.commit()
        flash(_("The facility is saved."), "success")
        return redirect(url_for("prisoners.facilities"))
    return render_template("prisoners/facility_form.html", form=form, facility=facility)
