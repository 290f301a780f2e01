"""Updates of different chats run concurrently; the updates of one chat run strictly in order.

python-telegram-bot's :meth:`~telegram.ext.BaseUpdateProcessor.process_update` takes a global
slot (a semaphore) *before* calling :meth:`do_process_update`: an ordering lock taken there would
let one chat's queued updates hold every slot while they wait for each other, and another chat
would wait behind them. So PTB's semaphore is made wide enough never to block (it still counts
the updates in hand, which ``current_concurrent_updates`` reports), and the real bound is taken
here, *after* the chat's lock: a chat holds at most one slot whatever it sends, so one user never
delays another.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

logger = logging.getLogger(__name__)

# PTB's own semaphore: it only counts; the bound is ``slots`` below.
_UNBOUNDED = 1 << 30


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """One FIFO lock a chat, taken before one of ``max_concurrent_updates`` global slots.

    A flood from one chat is bounded to one slot: its updates wait for each other in order (none
    is dropped — what a user typed in a step is never lost) while the other chats use the other
    slots. Beyond ``flood_warning`` updates of one chat in hand, a warning is logged (once per
    flood, without content)."""

    def __init__(self, max_concurrent_updates: int = 256, flood_warning: int = 20) -> None:
        super().__init__(_UNBOUNDED)
        self.slots = max_concurrent_updates
        self.flood_warning = flood_warning
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        self._flooding: set[int] = set()

    def queued(self, chat_id: int) -> int:
        """Updates of this chat in hand (running or waiting for their turn)."""
        return self._waiting.get(chat_id, 0)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run ``coroutine`` once the earlier updates of the same chat are done and a slot is
        free."""
        chat_id = _chat_id(update)
        if chat_id is None:
            async with self._slots:
                await coroutine
            return
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        waiting = self._waiting[chat_id] = self._waiting.get(chat_id, 0) + 1
        if waiting > self.flood_warning and chat_id not in self._flooding:
            self._flooding.add(chat_id)
            logger.warning("one chat has %d updates waiting; they are handled in order", waiting)
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            self._waiting[chat_id] -= 1
            if self._waiting[chat_id] == 0:
                del self._waiting[chat_id]
                self._locks.pop(chat_id, None)
                self._flooding.discard(chat_id)

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def _chat_id(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None
