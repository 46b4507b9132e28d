"""Import and export of prisoners as CSV, from the coordinators' pages.

An upload is checked and shown as a preview; only "Confirm import" writes. Between the two
requests the file waits in the instance folder under a random name (mode 600, removed after
the import or after an hour). The preview page carries only a signed token with that name,
the SHA-256 of the content and the uploader: the client can neither swap the file nor point
at another one, and the confirmed import is exactly the file that was previewed.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import time
from datetime import date
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as BaseResponse
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired

from godparents.audit.services import record
from godparents.auth.models import Role
from godparents.extensions import db
from godparents.prisoners import csvio
from godparents.prisoners.blueprint import bp
from godparents.security import roles_required
from godparents.timeutil import campaign_today

TOKEN_SALT = "godparents.import"  # noqa: S105  (a namespace, no secret)  # nosec B105
KEEP_SECONDS = 3600  # how long a previewed file waits for its confirmation
MAX_BYTES = 10 * 1024 * 1024  # about 20,000 rows; PRISONER_IMPORT_MAX_BYTES overrides
PREVIEW_LIMIT = 100  # created and changed prisoners listed on the preview, each
_KEPT_NAME = re.compile(r"[0-9a-f]{32}")


class ImportForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a CSV file.")),
                    FileAllowed(["csv"], _l("Choose a CSV file (its name ends in .csv)."))],
        description=_l("Saved as “CSV UTF-8”, separated by commas or semicolons."),
        render_kw={"accept": ".csv,text/csv"},
    )
    submit = SubmitField(_l("Check the file"))


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Confirm import"))


def _today() -> date:
    return campaign_today(current_app.config["TIMEZONE"])


def _folder() -> Path:
    configured = current_app.config.get("PRISONER_IMPORT_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "imports"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _remove_stale(folder: Path) -> None:
    """Previews nobody confirmed: their files go after KEEP_SECONDS."""
    cutoff = time.time() - KEEP_SECONDS
    for path in folder.glob("*.csv"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:  # another request removed it first
            continue


def _keep(data: bytes) -> str:
    """Store the upload under a new random name, readable by this user account only."""
    folder = _folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _remove_stale(folder)
    name = secrets.token_hex(16)
    descriptor = os.open(folder / f"{name}.csv", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as kept:
        kept.write(data)
    return name


def _claim(token: str) -> dict[str, Any] | None:
    """The signed claim of a confirm form if it is intact, recent and this user's."""
    claim = _serializer().loads(token, max_age=KEEP_SECONDS)
    if (not isinstance(claim, dict) or claim.get("user") != current_user.id
            or not _KEPT_NAME.fullmatch(str(claim.get("file", "")))):
        return None
    return claim


def _upload_page(form: ImportForm, result: csvio.ParseResult | None = None) -> str:
    return render_template("prisoners/import.html", form=form, result=result,
                           columns=csvio.COLUMNS)


def _read_upload(form: ImportForm) -> bytes | None:
    """The uploaded bytes, or None with the error at the field when the file is too large."""
    limit = int(current_app.config.get("PRISONER_IMPORT_MAX_BYTES", MAX_BYTES))
    data = form.file.data.read(limit + 1)
    if len(data) > limit:
        form.file.errors.append(_("The file is larger than %(size)s MB; split it into parts.",
                                  size=f"{limit / 1024 / 1024:g}"))
        return None
    return data


@bp.route("/import", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def import_upload() -> str:
    """Upload a CSV file: every problem is listed, or a preview of what would change."""
    form = ImportForm()
    if not form.validate_on_submit():
        return _upload_page(form)
    data = _read_upload(form)
    if data is None:
        return _upload_page(form)
    result = csvio.read_prisoners(data)
    if not result.ok:
        return _upload_page(form, result)
    plan = csvio.plan_import(result.rows, db.session)
    confirm = None
    if plan.writes:  # else there is nothing to confirm, and nothing to keep
        confirm = ImportConfirmForm()
        confirm.token.data = _serializer().dumps(
            {"file": _keep(data), "sha256": _sha256(data), "user": current_user.id})
    return render_template("prisoners/import_preview.html", plan=plan, form=confirm,
                           filename=form.file.data.filename, limit=PREVIEW_LIMIT)


@bp.post("/import/confirm")
@roles_required(Role.COORDINATOR)
def import_confirm() -> BaseResponse | str:
    """Import the previewed file: checked again, compared again, written in one commit."""
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        claim = _claim(form.token.data)
    except SignatureExpired:
        flash(_("The preview has expired. Please upload the file again."), "warning")
        return redirect(url_for("prisoners.import_upload"))
    except BadSignature:
        abort(400)
    if claim is None:
        abort(400)
    path = _folder() / f"{claim['file']}.csv"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        flash(_("This file was imported already, or its preview has expired."), "warning")
        return redirect(url_for("prisoners.import_upload"))
    if _sha256(data) != claim.get("sha256"):
        abort(400)

    result = csvio.read_prisoners(data)
    if not result.ok:
        path.unlink(missing_ok=True)
        return _upload_page(ImportForm(), result)
    plan = csvio.plan_import(result.rows, db.session)
    try:
        csvio.apply_import(plan, db.session, _today(), actor=current_user,
                           ip=request.remote_addr)
        record(current_user, "import", None,
               {"created": len(plan.created), "changed": len(plan.changed),
                "file_sha256": claim["sha256"]}, ip=request.remote_addr)
        db.session.commit()
    except IntegrityError:
        # Someone added one of these external ids since the comparison: nothing was written.
        db.session.rollback()
        flash(_("The registry changed during the import, so nothing was imported. "
                "Please upload the file again."), "danger")
        return redirect(url_for("prisoners.import_upload"))
    path.unlink(missing_ok=True)
    flash(_("Import done: %(created)d created, %(changed)d changed, %(unchanged)d unchanged.",
            created=len(plan.created), changed=len(plan.changed),
            unchanged=len(plan.unchanged)), "success")
    return redirect(url_for("prisoners.index"))


@bp.get("/export")
@roles_required(Role.COORDINATOR)
def export() -> str:
    """The CSV downloads: prisoners in the import format, and the other tables."""
    return render_template("prisoners/export.html", kinds=list(csvio.EXPORTS))


@bp.get("/export/<kind>.csv")
@roles_required(Role.COORDINATOR)
def export_csv(kind: str) -> Response:
    """One export as a dated CSV download; the export is written to the audit log."""
    write = csvio.EXPORTS.get(kind)
    if write is None:
        abort(404)
    buffer = io.StringIO()
    count = write(db.session, buffer)
    record(current_user, "export", None, {"kind": kind, "rows": count}, ip=request.remote_addr)
    db.session.commit()
    response = Response(buffer.getvalue().encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{kind}-{_today().isoformat()}.csv"')
    return response
