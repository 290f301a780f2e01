"""One forum topic of the staff group per user: created once (a lock per user, then the row),
reopened when the user writes after it was closed, created again if staff deleted it."""

from __future__ import annotations

import asyncio
import contextlib

from telegram import Bot
from telegram.error import BadRequest

from bot.procedures.kernel import Clock
from storage.support import SupportRepository

# Telegram's limit on a topic's name (characters).
TOPIC_NAME_LIMIT = 128


class TopicDirectory:
    """The :class:`bot.outbox.senders.TopicResolver` of the running bot."""

    def __init__(self, repository: SupportRepository, clock: Clock) -> None:
        self.repository = repository
        self.clock = clock
        self._locks: dict[int, asyncio.Lock] = {}

    async def thread_for(self, bot: Bot, chat_id: int, user_id: int, title: str) -> int:
        """The user's topic in ``chat_id``, created or reopened as needed."""
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        async with lock:
            found = await self.repository.topic(user_id)
            if found is not None and found[0] == chat_id:
                _, thread, closed = found
                if closed:
                    with contextlib.suppress(BadRequest):  # TOPIC_NOT_MODIFIED: open already
                        await bot.reopen_forum_topic(chat_id, thread)
                    await self.repository.mark_topic(user_id, closed=False)
                return thread
            topic = await bot.create_forum_topic(chat_id, name=title[:TOPIC_NAME_LIMIT])
            await self.repository.save_topic(
                user_id, chat_id, topic.message_thread_id, self.clock()
            )
            return topic.message_thread_id

    async def forget(self, user_id: int) -> None:
        """Staff deleted the topic: the next post creates another."""
        await self.repository.save_topic(user_id, 0, None, self.clock())

    async def close(self, bot: Bot, user_id: int) -> None:
        """Close the user's topic (the ticket is closed)."""
        found = await self.repository.topic(user_id)
        if found is None:
            return
        chat_id, thread, _ = found
        with contextlib.suppress(BadRequest):  # already closed, or deleted
            await bot.close_forum_topic(chat_id, thread)
        await self.repository.mark_topic(user_id, closed=True)
