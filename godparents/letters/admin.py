"""The coordinators' print kit: letter templates, the withheld-words list, and batches of
labels and letters from any filter of the prisoner list."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from godparents.actions import postby
from godparents.audit.services import record
from godparents.auth.models import Role
from godparents.extensions import db
from godparents.fields import add_errors, unrefused
from godparents.letters import bp, pdf, services
from godparents.letters.check import check, matches
from godparents.letters.forms import (
    LETTER_LANGUAGES,
    OCCASIONS,
    WORD_LANGUAGES,
    LetterTemplateForm,
    TemplateDeleteForm,
    TransitTimeForm,
    WatchWordDeleteForm,
    WatchWordForm,
)
from godparents.letters.models import LetterTemplate, WatchWord
from godparents.letters.pdf import pdf_response
from godparents.prisoners.models import PrisonerStatus
from godparents.prisoners.services import HELD
from godparents.security import roles_required


def _template_or_404(template_id: int) -> LetterTemplate:
    template = db.session.get(LetterTemplate, template_id)
    if template is None:
        abort(404)
    return template


def _render_index(word_form: WatchWordForm | None = None, status: int = 200) -> tuple[str, int]:
    page = render_template(
        "letters/admin/index.html",
        templates=services.templates(),
        words=services.watch_words(),
        word_form=word_form or WatchWordForm(formdata=None),
        delete_word_form=WatchWordDeleteForm(),
        occasions=OCCASIONS,
        letter_languages=LETTER_LANGUAGES,
        word_languages=WORD_LANGUAGES,
    )
    return page, status


@bp.get("/coordinator/letters/")
@roles_required(Role.COORDINATOR)
def index() -> tuple[str, int]:
    return _render_index()


def _template_form(template: LetterTemplate | None) -> Response | tuple[str, int]:
    form = LetterTemplateForm(obj=template) if template else LetterTemplateForm()
    if request.method == "GET" and template is not None:
        form.occasion.data = template.occasion.value
        form.language.data = template.language.value
    status = 200
    if request.method == "POST" and form.validate_on_submit() and form.submit.data:
        data = services.TemplateData(
            occasion=form.occasion.data or "",
            language=form.language.data or "",
            title=form.title.data or "",
            body=form.body.data or "",
            translation_de=form.translation_de.data,
            translation_en=form.translation_en.data,
            is_active=bool(form.is_active.data),
        )
        try:
            saved = services.save_template(template, data)
        except services.LetterError as error:
            db.session.rollback()
            form[error.field].errors = [*form[error.field].errors, str(error)]
            status = 422
        else:
            db.session.commit()
            flash(_("The template is saved."), "success")
            return redirect(url_for("letters.edit_template", template_id=saved.id))
    elif request.method == "POST" and form.errors:
        status = 422
        if form.submit.data:  # saving: the template's rules too, every mistake at once
            add_errors(form, services.template_problems(unrefused(form.body)))
    words = services.check_words()
    form.body.render_kw = {
        **(form.body.render_kw or {}),
        "lang": form.language.data or "ru",
        "data-letter-check": services.words_json(words),
    }
    segments = check(form.body.data or "", words)
    page = render_template(
        "letters/admin/template.html",
        form=form,
        template=template,
        segments=segments,
        found=matches(segments),
        delete_form=TemplateDeleteForm(),
    )
    return page, status


@bp.route("/coordinator/letters/templates/new", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def create_template() -> Response | tuple[str, int]:
    return _template_form(None)


@bp.route("/coordinator/letters/templates/<int:template_id>", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def edit_template(template_id: int) -> Response | tuple[str, int]:
    return _template_form(_template_or_404(template_id))


@bp.post("/coordinator/letters/templates/<int:template_id>/delete")
@roles_required(Role.COORDINATOR)
def delete_template(template_id: int) -> Response:
    template = _template_or_404(template_id)
    if not TemplateDeleteForm().validate_on_submit():
        abort(400)
    db.session.delete(template)
    db.session.commit()
    flash(_("The template is deleted."), "info")
    return redirect(url_for("letters.index"))


@bp.post("/coordinator/letters/words")
@roles_required(Role.COORDINATOR)
def add_word() -> Response | tuple[str, int]:
    form = WatchWordForm()
    if form.validate_on_submit():
        try:
            services.add_watch_word(
                form.phrase.data or "", form.language.data or "", form.reason.data or ""
            )
        except services.LetterError as error:
            db.session.rollback()
            form[error.field].errors = [*form[error.field].errors, str(error)]
        else:
            db.session.commit()
            flash(_("The word is on the list."), "success")
            return redirect(url_for("letters.index") + "#words")
    elif form.is_submitted():
        # The form refused a field: the list's rules too, so one submit shows every mistake.
        add_errors(
            form,
            services.watch_word_problems(unrefused(form.phrase), unrefused(form.language)),
        )
    return _render_index(form, status=422)


@bp.post("/coordinator/letters/words/<int:word_id>/delete")
@roles_required(Role.COORDINATOR)
def delete_word(word_id: int) -> Response:
    word = db.session.get(WatchWord, word_id)
    if word is None:
        abort(404)
    if not WatchWordDeleteForm().validate_on_submit():
        abort(400)
    db.session.delete(word)
    db.session.commit()
    flash(_("The word is off the list."), "info")
    return redirect(url_for("letters.index") + "#words")


def _render_batch(
    filters: services.BatchFilters, found: services.Batch, status: int = 200
) -> tuple[str, int]:
    page = render_template(
        "letters/admin/batch.html",
        filters=filters,
        args=filters.args(),
        batch=found,
        shown=services.BATCH_SHOWN,
        statuses=list(PrisonerStatus),
        held=HELD,
        parliaments=services.parliaments(),
        templates=services.templates(active_only=True),
        occasions=OCCASIONS,
        letter_languages=LETTER_LANGUAGES,
        months=[(number, format_date(date(2000, number, 1), "LLLL")) for number in range(1, 13)],
    )
    return page, status


@bp.get("/coordinator/letters/batch")
@roles_required(Role.COORDINATOR)
def batch() -> tuple[str, int]:
    """Choose the prisoners (the list's filters and two more), see who is left out and
    why, then print labels or letters."""
    filters = services.BatchFilters.from_args(request.args)
    return _render_batch(filters, services.batch(filters))


@bp.get("/coordinator/letters/batch/labels.pdf")
@roles_required(Role.COORDINATOR)
def batch_labels() -> Response | tuple[str, int]:
    filters = services.BatchFilters.from_args(request.args)
    found = services.batch(filters)
    printable = [text for _prisoner, text in found.printable]
    if not printable:
        return _render_batch(filters, found, status=422)
    record(
        current_user,
        "print_labels",
        None,
        {"labels": len(printable), **filters.args()},
        ip=request.remote_addr,
    )
    db.session.commit()
    return pdf_response(pdf.labels_pdf(printable), "labels.pdf")


@bp.get("/coordinator/letters/batch/letters.pdf")
@roles_required(Role.COORDINATOR)
def batch_letters() -> Response | tuple[str, int]:
    """One letter per prisoner of the batch from one template (also those whose address
    is unknown: the letter may go with a parcel or through the family)."""
    filters = services.BatchFilters.from_args(request.args)
    template_id = request.args.get("template", "")
    template = db.session.get(LetterTemplate, int(template_id)) if template_id.isdigit() else None
    found = services.batch(filters, check_labels=False)
    prisoners = [p for p, _text in found.printable] + found.unknown_address
    if template is None or not prisoners:
        return _render_batch(filters, services.batch(filters), status=422)
    prisoners.sort(key=lambda p: (p.name_latin, p.id))
    record(
        current_user,
        "print_letters",
        template,
        {"letters": len(prisoners), **filters.args()},
        ip=request.remote_addr,
    )
    db.session.commit()
    return pdf_response(pdf.letters_pdf(services.batch_letters(template, prisoners)), "letters.pdf")


@bp.route("/coordinator/letters/transit-times", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def transit_times() -> Response | str:
    """How long post takes per destination country, behind the godparents' post-by dates."""
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
        return redirect(url_for("letters.transit_times"))
    saved = {row.country: row.days for row in db.session.scalars(select(postby.TransitTime))}
    rows = sorted({**postby.DEFAULT_TRANSIT_DAYS, **saved}.items())
    return render_template("letters/admin/transit_times.html", form=form, rows=rows)
