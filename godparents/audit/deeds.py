"""The sentences of the explicit audit actions: ``record(actor, "login", ...)`` and the
like (creations, changes and deletions of objects are in ``sentences``)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from godparents.audit.models import AuditEvent
from godparents.audit.names import (
    EMPTY,
    Context,
    Names,
    Sentence,
    count_of,
    country_name,
    fill,
    object_of,
)
from godparents.audit.names import (
    markup_gettext as gettext,
)
from godparents.audit.names import (
    markup_ngettext as ngettext,
)


def _plain(text: Any) -> Sentence:
    """A sentence that names the actor and the object (the account an event is about)."""
    return lambda names, event, c: fill(text, actor=c["actor"], object=object_of(names, event))


def _login(names: Names, event: AuditEvent, c: Context) -> str:
    values = dict(actor=c["actor"])
    method = (event.changes or {}).get("second_factor")
    if method == "passkey":
        return gettext("%(actor)s logged in with a passkey", **values)
    if method == "totp":
        return gettext("%(actor)s logged in with a code from an authenticator app", **values)
    if method == "recovery_code":
        return gettext("%(actor)s logged in with a recovery code", **values)
    return gettext("%(actor)s logged in", **values)


def _login_failed(names: Names, event: AuditEvent, c: Context) -> str:
    if event.object_id is None:
        return gettext("A login with an email address that has no account failed")
    return gettext(
        "A login as %(object)s failed: wrong password",
        object=object_of(names, event),
    )


def _by_whom(own: Any, other: Any, command_line: Any) -> Sentence:
    """The same deed done to oneself, to someone else, or from the command line."""

    def sentence(names: Names, event: AuditEvent, c: Context) -> str:
        values = {"actor": c["actor"], "object": object_of(names, event)}
        if event.actor_id is None and not event.ip:
            return fill(command_line, **values)
        if event.actor_id == event.object_id:
            return fill(own, **values)
        return fill(other, **values)

    return sentence


def _invite(names: Names, event: AuditEvent, c: Context) -> str:
    changes = event.changes or {}
    values = dict(
        actor=c["actor"],
        object=object_of(names, event),
        sponsor=names.name("Sponsor", changes.get("sponsor_id")),
    )
    if changes.get("role") == "sponsor":
        return gettext("%(actor)s invited %(sponsor)s to log in as %(object)s", **values)
    return gettext("%(actor)s invited %(object)s to work in the office of %(sponsor)s", **values)


def _with_sponsor(text: Any) -> Sentence:
    return lambda names, event, c: fill(
        text,
        actor=c["actor"],
        object=object_of(names, event),
        sponsor=names.name("Sponsor", (event.changes or {}).get("sponsor_id")),
    )


def _access_refused(names: Names, event: AuditEvent, c: Context) -> str:
    changes = event.changes or {}
    return gettext(
        "%(actor)s was refused %(path)s",
        actor=c["actor"],
        path=f"{changes.get('method', '')} {changes.get('path', '')}".strip(),
    )


def _change_email(names: Names, event: AuditEvent, c: Context) -> str:
    emails = (event.changes or {}).get("email")
    if isinstance(emails, list) and len(emails) == 2:
        return gettext(
            "%(actor)s changed their email address from %(old)s to %(new)s",
            actor=c["actor"],
            old=emails[0],
            new=emails[1],
        )
    return gettext("%(actor)s changed their email address", actor=c["actor"])


def _passkey(text: Any) -> Sentence:
    def sentence(names: Names, event: AuditEvent, c: Context) -> str:
        name = (event.changes or {}).get("passkey")
        old, new = name if isinstance(name, list) and len(name) == 2 else [name, name]
        return fill(text, actor=c["actor"], name=new or EMPTY, old=old or EMPTY, new=new or EMPTY)

    return sentence


def _print_labels(names: Names, event: AuditEvent, c: Context) -> str:
    count = count_of((event.changes or {}).get("labels"))
    return ngettext(
        "%(actor)s printed %(num)d envelope label",
        "%(actor)s printed %(num)d envelope labels",
        count,
        actor=c["actor"],
    )


def _print_letters(names: Names, event: AuditEvent, c: Context) -> str:
    count = count_of((event.changes or {}).get("letters"))
    return ngettext(
        "%(actor)s printed %(num)d letter from the template %(object)s",
        "%(actor)s printed %(num)d letters from the template %(object)s",
        count,
        actor=c["actor"],
        object=object_of(names, event),
    )


def _transit(names: Names, event: AuditEvent, c: Context) -> str:
    changes = event.changes or {}
    days = count_of(changes.get("days"))
    return ngettext(
        "%(actor)s set how long post takes to %(country)s: %(num)d day",
        "%(actor)s set how long post takes to %(country)s: %(num)d days",
        days,
        actor=c["actor"],
        country=country_name(changes.get("country")),
    )


RETENTION_KINDS = {
    "outbox bodies": _l("email texts"),
    "outbox messages": _l("emails"),
    "failed logins": _l("failed logins"),
    "audit events": _l("audit log entries"),
    "ended sessions": _l("ended sessions"),
}


def _retention(names: Names, event: AuditEvent, c: Context) -> str:
    counts = [
        f"{RETENTION_KINDS.get(kind, kind)}: {number}"
        for kind, number in (event.changes or {}).items()
        if number
    ]
    if not counts:
        return gettext("The retention job ran: nothing was old enough to delete")
    return gettext(
        "The retention job deleted what was past its time (%(counts)s)",
        counts=", ".join(counts),
    )


def _key_rotated(names: Names, event: AuditEvent, c: Context) -> str:
    count = count_of((event.changes or {}).get("values"))
    return ngettext(
        "The encryption key was replaced: %(num)d stored value was encrypted again",
        "The encryption key was replaced: %(num)d stored values were encrypted again",
        count,
    )


def _import(names: Names, event: AuditEvent, c: Context) -> str:
    changes = event.changes or {}
    return gettext(
        "%(actor)s imported prisoners: %(created)s new, %(changed)s changed",
        actor=c["actor"],
        created=count_of(changes.get("created")),
        changed=count_of(changes.get("changed")),
    )


def _export(names: Names, event: AuditEvent, c: Context) -> str:
    changes = event.changes or {}
    rows = count_of(changes.get("rows"))
    return ngettext(
        "%(actor)s exported “%(kind)s”: %(num)d row",
        "%(actor)s exported “%(kind)s”: %(num)d rows",
        rows,
        actor=c["actor"],
        kind=changes.get("kind") or EMPTY,
    )


def _merge(names: Names, event: AuditEvent, c: Context) -> str:
    merged = (event.changes or {}).get("merged")
    other = merged.get("name_latin") if isinstance(merged, dict) else None
    return gettext(
        "%(actor)s merged the duplicate record %(other)s into %(object)s",
        actor=c["actor"],
        object=object_of(names, event),
        other=other or EMPTY,
    )


# Per explicit action (``record(actor, "action", ...)``): its sentence.
ACTION_SENTENCES: dict[str, Sentence] = {
    "login": _login,
    "login_failed": _login_failed,
    "logout": _plain(_l("%(actor)s logged out")),
    "two_factor_failed": _plain(_l("A wrong login code was entered for %(object)s")),
    "passkey_failed": lambda names, event, c: (
        gettext("A passkey login for %(object)s failed", object=object_of(names, event))
        if event.object_id is not None
        else gettext("A passkey login failed")
    ),
    "throttled": _plain(_l("%(actor)s was stopped for a while after too many attempts")),
    "access_refused": _access_refused,
    "invite": _invite,
    "invite_existing_account": _with_sponsor(
        _l("%(actor)s invited %(object)s, who has an account already, to the office of %(sponsor)s")
    ),
    "accept_invitation": _plain(_l("%(actor)s accepted the invitation and set a password")),
    "reset_password": _plain(_l("%(actor)s set a new password with a reset link")),
    "change_password": _plain(_l("%(actor)s changed their password")),
    "set_password_command": _plain(_l("A password for %(object)s was set on the command line")),
    "change_email": _change_email,
    "two_factor_enabled": _plain(_l("%(actor)s turned on two-factor login")),
    "two_factor_disabled": _plain(_l("%(actor)s turned off two-factor login")),
    "two_factor_reset": _by_whom(
        _l("%(actor)s replaced their two-factor login"),
        _l("%(actor)s reset the two-factor login of %(object)s"),
        _l("The two-factor login of %(object)s was reset on the command line"),
    ),
    "recovery_codes_renewed": _plain(_l("%(actor)s made new recovery codes")),
    "sign_out_everywhere": _by_whom(
        _l("%(actor)s logged out on every device"),
        _l("%(actor)s logged %(object)s out on every device"),
        _l("%(object)s was logged out on every device from the command line"),
    ),
    "rotate_calendar_link": _plain(_l("%(actor)s made a new calendar link")),
    "remove_calendar_link": _plain(_l("%(actor)s turned their calendar link off")),
    "activate": _plain(_l("%(actor)s reactivated the account of %(object)s")),
    "deactivate": _plain(_l("%(actor)s deactivated the account of %(object)s")),
    "passkey_added": _passkey(_l("%(actor)s added the passkey %(name)s")),
    "passkey_renamed": _passkey(_l("%(actor)s renamed the passkey %(old)s to %(new)s")),
    "passkey_removed": _passkey(_l("%(actor)s removed the passkey %(name)s")),
    "erase": _plain(_l("%(actor)s erased the personal data of a godparent (%(object)s)")),
    "remove_delegate": _with_sponsor(
        _l("%(actor)s removed %(object)s from the office of %(sponsor)s")
    ),
    "export_personal_data": _plain(_l("%(actor)s downloaded the personal data of %(object)s")),
    "print_labels": _print_labels,
    "print_letters": _print_letters,
    "set_transit_time": _transit,
    "retention": _retention,
    "encryption_key_rotated": _key_rotated,
    "import": _import,
    "export": _export,
    "merge": _merge,
}
