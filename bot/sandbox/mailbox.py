"""A local SMTP server (aiosmtpd) that catches every e-mail the bot sends."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

DEEP_LINK = re.compile(r"https://t\.me/(\w+)\?start=([A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class CaughtMail:
    """One e-mail as the sandbox shows it."""

    id: int
    received_at: datetime
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str

    def deep_link_payload(self) -> str | None:
        """The ``start`` payload of the first t.me deep link in the text, if any."""
        match = DEEP_LINK.search(self.text)
        return match.group(2) if match else None

    def as_json(self) -> dict[str, Any]:
        """For the sandbox page."""
        return {
            "id": self.id,
            "received_at": self.received_at.isoformat(),
            "from": self.sender,
            "to": list(self.recipients),
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "deep_link_payload": self.deep_link_payload(),
        }


def free_port(host: str = "127.0.0.1") -> int:
    """A free TCP port on ``host``."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Mailbox:
    """aiosmtpd handler keeping every message; ``wait_for`` lets a coroutine wait for one."""

    def __init__(self) -> None:
        self.mails: list[CaughtMail] = []
        self.raw: list[bytes] = []
        # The client's address and port of each e-mail's SMTP session (one per connection).
        self.peers: list[Any] = []
        self._listeners: list[Callable[[CaughtMail], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived: asyncio.Event | None = None
        self._controller: Controller | None = None
        self.port: int = 0

    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start the SMTP server in its thread (must be called from the event loop's thread)."""
        self._loop = asyncio.get_running_loop()
        self._arrived = asyncio.Event()
        self.port = port or free_port(host)
        self._controller = Controller(self, hostname=host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stop the SMTP server."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def add_listener(self, listener: Callable[[CaughtMail], None]) -> None:
        """Call ``listener(mail)`` in the event loop for each new e-mail."""
        self._listeners.append(listener)

    def clear(self) -> None:
        """Forget every e-mail."""
        self.mails.clear()
        self.raw.clear()
        self.peers.clear()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd hook: keep the message (runs in the SMTP server's thread)."""
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        plain = message.get_body(preferencelist=("plain",))
        rich = message.get_body(preferencelist=("html",))
        mail = CaughtMail(
            id=len(self.raw) + 1,
            received_at=datetime.now(UTC),
            sender=str(envelope.mail_from),
            recipients=tuple(str(r) for r in envelope.rcpt_tos),
            subject=str(message["Subject"] or ""),
            text=plain.get_content() if plain is not None else "",
            html=rich.get_content() if rich is not None else "",
        )
        self.raw.append(envelope.content)
        self.peers.append(session.peer)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._deliver, mail)
        return "250 Message accepted"

    def _deliver(self, mail: CaughtMail) -> None:
        self.mails.append(mail)
        if self._arrived is not None:
            self._arrived.set()
        for listener in self._listeners:
            listener(mail)

    async def wait_for(self, count: int, timeout: float = 10) -> CaughtMail:
        """Wait until ``count`` e-mails arrived in all; return the ``count``-th."""
        assert self._arrived is not None, "start() first"
        async with asyncio.timeout(timeout):
            while len(self.mails) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.mails[count - 1]
