"""The coordinators' register of godparents: list, search, create, edit, invite, deactivate,
office staff, and the personal-data tools (export, erase)."""

from __future__ import annotations

import json

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from godparents import concurrency
from godparents.audit.services import record
from godparents.auth import services as accounts
from godparents.auth.models import Role, User
from godparents.auth.views import send_invitation
from godparents.extensions import db
from godparents.fields import EmailError, add_error, checked_email
from godparents.listing import paginate, sort_from_request
from godparents.security import or_404, roles_required
from godparents.sponsors import bp, personal_data
from godparents.sponsors import registry_services as services
from godparents.sponsors.models import Sponsor
from godparents.sponsors.registry_forms import (
    ConfirmForm,
    DelegateInviteForm,
    EraseForm,
    SponsorForm,
    SponsorInviteForm,
)
from godparents.sponsors.services import remove_delegate as remove_delegation
from godparents.timeutil import reader_today
from godparents.types import utcnow

ACTIVE_FILTER = {"yes": True, "no": False}


def _filters() -> services.SponsorFilters:
    """The list's filters from the query string; unknown values are ignored."""
    args = request.args
    return services.SponsorFilters(
        q=args.get("q", "").strip()[:200],
        body=args.get("body", "").strip(),
        country=args.get("country", "").strip().upper()[:2],
        active=ACTIVE_FILTER.get(args.get("active", "")),
    )


@bp.get("/coordinator/sponsors/")
@roles_required(Role.COORDINATOR)
def index() -> str:
    filters = _filters()
    sort = sort_from_request(services.SORT_KEYS, services.DEFAULT_SORT)
    page = paginate(services.sponsor_list_query(filters, sort))
    bodies, countries = services.bodies_and_countries()
    return render_template(
        "sponsors/index.html",
        page=page,
        rows=services.rows_for(list(page.items)),
        filters=filters,
        sort=sort,
        bodies=bodies,
        countries=countries,
        active=request.args.get("active", ""),
    )


def _sponsor_or_404(sponsor_id: int) -> Sponsor:
    return or_404(services.get_sponsor(sponsor_id))


def _not_erased(sponsor: Sponsor) -> Sponsor:
    """Nothing more is done with an erased record: it only keeps the statistics whole."""
    if sponsor.erased_at is not None:
        flash(
            _("This godparent's personal data was erased; the record cannot be changed."), "warning"
        )
        abort(redirect(url_for("sponsors.detail", sponsor_id=sponsor.id)))
    return sponsor


def _render_detail(sponsor_id: int, invite_form: SponsorInviteForm | None = None) -> str:
    detail = services.sponsor_detail(sponsor_id)
    if detail is None:
        abort(404)
    return render_template(
        "sponsors/detail.html",
        detail=detail,
        sponsor=detail.sponsor,
        login=services.login_status(detail.sponsor),
        invite_form=invite_form or SponsorInviteForm(),
        confirm_form=ConfirmForm(),
    )


@bp.get("/coordinator/sponsors/<int:sponsor_id>")
@roles_required(Role.COORDINATOR)
def detail(sponsor_id: int) -> str:
    return _render_detail(sponsor_id)


