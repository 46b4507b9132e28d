"""Import and export of prisoners, from the coordinators' pages.

An upload (CSV or XLSX) is checked and shown as a preview; only "Confirm import" writes. A
list with headings of its own goes through a mapping step first (remembered per set of
headings). Between the requests the file waits on the server (``import_store``): the
confirmed import is exactly the file that was previewed, read the same way. Identity
changes are written only when ticked.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as BaseResponse

from godparents import spreadsheets
from godparents.audit.services import record
from godparents.auth.models import Role
from godparents.exports import EXPORTS, export_file
from godparents.extensions import db
from godparents.fields import add_error
from godparents.prisoners import bp, csvio, import_mapping, import_store
from godparents.prisoners.forms import ImportConfirmForm, ImportForm, ImportMappingForm
from godparents.prisoners.import_apply import apply_import
from godparents.prisoners.import_plan import plan_import
from godparents.prisoners.import_read import (
    IGNORED,
    ParseResult,
    normalised,
    read_prisoners,
)
from godparents.security import roles_required
from godparents.timeutil import campaign_today

MAX_BYTES = 10 * 1024 * 1024  # about 20,000 rows; PRISONER_IMPORT_MAX_BYTES overrides
PREVIEW_LIMIT = 100  # created and changed prisoners listed on the preview, each


def _today() -> date:
    return campaign_today(current_app.config["TIMEZONE"])


def _upload_page(form: ImportForm, result: ParseResult | None = None) -> str:
    return render_template("prisoners/import.html", form=form, result=result, columns=csvio.COLUMNS)


def _read_upload(form: ImportForm) -> bytes | None:
    """The uploaded bytes, or None with the error at the field when the file is too large."""
    limit = int(current_app.config.get("PRISONER_IMPORT_MAX_BYTES", MAX_BYTES))
    data = form.file.data.read(limit + 1)
    if len(data) > limit:
        add_error(
            form.file,
            _(
                "The file is larger than %(size)s MB; split it into parts.",
                size=f"{limit / 1024 / 1024:g}",
            ),
        )
        return None
    return data


def _mapping_page(
    token: str,
    headings: list[str],
    mapping: dict[str, str],
    filename: str,
    result: ParseResult | None = None,
) -> str:
    form = ImportMappingForm(
        formdata=None,
        data={"token": token, "columns": [mapping.get(normalised(h), IGNORED) for h in headings]},
    )
    return render_template(
        "prisoners/import_mapping.html",
        form=form,
        rows=list(zip(headings, form.columns, strict=True)),
        filename=filename,
        result=result,
    )


def _preview(
    data: bytes,
    result: ParseResult,
    filename: str,
    kept: str | None,
    mapping: dict[str, str] | None,
) -> str:
    """The plan of what the import would do, with the form that confirms it."""
    plan = plan_import(result.rows, db.session())
    confirm = None
    if plan.writes:  # else there is nothing to confirm, and nothing to keep
        confirm = ImportConfirmForm(formdata=None)
        confirm.token.data = import_store.token(
            kept or import_store.keep(data), data, filename, mapping
        )
    mapped = (
        [
            (heading, mapping.get(normalised(heading), IGNORED))
            for heading in result.headings
            if heading.strip()
        ]
        if mapping
        else []
    )
    return render_template(
        "prisoners/import_preview.html",
        plan=plan,
        form=confirm,
        filename=filename,
        limit=PREVIEW_LIMIT,
        mapped=mapped,
    )


@bp.route("/coordinator/prisoners/import", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def import_upload() -> str:
    """Upload a file: every problem is listed, the mapping step for headings of its own, or
    a preview of what would change."""
    form = ImportForm()
    if not form.validate_on_submit():
        return _upload_page(form)
    data = _read_upload(form)
    if data is None:
        return _upload_page(form)
    filename = form.file.data.filename or ""
    result = read_prisoners(data, filename)
    mapping = None
    if result.needs_mapping:
        mapping = import_mapping.remembered(db.session(), result.headings)
        if mapping is None:
            guess = import_mapping.guess(result.headings)
            return _mapping_page(
                import_store.token(import_store.keep(data), data, filename, None),
                result.headings,
                guess,
                filename,
            )
        result = read_prisoners(data, filename, mapping)
    if not result.ok:
        return _upload_page(form, result)
    return _preview(data, result, filename, None, mapping)


def _claimed(
    form: ImportMappingForm | ImportConfirmForm,
) -> tuple[dict[str, Any], bytes] | BaseResponse:
    """The claim of a posted import step and the file it names; 400 for a form or token
    that is not intact and this user's, back to the upload when the file is gone."""
    if not form.validate_on_submit():
        abort(400)
    try:
        claim = import_store.claim(form.token.data)
    except SignatureExpired:
        flash(_("The preview has expired. Please upload the file again."), "warning")
        return redirect(url_for("prisoners.import_upload"))
    except BadSignature:
        abort(400)
    if claim is None:
        abort(400)
    data = import_store.kept_file(claim)
    if data is None:
        flash(_("This file was imported already, or its preview has expired."), "warning")
        return redirect(url_for("prisoners.import_upload"))
    return claim, data


