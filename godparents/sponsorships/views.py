"""Pairing, ending and handing over godparenthoods, and recording releases (coordinators)."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired

from godparents.auth.models import Role
from godparents.extensions import db
from godparents.fields import add_error, database_id
from godparents.labels import label
from godparents.listing import paginate
from godparents.prisoners.models import Prisoner, PrisonerStatus
from godparents.security import roles_required, safe_next
from godparents.sponsors.models import Sponsor
from godparents.sponsorships import bulk as bulk_pairing
from godparents.sponsorships import picker, services
from godparents.sponsorships.forms import (
    ConfirmForm,
    EndForm,
    HandoverForm,
    PairForm,
    ReleaseForm,
)
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus
from godparents.timeutil import local_today

bp = Blueprint("sponsorships", __name__, url_prefix="/coordinator/sponsorships")

STATUS_VALUES = frozenset(status.value for status in SponsorshipStatus)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _today() -> date:
    return local_today(current_user.timezone, current_app.config["TIMEZONE"])


def _show_error(form: FlaskForm, error: services.SponsorshipError, fallback: str) -> None:
    """Put the message at its field, or at ``fallback`` when this form has no such field."""
    field = form[error.field] if error.field in form else form[fallback]
    add_error(field, str(error))


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _prisoner_links() -> bool:
    """The prisoner registry's detail page is being built alongside: link to it once it is."""
    return "prisoners.detail" in current_app.view_functions


def _sponsor_page(sponsor_id: int) -> str:
    return url_for("sponsor_registry.detail", sponsor_id=sponsor_id)


@bp.get("/")
@roles_required(Role.COORDINATOR)
def index() -> str:
    status = request.args.get("status", "")
    filters = services.PairingFilters(
        status=SponsorshipStatus(status) if status in STATUS_VALUES else None,
        started_from=_date_arg("from"),
        started_to=_date_arg("to"),
    )
    page = paginate(services.pairing_list_query(filters))
    return render_template(
        "sponsorships/index.html",
        page=page,
        filters=filters,
        statuses=list(SponsorshipStatus),
        confirm_form=ConfirmForm(),
        prisoner_links=_prisoner_links(),
    )


def _picked(name: str) -> int | None:
    """An id from the query string, as a database integer (anything else: none)."""
    value = request.args.get(name, "")
    try:
        return database_id(value) if value else None
    except ValueError:
        return None


PICKER_PARTS = ("prisoners", "sponsors")


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def create() -> Response | str:
    """Pair a godparent with a prisoner, each found by the registry's search (a GET form and
    links without JavaScript; the results follow the typing with it). ``?part=`` gives only
    one result list, for the script."""
    form = PairForm()
    form.sponsor_id.choices = []
    form.prisoner_id.choices = []
    today = _today()
    prisoner_q = request.args.get("prisoner_q", "").strip()[:200]
    sponsor_q = request.args.get("sponsor_q", "").strip()[:200]
    if not form.is_submitted():
        form.sponsor_id.data = _picked("sponsor_id")
        form.prisoner_id.data = _picked("prisoner_id")
        form.started_on.data = today
    if form.validate_on_submit():
        chosen_sponsor = db.session.get(Sponsor, form.sponsor_id.data)
        chosen_prisoner = db.session.get(Prisoner, form.prisoner_id.data)
        try:
            pairing = services.pair(
                chosen_sponsor,
                chosen_prisoner,
                SponsorshipStatus(form.status.data),
                form.started_on.data,
                form.has_public_consent.data,
                today,
            )
            db.session.commit()
        except services.SponsorshipError as error:
            _show_error(form, error, "prisoner_id")
        except IntegrityError:
            # Someone paired the same two a moment ago: the unique index refused the second.
            db.session.rollback()
            add_error(form.prisoner_id, _("This godparent is already paired with this prisoner."))
        else:
            flash(
                _(
                    "%(sponsor)s is now godparent of %(prisoner)s.",
                    sponsor=pairing.sponsor.full_name,
                    prisoner=pairing.prisoner.name_latin,
                ),
                "success",
            )
            return redirect(_sponsor_page(pairing.sponsor_id))
    prisoner = picker.prisoner_choice(form.prisoner_id.data)
    sponsor = picker.sponsor_choice(form.sponsor_id.data)
    state = {
        "prisoner_id": prisoner.id if prisoner else None,
        "sponsor_id": sponsor.id if sponsor else None,
        "prisoner_q": prisoner_q or None,
        "sponsor_q": sponsor_q or None,
    }
    found_prisoners = picker.find_prisoners(prisoner_q) if prisoner_q and not prisoner else []
    found_sponsors = picker.find_sponsors(sponsor_q) if sponsor_q and not sponsor else []
    part = request.args.get("part")
    if part in PICKER_PARTS and request.method == "GET":
        return render_template(
            f"sponsorships/_picker_{part}.html",
            state=state,
            prisoners=found_prisoners,
            sponsors=found_sponsors,
            query=prisoner_q if part == "prisoners" else sponsor_q,
            endpoint="sponsorships.create",
        )
    suggested = picker.suggestions(prisoner.id) if prisoner and not sponsor else []
    return render_template(
        "sponsorships/create.html",
        form=form,
        prisoner=prisoner,
        sponsor=sponsor,
        state=state,
        prisoner_q=prisoner_q,
        sponsor_q=sponsor_q,
        prisoners=found_prisoners,
        sponsors=found_sponsors,
        suggested=suggested,
    )


