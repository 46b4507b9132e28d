"""The godparent's pages: home, a godchild's page, and the office team."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from godparents.actions import outcomes
from godparents.actions import services as actions
from godparents.actions.forms import DeleteForm
from godparents.audit.services import record
from godparents.auth import services as accounts
from godparents.auth.models import Role, User, normalise_email
from godparents.auth.throttling import limiter, record_throttled
from godparents.caching import cache
from godparents.extensions import db
from godparents.mailer import send_email
from godparents.security import roles_required
from godparents.sponsors import home_cache, services
from godparents.sponsors.forms import DelegateInviteForm, DelegateRemoveForm
from godparents.sponsors.models import Sponsor
from godparents.timeutil import local_today
from godparents.types import utcnow

bp = Blueprint("sponsors", __name__, url_prefix="/sponsor")

TEAM = (Role.SPONSOR, Role.DELEGATE)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _today() -> date:
    """Today for the reader, in their own time zone."""
    return local_today(current_user.timezone, current_app.config["TIMEZONE"])


@bp.get("/")
@roles_required(*TEAM)
def home() -> str:
    """The page every reminder leads to. Its content is rendered once per user and reused
    until something of their team's changes (``home_cache``: its pairings, prisoners,
    actions, the campaign days), the day turns or the language changes. The whole page
    around it is reused too, per session (it holds the session's CSRF token), unless a
    message waits to be shown once."""
    today = _today()
    key = (
        "sponsor-home",
        current_app.config["SQLALCHEMY_DATABASE_URI"],
        current_user.id,
        str(get_locale()),
        today,
        home_cache.team_key(current_user),
    )
    max_age = current_app.config["PAGE_CACHE_SECONDS"]

    def page() -> str:
        content = cache.get(
            key,
            max_age,
            lambda: render_template(
                "sponsors/_home_content.html", home=services.home(current_user, today), today=today
            ),
        )
        # Markup: the fragment is our own template's output, already escaped when rendered.
        fragment = Markup(content)  # noqa: S704  # nosec B704
        return render_template("sponsors/home.html", content=fragment)

    if session.get("_flashes"):
        return page()
    generate_csrf()  # the session's own token exists before it keys its page
    return cache.get((*key, "page", session["csrf_token"], current_user.email), max_age, page)


@bp.get("/prisoners/<int:prisoner_id>")
@roles_required(*TEAM)
def prisoner(prisoner_id: int) -> str:
    today = _today()
    view = services.prisoner_view(current_user, prisoner_id, today)
    if view is None:
        abort(404)
    return render_template(
        "sponsors/prisoner.html",
        view=view,
        prisoner=view.prisoner,
        today=today,
        figures=outcomes.for_prisoners([prisoner_id], today),
        can_change=lambda action: actions.can_change(current_user, action),
        can_record_outcome=lambda action: actions.can_record_outcome(current_user, action),
        delete_form=DeleteForm(),
    )


@bp.get("/prisoners/<int:prisoner_id>/photo")
@roles_required(*TEAM)
def photo(prisoner_id: int) -> Response:
    found = services.photo_for(current_user, prisoner_id)
    if found is None:
        abort(404)
    response = Response(found.content, mimetype=found.mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = "inline"
    return response


def _own_sponsor() -> Sponsor:
    sponsor = current_user.sponsor
    if sponsor is None:
        abort(404)
    return sponsor


def _invitations_by_user() -> str:
    return f"team-invite:{current_user.id}"


@bp.route("/team", methods=["GET", "POST"])
@roles_required(Role.SPONSOR)
@limiter.limit(
    lambda: current_app.config["TEAM_INVITE_LIMIT"],
    key_func=_invitations_by_user,
    methods=["POST"],
    scope="TEAM_INVITE_LIMIT",
    on_breach=lambda limit: record_throttled("account", str(limit.limit), actor=current_user),
)
def team() -> BaseResponse | str:
    """The sponsor's office staff: invite and remove. Delegates cannot manage each other.

    The reply must not tell whether an address has an account somewhere in the campaign
    (a colleague's, another MP's, a coordinator's): such an address gets the answer an
    invitation gets, the coordinators find the attempt in the audit log, and invitations
    are throttled per godparent, so the form is no way to probe addresses.
    """
    sponsor = _own_sponsor()
    form = DelegateInviteForm()
    if form.validate_on_submit():
        email = form.email.data or ""
        try:
            invitation = accounts.invite(
                email, Role.DELEGATE, sponsor, current_user, utcnow(), request.remote_addr
            )
        except accounts.AccountExists:
            db.session.rollback()
            record(
                current_user,
                "invite_existing_account",
                accounts.find_user(email),
                {"sponsor_id": sponsor.id},
                ip=request.remote_addr,
            )
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=normalise_email(email)), "success")
            return redirect(url_for("sponsors.team"))
        except accounts.AccountError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            if send_email(accounts.invitation_email(invitation)):
                flash(_("Invitation sent to %(email)s.", email=invitation.user.email), "success")
            else:
                flash(_("The email could not be sent. Please try again later."), "danger")
            return redirect(url_for("sponsors.team"))
    delegates = [d.user for d in sponsor.delegations]
    return render_template(
        "sponsors/team.html", form=form, delegates=delegates, remove_form=DelegateRemoveForm()
    )


@bp.post("/team/<int:user_id>/remove")
@roles_required(Role.SPONSOR)
def remove_delegate(user_id: int) -> BaseResponse:
    sponsor = _own_sponsor()
    form = DelegateRemoveForm()
    delegate = db.session.get(User, user_id)
    if delegate is None or not any(d.user_id == user_id for d in sponsor.delegations):
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    services.remove_delegate(sponsor, delegate, current_user)
    db.session.commit()
    flash(_("%(email)s no longer has access.", email=delegate.email), "info")
    return redirect(url_for("sponsors.team"))
