"""One reminder in the staff group for a ticket left without an answer for
``SUPPORT_REMIND_AFTER_MINUTES`` of opening time: a periodic job of the running bot, on the
injectable clock. The reminder is an outbox item written with the ticket's mark in one
transaction, only while the mark is empty (:meth:`SupportRepository.claim_reminder`): never
two, across restarts and racing workers. It is posted only while the team is there."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.config.hours import OpeningHours, add_working_minutes, is_open
from bot.outbox.templates import STAFF_NOTICE, TOPIC_POST
from bot.procedures.kernel import Clock
from bot.support.service import RELAY_FOR
from bot.texts import formatting
from bot.texts import support as texts
from storage.outbox import NewOutboxItem, OutboxKind
from storage.support import SupportRepository, Ticket

logger = logging.getLogger(__name__)


class Kicker(Protocol):
    """What the reminders need of the outbox: an attempt of a committed item, now."""

    def kick(self, item: NewOutboxItem) -> None: ...


@dataclass(frozen=True)
class ReminderSettings:
    """Where and when (``after`` zero: no reminder)."""

    chat_id: int | None
    topics: bool
    after: timedelta
    scan_seconds: float = 60.0
    # Every staff group and whether it is a forum (a region: each establishment's group; a
    # ticket's reminder goes to the group it was posted to).
    forums: Mapping[int, bool] = field(default_factory=dict)


def reminder_due(
    hours: OpeningHours | None, opened_at: datetime, after: timedelta
) -> datetime | None:
    """When a ticket opened at ``opened_at`` is owed its reminder: ``after`` of opening time
    later (of plain time without opening hours); None if the team never opens again."""
    if hours is None:
        return opened_at + after
    return add_working_minutes(hours, opened_at, after.total_seconds() / 60)


class UnansweredReminders:
    """The periodic job: :meth:`scan_once` every ``scan_seconds``."""

    def __init__(
        self,
        repository: SupportRepository,
        outbox: Kicker,
        hours: OpeningHours | None,
        clock: Clock,
        settings: ReminderSettings,
        hours_by_uai: Callable[[str], OpeningHours | None] | None = None,
    ) -> None:
        self.repository = repository
        self.outbox = outbox
        self.hours = hours
        # A region: the opening hours of an establishment (by UAI), whose tickets they time.
        self.hours_by_uai = hours_by_uai
        self.clock = clock
        self.settings = settings
        # Scans done (tests wait for them to tell « nothing was due » from « not looked yet »).
        self.scans = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        """A staff group and a delay are set."""
        settings = self.settings
        return (
            settings.chat_id is not None or bool(settings.forums)
        ) and settings.after > timedelta(0)

    async def scan_once(self) -> int:
        """Write the reminders due now; how many this worker wrote."""
        written = 0
        if not self.enabled:
            return written
        now = self.clock()
        # Working time never runs faster than the clock: older tickets only.
        for ticket in await self.repository.unanswered(now - self.settings.after):
            hours = self.hours_of(ticket)
            if hours is not None and not is_open(hours, now):
                continue  # its team is away: reminded when it is back
            due = reminder_due(hours, ticket.opened_at, self.settings.after)
            if due is None or due > now:
                continue
            item = self._item(ticket, now, hours)
            if item is None:
                continue
            if await self.repository.claim_reminder(ticket.id, now, [item]):
                self.outbox.kick(item)
                written += 1
        self.scans += 1
        return written

    def hours_of(self, ticket: Ticket) -> OpeningHours | None:
        """The opening hours of the ticket's team: its establishment's (a region), else the
        school's."""
        if self.hours_by_uai is not None and ticket.uai is not None:
            return self.hours_by_uai(ticket.uai)
        return self.hours

    def _item(
        self, ticket: Ticket, now: datetime, hours: OpeningHours | None
    ) -> NewOutboxItem | None:
        """The reminder, in the group the ticket was posted to (None: no group)."""
        settings = self.settings
        chat = ticket.staff_chat_id if ticket.staff_chat_id is not None else settings.chat_id
        if chat is None:
            return None
        topics = settings.forums.get(chat, settings.topics)
        text = texts.staff_reminder(
            ticket.id,
            formatting.duration(settings.after),
            opening_hours=hours is not None,
            topics=topics,
        )
        params: dict[str, object] = {"chat_id": chat, "text": text}
        template = STAFF_NOTICE
        if topics:
            template = TOPIC_POST
            params["user_id"] = ticket.telegram_user_id
            # The topic keeps its title (« Prénom N. · … »); this one names a topic created now.
            params["title"] = texts.STAFF_REMINDER_TOPIC_TITLE.format(number=ticket.id)
            params["keep_title"] = True
        return NewOutboxItem(
            kind=OutboxKind.TELEGRAM_MESSAGE,
            template=template,
            params=params,
            created_at=now,
            expires_at=now + RELAY_FOR,
        )

    # --- the job --------------------------------------------------------------------------

    def start(self) -> None:
        """Scan now, then every ``scan_seconds`` (nothing without a staff group)."""
        if self.enabled and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the job (a scan in flight is cancelled: its transaction rolls back)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self.scan_once()
            except Exception:  # a failed scan must never stop the bot
                logger.exception("support reminders: scan failed")
            await asyncio.sleep(self.settings.scan_seconds)
