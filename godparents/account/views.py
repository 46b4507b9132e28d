"""The profile page: one's own settings, password and calendar link."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from werkzeug.wrappers import Response

from godparents.account import bp, services
from godparents.account.forms import (
    COORDINATOR_REMINDERS,
    SPONSOR_REMINDERS,
    CalendarForm,
    CalendarOffForm,
    EmailChangeForm,
    PasskeyAddForm,
    PasskeyRemoveForm,
    PasskeyRenameForm,
    PasswordChangeForm,
    PasswordConfirmedForm,
    ProfileForm,
    RecoveryCodesForm,
    SignOutEverywhereForm,
    TwoFactorDisableForm,
    TwoFactorEnableForm,
    TwoFactorReplaceForm,
)
from godparents.auth import passkeys, sessions, twofactor
from godparents.auth.models import Passkey, Role
from godparents.auth.services import AccountError, problems_of
from godparents.auth.views import start_session
from godparents.calendar.subscribe import subscription
from godparents.extensions import db
from godparents.fields import add_error, add_errors, own_ids, unrefused
from godparents.mailer import send_email
from godparents.salutations import FormOfAddress
from godparents.security import or_404
from godparents.types import utcnow


def _reminder_kinds() -> dict:
    return COORDINATOR_REMINDERS if current_user.role is Role.COORDINATOR else SPONSOR_REMINDERS


def _profile_form() -> ProfileForm:
    user = current_user
    form = ProfileForm(reminder_kinds=_reminder_kinds())
    if not form.is_submitted():
        form.locale.data = user.locale
        form.timezone.data = user.timezone
        form.birthday_card_days.data = user.birthday_card_days
        form.reminders.data = [
            kind.value for kind in _reminder_kinds() if services.wants(user, kind)
        ]
        person = user.sponsor if user.sponsor is not None else user
        form.form_of_address.data = (person.form_of_address or FormOfAddress.NEUTRAL).value
        form.academic_title.data = person.academic_title.value if person.academic_title else ""
        form.full_name.data = user.full_name
        if user.sponsor is not None:
            form.title.data = user.sponsor.title
            form.phone.data = user.sponsor.phone
            form.contact_email.data = user.sponsor.email
    return form


def _render(**forms: object) -> str:
    """The settings page, with the forms given (a failed one keeps its errors)."""
    defaults: dict[str, Callable[[], FlaskForm]] = {
        "form": _profile_form,
        "password_form": PasswordChangeForm,
        "email_form": EmailChangeForm,
        "calendar_form": CalendarForm,
        "calendar_off_form": CalendarOffForm,
        "sign_out_form": SignOutEverywhereForm,
    }
    context = {name: forms.get(name) or make() for name, make in defaults.items()}
    email_form = context["email_form"]
    if isinstance(email_form, FlaskForm):  # its "current password" is the password form's too
        own_ids(email_form, "login-email")
    return render_template(
        "account/profile.html", subscription=forms.get("subscription"), **context
    )


def _renew_session(had_calendar: bool) -> None:
    """After a change that ended every session: this device carries on with a new one.
    The calendar link ended with the sessions (``sessions.end_all``): say so."""
    row = sessions.find(current_user.session_token)
    remember = bool(row and row.remember)
    start_session(current_user._get_current_object(), remember=remember)
    if had_calendar:
        flash(
            _(
                "Your calendar link was switched off too. If you use it, create a new one "
                "below and subscribe to that."
            ),
            "info",
        )


def _has_calendar() -> bool:
    return current_user.calendar_token_hash is not None


@bp.route("/account/", methods=["GET", "POST"])
def profile() -> Response | str:
    form = _profile_form()
    if form.validate_on_submit():
        contact = None
        if current_user.sponsor is not None:
            contact = {
                "title": form.title.data or None,
                "phone": form.phone.data or None,
                "email": (form.contact_email.data or "").strip().lower() or None,
            }
        services.update_profile(
            current_user,
            locale=form.locale.data,
            timezone=form.timezone.data,
            wanted=set(form.reminders.data or []),
            offered={kind.value for kind in _reminder_kinds()},
            birthday_card_days=form.birthday_card_days.data,
            contact=contact,
        )
        services.set_address(
            current_user,
            form_of_address=form.form_of_address.data,
            academic_title=form.academic_title.data,
            full_name=form.full_name.data,
        )
        db.session.commit()
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("account.profile"))
    return _render(form=form)


@bp.post("/account/password")
def change_password() -> Response | str:
    form = PasswordChangeForm()
    had_calendar = _has_calendar()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, form.current_password.data or "", form.password.data or ""
            )
        except AccountError as error:
            add_errors(form, error.problems)
        else:
            _renew_session(had_calendar)
            flash(_("Your password is changed. Other devices have been logged out."), "success")
            return redirect(url_for("account.profile"))
    elif form.is_submitted():
        # The form refused a field: the rules too, so that one submit shows every mistake.
        add_errors(
            form,
            services.password_change_problems(
                current_user, unrefused(form.current_password), unrefused(form.password)
            ),
        )
    return _render(password_form=form)


@bp.post("/account/email")
def change_email() -> Response | str:
    form = EmailChangeForm()
    had_calendar = _has_calendar()
    if form.validate_on_submit():
        try:
            old = services.change_email(
                current_user, form.current_password.data or "", form.email.data or ""
            )
        except AccountError as error:
            add_errors(form, error.problems)
        else:
            _renew_session(had_calendar)
            send_email(services.email_changed_notice(current_user, old))
            flash(
                _(
                    "You now log in as %(email)s. Other devices have been logged out.",
                    email=current_user.email,
                ),
                "success",
            )
            return redirect(url_for("account.profile"))
    elif form.is_submitted():
        add_errors(
            form,
            services.email_change_problems(
                current_user, unrefused(form.current_password), unrefused(form.email)
            ),
        )
    return _render(email_form=form)


@bp.post("/account/sign-out-everywhere")
def sign_out_everywhere() -> Response:
    form = SignOutEverywhereForm()
    if not form.validate_on_submit():
        abort(400)
    services.sign_out_everywhere(current_user, current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have been logged out on every device, this one included."), "info")
    return redirect(url_for("auth.login"))


def _two_factor_page(enable_form: TwoFactorEnableForm | None = None) -> str:
    user = current_user
    if user.has_two_factors:
        return render_template(
            "account/two_factor.html",
            # Three forms, each with a "current password": ids of their own.
            codes_form=own_ids(RecoveryCodesForm(), "codes"),
            disable_form=own_ids(TwoFactorDisableForm(), "off"),
            replace_form=own_ids(TwoFactorReplaceForm(), "replace"),
            codes_left=twofactor.recovery_codes_left(user),
        )
    row = sessions.find(user.session_token)
    if row is None:  # cannot happen for a logged-in request; be safe anyway
        abort(400)
    if row.pending_totp_secret is None:
        row.pending_totp_secret = twofactor.new_secret()
        db.session.commit()
    secret = row.pending_totp_secret
    uri = twofactor.provisioning_uri(secret, user.email)
    return render_template(
        "account/two_factor_setup.html",
        form=enable_form or TwoFactorEnableForm(),
        qr_code=twofactor.qr_code_data_uri(uri),
        key=twofactor.grouped(secret),
    )


@bp.get("/account/two-factor")
def two_factor() -> str:
    return _two_factor_page()


@bp.post("/account/two-factor/enable")
def enable_two_factor() -> Response | str:
    form = TwoFactorEnableForm()
    had_calendar = _has_calendar()
    row = sessions.find(current_user.session_token)
    if current_user.has_two_factors or row is None or row.pending_totp_secret is None:
        return redirect(url_for("account.two_factor"))
    if form.validate_on_submit():
        try:
            codes = services.enable_two_factors(
                current_user,
                form.current_password.data or "",
                row.pending_totp_secret,
                form.code.data or "",
                utcnow(),
            )
        except AccountError as error:
            add_errors(form, error.problems)
        else:
            _renew_session(had_calendar)
            flash(
                _(
                    "Two factors are on. From now on you log in with your password and a "
                    "code from the app."
                ),
                "success",
            )
            return _recovery_codes_page(codes)
    elif form.is_submitted():
        # The form refused a field: the other's rules too, so one submit shows every mistake.
        problems = services.two_factor_problems(
            current_user,
            unrefused(form.current_password),
            row.pending_totp_secret,
            unrefused(form.code),
            utcnow(),
        )
        add_errors(form, problems)
    return _two_factor_page(enable_form=form)


def _recovery_codes_page(codes: list[str]) -> str:
    """Shown once, never stored in the clear: the page says so."""
    return render_template("account/recovery_codes.html", codes=codes)


REFUSED = object()  # what _password_checked gives when the change was not made


def _password_checked(form: PasswordConfirmedForm, change: Callable[[str], object]) -> object:
    """``change(current password)``'s result; REFUSED, with the reason flashed, if the form
    is not valid or the password is wrong."""
    if not form.validate_on_submit():
        flash(_("Please type your current password."), "danger")
        return REFUSED
    try:
        return change(form.current_password.data or "")
    except AccountError as error:
        flash(str(error), "danger")
        return REFUSED


@bp.post("/account/two-factor/recovery-codes")
def renew_recovery_codes() -> Response | str:
    if not current_user.has_two_factors:
        return redirect(url_for("account.two_factor"))
    codes = _password_checked(
        RecoveryCodesForm(), partial(services.new_recovery_codes, current_user)
    )
    if codes is REFUSED:
        return redirect(url_for("account.two_factor"))
    db.session.commit()
    return _recovery_codes_page(codes)  # type: ignore[arg-type]


@bp.post("/account/two-factor/off")
def disable_two_factor() -> Response:
    had_calendar = _has_calendar()
    if not current_user.has_two_factors:
        return redirect(url_for("account.two_factor"))
    if (
        _password_checked(
            TwoFactorDisableForm(), partial(services.disable_two_factors, current_user)
        )
        is not REFUSED
    ):
        _renew_session(had_calendar)
        flash(_("Two factors are off. Other devices have been logged out."), "info")
    return redirect(url_for("account.two_factor"))


@bp.post("/account/two-factor/replace")
def replace_two_factor() -> Response:
    had_calendar = _has_calendar()
    if not current_user.has_two_factors:
        return redirect(url_for("account.two_factor"))
    if (
        _password_checked(
            TwoFactorReplaceForm(), partial(services.replace_two_factors, current_user)
        )
        is not REFUSED
    ):
        _renew_session(had_calendar)
        flash(_("The old key no longer works. Scan the new code with your new phone."), "info")
    return redirect(url_for("account.two_factor"))


@bp.post("/account/calendar")
def rotate_calendar() -> str:
    """A new secret link, shown this once: only its hash is stored."""
    form = CalendarForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "danger")
        return _render()
    token = services.new_calendar_token(current_user)
    db.session.commit()
    url = current_app.config["BASE_URL"].rstrip("/") + url_for("calendar.feed", token=token)
    return _render(subscription=subscription(url))


@bp.post("/account/calendar/off")
def remove_calendar() -> Response:
    form = CalendarOffForm()
    if form.validate_on_submit():
        services.remove_calendar_token(current_user)
        db.session.commit()
        flash(_("The calendar link no longer works."), "info")
    return redirect(url_for("account.profile"))


# Passkeys ------------------------------------------------------------------------------------

REGISTRATION_KEY = "passkey_registration"  # the session entry: the challenge offered


def _passkey_page(add_form: PasskeyAddForm | None = None) -> str:
    """The user's passkeys, and the form to add one with fresh options for the browser."""
    options, challenge = passkeys.registration_options(current_user)
    session[REGISTRATION_KEY] = bytes_to_base64url(challenge)
    return render_template(
        "account/passkeys.html",
        passkeys=passkeys.passkeys_of(current_user),
        add_form=add_form or PasskeyAddForm(),
        options=options,
        rename_form=PasskeyRenameForm(),
        remove_form=PasskeyRemoveForm(),
    )


