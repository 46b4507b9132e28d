"""The prisoner registry for coordinators: list, search, create, edit, addresses, photos."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import load_only
from werkzeug.wrappers import Response as BaseResponse

from godparents import concurrency
from godparents.auth.models import Role
from godparents.extensions import db
from godparents.fields import add_error, add_errors
from godparents.listing import paginate, paginate_in_one_scan, sort_from_request
from godparents.prisoners import bp, photos, services
from godparents.prisoners.forms import (
    GENDERS,
    AddressChangeForm,
    KeyDateAddForm,
    KeyDateDeleteForm,
    PhotoUploadForm,
    PrisonerCreateForm,
    PrisonerForm,
)
from godparents.prisoners.models import KeyDateKind, Prisoner, PrisonerStatus
from godparents.prisoners.photos import photo_response
from godparents.security import or_404, roles_required
from godparents.timeutil import reader_today


@bp.get("/coordinator/prisoners/")
@roles_required(Role.COORDINATOR)
def index() -> str:
    filters = services.Filters.from_args(request.args)
    sort = sort_from_request(dict.fromkeys(services.SORT_KEYS), services.DEFAULT_SORT)
    # A name search scans every spelling: count in the same scan. Without one, the count
    # is cheap and a window over the whole registry would not be.
    query = services.sorted_search(filters, sort).options(
        load_only(
            Prisoner.id,
            Prisoner.name_latin,
            Prisoner.name_be,
            Prisoner.name_ru,
            Prisoner.status,
            Prisoner.detained_on,
            Prisoner.released_on,
            Prisoner.can_receive_letters,
        )
    )
    page = paginate_in_one_scan(query) if filters.q.strip() else paginate(query)
    counts = services.godparent_counts([prisoner.id for prisoner in page.items])
    return render_template(
        "prisoners/index.html",
        page=page,
        counts=counts,
        filters=filters,
        sort=sort,
        today=reader_today(),
        statuses=list(PrisonerStatus),
        held=services.HELD,
    )


def _render_detail(
    prisoner_id: int,
    key_date_form: KeyDateAddForm | None = None,
    photo_form: PhotoUploadForm | None = None,
) -> str:
    """The prisoner's page; a form that failed is shown again with its errors."""
    view = services.detail(prisoner_id)
    if view is None:
        abort(404)
    key_date_form = key_date_form or KeyDateAddForm(formdata=None)
    if key_date_form.kind.data is None:
        key_date_form.kind.data = KeyDateKind.TRIAL.value
    return render_template(
        "prisoners/detail.html",
        view=view,
        prisoner=view.prisoner,
        today=reader_today(),
        key_date_form=key_date_form,
        photo_form=photo_form or PhotoUploadForm(formdata=None),
        genders=GENDERS,
    )


@bp.get("/coordinator/prisoners/<int:prisoner_id>")
@roles_required(Role.COORDINATOR)
def detail(prisoner_id: int) -> str:
    return _render_detail(prisoner_id)


