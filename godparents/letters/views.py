"""The godparents' print kit: a godchild's envelope, the sender's address, a letter from a
template with the letter check."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from godparents.auth.models import Role
from godparents.extensions import db
from godparents.letters import bp, pdf, services
from godparents.letters.check import check, matches
from godparents.letters.forms import (
    LETTER_LANGUAGES,
    OCCASIONS,
    SIZES,
    LetterForm,
    SenderAddressForm,
)
from godparents.letters.models import LetterLanguage, LetterTemplate
from godparents.letters.pdf import pdf_response
from godparents.security import roles_required

TEAM = (Role.SPONSOR, Role.DELEGATE)


def _envelope_or_404(prisoner_id: int) -> services.EnvelopeView:
    view = services.envelope_view(current_user, prisoner_id)
    if view is None:
        abort(404)
    return view


def _render_envelope(
    view: services.EnvelopeView, form: SenderAddressForm | None = None, status: int = 200
) -> tuple[str, int]:
    if form is None:
        form = SenderAddressForm(formdata=None, postal_address=view.sender or "")
    services.measure_envelope(view)
    page = render_template(
        "letters/envelope.html",
        view=view,
        prisoner=view.prisoner,
        form=form,
        sizes=SIZES,
        coordinators=current_app.config["MAIL_DEFAULT_SENDER"],
    )
    return page, status


@bp.get("/sponsor/letters/prisoners/<int:prisoner_id>/envelope")
@roles_required(*TEAM)
def envelope(prisoner_id: int) -> tuple[str, int]:
    return _render_envelope(_envelope_or_404(prisoner_id))


@bp.get("/sponsor/letters/prisoners/<int:prisoner_id>/envelope.pdf")
@roles_required(*TEAM)
def envelope_pdf(prisoner_id: int) -> Response | tuple[str, int]:
    """The envelope as a PDF; when something is missing or too long, the envelope page
    with the reason (and no PDF)."""
    view = _envelope_or_404(prisoner_id)
    size = request.args.get("size", "dl")
    if size not in pdf.ENVELOPES:
        abort(404)
    if not view.recipient or not view.sender:
        return _render_envelope(view, status=422)
    try:
        content = pdf.envelope_pdf(pdf.Envelope(view.recipient, view.sender), size)
    except pdf.DoesNotFit:
        return _render_envelope(view, status=422)
    return pdf_response(content, f"envelope-{size}.pdf")


@bp.post("/sponsor/letters/prisoners/<int:prisoner_id>/sender")
@roles_required(*TEAM)
def sender(prisoner_id: int) -> Response | tuple[str, int]:
    """The sender's address of the godparent whose godchild this is (office staff keep
    it for the godparent they act for)."""
    view = _envelope_or_404(prisoner_id)
    form = SenderAddressForm()
    if form.validate_on_submit():
        try:
            services.set_sender_address(view.sponsor, form.postal_address.data or "")
        except services.LetterError as error:
            db.session.rollback()
            form[error.field].errors = [*form[error.field].errors, str(error)]
        else:
            db.session.commit()
            flash(_("The sender's address is saved."), "success")
            return redirect(url_for("letters.envelope", prisoner_id=prisoner_id))
    return _render_envelope(view, form, status=422 if request.method == "POST" else 200)


@bp.route("/sponsor/letters/prisoners/<int:prisoner_id>/letter", methods=["GET", "POST"])
@roles_required(*TEAM)
def letter(prisoner_id: int) -> Response | str:
    """Write a letter from a template: the text in Russian or Belarusian with the name
    filled in, the translations beside it, the letter check's advice, then a PDF."""
    view = _envelope_or_404(prisoner_id)
    templates = services.templates(active_only=True)
    chosen: LetterTemplate | None = None
    template_id = request.values.get("template", "")
    if template_id.isdigit():
        chosen = next((t for t in templates if t.id == int(template_id)), None)
    form = LetterForm()
    language = chosen.language if chosen else LetterLanguage.RUSSIAN
    if request.method == "GET" and chosen is not None:
        form.text.data = services.fill(chosen.body, view.prisoner, chosen.language)
    if request.method == "POST" and form.validate_on_submit() and form.submit.data:
        # The check advises; it never blocks the print.
        content = pdf.letters_pdf([pdf.Letter(form.text.data or "")])
        return pdf_response(content, "letter.pdf")
    words = services.check_words()
    form.text.render_kw = {
        **(form.text.render_kw or {}),
        "lang": language.value,
        "data-letter-check": services.words_json(words),
    }
    segments = check(form.text.data or "", words)
    return render_template(
        "letters/letter.html",
        view=view,
        prisoner=view.prisoner,
        form=form,
        templates=templates,
        chosen=chosen,
        language=language,
        segments=segments,
        found=matches(segments),
        checked=bool(form.text.data),
        translations={
            code: services.fill(text, view.prisoner, services.LATIN)
            for code, text in (
                ("de", chosen.translation_de if chosen else None),
                ("en", chosen.translation_en if chosen else None),
            )
            if text
        },
        occasions=OCCASIONS,
        letter_languages=LETTER_LANGUAGES,
    )