def _own_passkey_or_404(passkey_id: int) -> Passkey:
    passkey = db.session.get(Passkey, passkey_id)
    return or_404(passkey if passkey is not None and passkey.user_id == current_user.id else None)


@bp.get("/account/passkeys")
def passkey_list() -> str:
    if not current_user.has_two_factors:  # passkeys come on top of the code from the app
        return render_template("account/passkeys.html", needs_two_factors=True)
    return _passkey_page()


@bp.post("/account/passkeys")
def add_passkey() -> Response | str:
    if not current_user.has_two_factors:
        return redirect(url_for("account.two_factor"))
    form = PasskeyAddForm()
    challenge = session.pop(REGISTRATION_KEY, None)
    if form.validate_on_submit():
        try:
            services.check_current_password(current_user, form.current_password.data or "")
            passkey = passkeys.register(
                current_user,
                (form.name.data or "").strip(),
                form.credential.data or "",
                base64url_to_bytes(challenge) if isinstance(challenge, str) else None,
                utcnow(),
            )
        except AccountError as error:
            add_error(form[error.field], str(error))
        except passkeys.PasskeyError as error:
            add_error(form.credential, str(error))
        else:
            db.session.commit()
            flash(
                _("The passkey “%(name)s” is added. Use it at your next login.", name=passkey.name),
                "success",
            )
            return redirect(url_for("account.passkey_list"))
    elif form.is_submitted() and (current := unrefused(form.current_password)) is not None:
        # The form refused the name: the password is judged too, every mistake at once.
        check = partial(services.check_current_password, current_user, current)
        add_errors(form, problems_of(check))
    return _passkey_page(add_form=form)


@bp.post("/account/passkeys/<int:passkey_id>/rename")
def rename_passkey(passkey_id: int) -> Response:
    passkey = _own_passkey_or_404(passkey_id)
    form = PasskeyRenameForm()
    if form.validate_on_submit():
        passkeys.rename(passkey, (form.name.data or "").strip(), current_user)
        db.session.commit()
        flash(_("The passkey is renamed."), "success")
    else:
        flash(_("Please give the passkey a name of at most 100 characters."), "danger")
    return redirect(url_for("account.passkey_list"))


@bp.post("/account/passkeys/<int:passkey_id>/remove")
def remove_passkey(passkey_id: int) -> Response:
    passkey = _own_passkey_or_404(passkey_id)
    name = passkey.name
    if (
        _password_checked(
            PasskeyRemoveForm(), partial(services.remove_passkey, current_user, passkey)
        )
        is not REFUSED
    ):
        db.session.commit()
        flash(_("The passkey “%(name)s” is removed.", name=name), "info")
    return redirect(url_for("account.passkey_list"))