def _pairing_or_404(sponsorship_id: int) -> Sponsorship:
    pairing = services.get_pairing(sponsorship_id)
    if pairing is None:
        abort(404)
    return pairing


def _open(pairing: Sponsorship) -> Sponsorship:
    if pairing.status is SponsorshipStatus.ENDED:
        flash(_("This godparenthood has already ended."), "info")
        abort(redirect(_sponsor_page(pairing.sponsor_id)))
    return pairing


@bp.route("/<int:sponsorship_id>/end", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def end(sponsorship_id: int) -> Response | str:
    pairing = _open(_pairing_or_404(sponsorship_id))
    form = EndForm()
    today = _today()
    if not form.is_submitted():
        form.ended_on.data = today
        form.end_reason.data = EndReason.OTHER.value
    if form.validate_on_submit():
        try:
            services.end_pairing(
                pairing, form.ended_on.data, EndReason(form.end_reason.data), today
            )
        except services.SponsorshipError as error:
            _show_error(form, error, "ended_on")
        else:
            db.session.commit()
            flash(
                _(
                    "The godparenthood of %(sponsor)s for %(prisoner)s has ended.",
                    sponsor=pairing.sponsor.full_name,
                    prisoner=pairing.prisoner.name_latin,
                ),
                "info",
            )
            return redirect(_sponsor_page(pairing.sponsor_id))
    return render_template("sponsorships/end.html", form=form, pairing=pairing)


@bp.route("/<int:sponsorship_id>/handover", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def handover(sponsorship_id: int) -> Response | str:
    pairing = _open(_pairing_or_404(sponsorship_id))
    form = HandoverForm()
    form.sponsor_id.choices = []
    today = _today()
    sponsor_q = request.args.get("sponsor_q", "").strip()[:200]
    if not form.is_submitted():
        form.on.data = today
        form.end_reason.data = EndReason.MANDATE_ENDED.value
        form.sponsor_id.data = _picked("sponsor_id")
    if form.validate_on_submit():
        new_sponsor = db.session.get(Sponsor, form.sponsor_id.data)
        try:
            successor = services.hand_over(
                pairing, new_sponsor, form.on.data, EndReason(form.end_reason.data), today
            )
            db.session.commit()
        except services.SponsorshipError as error:
            _show_error(form, error, "sponsor_id")
        except IntegrityError:
            db.session.rollback()
            add_error(form.sponsor_id, _("This godparent is already paired with this prisoner."))
        else:
            flash(
                _(
                    "%(prisoner)s's godparent is now %(sponsor)s.",
                    prisoner=successor.prisoner.name_latin,
                    sponsor=successor.sponsor.full_name,
                ),
                "success",
            )
            return redirect(_sponsor_page(pairing.sponsor_id))
    # The new godparent is found as on the pairing page (search, suggestions).
    sponsor = picker.sponsor_choice(form.sponsor_id.data)
    state = {
        "sponsor_id": sponsor.id if sponsor else None,
        "sponsor_q": sponsor_q or None,
        "sponsorship_id": pairing.id,
    }
    found = picker.find_sponsors(sponsor_q) if sponsor_q and not sponsor else []
    if request.args.get("part") == "sponsors" and request.method == "GET":
        return render_template(
            "sponsorships/_picker_sponsors.html",
            state=state,
            sponsors=found,
            query=sponsor_q,
            endpoint="sponsorships.handover",
        )
    suggested = picker.suggestions(pairing.prisoner_id) if not sponsor else []
    return render_template(
        "sponsorships/handover.html",
        form=form,
        pairing=pairing,
        sponsor=sponsor,
        state=state,
        sponsor_q=sponsor_q,
        sponsors=found,
        suggested=suggested,
    )


@bp.post("/<int:sponsorship_id>/activate")
@roles_required(Role.COORDINATOR)
def activate(sponsorship_id: int) -> Response:
    pairing = _pairing_or_404(sponsorship_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.activate(pairing, _today())
        db.session.commit()
    except services.SponsorshipError as error:
        flash(str(error), "danger")
    except IntegrityError:
        db.session.rollback()
        flash(_("This godparent is already paired with this prisoner."), "danger")
    else:
        flash(_("The godparenthood is active."), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("sponsorships.index"))


def _prisoner_or_404(prisoner_id: int) -> Prisoner:
    prisoner = db.session.get(Prisoner, prisoner_id)
    if prisoner is None:
        abort(404)
    return prisoner


@bp.route("/release/<int:prisoner_id>", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def release(prisoner_id: int) -> Response | str:
    prisoner = _prisoner_or_404(prisoner_id)
    open_pairings = services.open_pairings_of(prisoner)
    form = ReleaseForm()
    form.pairing_ids.choices = [(p.id, p.sponsor.full_name) for p in open_pairings]
    today = _today()
    if not form.is_submitted():
        form.status.data = (
            prisoner.status.value
            if prisoner.status in services.RELEASE_STATUSES
            else PrisonerStatus.RELEASED.value
        )
        form.released_on.data = prisoner.released_on or today
        form.pairing_ids.data = [p.id for p in open_pairings]
    if form.validate_on_submit():
        chosen = set(form.pairing_ids.data or [])
        try:
            services.record_release(
                prisoner,
                PrisonerStatus(form.status.data),
                form.released_on.data,
                [p for p in open_pairings if p.id in chosen],
                today,
            )
        except services.SponsorshipError as error:
            _show_error(form, error, "released_on")
        else:
            db.session.commit()
            flash(
                _(
                    "Recorded: %(name)s, %(status)s.",
                    name=prisoner.name_latin,
                    status=label(prisoner.status),
                ),
                "success",
            )
            return redirect(url_for("sponsorships.released", prisoner_id=prisoner.id))
    return render_template(
        "sponsorships/release.html",
        form=form,
        prisoner=prisoner,
        open_pairings=open_pairings,
        prisoner_links=_prisoner_links(),
    )


@bp.get("/release/<int:prisoner_id>/done")
@roles_required(Role.COORDINATOR)
def released(prisoner_id: int) -> str:
    prisoner = _prisoner_or_404(prisoner_id)
    return render_template(
        "sponsorships/released.html",
        prisoner=prisoner,
        freed=services.freed_sponsors(prisoner),
        still_open=services.open_pairings_of(prisoner),
        prisoner_links=_prisoner_links(),
    )


# Pairing many from a file ---------------------------------------------------------------------

BULK_SALT = "godparents.bulk-pairing"
BULK_SECONDS = 3600


class BulkUploadForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a CSV file."))],
        description=_l(
            "Two columns, external_id and email (the godparent's), one pairing per row."
        ),
        render_kw={"accept": ".csv,text/csv"},
    )
    status = SelectField(_l("Pair as"), validators=[InputRequired()])
    submit = SubmitField(_l("Check the file"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [
            SelectChoice(SponsorshipStatus.PROPOSED.value, label(SponsorshipStatus.PROPOSED)),
            SelectChoice(SponsorshipStatus.ACTIVE.value, label(SponsorshipStatus.ACTIVE)),
        ]


class BulkConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Pair them"))


def _bulk_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=BULK_SALT)


@bp.route("/bulk", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def bulk() -> str:
    """Upload a file of pairings: every problem listed, or a preview to confirm."""
    form = BulkUploadForm()
    if not form.validate_on_submit():
        return render_template("sponsorships/bulk.html", form=form, plan=None, confirm=None)
    data = form.file.data.read(bulk_pairing.MAX_BYTES + 1)
    planned = bulk_pairing.plan(data)
    confirm = None
    if planned.ok:
        confirm = BulkConfirmForm(formdata=None)
        confirm.token.data = _bulk_serializer().dumps(
            {"csv": data.decode("utf-8-sig"), "status": form.status.data, "user": current_user.id}
        )
    return render_template(
        "sponsorships/bulk.html",
        form=form,
        plan=planned,
        confirm=confirm,
        status=SponsorshipStatus(form.status.data),
    )


@bp.post("/bulk/confirm")
@roles_required(Role.COORDINATOR)
def bulk_confirm() -> Response | str:
    form = BulkConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        claim = _bulk_serializer().loads(form.token.data, max_age=BULK_SECONDS)
    except SignatureExpired:
        flash(_("The preview has expired. Please upload the file again."), "warning")
        return redirect(url_for("sponsorships.bulk"))
    except BadSignature:
        abort(400)
    if (
        not isinstance(claim, dict)
        or claim.get("user") != current_user.id
        or claim.get("status") not in (SponsorshipStatus.ACTIVE, SponsorshipStatus.PROPOSED)
        or not isinstance(claim.get("csv"), str)
    ):
        abort(400)
    planned = bulk_pairing.plan(claim["csv"].encode("utf-8"))
    if not planned.ok:  # the registry changed since the preview
        return render_template(
            "sponsorships/bulk.html", form=BulkUploadForm(formdata=None), plan=planned, confirm=None
        )
    try:
        count = bulk_pairing.apply(planned, SponsorshipStatus(claim["status"]), _today())
        db.session.commit()
    except (services.SponsorshipError, IntegrityError):
        db.session.rollback()
        flash(
            _(
                "The registry changed meanwhile, so nothing was paired. Please upload the "
                "file again."
            ),
            "danger",
        )
        return redirect(url_for("sponsorships.bulk"))
    flash(ngettext("%(num)d pairing made.", "%(num)d pairings made.", count), "success")
    return redirect(url_for("sponsorships.index"))
