"""Throttling of logins, second-factor codes, password checks and password resets.

Logins, codes and the current-password check behind sensitive settings count failures
only, so a user who gets in is never slowed down. Each attempt is counted *before* it is
checked and given back if it succeeds (``attempt``): requests sent at the same moment
cannot all be checked before any failure is counted, as they could when failures were
counted after the reply. Each is limited per account (the address typed, or the account
waiting for its code) and per client address. A reset request counts every time, since
each one sends an email (Flask-Limiter, counted before the view runs).

A throttled request gets the same "too many attempts" page whether or not the account
exists, and is written to the audit log without the address typed (it may be a password
typed into the wrong field).

Counts are kept in memory by default, which is per process: a server running several
processes must set ``GODPARENTS_RATELIMIT_STORAGE_URI`` (Redis) so that they share them.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, current_app, request, session
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import Storage, storage_from_string
from werkzeug.middleware.proxy_fix import ProxyFix

from godparents.audit.services import record
from godparents.auth.models import User, normalise_email
from godparents.extensions import db, limiter

PENDING_KEY = "two_factor_pending"  # the session entry between password and code
_STORAGE = "godparents.attempts"


def _hashed(value: str) -> str:
    """Keys in the counter store name no email address."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def account_key(email: str) -> str:
    return _hashed(normalise_email(email[:254]) or "-")


def typed_account() -> str:
    """The reset form's account, read as the form reads it (a form post or JSON)."""
    data: Any = request.get_json(silent=True) if request.is_json else request.form
    email = data.get("email", "") if hasattr(data, "get") else ""
    return "account:" + account_key(email if isinstance(email, str) else "")


@dataclass(frozen=True)
class Counter:
    """One count of failures: ``setting`` names its limit in the configuration. A counter
    that is not ``enforced`` only counts: it never refuses."""

    scope: str
    key: str
    setting: str
    enforced: bool = True


def device_counter(device: str) -> Counter:
    return Counter("login-device", device, "LOGIN_LIMIT_PER_DEVICE")


def login_counters(email: str, device: str | None = None) -> list[Counter]:
    """From a browser that logged in to this account before (``auth.devices``), the
    account's count goes on but does not hold the login back: the device's own count and
    its backoff (``wait_for_device``) do. Strangers are held by the account and address."""
    account = Counter(
        "login-account", account_key(email), "LOGIN_LIMIT_PER_ACCOUNT", enforced=device is None
    )
    if device is not None:
        return [account, device_counter(device)]
    return [account, Counter("login-address", str(request.remote_addr), "LOGIN_LIMIT_PER_ADDRESS")]


def two_factor_counters(user_id: int) -> list[Counter]:
    return [
        Counter("code-account", str(user_id), "TWO_FACTOR_LIMIT_PER_ACCOUNT"),
        Counter("code-address", str(request.remote_addr), "TWO_FACTOR_LIMIT_PER_ADDRESS"),
    ]


def password_check_counters(user: User) -> list[Counter]:
    """The current-password check of someone already logged in: a stolen session must not
    be a way to guess the password (and then change the login email)."""
    return [Counter("password-check", str(user.id), "REAUTH_LIMIT_PER_ACCOUNT")]


class Throttled(Exception):
    """Too many failures counted against ``counter``."""

    def __init__(self, counter: Counter) -> None:
        super().__init__(counter.scope)
        self.counter = counter


class Backoff(Throttled):
    """A known device must wait ``retry_after`` seconds before its next attempt."""

    def __init__(self, counter: Counter, retry_after: int) -> None:
        super().__init__(counter)
        self.retry_after = retry_after


class Attempt:
    """What the caller says about the attempt it checks: ``fail()`` keeps it counted."""

    def __init__(self) -> None:
        self.failed = False

    def fail(self) -> None:
        self.failed = True


def _storage() -> Storage:
    return current_app.extensions[_STORAGE]


