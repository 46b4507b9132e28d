"""A real SMTP server (aiosmtpd) on a free local port, keeping what it receives."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    """The aiosmtpd handler: every message accepted, parsed with the modern email policy."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    # Recipients the server turns away at RCPT TO, with its reply ("550 5.1.1 No such user").
    refuse: dict[str, str] = field(default_factory=dict)
    # While set to an unset Event, DATA is answered only once the test sets it: a mail
    # server that is slow, for as long as the test wants.
    gate: threading.Event | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.gate is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 60)
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@dataclass
class SMTPServer:
    host: str
    port: int
    inbox: Inbox


def free_port() -> int:
    # aiosmtpd cannot bind port 0 itself: learn a free port, release it, then start on it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(inbox: Inbox, port: int) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    inbox = Inbox()
    port = free_port()
    controller = start_server(inbox, port)
    try:
        yield SMTPServer("127.0.0.1", port, inbox)
    finally:
        controller.stop()
