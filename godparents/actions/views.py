"""Logging what a godparent's team did, from the godparent's pages."""

from __future__ import annotations

from datetime import date

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from godparents import concurrency, idempotency
from godparents.actions import bp, outcomes, posted, services
from godparents.actions.forms import ActionForm, DeleteForm, OutcomeForm
from godparents.actions.models import Action, ActionKind, LetterOutcome
from godparents.extensions import db
from godparents.fields import add_errors
from godparents.labels import label
from godparents.security import TEAM, roles_required
from godparents.sponsorships.models import Sponsorship
from godparents.timeutil import reader_today


def _prisoner_page(action: Action) -> str:
    return url_for(
        "prisoners.godchild",
        prisoner_id=action.sponsorship.prisoner_id,
        _anchor=f"action-{action.id}",
    )


@bp.route("/sponsor/prisoners/<int:prisoner_id>/actions/new", methods=["GET", "POST"])
@roles_required(*TEAM)
def create(prisoner_id: int) -> Response | str:
    pairing = services.current_pairing(current_user, prisoner_id)
    if pairing is None:
        abort(404)
    today = reader_today()
    form = ActionForm()
    if not form.is_submitted():
        form.occurred_on.data = today
        # A reminder's link names the kind it suggests (?kind=card); anything else: a letter.
        asked = request.args.get("kind", "")
        known = {kind.value for kind in ActionKind}
        form.kind.data = asked if asked in known else ActionKind.LETTER.value
    # A link from the home or a reminder may fill the rest ("posted" in one tap).
    quick = posted.prefill(form, request.args, today) if not form.is_submitted() else None
    if form.validate_on_submit():
        try:
            action = services.log_action(
                pairing,
                current_user,
                ActionKind(form.kind.data),
                form.occurred_on.data,
                form.summary.data or "",
                form.link.data,
                today,
            )
        except services.ActionError as error:
            add_errors(form, error.problems)
        else:
            target = _prisoner_page(action)
            # Where a repeat of this form, or a failure after the commit, is sent; known
            # before the commit, it is stored with it (no second commit for it after).
            idempotency.show_after_save(target)
            db.session.commit()
            flash(_("Saved. Thank you!"), "success")
            return redirect(target)
    elif form.is_submitted():
        _add_rule_errors(form, pairing, today)
    return render_template(
        "actions/form.html",
        form=form,
        pairing=pairing,
        prisoner=pairing.prisoner,
        action=None,
        quick=quick,
    )


def _changeable(action_id: int) -> Action:
    action = services.action_for(current_user, action_id)
    if action is None:
        abort(404)
    if not services.can_change(current_user, action):
        abort(403)
    return action


@bp.route("/sponsor/actions/<int:action_id>/edit", methods=["GET", "POST"])
@roles_required(*TEAM)
def edit(action_id: int) -> Response | str:
    action = _changeable(action_id)
    form = ActionForm(obj=action)
    if not form.is_submitted():
        form.kind.data = action.kind.value
    conflict = None
    if form.validate_on_submit() and not (
        conflict := concurrency.conflict(action, form, lambda: _saved_action_form(action))
    ):
        try:
            services.update_action(
                action,
                current_user,
                ActionKind(form.kind.data),
                form.occurred_on.data,
                form.summary.data or "",
                form.link.data,
                reader_today(),
            )
        except services.ActionError as error:
            add_errors(form, error.problems)
        else:
            db.session.commit()
            flash(_("Your changes are saved."), "success")
            return redirect(_prisoner_page(action))
    elif form.is_submitted() and not conflict:
        _add_rule_errors(form, action.sponsorship, reader_today())
    return render_template(
        "actions/form.html",
        form=form,
        pairing=action.sponsorship,
        prisoner=action.sponsorship.prisoner,
        action=action,
        delete_form=DeleteForm(),
        conflict=conflict,
    )


def _add_rule_errors(form: ActionForm, pairing: Sponsorship, today: date) -> None:
    """A form its own validation refused: the rules of an entry too (a date before the
    godparenthood, no summary, a link that is not one), so one submit shows every mistake."""
    try:
        kind: ActionKind | None = ActionKind(form.kind.data)
    except ValueError:
        kind = None
    add_errors(
        form,
        services.action_problems(
            pairing, kind, form.occurred_on.data, form.summary.data or "", form.link.data, today
        ),
    )


def _saved_action_form(action: Action) -> ActionForm:
    """The edit form as the entry is saved now, to show beside a stale form's values."""
    saved = ActionForm(formdata=None, obj=action)
    saved.kind.data = action.kind.value
    return saved


@bp.post("/sponsor/actions/<int:action_id>/delete")
@roles_required(*TEAM)
def delete(action_id: int) -> Response:
    action = _changeable(action_id)
    form = DeleteForm()
    if not form.validate_on_submit():
        abort(400)
    target = url_for("prisoners.godchild", prisoner_id=action.sponsorship.prisoner_id)
    services.delete_action(action)
    db.session.commit()
    flash(_("The entry is deleted."), "info")
    return redirect(target)


@bp.route("/sponsor/actions/<int:action_id>/outcome", methods=["GET", "POST"])
@roles_required(*TEAM)
def outcome(action_id: int) -> Response | str:
    action = services.action_for(current_user, action_id)
    if action is None:
        abort(404)
    if not services.can_record_outcome(current_user, action):
        abort(403)
    form = OutcomeForm()
    if not form.is_submitted():
        form.letter_outcome.data = (action.letter_outcome or LetterOutcome.SENT).value
        form.outcome_on.data = reader_today()
        # A one-click answer from the weekly email (?answer=returned) only fills the form:
        # mail scanners open every link, so nothing changes until the person saves.
        answer = request.args.get("answer", "")
        if answer in {outcome.value for outcome in outcomes.ANSWERS}:
            form.letter_outcome.data = answer
        form.version.data = str(action.version)
    conflict = None
    if form.validate_on_submit() and not (
        conflict := concurrency.conflict(action, form, lambda: _saved_outcome_form(action))
    ):
        try:
            services.set_outcome(
                action,
                current_user,
                LetterOutcome(form.letter_outcome.data),
                form.outcome_on.data,
                reader_today(),
            )
        except services.ActionError as error:
            add_errors(form, error.problems)
        else:
            db.session.commit()
            flash(_("Updated: %(outcome)s.", outcome=label(action.letter_outcome)), "success")
            return redirect(_prisoner_page(action))
    elif form.is_submitted() and not conflict:
        # The form refused a field: the date's rules too, so one submit shows every mistake.
        add_errors(form, services.outcome_problems(action, form.outcome_on.data, reader_today()))
    return render_template(
        "actions/outcome.html",
        form=form,
        answer=request.args.get("answer") if not form.is_submitted() else None,
        action=action,
        prisoner=action.sponsorship.prisoner,
        conflict=conflict,
    )


def _saved_outcome_form(action: Action) -> OutcomeForm:
    saved = OutcomeForm(formdata=None, obj=action)
    saved.letter_outcome.data = action.letter_outcome.value if action.letter_outcome else None
    return saved