@bp.route("/coordinator/sponsors/new", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def create() -> BaseResponse | str:
    form = SponsorForm()
    if form.validate_on_submit():
        sponsor = services.create_sponsor(form.data)
        db.session.commit()
        flash(_("%(name)s is in the register.", name=sponsor.full_name), "success")
        return redirect(url_for("sponsors.detail", sponsor_id=sponsor.id))
    return render_template("sponsors/form.html", form=form, sponsor=None)


@bp.route("/coordinator/sponsors/<int:sponsor_id>/edit", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def edit(sponsor_id: int) -> BaseResponse | str:
    sponsor = _not_erased(_sponsor_or_404(sponsor_id))
    form = SponsorForm(obj=sponsor)
    conflict = None
    if form.validate_on_submit() and not (
        conflict := concurrency.conflict(sponsor, form, lambda: SponsorForm(None, obj=sponsor))
    ):
        services.update_sponsor(sponsor, form.data)
        db.session.commit()
        flash(_("Your changes are saved."), "success")
        return redirect(url_for("sponsors.detail", sponsor_id=sponsor.id))
    return render_template("sponsors/form.html", form=form, sponsor=sponsor, conflict=conflict)


def _invitation_address(form: SponsorInviteForm, sponsor: Sponsor) -> str | None:
    """The typed address, else the godparent's own; None (with the error set) if neither."""
    email = form.email.data or sponsor.email
    if not email:
        add_error(form.email, _("The godparent has no email address: enter one."))
        return None
    try:
        return checked_email(email)
    except EmailError:
        add_error(
            form.email, _("%(email)s is not a valid email address: enter another.", email=email)
        )
        return None


@bp.post("/coordinator/sponsors/<int:sponsor_id>/invite")
@roles_required(Role.COORDINATOR)
def invite(sponsor_id: int) -> BaseResponse | str:
    sponsor = _not_erased(_sponsor_or_404(sponsor_id))
    form = SponsorInviteForm()
    if form.validate_on_submit() and (email := _invitation_address(form, sponsor)):
        try:
            invitation = accounts.invite(
                email, Role.SPONSOR, sponsor, current_user, utcnow(), request.remote_addr
            )
        except accounts.AccountError as error:
            for _field, message in error.problems:  # one field: every reason at it
                add_error(form.email, message)
        else:
            db.session.commit()
            send_invitation(invitation)
            return redirect(url_for("sponsors.detail", sponsor_id=sponsor.id))
    db.session.rollback()
    return _render_detail(sponsor_id, invite_form=form)


@bp.route("/coordinator/sponsors/<int:sponsor_id>/delegates", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def delegates(sponsor_id: int) -> BaseResponse | str:
    sponsor = _not_erased(_sponsor_or_404(sponsor_id))
    form = DelegateInviteForm()
    if form.validate_on_submit():
        try:
            invitation = accounts.invite(
                form.email.data or "",
                Role.DELEGATE,
                sponsor,
                current_user,
                utcnow(),
                request.remote_addr,
            )
        except accounts.AccountError as error:
            for _field, message in error.problems:  # one field: every reason at it
                add_error(form.email, message)
        else:
            db.session.commit()
            send_invitation(invitation)
            return redirect(url_for("sponsors.delegates", sponsor_id=sponsor.id))
    return render_template(
        "sponsors/delegates.html",
        sponsor=sponsor,
        delegates=services.delegates_of(sponsor),
        form=form,
        remove_form=ConfirmForm(),
    )


@bp.post("/coordinator/sponsors/<int:sponsor_id>/delegates/<int:user_id>/remove")
@roles_required(Role.COORDINATOR)
def remove_delegate(sponsor_id: int, user_id: int) -> BaseResponse:
    sponsor = _sponsor_or_404(sponsor_id)
    delegate = db.session.get(User, user_id)
    if delegate is None or not any(d.user_id == user_id for d in sponsor.delegations):
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    remove_delegation(sponsor, delegate, current_user)
    db.session.commit()
    flash(
        _("%(email)s no longer works for %(name)s.", email=delegate.email, name=sponsor.full_name),
        "info",
    )
    return redirect(url_for("sponsors.delegates", sponsor_id=sponsor.id))


@bp.post("/coordinator/sponsors/<int:sponsor_id>/deactivate")
@roles_required(Role.COORDINATOR)
def deactivate(sponsor_id: int) -> BaseResponse:
    sponsor = _sponsor_or_404(sponsor_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    still_paired = services.deactivate(sponsor)
    db.session.commit()
    flash(_("%(name)s is inactive and logged out.", name=sponsor.full_name), "info")
    if still_paired:
        flash(
            _("Their godchildren still count on them: hand each godparenthood over below."),
            "warning",
        )
    return redirect(url_for("sponsors.detail", sponsor_id=sponsor.id))


@bp.post("/coordinator/sponsors/<int:sponsor_id>/reactivate")
@roles_required(Role.COORDINATOR)
def reactivate(sponsor_id: int) -> BaseResponse:
    sponsor = _not_erased(_sponsor_or_404(sponsor_id))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.reactivate(sponsor)
    db.session.commit()
    flash(_("%(name)s is active again.", name=sponsor.full_name), "success")
    return redirect(url_for("sponsors.detail", sponsor_id=sponsor.id))


@bp.get("/coordinator/sponsors/<int:sponsor_id>/personal-data")
@roles_required(Role.COORDINATOR)
def export_personal_data(sponsor_id: int) -> Response:
    sponsor = _sponsor_or_404(sponsor_id)
    data = personal_data.export(sponsor, utcnow())
    record(
        current_user,
        "export_personal_data",
        sponsor,
        {"sponsor_id": sponsor.id},
        ip=request.remote_addr,
    )
    db.session.commit()
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="godparent-{sponsor_id}-personal-data.json"'
    )
    return response


@bp.route("/coordinator/sponsors/<int:sponsor_id>/erase", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def erase(sponsor_id: int) -> BaseResponse | str:
    sponsor = _not_erased(_sponsor_or_404(sponsor_id))
    form = EraseForm()
    if form.validate_on_submit():
        try:
            personal_data.check_confirmation(sponsor, form.confirm_name.data or "")
        except personal_data.ErasureError as error:
            add_error(form[error.field], str(error))
        else:
            personal_data.erase(
                sponsor, current_user, reader_today(), utcnow(), request.remote_addr
            )
            db.session.commit()
            flash(
                _(
                    "The godparent's personal data is erased. Their actions still count, "
                    "anonymously."
                ),
                "success",
            )
            return redirect(url_for("sponsors.detail", sponsor_id=sponsor_id))
    active = sum(1 for p in sponsor.sponsorships if p.is_active)
    return render_template(
        "sponsors/erase.html", sponsor=sponsor, form=form, active_pairings=active
    )
