"""Login, logout, password reset, invitations."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from godparents.audit.services import record
from godparents.auth import (
    bp,
    devices,
    passkeys,
    services,
    sessions,
    throttling,
    twofactor,
)
from godparents.auth.forms import (
    InvitationCreateForm,
    LoginForm,
    PasskeyLoginForm,
    PasswordResetRequestForm,
    PasswordSetForm,
    TwoFactorForm,
)
from godparents.auth.models import Role, User
from godparents.extensions import db
from godparents.fields import add_error, add_errors
from godparents.labels import parliament
from godparents.mailer import send_email
from godparents.security import clear_session, public, roles_required, safe_next
from godparents.sponsors.models import Sponsor
from godparents.types import utcnow


def load_user(token: str) -> User | None:
    """The cookie names a server-side session; only a live one logs the request in.
    (create_app makes it the LoginManager's user loader.)"""
    loaded = sessions.load(token, utcnow())
    if loaded.expired:
        g.session_expired = True
    if loaded.user is not None:
        loaded.user.session_token = token
    return loaded.user


def start_session(user: User, remember: bool = False) -> None:
    """A fresh session for a fresh login: a new token, nothing from before it carried over."""
    clear_session()
    remember = remember and not user.is_coordinator
    user.session_token = sessions.start(
        user,
        utcnow(),
        remember=remember,
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
    )
    db.session.commit()
    session.permanent = remember  # else the cookie goes when the browser closes
    login_user(user)


def _after_login(next_target: str | None) -> Response:
    return redirect(safe_next(next_target) or url_for("main.index"))


@bp.route("/auth/login", methods=["GET", "POST"])
@public
def login() -> Response | str:
    if current_user.is_authenticated:
        return _after_login(request.args.get("next"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        now = utcnow()
        email = form.email.data or ""
        device = devices.known_device(services.find_user(email))
        if device is not None and throttling.device_exhausted(device):
            device = None  # too many failures from it: a stranger's, from now on
        try:
            with (
                throttling.device_turn(device) if device else nullcontext(),
                throttling.attempt(*throttling.login_counters(email, device)) as attempt,
            ):
                user = services.authenticate(
                    email, form.password.data or "", now, request.remote_addr
                )
                if user is None:
                    db.session.commit()  # the failure's audit event
                    attempt.fail()
                    if device is not None:
                        throttling.device_failed(device)
        except throttling.Backoff as backoff:
            throttling.record_throttled("device", f"wait {backoff.retry_after} s")
            add_error(
                form.password,
                ngettext(
                    "Too many wrong passwords from this browser. Wait %(num)d second, then try "
                    "again.",
                    "Too many wrong passwords from this browser. Wait %(num)d seconds, "
                    "then try again.",
                    backoff.retry_after,
                ),
            )
            return render_template("auth/login.html", form=form), 429  # type: ignore[return-value]
        except throttling.Throttled as throttled:
            throttling.refuse(throttled)
        if user is not None and device is not None:
            throttling.device_succeeded(device)
        if user is None:
            add_error(form.password, _("Email or password is incorrect."))
        elif user.has_two_factors:
            db.session.commit()
            session.clear()
            session[throttling.PENDING_KEY] = {
                "user": user.id,
                "generation": user.session_generation,
                "at": int(now.timestamp()),
                "remember": bool(form.remember.data),
                "next": safe_next(form.next.data) or "",
            }
            return redirect(url_for("auth.two_factor"))
        else:
            services.complete_login(user, now, request.remote_addr)
            start_session(user, remember=bool(form.remember.data))
            return devices.remember(_after_login(form.next.data), user)
    return render_template("auth/login.html", form=form)


def _pending_user() -> tuple[User, dict] | None:
    """The account whose password was just right and whose code is awaited, if still
    within the time allowed."""
    pending = session.get(throttling.PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    age = utcnow().timestamp() - float(pending.get("at", 0))
    if age < 0 or age > current_app.config["TWO_FACTOR_PENDING_SECONDS"]:
        return None
    user = db.session.get(User, pending.get("user"))
    if (
        user is None
        or not user.is_active
        or not user.has_two_factors
        or user.session_generation != pending.get("generation")
    ):
        return None
    return user, pending


@bp.route("/auth/two-factor", methods=["GET", "POST"])
@public
def two_factor() -> Response | str:
    """The second step of logging in: a code from the app, or a recovery code."""
    found = _pending_user()
    if found is None:
        session.pop(throttling.PENDING_KEY, None)
        flash(_("Please log in again."), "info")
        return redirect(url_for("auth.login"))
    user, pending = found
    form = TwoFactorForm()
    if form.validate_on_submit():
        now = utcnow()
        code = form.code.data or ""
        try:
            with throttling.attempt(*throttling.two_factor_counters(user.id)) as attempt:
                method = (
                    "totp"
                    if twofactor.verify_totp(user, code, now)
                    else "recovery_code"
                    if twofactor.use_recovery_code(user, code, now)
                    else None
                )
                if method is None:
                    record(user, "two_factor_failed", user, ip=request.remote_addr)
                    db.session.commit()
                    attempt.fail()
        except throttling.Throttled as throttled:
            throttling.refuse(throttled)
        if method is None:
            add_error(
                form.code,
                _("This code is not right, or it was used already. Codes change every 30 seconds."),
            )
        else:
            services.complete_login(user, now, request.remote_addr, second_factor=method)
            start_session(user, remember=bool(pending.get("remember")))
            if method == "recovery_code":
                left = twofactor.recovery_codes_left(user)
                flash(
                    ngettext(
                        "You used a recovery code; %(num)d is left. If your phone is "
                        "lost, choose “Move to a new phone” in your settings now.",
                        "You used a recovery code; %(num)d are left. If your phone is "
                        "lost, choose “Move to a new phone” in your settings now.",
                        left,
                    ),
                    "warning",
                )
            return devices.remember(_after_login(pending.get("next")), user)
    return _two_factor_page(user, form)


def _two_factor_page(user: User, form: TwoFactorForm) -> str:
    """The code form, and a passkey button with a fresh challenge if the user has any."""
    options = passkeys.login_options(user)
    db.session.commit()
    return render_template(
        "auth/two_factor.html", form=form, passkey_options=options, passkey_form=PasskeyLoginForm()
    )


@bp.post("/auth/two-factor/passkey")
@public
def two_factor_passkey() -> Response:
    """The second step with a passkey: the browser's answer to the challenge offered on the
    code page (static/js/passkeys.js). Throttled and counted with the codes."""
    found = _pending_user()
    if found is None:
        session.pop(throttling.PENDING_KEY, None)
        flash(_("Please log in again."), "info")
        return redirect(url_for("auth.login"))
    user, pending = found
    form = PasskeyLoginForm()
    passkey = None
    if form.validate_on_submit():
        now = utcnow()
        try:
            with throttling.attempt(*throttling.two_factor_counters(user.id)) as attempt:
                passkey = passkeys.verify_login(user, form.credential.data or "", now)
                if passkey is None:
                    db.session.rollback()
                    record(user, "passkey_failed", user, ip=request.remote_addr)
                    db.session.commit()
                    attempt.fail()
        except throttling.Throttled as throttled:
            throttling.refuse(throttled)
    if passkey is None:
        flash(
            _("The passkey was not accepted. Try again, or type the code from your app."), "danger"
        )
        return redirect(url_for("auth.two_factor"))
    services.complete_login(user, utcnow(), request.remote_addr, second_factor="passkey")
    start_session(user, remember=bool(pending.get("remember")))
    return devices.remember(_after_login(pending.get("next")), user)


@bp.post("/auth/logout")
def logout() -> Response:
    token = current_user.session_token
    record(current_user, "logout", current_user, ip=request.remote_addr)
    if token:
        sessions.end(token)  # commits: the cookie, and any copy of it, is dead now
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/auth/reset", methods=["GET", "POST"])
@public
@throttling.limits("RESET_LIMIT_PER_ACCOUNT", "RESET_LIMIT_PER_ADDRESS", throttling.typed_account)
def request_password_reset() -> Response | str:
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        # The same words whether or not the address has an account.
        flash(
            _(
                "If an account uses this address, we have sent it a link to set a new "
                "password. The link works once, for one hour."
            ),
            "info",
        )
        response = redirect(url_for("auth.login"))
        # The same work before the reply, too: the account is looked up and the email
        # written and sent only once the reply has gone, so its timing tells nothing.
        response.call_on_close(_reset_email_sender(form.email.data or "", utcnow()))
        return response
    return render_template("auth/reset_request.html", form=form)


def _reset_email_sender(email: str, now: datetime) -> Callable[[], None]:
    """What sends the reset link, if the address has an account, after the response."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def send() -> None:
        with app.test_request_context("/", base_url=app.config["BASE_URL"]):
            try:
                found = services.password_reset_token(email, now)
                if found is not None:
                    send_email(services.password_reset_email(*found))
            except Exception:  # nothing can reach the user now: the log must have it
                app.logger.exception("could not send a password reset link")

    return send


@bp.route("/auth/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> Response | str:
    user = services.read_password_reset(token, utcnow())
    if user is None:
        return render_template("auth/link_invalid.html"), 404  # type: ignore[return-value]
    form = PasswordSetForm()
    if form.validate_on_submit():
        try:
            services.reset_password(user, form.password.data or "", request.remote_addr)
        except services.AccountError as error:
            add_errors(form, error.problems)
        else:
            db.session.commit()
            logout_user()
            flash(_("Your password has been changed. Please log in."), "success")
            return redirect(url_for("auth.login"))
    elif form.is_submitted():
        _add_policy_errors(form, user)
    return render_template("auth/reset_password.html", form=form)


@bp.route("/auth/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str) -> Response | str:
    user = services.read_invitation(token, utcnow())
    if user is None:
        return render_template("auth/link_invalid.html"), 404  # type: ignore[return-value]
    form = PasswordSetForm()
    if form.validate_on_submit():
        try:
            services.accept_invitation(
                user, form.password.data or "", utcnow(), request.remote_addr
            )
        except services.AccountError as error:
            add_errors(form, error.problems)
        else:
            db.session.commit()
            start_session(user)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("main.index"))
    elif form.is_submitted():
        _add_policy_errors(form, user)
    return render_template("auth/accept_invitation.html", form=form, user=user)


def _add_policy_errors(form: PasswordSetForm, user: User) -> None:
    """The form refused a field (the repeat differs): the password rules too, so that one
    submit shows every mistake. A password the form refused itself is not judged again."""
    password = form.password.data
    if not form.password.errors and isinstance(password, str):
        add_errors(
            form, services.problems_of(lambda: services.check_password_policy(password, user.email))
        )


@bp.route("/auth/invite", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def invite() -> Response | str:
    form = InvitationCreateForm()
    sponsors = db.session.scalars(
        select(Sponsor).where(Sponsor.is_active).order_by(Sponsor.full_name)
    ).all()
    form.sponsor_id.choices = [
        SelectChoice(str(s.id), f"{s.full_name} ({parliament(s.body)})") for s in sponsors
    ]
    if form.validate_on_submit():
        sponsor = db.session.get(Sponsor, form.sponsor_id.data)
        if sponsor is None:  # the choices hold only existing sponsors; deleted meanwhile
            abort(404)
        try:
            invitation = services.invite(
                form.email.data or "",
                Role(form.role.data),
                sponsor,
                current_user,
                utcnow(),
                request.remote_addr,
            )
        except services.AccountError as error:
            add_errors(form, error.problems)
        else:
            db.session.commit()
            send_invitation(invitation)
            return redirect(url_for("dashboard.index"))
    elif form.is_submitted():
        # The form refused a field: the invitation's rules too, so one submit shows every
        # mistake (an address in use and a godparent with an account, say).
        add_errors(form, _invitation_problems(form))
    return render_template("auth/invite.html", form=form)


def _invitation_problems(form: InvitationCreateForm) -> list[tuple[str, str]]:
    """The invitation rules for what the form could read (a field it refused is None)."""
    email = None if form.email.errors else form.email.data
    role = None if form.role.errors else Role(form.role.data)
    sponsor = None if form.sponsor_id.errors else db.session.get(Sponsor, form.sponsor_id.data)
    return services.invitation_problems(email, role, sponsor)


def send_invitation(invitation: services.Invitation) -> None:
    """Email an invitation that is committed, and say whether it went."""
    if send_email(services.invitation_email(invitation)):
        flash(_("Invitation sent to %(email)s.", email=invitation.user.email), "success")
    else:
        flash(
            _(
                "The account was created but the email could not be sent. "
                "Check the mail settings and send the invitation again."
            ),
            "danger",
        )
