"""The coordinators' table of transit times (how long post takes), behind post-by dates."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, NumberRange, Regexp

from godparents.actions import outcomes, postby
from godparents.audit.services import record
from godparents.auth.models import Role
from godparents.extensions import db
from godparents.fields import BoundedIntegerField
from godparents.security import roles_required

bp = Blueprint("transit", __name__, url_prefix="/coordinator/transit-times")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(postby.for_occurrence, "post_by_of")
    app.add_template_global(outcomes.for_prisoner, "letter_figures")


class TransitTimeForm(FlaskForm):
    country = StringField(
        _l("Destination country"),
        default=postby.DESTINATION,
        validators=[
            InputRequired(),
            Regexp(r"^\s*[A-Za-z]{2}\s*$", message=_l("Two letters, such as BY for Belarus.")),
        ],
        description=_l("Two letters, such as BY for Belarus."),
    )
    days = BoundedIntegerField(
        _l("Days in the post"),
        default=postby.FALLBACK_TRANSIT_DAYS,
        validators=[
            InputRequired(),
            NumberRange(min=0, max=postby.MAX_TRANSIT_DAYS),
        ],
        description=_l("Cards are to be posted this many days before the date."),
    )
    submit = SubmitField(_l("Save"))


@bp.route("/", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def index() -> Response | str:
    form = TransitTimeForm()
    if form.validate_on_submit():
        country = (form.country.data or "").strip().upper()
        days = int(form.days.data or 0)
        found = postby.set_transit_days(country, days)
        record(current_user, "set_transit_time", None, {"country": country, "days": days})
        db.session.flush()
        db.session.commit()
        flash(
            _("Post to %(country)s now takes %(days)d days.", country=found.country, days=days),
            "success",
        )
        return redirect(url_for("transit.index"))
    saved = {row.country: row.days for row in db.session.scalars(select(postby.TransitTime))}
    rows = sorted({**postby.DEFAULT_TRANSIT_DAYS, **saved}.items())
    return render_template("postby/transit_times.html", form=form, rows=rows)
