"""The coordinators' switch for the public pages, and where new godparents write to."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from godparents.auth.models import Role
from godparents.extensions import db
from godparents.prisoners.models import Prisoner
from godparents.public import bp, services
from godparents.public.forms import PublicSettingsForm
from godparents.security import roles_required
from godparents.sponsors.models import Sponsor
from godparents.sponsorships.models import Sponsorship


def _consent_counts() -> dict[str, int]:
    def count(model: type[Prisoner] | type[Sponsor] | type[Sponsorship]) -> int:
        return int(
            db.session.scalar(
                select(func.count()).select_from(model).where(model.has_public_consent)
            )
            or 0
        )

    return {
        "prisoners": count(Prisoner),
        "sponsors": count(Sponsor),
        "pairings": count(Sponsorship),
    }


@bp.route("/coordinator/public/", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def settings() -> Response | str:
    record = services.settings()
    form = PublicSettingsForm(obj=record)
    if form.validate_on_submit():
        record.is_enabled = bool(form.is_enabled.data)
        record.contact_email = form.contact_email.data or None
        record.updated_by_id = current_user.id
        db.session.commit()
        if record.is_enabled:
            flash(_("The public pages are on."), "success")
        else:
            flash(_("The public pages are off."), "success")
        return redirect(url_for("public.settings"))
    db.session.commit()  # the settings row, made on first visit
    return render_template(
        "public/settings.html", form=form, record=record, counts=_consent_counts()
    )
