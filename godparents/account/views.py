"""The profile page: one's own settings, password and calendar link."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from godparents.account import services
from godparents.account.forms import (
    COORDINATOR_REMINDERS,
    SPONSOR_REMINDERS,
    CalendarForm,
    CalendarOffForm,
    PasswordChangeForm,
    ProfileForm,
)
from godparents.auth.models import Role
from godparents.auth.services import AccountError
from godparents.extensions import db

bp = Blueprint("account", __name__, url_prefix="/account")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _reminder_kinds() -> dict:
    return COORDINATOR_REMINDERS if current_user.role is Role.COORDINATOR else SPONSOR_REMINDERS


def _profile_form() -> ProfileForm:
    user = current_user
    form = ProfileForm(reminder_kinds=_reminder_kinds())
    if not form.is_submitted():
        form.locale.data = user.locale
        form.timezone.data = user.timezone
        form.birthday_card_days.data = user.birthday_card_days
        form.reminders.data = [kind.value for kind in _reminder_kinds()
                               if services.wants(user, kind)]
        if user.sponsor is not None:
            form.title.data = user.sponsor.title
            form.phone.data = user.sponsor.phone
            form.contact_email.data = user.sponsor.email
    return form


def _render(profile: ProfileForm | None = None, password: PasswordChangeForm | None = None,
            calendar_url: str | None = None) -> str:
    return render_template(
        "account/profile.html", form=profile or _profile_form(),
        password_form=password or PasswordChangeForm(), calendar_form=CalendarForm(),
        calendar_off_form=CalendarOffForm(), calendar_url=calendar_url,
    )


@bp.route("/", methods=["GET", "POST"])
def profile() -> Response | str:
    form = _profile_form()
    if form.validate_on_submit():
        contact = None
        if current_user.sponsor is not None:
            contact = {"title": form.title.data or None, "phone": form.phone.data or None,
                       "email": (form.contact_email.data or "").strip().lower() or None}
        services.update_profile(
            current_user, locale=form.locale.data, timezone=form.timezone.data,
            wanted=set(form.reminders.data or []),
            offered={kind.value for kind in _reminder_kinds()},
            birthday_card_days=form.birthday_card_days.data, contact=contact,
        )
        db.session.commit()
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("account.profile"))
    return _render(profile=form)


@bp.post("/password")
def change_password() -> Response | str:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data or "",
                                     form.password.data or "")
        except AccountError as error:
            form[error.field].errors.append(str(error))
        else:
            db.session.commit()
            # This session carries on with the new generation; all others have ended.
            login_user(current_user._get_current_object())
            flash(_("Your password is changed. Other devices have been logged out."),
                  "success")
            return redirect(url_for("account.profile"))
    return _render(password=form)


@bp.post("/calendar")
def rotate_calendar() -> str:
    """A new secret link, shown this once: only its hash is stored."""
    form = CalendarForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "danger")
        return _render()
    token = services.new_calendar_token(current_user)
    db.session.commit()
    url = current_app.config["BASE_URL"].rstrip("/") + url_for("calendar.feed", token=token)
    return _render(calendar_url=url)


@bp.post("/calendar/off")
def remove_calendar() -> Response:
    form = CalendarOffForm()
    if form.validate_on_submit():
        services.remove_calendar_token(current_user)
        db.session.commit()
        flash(_("The calendar link no longer works."), "info")
    return redirect(url_for("account.profile"))
