"""The IMAP reader: new messages of INBOX, one at a time, each handed to the service, which
records its UID with the outcome in one transaction (so a restart or a ``kill -9`` resumes
after the last one recorded: nothing lost, nothing handled twice).

aioimaplib (asyncio, IDLE) talks IMAP; between two looks the reader waits in IDLE (the server
says when a message arrives) at most ``poll_seconds``, or sleeps that long where the server
has no IDLE. Messages are read with ``BODY.PEEK`` (their flags stay as they are: the mailbox
stays the staff's) and cut at ``max_bytes``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import aioimaplib

from bot.config.smtp import SmtpSecurity
from bot.texts import mail_in as mail_in_texts

logger = logging.getLogger(__name__)

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_NUMBERS = re.compile(rb"[\d ]*")
# IMAP dates (RFC 3501: « 7-Dec-2026 »), whatever the locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class ImapConfig:
    """Where the school's mailbox is and how to reach it."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    security: SmtpSecurity = SmtpSecurity.NONE
    mailbox: str = "INBOX"
    poll_seconds: float = 25.0
    timeout: float = 30.0
    # A message is read up to this size (its headers and text come first; attachments cut).
    max_bytes: int = 1_000_000
    # The first wait after a failure (doubling up to a minute).
    retry_first: float = 2.0
    # A mailbox read for the first time: only messages of the last days are handled.
    first_look_days: int = 2


class MailHandler(Protocol):
    """What the reader hands messages to (:class:`bot.mail_in.service.MailInService`)."""

    async def resume_after(self, uidvalidity: int) -> int:
        """The last UID handled in this UIDVALIDITY."""
        ...

    async def handled(self, uidvalidity: int, uids: list[int]) -> set[int]:
        """The UIDs among ``uids`` handled already."""
        ...

    async def handle(self, uidvalidity: int, uid: int, raw: bytes) -> object:
        """Handle one message (recording it)."""
        ...


class ImapError(Exception):
    """The server refused a command (the text is the command's name, never a credential)."""


def _ok(response: Any, what: str) -> Any:
    if response.result != "OK":
        raise ImapError(what)
    return response


def _literal(response: Any) -> bytes | None:
    """The message bytes of a FETCH response (its literal)."""
    for line in response.lines:
        if isinstance(line, bytearray):
            return bytes(line)
    return None


