"""The outbox worker: sends what the outbox table holds, retries with a capped backoff, resumes
pending items at start-up. Owned by the application: :meth:`Outbox.start` in start-up,
:meth:`Outbox.stop` (awaited) on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from telegram import Bot

from bot.outbox.delivery import DeliveryError
from bot.outbox.senders import MailSender, TelegramSender
from bot.outbox.templates import DELETE_MESSAGE, STAFF_NOTICE
from storage.outbox import (
    UNCERTAIN,
    NewOutboxItem,
    OutboxItem,
    OutboxKind,
    OutboxRepository,
    OutboxStatus,
)

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# Telegram lets a bot delete a message for 48 hours.
DELETABLE_FOR = timedelta(hours=48)
# A staff notice not delivered in a week is given up (its news is stale).
STAFF_NOTICE_FOR = timedelta(days=7)

# The cause of an item found marked in flight at the start of an attempt: the process was killed
# (or stopped) while its request was out, or the attempt failed after it had left.
INTERRUPTED = UNCERTAIN + "Interrompu"

# The running outbox of each bot (by identity), for code that only has an update at hand.
_RUNNING: dict[int, Outbox] = {}


def outbox_of(bot: Bot) -> Outbox | None:
    """The running outbox of the application that owns ``bot``."""
    return _RUNNING.get(id(bot))


class ItemSender(Protocol):
    """Sends one kind of item (e.g. :class:`bot.directory.ldap.DirectoryWriter`)."""

    async def send(self, item: OutboxItem) -> None:
        """Deliver ``item`` or raise :class:`DeliveryError`."""
        ...


@dataclass(frozen=True)
class RowMark:
    """The :class:`~bot.telegram_api.limiter.InFlightMark` of one item: its row, marked in
    flight just before a request that must not be repeated leaves."""

    repository: OutboxRepository
    item_id: int
    clock: Clock

    async def mark(self) -> None:
        """Committed before the request leaves."""
        await self.repository.mark_in_flight(self.item_id, self.clock())

    async def clear(self) -> None:
        """Telegram's answer proved nothing was done: the item may be tried again."""
        await self.repository.clear_in_flight(self.item_id)


@dataclass(frozen=True)
class OutboxSettings:
    """Retry rhythm: ``retry_first`` seconds after the first failure, doubling up to
    ``retry_max`` (so an item leaves within ``retry_max`` of the server's return)."""

    retry_first: float = 2.0
    retry_max: float = 30.0
    concurrency: int = 4
    stop_grace: float = 5.0
    # A « mot de passe oublié » e-mail waits this long, so that its work never delays the
    # answer (which must take the same time whether an e-mail leaves or not).
    off_reply_delay: float = 0.5


