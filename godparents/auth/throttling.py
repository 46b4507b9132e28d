"""Throttling of logins, second-factor codes and password resets (Flask-Limiter).

Each is limited twice: per account (the address typed, or the account waiting for its
code) and per client address. Logins and codes count failures only, so a user who gets in
is never slowed down; a reset request counts every time, since each one sends an email.
A throttled request gets the same "too many attempts" page whether or not the account
exists, and is written to the audit log without the address typed (it may be a password
typed into the wrong field).

Counts are kept in memory by default, which is per process: a server running several
processes must set ``GODPARENTS_RATELIMIT_STORAGE_URI`` (Redis) so that they share them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, request, session
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from godparents.audit.services import record
from godparents.auth.models import normalise_email
from godparents.extensions import db

limiter = Limiter(key_func=get_remote_address, default_limits=[])

PENDING_KEY = "two_factor_pending"  # the session entry between password and code


def _hashed(value: str) -> str:
    """Keys in the counter store name no email address."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def typed_account() -> str:
    email = request.form.get("email", "")
    return "account:" + _hashed(normalise_email(email[:254]) or "-")


def pending_account() -> str:
    pending = session.get(PENDING_KEY) or {}
    return "pending:" + str(pending.get("user", "-") if isinstance(pending, dict) else "-")


def failed(response: Any) -> bool:
    """Count the attempt: the view says so by calling ``mark_failed()``."""
    return bool(g.get("attempt_failed"))


def mark_failed() -> None:
    g.attempt_failed = True


def _recorder(scope: str) -> Callable[[RequestLimit], None]:
    def record_breach(limit: RequestLimit) -> None:
        db.session.rollback()
        record(None, "throttled", changes={"endpoint": request.endpoint, "scope": scope,
                                           "limit": str(limit.limit)},
               ip=request.remote_addr)
        db.session.commit()

    return record_breach


def limits(per_account: str, per_address: str, account_key: Callable[[], str],
           count_failures_only: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Two POST limits on a view, read from the configuration at request time."""
    deduct = failed if count_failures_only else None

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        view = limiter.limit(lambda: current_app.config[per_account], key_func=account_key,
                             methods=["POST"], deduct_when=deduct, scope=per_account,
                             on_breach=_recorder("account"))(view)
        return limiter.limit(lambda: current_app.config[per_address],
                             key_func=get_remote_address, methods=["POST"], deduct_when=deduct,
                             scope=per_address, on_breach=_recorder("address"))(view)

    return decorator


def init_app(app: Flask) -> None:
    if app.config["PROXY_HOPS"]:
        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore[method-assign]
                                x_host=0, x_port=0, x_prefix=0)
    limiter.init_app(app)