@bp.route("/coordinator/prisoners/new", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def create() -> BaseResponse | str:
    today = reader_today()
    form = PrisonerCreateForm()
    if not form.is_submitted():
        form.status.data = PrisonerStatus.SENTENCED.value
        form.can_receive_letters.data = ""  # not known until someone says
        form.valid_from.data = today
    if form.validate_on_submit():
        try:
            prisoner = services.create_prisoner(form.to_data(), form.first_address(today), today)
            db.session.commit()
        except services.PrisonerError as error:
            add_errors(form, error.problems)
        except IntegrityError:
            # The external id was free when checked; an import or a colleague took it since.
            db.session.rollback()
            add_error(form.external_id, services.external_id_taken())
        else:
            flash(_("%(name)s is in the registry.", name=prisoner.name_latin), "success")
            return redirect(url_for("prisoners.detail", prisoner_id=prisoner.id))
    elif form.is_submitted():
        _add_rule_errors(form, None, today)
        if (address := form.first_address(today)) is not None:
            add_errors(form, services.address_problems(address, None, today))
    return render_template("prisoners/form.html", form=form, prisoner=None)


@bp.route("/coordinator/prisoners/<int:prisoner_id>/edit", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def edit(prisoner_id: int) -> BaseResponse | str:
    prisoner = or_404(db.session.get(Prisoner, prisoner_id))
    previous_status = prisoner.status
    form = PrisonerForm(obj=prisoner)
    if not form.is_submitted():
        form.fill(prisoner)
    conflict = None
    if form.validate_on_submit() and not (
        conflict := concurrency.conflict(prisoner, form, lambda: _saved_form(prisoner))
    ):
        try:
            services.update_prisoner(prisoner, form.to_data(), reader_today())
            release_due = services.needs_release(previous_status, prisoner)
            db.session.commit()
        except services.PrisonerError as error:
            add_errors(form, error.problems)
        except IntegrityError:
            # The external id was free when checked; an import or a colleague took it since.
            db.session.rollback()
            add_error(form.external_id, services.external_id_taken())
        else:
            flash(_("Your changes are saved."), "success")
            if release_due:
                return _after_release(prisoner)
            return redirect(url_for("prisoners.detail", prisoner_id=prisoner.id))
    elif form.is_submitted() and not conflict:
        _add_rule_errors(form, prisoner.id, reader_today())
    return render_template("prisoners/form.html", form=form, prisoner=prisoner, conflict=conflict)


def _add_rule_errors(form: PrisonerForm, prisoner_id: int | None, today: date) -> None:
    """A form its own validation refused: the registry's rules too (a release before the
    detention, a taken external id), so that one submit shows every mistake. Values the
    form could not read are not judged; a choice it refused leaves nothing to judge."""
    try:
        data = form.to_data()
    except ValueError:  # a status or gender that is not one of the choices
        return
    add_errors(form, services.prisoner_problems(data, prisoner_id, today))


def _saved_form(prisoner: Prisoner) -> PrisonerForm:
    """The edit form as the prisoner is saved now, to show beside a stale form's values."""
    saved = PrisonerForm(formdata=None, obj=prisoner)
    saved.fill(prisoner)
    return saved


def _after_release(prisoner: Prisoner) -> BaseResponse:
    """Send the coordinator on to end the pairings of a prisoner who is no longer held."""
    flash(
        _(
            "%(name)s still has godparents. Please end or hand over their godparenthoods.",
            name=prisoner.name_latin,
        ),
        "warning",
    )
    return redirect(url_for("sponsorships.release", prisoner_id=prisoner.id))


@bp.route("/coordinator/prisoners/<int:prisoner_id>/address", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def change_address(prisoner_id: int) -> BaseResponse | str:
    prisoner = or_404(db.session.get(Prisoner, prisoner_id))
    today = reader_today()
    form = AddressChangeForm()
    if not form.is_submitted():
        form.valid_from.data = today
    if form.validate_on_submit():
        try:
            services.change_address(prisoner, form.to_data(), today)
        except services.PrisonerError as error:
            add_errors(form, error.problems)
        else:
            db.session.commit()
            flash(_("The new address is saved; the old one stays in the history."), "success")
            return redirect(
                url_for("prisoners.detail", prisoner_id=prisoner.id, _anchor="addresses")
            )
    elif form.is_submitted():
        # The form refused a field: the address rules too, so one submit shows every mistake.
        add_errors(form, services.address_problems(form.to_data(), prisoner.current_address, today))
    return render_template(
        "prisoners/address.html",
        form=form,
        prisoner=prisoner,
        facility_names=services.facility_names(),
    )


@bp.post("/coordinator/prisoners/<int:prisoner_id>/key-dates")
@roles_required(Role.COORDINATOR)
def add_key_date(prisoner_id: int) -> BaseResponse | str:
    prisoner = or_404(db.session.get(Prisoner, prisoner_id))
    form = KeyDateAddForm()
    if not form.validate_on_submit():
        return _render_detail(prisoner_id, key_date_form=form)
    services.add_key_date(
        prisoner,
        KeyDateKind(form.kind.data),
        form.occurs_on.data,
        form.is_yearly.data,
        form.note.data,
    )
    db.session.commit()
    flash(_("The date is added."), "success")
    return redirect(url_for("prisoners.detail", prisoner_id=prisoner_id, _anchor="key-dates"))


@bp.post("/coordinator/prisoners/<int:prisoner_id>/key-dates/<int:key_date_id>/delete")
@roles_required(Role.COORDINATOR)
def delete_key_date(prisoner_id: int, key_date_id: int) -> BaseResponse:
    key_date = services.key_date_of(prisoner_id, key_date_id)
    if key_date is None:
        abort(404)
    if not KeyDateDeleteForm().validate_on_submit():
        abort(400)
    services.delete_key_date(key_date)
    db.session.commit()
    flash(_("The date is deleted."), "info")
    return redirect(url_for("prisoners.detail", prisoner_id=prisoner_id, _anchor="key-dates"))


@bp.post("/coordinator/prisoners/<int:prisoner_id>/photo")
@roles_required(Role.COORDINATOR)
def upload_photo(prisoner_id: int) -> BaseResponse | str:
    prisoner = or_404(db.session.get(Prisoner, prisoner_id))
    form = PhotoUploadForm()
    if form.validate_on_submit():
        limit = photos.max_photo_bytes()
        # One byte more than allowed is enough to know that the file is too large.
        data = form.photo.data.stream.read(limit + 1)
        try:
            jpeg = photos.reencode(data, limit)
        except photos.PhotoError as error:
            add_error(form.photo, str(error))
        else:
            services.save_photo(prisoner, jpeg)
            db.session.commit()
            flash(_("The photo is saved."), "success")
            return redirect(url_for("prisoners.detail", prisoner_id=prisoner_id))
    return _render_detail(prisoner_id, photo_form=form)


@bp.get("/coordinator/prisoners/<int:prisoner_id>/photo")
@roles_required(Role.COORDINATOR)
def photo(prisoner_id: int) -> Response:
    return photo_response(services.photo_of(prisoner_id), "private, no-store")
