"""Talking to the mail server, with time limits everywhere.

Flask-Mail opens ``smtplib.SMTP(server, port)`` without a timeout, so a server that accepts
the connection and never greets holds the process for ever. Delivery talks SMTP here
instead: every socket operation has a timeout (``MAIL_TIMEOUT``), and each message a
deadline of its own (``REMINDER_MESSAGE_SECONDS``) after which its connection is cut, so a
server that answers one byte at a time cannot stretch a message past it either.

What can happen to one message, as the caller needs to tell it apart:
- it went (the server said 250);
- ``Refused``: the server answered no (a 4xx or 5xx reply), the connection is still good;
- ``Unreachable``: the connection could not be made; the message was not tried;
- ``Dropped``: the connection broke or timed out while the message was on its way: the
  server *was* tried, and may even have taken it.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app


class Refused(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text

    @property
    def permanent(self) -> bool:
        return self.code >= 500


class Unreachable(Exception):
    """The server could not be reached (or refused to start a session)."""


class Dropped(Exception):
    """The connection ended, or time ran out, while a message was on its way."""


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    use_tls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0  # each connect, read and write
    message_seconds: float = 30.0  # one message, from MAIL FROM to the server's reply
    suppress: bool = False  # development and tests: nothing leaves the machine

    @classmethod
    def from_config(cls, config: Any | None = None) -> Settings:
        config = config if config is not None else current_app.config
        return cls(
            host=config.get("MAIL_SERVER", "localhost"),
            port=int(config.get("MAIL_PORT", 25)),
            use_tls=bool(config.get("MAIL_USE_TLS", False)),
            use_ssl=bool(config.get("MAIL_USE_SSL", False)),
            username=config.get("MAIL_USERNAME"),
            password=config.get("MAIL_PASSWORD"),
            timeout=float(config.get("MAIL_TIMEOUT", 30)),
            message_seconds=float(config.get("REMINDER_MESSAGE_SECONDS", 30)),
            suppress=bool(config.get("MAIL_SUPPRESS_SEND", config.get("TESTING", False))),
        )


class _Watchdog:
    """Cuts the connection when a message takes longer than it may: a blocked read then
    returns at once, whatever the server does. One thread per session, looking every
    quarter of a second (a thread per message would cost more than the message's commit)."""

    TICK = 0.25

    def __init__(self) -> None:
        self.connection: smtplib.SMTP | None = None
        self.deadline: float | None = None  # time.monotonic() when to cut; None: unarmed
        self.expired = False
        self.closed = False
        self.thread: threading.Thread | None = None

    def arm(self, connection: smtplib.SMTP, seconds: float) -> None:
        self.connection, self.expired = connection, False
        self.deadline = time.monotonic() + seconds
        if self.thread is None:
            self.thread = threading.Thread(target=self._watch, name="smtp-watchdog", daemon=True)
            self.thread.start()

    def disarm(self) -> None:
        self.deadline = None

    def close(self) -> None:
        self.closed, self.deadline = True, None

    def _watch(self) -> None:
        while not self.closed:
            time.sleep(self.TICK)
            deadline, connection = self.deadline, self.connection
            if deadline is None or connection is None or time.monotonic() < deadline:
                continue
            self.expired, self.deadline = True, None
            sock = connection.sock
            if sock is not None:
                with contextlib.suppress(OSError):  # closed already
                    sock.shutdown(socket.SHUT_RDWR)


class Session:
    """One SMTP connection at a time, opened when first needed and again after a drop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.connection: smtplib.SMTP | None = None
        self.watchdog = _Watchdog()

    @property
    def is_open(self) -> bool:
        return self.connection is not None or self.settings.suppress

    def open(self) -> None:
        """Connect, greet, start TLS and log in as configured; ``Unreachable`` if any of
        that fails or takes longer than the timeout."""
        if self.is_open:
            return
        settings = self.settings
        try:
            if settings.use_ssl:
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host,
                    settings.port,
                    timeout=settings.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            try:
                if settings.use_tls:
                    connection.starttls(context=ssl.create_default_context())
                if settings.username and settings.password:
                    connection.login(settings.username, settings.password)
            except BaseException:
                connection.close()
                raise
        except (OSError, smtplib.SMTPException) as error:
            raise Unreachable(_describe(error)) from error
        self.connection = connection

    def send(self, sender: str, recipient: str, data: bytes) -> None:
        """Send one message over the open connection (``open`` first). Returns when the
        server said 250; raises ``Refused`` or ``Dropped``."""
        if self.settings.suppress:
            return
        connection = self.connection
        if connection is None:
            raise Dropped("no connection")
        self.watchdog.arm(connection, self.settings.message_seconds)
        try:
            connection.sendmail(sender, [recipient], data)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise Refused(code, _text(text)) from error
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            if error.smtp_code == 421:  # the server is closing the connection
                self._forget()
                raise Dropped(f"421 {_text(error.smtp_error)}") from error
            raise Refused(error.smtp_code, _text(error.smtp_error)) from error
        except (OSError, smtplib.SMTPException) as error:
            self._forget()
            if self.watchdog.expired:
                raise Dropped(f"no reply within {self.settings.message_seconds:g} s") from error
            raise Dropped(_describe(error)) from error
        finally:
            self.watchdog.disarm()

    def _forget(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()

    def close(self) -> None:
        """Say goodbye if the server still listens; never wait long for it."""
        self.watchdog.close()
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            if connection.sock is not None:
                connection.sock.settimeout(min(self.settings.timeout, 5))
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _describe(error: BaseException) -> str:
    """An error as a short sentence for the outbox, without a traceback."""
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    # smtplib turns a read that timed out into SMTPServerDisconnected; the timeout is its context.
    if isinstance(error, TimeoutError | socket.timeout) or isinstance(
        error.__context__, TimeoutError | socket.timeout
    ):
        return "the mail server did not answer in time"
    if isinstance(error, ConnectionRefusedError):
        return "the mail server refused the connection"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "the mail server closed the connection"
    return f"{type(error).__name__}: {error}"