class Outbox:
    """The outbox: table access, the worker task and the senders."""

    def __init__(
        self,
        repository: OutboxRepository,
        mail: MailSender,
        clock: Clock,
        settings: OutboxSettings | None = None,
    ) -> None:
        self.repository = repository
        self.mail = mail
        self.clock = clock
        self.settings = settings or OutboxSettings()
        self.telegram: TelegramSender | None = None
        # Writes owed to an LDAP directory (set when the bot uses one).
        self.directory: ItemSender | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._in_flight: dict[int, asyncio.Task[bool]] = {}
        self._retry_at: dict[int, float] = {}
        self._deferred: set[int] = set()
        # Delivered, but the database refused to note it: noted at the next try, never sent
        # again (kept in memory: a kill in between sends it again, as any at-least-once queue).
        self._delivered: set[int] = set()
        self._slots = asyncio.Semaphore(self.settings.concurrency)

    # --- life cycle ---------------------------------------------------------------------------

    def start(self, telegram: TelegramSender | None = None) -> None:
        """Start the worker (pending items of an earlier run are resumed at once)."""
        self.telegram = telegram
        self._stopping = False
        if telegram is not None:
            _RUNNING[id(telegram.bot)] = self
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox")

    @property
    def running(self) -> bool:
        """Whether the worker task is running."""
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Stop the worker; attempts in flight get ``stop_grace`` seconds, then are cancelled
        (their items stay pending and leave after the next start)."""
        self._stopping = True
        self._wake.set()
        if self.telegram is not None:
            _RUNNING.pop(id(self.telegram.bot), None)
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        attempts = list(self._in_flight.values())
        if attempts:
            _, late = await asyncio.wait(attempts, timeout=self.settings.stop_grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def drain(self, timeout: float = 10) -> None:
        """Wait until no attempt is in flight or deferred (for tests and tools); retries after
        a failure are not waited for."""
        async with asyncio.timeout(timeout):
            while self._in_flight or self._deferred:
                if self._in_flight:
                    await asyncio.wait(list(self._in_flight.values()))
                else:
                    await asyncio.sleep(0.01)

    # --- adding -------------------------------------------------------------------------------

    async def owe_deletion(self, chat_id: int, message_id: int, sent_at: datetime) -> None:
        """A message holding a secret could not be deleted: retry later, until Telegram no
        longer allows it (48 hours after it was sent)."""
        item = NewOutboxItem(
            kind=OutboxKind.TELEGRAM_DELETE,
            template=DELETE_MESSAGE,
            params={"chat_id": chat_id, "message_id": message_id},
            created_at=self.clock(),
            expires_at=sent_at + DELETABLE_FOR,
        )
        await self.repository.add([item])
        assert item.id is not None
        self._retry_at[item.id] = asyncio.get_running_loop().time() + self.settings.retry_first
        self._wake.set()

    async def tell_staff(self, chat_ids: Sequence[int], text: str) -> None:
        """A Telegram message to each staff chat (never a secret in ``text``), written before
        it is sent and retried like the rest for a week."""
        now = self.clock()
        items = [
            NewOutboxItem(
                kind=OutboxKind.TELEGRAM_MESSAGE,
                template=STAFF_NOTICE,
                params={"chat_id": chat_id, "text": text},
                created_at=now,
                expires_at=now + STAFF_NOTICE_FOR,
            )
            for chat_id in chat_ids
        ]
        if not items:
            return
        await self.repository.add(items)
        for item in items:
            self.kick(item)

    def defer(self, item: NewOutboxItem, delay: float) -> None:
        """A committed item whose first attempt waits ``delay`` seconds (so that it runs after
        the answer to the update in hand, off its path)."""
        if item.id is not None and not self._stopping:
            self._retry_at[item.id] = asyncio.get_running_loop().time() + delay
            self._deferred.add(item.id)
            asyncio.get_running_loop().call_later(delay, self._wake.set)
            if not self.running:
                asyncio.get_running_loop().call_later(delay, self.kick, item)

    def kick(self, item: NewOutboxItem) -> None:
        """An item was committed: make its first attempt now."""
        if item.id is not None and not self._stopping:
            self._attempt_soon(item.id)

    async def wait_sent(self, item: NewOutboxItem, timeout: float) -> bool:
        """Make the first attempt of a committed item and wait for it at most ``timeout``
        seconds; True if it left (a failed or slow attempt goes on in the background)."""
        if item.id is None:
            return False
        return await self.attempt(item.id, timeout)

    async def attempt(self, item_id: int, timeout: float) -> bool:
        """Attempt item ``item_id`` now (or join the attempt in flight), waiting at most
        ``timeout`` seconds; True if it is sent."""
        if self._stopping:
            return False
        task = self._attempt_soon(item_id)
        done, _ = await asyncio.wait({task}, timeout=timeout)
        return task in done and not task.cancelled() and task.exception() is None and task.result()

    # --- the worker ---------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            next_due: float | None = None
            try:
                items = await self.repository.pending(limit=200)
            except Exception:  # the worker never dies; it looks again shortly
                logger.exception("outbox: reading pending items failed")
                items = []
                next_due = loop.time() + self.settings.retry_max
            now = loop.time()
            for item in items:
                if item.id in self._in_flight:
                    continue
                due = self._retry_at.get(item.id, 0.0)
                if due <= now:
                    self._attempt_soon(item.id)
                else:
                    next_due = due if next_due is None else min(next_due, due)
            timeout = None if next_due is None else max(0.0, next_due - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _attempt_soon(self, item_id: int) -> asyncio.Task[bool]:
        self._deferred.discard(item_id)
        task = self._in_flight.get(item_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._attempt(item_id))
            self._in_flight[item_id] = task
            task.add_done_callback(lambda _: self._done(item_id))
        return task

    def _done(self, item_id: int) -> None:
        self._in_flight.pop(item_id, None)
        self._wake.set()  # look again: a retry time or the next items

    async def _attempt(self, item_id: int) -> bool:
        async with self._slots:
            if self._stopping:
                return False
            try:
                return await self._attempt_item(item_id)
            except Exception as error:  # the database refused a write: the worker goes on
                logger.error(
                    "outbox: item %s: database error (%s); next try in %.1f s",
                    item_id,
                    type(error).__name__,
                    self.settings.retry_first,
                )
                self._retry_at[item_id] = (
                    asyncio.get_running_loop().time() + self.settings.retry_first
                )
                return item_id in self._delivered

    async def _attempt_item(self, item_id: int) -> bool:
        item = await self.repository.get(item_id)
        if item is None or item.status != OutboxStatus.PENDING:
            self._delivered.discard(item_id)
            return item is not None and item.status == OutboxStatus.SENT
        if item.id in self._delivered:  # sent already: only the note was missing
            await self._mark_sent(item)
            return True
        if item.in_flight_at is not None:
            # An earlier attempt's request left and no answer proved it undone (a kill -9 while
            # it was out): it may have been delivered, so it is never sent again.
            await self._failed(item, DeliveryError(INTERRUPTED, permanent=True))
            return False
        if self.clock() >= item.expires_at:
            await self.repository.mark_done(item.id, OutboxStatus.GIVEN_UP, self.clock())
            logger.warning("outbox: item %s (%s) given up: expired", item.id, item.template)
            self._retry_at.pop(item.id, None)
            return False
        try:
            await self._deliver(item)
        except DeliveryError as error:
            await self._failed(item, error)
            return False
        except Exception as error:  # a bug must not kill the worker; the item is retried
            logger.error(
                "outbox: item %s (%s) failed: %s", item.id, item.template, type(error).__name__
            )
            await self._failed(item, DeliveryError(type(error).__name__))
            return False
        self._delivered.add(item.id)
        await self._mark_sent(item)
        return True

    async def _mark_sent(self, item: OutboxItem) -> None:
        await self.repository.mark_done(item.id, OutboxStatus.SENT, self.clock())
        self._delivered.discard(item.id)
        self._retry_at.pop(item.id, None)
        logger.info("outbox: item %s (%s) sent", item.id, item.template)

    async def _failed(self, item: OutboxItem, error: DeliveryError) -> None:
        await self.repository.record_failure(item.id, error.kind, self.clock())
        if error.permanent:
            await self.repository.mark_done(item.id, OutboxStatus.GIVEN_UP, self.clock())
            logger.warning("outbox: item %s (%s) given up: %s", item.id, item.template, error.kind)
            return
        delay = min(
            self.settings.retry_first * 2 ** min(item.attempts, 30), self.settings.retry_max
        )
        delay = max(delay, error.retry_after or 0.0)
        self._retry_at[item.id] = asyncio.get_running_loop().time() + delay
        logger.warning(
            "outbox: item %s (%s) not sent (%s); next try in %.1f s",
            item.id,
            item.template,
            error.kind,
            delay,
        )

    async def _deliver(self, item: OutboxItem) -> None:
        if item.kind in (OutboxKind.TELEGRAM_DELETE, OutboxKind.TELEGRAM_MESSAGE):
            if self.telegram is None:
                raise DeliveryError("NoTelegram")
            await self.telegram.send(item, RowMark(self.repository, item.id, self.clock))
        elif item.kind == OutboxKind.DIRECTORY_WRITE:
            if self.directory is None:
                raise DeliveryError("NoDirectory")
            await self.directory.send(item)
        else:
            await self.mail.send(item)
