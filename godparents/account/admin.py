"""The coordinators' accounts page: who can log in, with what, and ending their sessions.

Coordinators see every account, end all of an account's sessions (a lost laptop), reset
someone's two factors when phone and recovery codes are both gone (their own password
again, since that hands the account's second factor to whoever logs in next), and
deactivate or reactivate coordinator accounts (godparents and office staff are managed on
the godparents' pages, where their pairings are handled too).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from godparents.account import bp, services
from godparents.account.forms import AccountActionForm, TwoFactorResetForm
from godparents.auth import sessions
from godparents.auth.models import Role, User, normalise_email
from godparents.auth.services import AccountError
from godparents.extensions import db
from godparents.listing import paginate
from godparents.security import or_404, roles_required
from godparents.types import utcnow


@bp.get("/coordinator/accounts/")
@roles_required(Role.COORDINATOR)
def index() -> str:
    query = select(User)
    wanted = request.args.get("q", "").strip()
    if wanted:
        query = query.where(User.email.contains(normalise_email(wanted)[:254], autoescape=True))
    role = request.args.get("role", "")
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    page = paginate(query.order_by(User.role, User.email))
    live = sessions.live_counts(list(page.items), utcnow())
    return render_template(
        "account/accounts.html",
        page=page,
        live=live,
        roles=list(Role),
        action_form=AccountActionForm(),
        reset_form=TwoFactorResetForm(),
    )


def _back() -> Response:
    return redirect(url_for("account.index", q=request.args.get("q") or None))


@bp.post("/coordinator/accounts/<int:user_id>/sign-out")
@roles_required(Role.COORDINATOR)
def sign_out(user_id: int) -> Response:
    user = or_404(db.session.get(User, user_id))
    if not AccountActionForm().validate_on_submit():
        abort(400)
    services.sign_out_everywhere(user, current_user)
    db.session.commit()
    if user.id == current_user.id:
        return redirect(url_for("auth.login"))
    flash(_("%(email)s is logged out on every device.", email=user.email), "info")
    return _back()


@bp.post("/coordinator/accounts/<int:user_id>/reset-two-factors")
@roles_required(Role.COORDINATOR)
def reset_two_factors(user_id: int) -> Response:
    user = or_404(db.session.get(User, user_id))
    form = TwoFactorResetForm()
    if user.id == current_user.id:
        abort(400)  # one's own: from the settings page, with one's own recovery codes
    if not form.validate_on_submit():
        flash(_("Please type your current password."), "danger")
        return _back()
    try:
        services.reset_two_factors_of(user, current_user, form.current_password.data or "")
    except AccountError as error:
        flash(str(error), "danger")
        return _back()
    db.session.commit()
    flash(
        _(
            "The two factors of %(email)s are off and their sessions ended. Coordinators "
            "must set up two factors again at their next login; others may.",
            email=user.email,
        ),
        "warning",
    )
    return _back()


@bp.post("/coordinator/accounts/<int:user_id>/active")
@roles_required(Role.COORDINATOR)
def set_active(user_id: int) -> Response:
    user = or_404(db.session.get(User, user_id))
    if not AccountActionForm().validate_on_submit():
        abort(400)
    if not user.is_coordinator or user.id == current_user.id:
        abort(400)
    services.set_coordinator_active(user, not user.is_active, current_user)
    db.session.commit()
    flash(
        _("%(email)s can log in again.", email=user.email)
        if user.is_active
        else _("%(email)s can no longer log in.", email=user.email),
        "info",
    )
    return _back()
