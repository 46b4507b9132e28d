"""Login, logout, password reset, invitations."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from godparents.auth import cli, passwords, services
from godparents.auth.forms import (
    InvitationCreateForm,
    LoginForm,
    PasswordResetRequestForm,
    PasswordSetForm,
)
from godparents.auth.models import Role, User
from godparents.extensions import db, login_manager
from godparents.mailer import send_email
from godparents.security import public, roles_required, safe_next
from godparents.sponsors.models import Sponsor
from godparents.types import utcnow

bp = Blueprint("auth", __name__, url_prefix="/auth")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    passwords.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(cli.users)


@login_manager.user_loader
def load_user(session_user_id: str) -> User | None:
    """The session stores ``id:generation``; an old generation is a revoked session."""
    user_id, _sep, generation = session_user_id.partition(":")
    if not user_id.isdigit() or not generation.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_generation != int(generation):
        return None
    return user


def _start_session(user: User) -> None:
    """A fresh session for a fresh login: nothing from before it carries over."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.authenticate(
            form.email.data or "", form.password.data or "", utcnow(), request.remote_addr
        )
        db.session.commit()
        if user is not None:
            _start_session(user)
            return redirect(safe_next(form.next.data) or url_for("main.index"))
        form.password.errors.append(_("Email or password is incorrect."))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/reset", methods=["GET", "POST"])
@public
def request_password_reset() -> Response | str:
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        found = services.password_reset_token(form.email.data or "", utcnow())
        if found is not None:
            user, token = found
            send_email(services.password_reset_email(user, token))
        # The same words whether or not the address has an account.
        flash(_("If an account uses this address, we have sent it a link to set a new "
                "password. The link works once, for one hour."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
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
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            logout_user()
            flash(_("Your password has been changed. Please log in."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str) -> Response | str:
    user = services.read_invitation(token, utcnow())
    if user is None:
        return render_template("auth/link_invalid.html"), 404  # type: ignore[return-value]
    form = PasswordSetForm()
    if form.validate_on_submit():
        try:
            services.accept_invitation(user, form.password.data or "", utcnow(),
                                       request.remote_addr)
        except services.AccountError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            _start_session(user)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/accept_invitation.html", form=form, user=user)


@bp.route("/invite", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def invite() -> Response | str:
    form = InvitationCreateForm()
    sponsors = db.session.scalars(
        select(Sponsor).where(Sponsor.is_active).order_by(Sponsor.full_name)
    ).all()
    form.sponsor_id.choices = [SelectChoice(str(s.id), f"{s.full_name} ({s.body})")
                               for s in sponsors]
    if form.validate_on_submit():
        sponsor = db.session.get(Sponsor, form.sponsor_id.data)
        assert sponsor is not None  # noqa: S101  (the choices hold only existing sponsors)
        try:
            invitation = services.invite(
                form.email.data or "", Role(form.role.data), sponsor, current_user,
                utcnow(), request.remote_addr,
            )
        except services.AccountError as error:
            form[error.field].errors.append(str(error))
        else:
            db.session.commit()
            if send_email(services.invitation_email(invitation)):
                flash(_("Invitation sent to %(email)s.", email=invitation.user.email),
                      "success")
            else:
                flash(_("The account was created but the email could not be sent. "
                        "Check the mail settings and send the invitation again."), "danger")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/invite.html", form=form)