class MailReader:
    """Reads the mailbox until stopped; :meth:`read_new` once is what the loop does."""

    def __init__(
        self,
        config: ImapConfig,
        handler: MailHandler,
        *,
        connect: Callable[[ImapConfig], Awaitable[Any]] | None = None,
    ) -> None:
        self.config = config
        self.handler = handler
        self._connect = connect or open_imap
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Messages read since start (for tests and the logs).
        self.read_count = 0
        self.connected = asyncio.Event()

    def start(self) -> None:
        """Start reading in the background."""
        self._stopping = False
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="mail-in")

    async def stop(self) -> None:
        """Stop reading (a message being handled is either recorded or not: its transaction)."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def running(self) -> bool:
        """Whether the reading task runs."""
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        delay = self.config.retry_first
        while not self._stopping:
            imap: Any = None
            try:
                imap = await self._connect(self.config)
                uidvalidity = await self._select(imap)
                if not self.connected.is_set():
                    logger.info(
                        mail_in_texts.reading(
                            self.config.host,
                            self.config.port,
                            self.config.mailbox,
                            imap.has_capability("IDLE"),
                        )
                    )
                self.connected.set()
                delay = self.config.retry_first
                while not self._stopping:
                    await self.read_new(imap, uidvalidity)
                    await self._wait(imap)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the reader never dies: it connects again
                self.connected.clear()
                cause = str(error) if isinstance(error, ImapError) else type(error).__name__
                logger.warning(
                    mail_in_texts.unreachable(self.config.host, self.config.port, cause, delay)
                )
            finally:
                if imap is not None:
                    await _close(imap)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)

    async def _select(self, imap: Any) -> int:
        response = _ok(await imap.select(self.config.mailbox), "SELECT")
        for line in response.lines:
            found = _UIDVALIDITY.search(bytes(line))
            if found:
                return int(found.group(1))
        raise ImapError("UIDVALIDITY")

    async def read_new(self, imap: Any, uidvalidity: int) -> int:
        """Handle each message after the last one recorded; how many were handled."""
        last = await self.handler.resume_after(uidvalidity)
        criteria = f"UID {last + 1}:*"
        if last == 0:
            # A mailbox seen for the first time (or rebuilt: a new UIDVALIDITY): its old
            # messages were someone else's business; only the last days' are answered.
            since = datetime.now(UTC).date() - timedelta(days=self.config.first_look_days)
            criteria += f" SINCE {since.day}-{_MONTHS[since.month - 1]}-{since.year}"
        response = _ok(await imap.uid_search(criteria, charset=None), "SEARCH")
        uids: list[int] = []
        for line in response.lines[:-1]:  # the untagged SEARCH's numbers, then « completed »
            text = bytes(line).removeprefix(b"SEARCH")
            if _NUMBERS.fullmatch(text):
                uids.extend(int(part) for part in text.split())
        # « n:* » always matches the highest UID, even below n.
        uids = sorted(uid for uid in set(uids) if uid > last)
        done = await self.handler.handled(uidvalidity, uids) if uids else set()
        count = 0
        for uid in uids:
            if self._stopping:
                break
            if uid in done:
                continue
            fetched = _ok(
                await imap.uid("fetch", str(uid), f"(BODY.PEEK[]<0.{self.config.max_bytes}>)"),
                "FETCH",
            )
            raw = _literal(fetched)
            if raw is None:  # expunged meanwhile: nothing to handle
                continue
            await self.handler.handle(uidvalidity, uid, raw)
            self.read_count += 1
            count += 1
        return count

    async def _wait(self, imap: Any) -> None:
        """Until the server tells of a change, at most ``poll_seconds``."""
        seconds = self.config.poll_seconds
        if not imap.has_capability("IDLE"):
            await asyncio.sleep(seconds)
            return
        idle = await imap.idle_start(timeout=seconds)
        with contextlib.suppress(TimeoutError):
            while True:
                pushed = await imap.wait_server_push(timeout=seconds + 5)
                if pushed == aioimaplib.STOP_WAIT_SERVER_PUSH or any(
                    b"EXISTS" in bytes(line) for line in pushed
                ):
                    break
        if imap.has_pending_idle():
            imap.idle_done()
        await asyncio.wait_for(idle, self.config.timeout)


async def open_imap(config: ImapConfig) -> Any:
    """A logged-in connection (TLS from the start, STARTTLS, or none: loopback, tests)."""
    context = ssl.create_default_context() if config.security != SmtpSecurity.NONE else None
    imap: Any
    if config.security == SmtpSecurity.TLS:
        imap = aioimaplib.IMAP4_SSL(
            host=config.host, port=config.port, timeout=config.timeout, ssl_context=context
        )
    else:
        imap = aioimaplib.IMAP4(host=config.host, port=config.port, timeout=config.timeout)
    await imap.wait_hello_from_server()
    if config.security == SmtpSecurity.STARTTLS and context is not None:
        await _starttls(imap, config, context)
    _ok(await imap.login(config.user, config.password), "LOGIN")
    return imap


async def _starttls(imap: Any, config: ImapConfig, context: ssl.SSLContext) -> None:
    """Upgrade the connection (aioimaplib 2.0 knows the command, not the upgrade)."""
    if not imap.has_capability("STARTTLS"):
        raise ImapError("STARTTLS")
    protocol = imap.protocol
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
    _ok(await asyncio.wait_for(protocol.execute(command), config.timeout), "STARTTLS")
    loop = asyncio.get_running_loop()
    protocol.transport = await loop.start_tls(
        protocol.transport, protocol, context, server_hostname=config.host
    )
    await asyncio.wait_for(protocol.capability(), config.timeout)


async def _close(imap: Any) -> None:
    """Log out if the server answers quickly (not in the middle of an IDLE: a LOGOUT there
    confuses the client); close the connection anyway."""
    with contextlib.suppress(Exception):
        if not imap.has_pending_idle():
            await asyncio.wait_for(imap.logout(), 2)
    with contextlib.suppress(Exception):
        transport = imap.protocol.transport
        if transport is not None:
            transport.close()
