"""Possible duplicates and merging two records of one prisoner (coordinators)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from godparents.auth.models import Role
from godparents.extensions import db
from godparents.prisoners import bp, services
from godparents.prisoners.forms import MergeForm, optional_id
from godparents.prisoners.merge import MergeError, merge
from godparents.prisoners.models import Prisoner
from godparents.security import or_404, roles_required
from godparents.timeutil import reader_today


def _prisoner_or_404(prisoner_id: int | None) -> Prisoner:
    return or_404(db.session.get(Prisoner, prisoner_id) if prisoner_id else None)


@bp.route("/coordinator/prisoners/<int:prisoner_id>/merge", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def merge_records(prisoner_id: int) -> BaseResponse | str:
    """Merge another record (``?other=ID``) into this one: both side by side, then one
    button; everything of the other moves here and the other is deleted."""
    kept = _prisoner_or_404(prisoner_id)
    form = MergeForm()
    if not form.is_submitted():
        form.other.data = optional_id(request.args.get("other"))
    other = _prisoner_or_404(form.other.data)
    if form.validate_on_submit():
        today = reader_today()
        try:
            done = merge(
                kept, other, form.keep_other_photo.data, today, current_user, request.remote_addr
            )
        except MergeError as error:
            flash(str(error), "danger")
            return redirect(url_for("prisoners.detail", prisoner_id=kept.id))
        db.session.commit()
        flash(
            _(
                "Merged: %(pairings)d godparenthoods, %(actions)d actions, %(addresses)d "
                "addresses and %(dates)d key dates moved to %(name)s.",
                pairings=done.pairings,
                actions=done.actions,
                addresses=done.addresses,
                dates=done.key_dates,
                name=kept.name_latin,
            ),
            "success",
        )
        return redirect(url_for("prisoners.detail", prisoner_id=kept.id))
    return render_template(
        "prisoners/merge.html",
        form=form,
        kept=services.detail(kept.id),
        other=services.detail(other.id),
        both_photos=services.has_photo(kept.id) and services.has_photo(other.id),
    )