def _keys(counter: Counter, now: float) -> tuple[str, str, float, int, float]:
    """(this window's key, the previous window's, the period, the limit, the previous
    window's weight now)"""
    limit = parse(current_app.config[counter.setting])
    period = limit.get_expiry()
    window = int(now // period)
    prefix = f"{current_app.config.get('RATELIMIT_KEY_PREFIX', '')}attempts/{counter.scope}"
    return (
        f"{prefix}/{counter.key}/{window}",
        f"{prefix}/{counter.key}/{window - 1}",
        period,
        limit.amount,
        1 - (now % period) / period,
    )


def failures(counter: Counter, now: float | None = None) -> float:
    """How many failures the counter holds now (in flight ones included)."""
    current, previous, _period, _amount, weight = _keys(
        counter, time.time() if now is None else now
    )
    storage = _storage()
    return storage.get(previous) * weight + storage.get(current)


def forget_failures(counter: Counter, now: float | None = None) -> None:
    current, previous, *_ = _keys(counter, time.time() if now is None else now)
    storage = _storage()
    storage.clear(current)
    storage.clear(previous)


def device_exhausted(device: str) -> bool:
    """Too many failures from this device: it is treated as a stranger's."""
    counter = device_counter(device)
    return failures(counter) >= parse(current_app.config[counter.setting]).amount


def _device_keys(device: str) -> tuple[str, str]:
    prefix = f"{current_app.config.get('RATELIMIT_KEY_PREFIX', '')}attempts/device"
    return f"{prefix}-busy/{device}", f"{prefix}-next/{device}"


@contextmanager
def device_turn(device: str, now: float | None = None) -> Iterator[None]:
    """Backoff for a known device: one attempt at a time, and none before the wait set by
    its last failure (``device_failed``) is over; raises ``Backoff`` otherwise. The right
    password still gets in, only later: nobody else can make the owner wait, as nobody
    else has the cookie."""
    moment = time.time() if now is None else now
    counter = device_counter(device)
    storage = _storage()
    busy, following = _device_keys(device)
    if storage.incr(busy, 60) > 1:  # atomic: of attempts sent together, one goes on
        storage.incr(busy, 60, amount=-1)
        raise Backoff(counter, retry_after=1)
    try:
        waiting = storage.get(following) - int(moment * 1000)  # in milliseconds
        if waiting > 0:
            raise Backoff(counter, retry_after=math.ceil(waiting / 1000))
        yield
    finally:
        storage.incr(busy, 60, amount=-1)


def device_failed(device: str, now: float | None = None) -> None:
    """After ``LOGIN_BACKOFF_FREE_FAILURES`` failures, the device waits 1, 2, 4, ...
    seconds (at most ``LOGIN_BACKOFF_MAX_SECONDS``) before each next attempt."""
    moment = time.time() if now is None else now
    config = current_app.config
    over = int(failures(device_counter(device), moment)) - config["LOGIN_BACKOFF_FREE_FAILURES"]
    if over < 0:
        return
    wait = min(2 ** min(over, 30), config["LOGIN_BACKOFF_MAX_SECONDS"])
    storage = _storage()
    _busy, following = _device_keys(device)
    storage.clear(following)  # its attempts are one at a time (device_turn)
    storage.incr(following, wait + 60, amount=int((moment + wait) * 1000))


def device_succeeded(device: str) -> None:
    """Getting in wipes the device's failures and its wait."""
    forget_failures(device_counter(device))
    _storage().clear(_device_keys(device)[1])


def _reserve(storage: Storage, counter: Counter, now: float) -> tuple[str, int] | None:
    """Count one more attempt, unless that is one too many: then count nothing, None.

    A sliding window over two fixed ones (as in ``limits``' sliding-window counter): the
    previous window counts in proportion to how much of it still lies within the period.
    The increment is atomic (Redis or a lock), and each request decides on the count its
    own increment returned, so of requests arriving together only as many as the limit
    allows go on.
    """
    key, previous_key, period, amount, weight = _keys(counter, now)
    expiry = int(2 * period)
    count = storage.incr(key, expiry)
    if counter.enforced and storage.get(previous_key) * weight + count > amount:
        storage.incr(key, expiry, amount=-1)
        return None
    return key, expiry


@contextmanager
def attempt(*counters: Counter, now: float | None = None) -> Iterator[Attempt]:
    """Count an attempt against every counter before it is checked; raises ``Throttled``
    (counting nothing) if one of them is full. Unless the caller marks the attempt failed,
    it is given back when the block ends: successes do not count."""
    storage = _storage()
    moment = time.time() if now is None else now
    reserved: list[tuple[str, int]] = []
    for counter in counters:
        reservation = _reserve(storage, counter, moment)
        if reservation is None:
            for key, expiry in reserved:
                storage.incr(key, expiry, amount=-1)
            raise Throttled(counter)
        reserved.append(reservation)
    current = Attempt()
    try:
        yield current
    finally:
        if not current.failed:
            for key, expiry in reserved:
                storage.incr(key, expiry, amount=-1)


def record_throttled(scope: str, limit: str, actor: User | None = None) -> None:
    """The audit event of a refused attempt, committed at once (the refusal itself is kept
    even though nothing else of the request is)."""
    db.session.rollback()
    record(
        actor,
        "throttled",
        changes={"endpoint": request.endpoint, "scope": scope, "limit": limit},
        ip=request.remote_addr,
    )
    db.session.commit()


def refuse(throttled: Throttled) -> None:
    """Record the refusal and answer 429, the same page whether or not the account exists."""
    counter = throttled.counter
    record_throttled(
        "account" if counter.scope.endswith("account") else "address",
        str(current_app.config[counter.setting]),
    )
    abort(429)


def pending_account() -> str:
    pending = session.get(PENDING_KEY) or {}
    return "pending:" + str(pending.get("user", "-") if isinstance(pending, dict) else "-")


def _recorder(scope: str) -> Callable[[RequestLimit], None]:
    def record_breach(limit: RequestLimit) -> None:
        record_throttled(scope, str(limit.limit))

    return record_breach


def limits(
    per_account: str, per_address: str, account_key: Callable[[], str]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Two POST limits on a view that count every request, read from the configuration at
    request time (Flask-Limiter counts them before the view runs)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        view = limiter.limit(
            lambda: current_app.config[per_account],
            key_func=account_key,
            methods=["POST"],
            scope=per_account,
            on_breach=_recorder("account"),
        )(view)
        return limiter.limit(
            lambda: current_app.config[per_address],
            key_func=get_remote_address,
            methods=["POST"],
            scope=per_address,
            on_breach=_recorder("address"),
        )(view)

    return decorator


def trust_proxies(app: Flask) -> None:
    """Behind ``PROXY_HOPS`` reverse proxies, the client's address and scheme are taken from
    their ``X-Forwarded-*`` headers (the limits count per address)."""
    if app.config["PROXY_HOPS"]:
        hops = int(app.config["PROXY_HOPS"])
        # Flask's documented way to wrap its WSGI app (mypy sees a method replaced).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=hops,
            x_proto=hops,
            x_host=0,
            x_port=0,
            x_prefix=0,
        )


def init_app(app: Flask) -> None:
    """The store of the counters for the login limits (the Limiter is bound in create_app)."""
    app.extensions[_STORAGE] = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