@bp.post("/coordinator/prisoners/import/mapping")
@roles_required(Role.COORDINATOR)
def import_mapping_save() -> BaseResponse | str:
    """The coordinator's mapping of the headings: remembered, then the file read with it."""
    form = ImportMappingForm()
    claimed = _claimed(form)
    if not isinstance(claimed, tuple):
        return claimed
    claim, data = claimed
    filename = str(claim.get("name") or "")
    headings = read_prisoners(data, filename).headings
    chosen = [entry.data or IGNORED for entry in form.columns]
    if len(chosen) != len(headings):
        abort(400)
    targets = set(import_mapping.TARGETS) | {IGNORED}
    mapping = {
        normalised(heading): column if column in targets else IGNORED
        for heading, column in zip(headings, chosen, strict=True)
        if heading.strip()
    }
    result = read_prisoners(data, filename, mapping)
    if not result.ok:
        if any(error.line == 1 for error in result.errors):  # the mapping itself is wrong
            return _mapping_page(form.token.data, headings, mapping, filename, result)
        return _upload_page(ImportForm(formdata=None), result)
    import_mapping.remember(db.session(), headings, mapping, current_user.id)
    db.session.commit()
    return _preview(data, result, filename, claim["file"], mapping)


@bp.post("/coordinator/prisoners/import/confirm")
@roles_required(Role.COORDINATOR)
def import_confirm() -> BaseResponse | str:
    """Import the previewed file: read again, compared again, written in one commit."""
    form = ImportConfirmForm()
    claimed = _claimed(form)
    if not isinstance(claimed, tuple):
        return claimed
    claim, data = claimed
    path = import_store.kept_path(claim)

    result = read_prisoners(data, str(claim.get("name") or ""), claim.get("mapping"))
    if not result.ok:
        path.unlink(missing_ok=True)
        return _upload_page(ImportForm(formdata=None), result)
    plan = plan_import(result.rows, db.session())
    try:
        done = apply_import(
            plan,
            db.session(),
            _today(),
            actor=current_user,
            ip=request.remote_addr,
            accepted=set(form.accept.data or []),
        )
        record(
            current_user,
            "import",
            None,
            {
                "created": done.created,
                "changed": done.changed,
                "identity_changes": done.identity_changes,
                "identity_changes_left": done.identity_changes_left,
                "pairings_ended": done.pairings_ended,
                "facilities_created": done.facilities_created,
                "file_sha256": claim["sha256"],
            },
            ip=request.remote_addr,
        )
        db.session.commit()
    except IntegrityError:
        # Someone added one of these external ids since the comparison: nothing was written.
        db.session.rollback()
        flash(
            _(
                "The registry changed during the import, so nothing was imported. "
                "Please upload the file again."
            ),
            "danger",
        )
        return redirect(url_for("prisoners.import_upload"))
    path.unlink(missing_ok=True)
    flash(
        _(
            "Import done: %(created)d created, %(changed)d changed, %(unchanged)d unchanged.",
            created=done.created,
            changed=done.changed + done.identity_changes,
            unchanged=len(plan.unchanged),
        ),
        "success",
    )
    if done.identity_changes_left:
        flash(
            ngettext(
                "%(num)d identity change was not ticked and was left out.",
                "%(num)d identity changes were not ticked and were left out.",
                done.identity_changes_left,
            ),
            "warning",
        )
    if done.pairings_ended:
        flash(
            ngettext(
                "%(num)d godparenthood of a prisoner no longer held was ended; the "
                "godparent is waiting for a new godchild.",
                "%(num)d godparenthoods of prisoners no longer held were ended; their "
                "godparents are waiting for a new godchild.",
                done.pairings_ended,
            ),
            "info",
        )
    return redirect(url_for("prisoners.index"))


@bp.get("/coordinator/prisoners/export")
@roles_required(Role.COORDINATOR)
def export() -> str:
    """The downloads: prisoners in the import format, and the other tables, each as CSV
    with commas or semicolons and as a workbook."""
    return render_template("prisoners/export.html", kinds=list(EXPORTS))


@bp.get("/coordinator/prisoners/export/<kind>.csv")
@roles_required(Role.COORDINATOR)
def export_csv(kind: str) -> Response:
    """One export as a dated CSV download, with commas or, with ``?separator=semicolon``,
    semicolons (German Excel); the export is written to the audit log."""
    separator = request.args.get("separator", spreadsheets.COMMA)
    if separator not in (spreadsheets.COMMA, spreadsheets.SEMICOLON):
        abort(404)
    return _export_download(kind, separator)


@bp.get("/coordinator/prisoners/export/<kind>.xlsx")
@roles_required(Role.COORDINATOR)
def export_xlsx(kind: str) -> Response:
    """One export as a dated workbook, every cell text; written to the audit log."""
    return _export_download(kind, spreadsheets.WORKBOOK)


def _export_download(kind: str, flavour: str) -> Response:
    if kind not in EXPORTS:
        abort(404)
    made = export_file(db.session(), kind, flavour)
    record(
        current_user,
        "export",
        None,
        {"kind": kind, "rows": made.rows, "format": flavour},
        ip=request.remote_addr,
    )
    db.session.commit()
    response = Response(made.content, mimetype=made.mimetype)
    suffix = "-semicolon" if flavour == spreadsheets.SEMICOLON else ""
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{kind}-{_today().isoformat()}{suffix}.{made.extension}"'
    )
    return response
