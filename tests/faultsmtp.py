"""A mail server that misbehaves on purpose, for the fault-injection tests.

``FaultyInbox`` is an aiosmtpd handler: it counts what it accepted by Message-ID and can
refuse, answer 4xx, be slow, drop the connection in DATA (before or after taking the
message) or stop answering after so many messages. ``Mute`` is a server that accepts
connections and never greets.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller

from tests.smtp import Inbox, free_port


@dataclass
class FaultyInbox(Inbox):
    """What the server does, set by the test; what it received, read by the test (the
    plain inbox's recipients it refuses at RCPT, too)."""

    delay: float = 0.0  # seconds before answering DATA (after taking the message)
    # Drop the connection at the n-th DATA (1-based): before taking the message, or after
    # taking it, so that the client never hears the 250 ("reply lost").
    drop_at: int | None = None
    drop_after_taking: bool = False
    received: list[str] = field(default_factory=list)  # Message-IDs, in order of arrival
    datas: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.datas += 1
            number = self.datas
        dropping = self.drop_at is not None and number == self.drop_at
        if dropping and not self.drop_after_taking:
            server.transport.close()
            return "421 closing"
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append(str(message["Message-ID"]))
        if dropping:
            server.transport.close()
            return "421 closing"
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted"

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(self.received)

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@dataclass
class Server:
    host: str
    port: int
    inbox: FaultyInbox
    controller: Controller | None

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def start(self) -> None:
        if self.controller is None:
            self.controller = Controller(self.inbox, hostname=self.host, port=self.port)
            self.controller.start()


@contextmanager
def faulty_server(inbox: FaultyInbox | None = None, port: int | None = None) -> Iterator[Server]:
    server = Server("127.0.0.1", port or free_port(), inbox or FaultyInbox(), None)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Mute:
    """Accepts connections and never says a word (no greeting, no reply)."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _address = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()


@contextmanager
def mute_server() -> Iterator[Mute]:
    server = Mute()
    try:
        yield server
    finally:
        server.close()
