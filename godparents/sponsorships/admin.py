"""Pairing, ending and handing over godparenthoods, and recording releases (coordinators)."""

from __future__ import annotations

from datetime import date

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from godparents.auth.models import Role
from godparents.extensions import db
from godparents.fields import add_error, add_errors, database_id
from godparents.labels import label
from godparents.listing import paginate
from godparents.prisoners.models import Prisoner, PrisonerStatus
from godparents.security import or_404, roles_required, safe_next
from godparents.sponsors.models import Sponsor
from godparents.sponsorships import bp, picker, services
from godparents.sponsorships import bulk as bulk_pairing
from godparents.sponsorships.forms import (
    BulkConfirmForm,
    BulkUploadForm,
    ConfirmForm,
    EndForm,
    HandoverForm,
    PairForm,
    ReleaseForm,
)
from godparents.sponsorships.models import EndReason, Sponsorship, SponsorshipStatus
from godparents.timeutil import reader_today

STATUS_VALUES = frozenset(status.value for status in SponsorshipStatus)


def _show_error(form: FlaskForm, error: services.SponsorshipError, fallback: str) -> None:
    """Put each message at its field, or at ``fallback`` when this form has no such field."""
    for name, message in error.problems:
        field = form[name] if name in form else form[fallback]
        if message not in field.errors:
            add_error(field, message)


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _sponsor_page(sponsor_id: int) -> str:
    return url_for("sponsors.detail", sponsor_id=sponsor_id)


@bp.get("/coordinator/sponsorships/")
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
    )


def _picked(name: str) -> int | None:
    """An id from the query string, as a database integer (anything else: none)."""
    value = request.args.get(name, "")
    try:
        return database_id(value) if value else None
    except ValueError:
        return None


PICKER_PARTS = ("prisoners", "sponsors")


@bp.route("/coordinator/sponsorships/new", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def create() -> Response | str:
    """Pair a godparent with a prisoner, each found by the registry's search (a GET form and
    links without JavaScript; the results follow the typing with it). ``?part=`` gives only
    one result list, for the script."""
    form = PairForm()
    form.sponsor_id.choices = []
    form.prisoner_id.choices = []
    today = reader_today()
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
    return or_404(services.get_pairing(sponsorship_id))


def _open(pairing: Sponsorship) -> Sponsorship:
    if pairing.status is SponsorshipStatus.ENDED:
        flash(_("This godparenthood has already ended."), "info")
        abort(redirect(_sponsor_page(pairing.sponsor_id)))
    return pairing


@bp.route("/coordinator/sponsorships/<int:sponsorship_id>/end", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def end(sponsorship_id: int) -> Response | str:
    pairing = _open(_pairing_or_404(sponsorship_id))
    form = EndForm()
    today = reader_today()
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


@bp.route("/coordinator/sponsorships/<int:sponsorship_id>/handover", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def handover(sponsorship_id: int) -> Response | str:
    pairing = _open(_pairing_or_404(sponsorship_id))
    form = HandoverForm()
    form.sponsor_id.choices = []
    today = reader_today()
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


@bp.post("/coordinator/sponsorships/<int:sponsorship_id>/activate")
@roles_required(Role.COORDINATOR)
def activate(sponsorship_id: int) -> Response:
    pairing = _pairing_or_404(sponsorship_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.activate(pairing, reader_today())
        db.session.commit()
    except services.SponsorshipError as error:
        flash(str(error), "danger")
    except IntegrityError:
        db.session.rollback()
        flash(_("This godparent is already paired with this prisoner."), "danger")
    else:
        flash(_("The godparenthood is active."), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("sponsorships.index"))


def _set_public_consent(sponsorship_id: int, given: bool) -> Response:
    """The godparenthood's own consent to being shown in public, given or withdrawn (the
    consent record says who and when: godparents/public/consent.py). It shows only where
    its godparent and prisoner consent too."""
    pairing = _pairing_or_404(sponsorship_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    pairing.has_public_consent = given
    db.session.commit()
    if given:
        flash(_("The godparenthood may be shown in public."), "success")
    else:
        flash(_("The godparenthood is no longer shown in public."), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("sponsorships.index"))


@bp.post("/coordinator/sponsorships/<int:sponsorship_id>/consent")
@roles_required(Role.COORDINATOR)
def make_public(sponsorship_id: int) -> Response:
    return _set_public_consent(sponsorship_id, True)


@bp.post("/coordinator/sponsorships/<int:sponsorship_id>/consent/withdraw")
@roles_required(Role.COORDINATOR)
def make_private(sponsorship_id: int) -> Response:
    return _set_public_consent(sponsorship_id, False)


def _add_release_errors(
    form: ReleaseForm, prisoner: Prisoner, open_pairings: list[Sponsorship], today: date
) -> None:
    """The release rules for what the form could read (a field it refused is None)."""
    status = None if form.status.errors else PrisonerStatus(form.status.data)
    released_on = None if form.released_on.errors else form.released_on.data
    chosen = set() if form.pairing_ids.errors else set(form.pairing_ids.data or [])
    pairings = [p for p in open_pairings if p.id in chosen]
    add_errors(form, services.release_problems(prisoner, status, released_on, pairings, today))


@bp.route("/coordinator/sponsorships/release/<int:prisoner_id>", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def release(prisoner_id: int) -> Response | str:
    prisoner = or_404(db.session.get(Prisoner, prisoner_id))
    open_pairings = services.open_pairings_of(prisoner)
    form = ReleaseForm()
    form.pairing_ids.choices = [(p.id, p.sponsor.full_name) for p in open_pairings]
    today = reader_today()
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
    elif form.is_submitted():
        # The form refused a field: the release rules too, so one submit shows every mistake.
        _add_release_errors(form, prisoner, open_pairings, today)
    return render_template(
        "sponsorships/release.html",
        form=form,
        prisoner=prisoner,
        open_pairings=open_pairings,
    )


@bp.get("/coordinator/sponsorships/release/<int:prisoner_id>/done")
@roles_required(Role.COORDINATOR)
def released(prisoner_id: int) -> str:
    prisoner = or_404(db.session.get(Prisoner, prisoner_id))
    return render_template(
        "sponsorships/released.html",
        prisoner=prisoner,
        freed=services.freed_sponsors(prisoner),
        still_open=services.open_pairings_of(prisoner),
    )


# Pairing many from a file ---------------------------------------------------------------------

BULK_SALT = "godparents.bulk-pairing"
BULK_SECONDS = 3600


def _bulk_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=BULK_SALT)


@bp.route("/coordinator/sponsorships/bulk", methods=["GET", "POST"])
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


@bp.post("/coordinator/sponsorships/bulk/confirm")
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
        count = bulk_pairing.apply(planned, SponsorshipStatus(claim["status"]), reader_today())
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
