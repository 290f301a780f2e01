"""One forum topic of the staff group per user: created once (a lock per user, the intent
written first, then the row), reopened when the user writes after it was closed, renamed when
the facts of its title change, created again if staff deleted it. Also the ledger of the copies
the outbox sent (original ↔ copy), for mirrored edits."""

from __future__ import annotations

import asyncio
import contextlib

from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.procedures.kernel import Clock
from storage.support import SupportRepository

# Telegram's limit on a topic's name (characters).
TOPIC_NAME_LIMIT = 128


class TopicDirectory:
    """The :class:`bot.outbox.senders.TopicResolver` of the running bot.

    A ``kill -9`` between createForumTopic and the row that saves its id would leave a topic the
    bot cannot find again: the Bot API can neither list a group's topics nor tell the bot about
    the topics it created itself (no update for its own messages). So the intent is written
    first; a later post that finds an intent and no topic knows a topic may exist, creates none,
    and goes to the group's General topic (quoting the ticket number: staff answer by replying)
    until staff close the ticket, which drops the intent."""

    def __init__(self, repository: SupportRepository, clock: Clock) -> None:
        self.repository = repository
        self.clock = clock
        self._locks: dict[int, asyncio.Lock] = {}

    async def open_topic(
        self, bot: Bot, chat_id: int, user_id: int, title: str, *, rename: bool = True
    ) -> tuple[int | None, bool]:
        """(thread id, created just now); the thread is None when an earlier creation was cut
        short (a topic may exist, none is created). ``rename=False``: an existing topic keeps
        its title (``title`` only names a topic created now)."""
        name = title[:TOPIC_NAME_LIMIT]
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        async with lock:
            found = await self.repository.topic(user_id)
            if found is not None and found[0] == chat_id:
                _, thread, closed = found
                if closed:
                    with contextlib.suppress(BadRequest):  # TOPIC_NOT_MODIFIED: open already
                        await bot.reopen_forum_topic(chat_id, thread)
                    await self.repository.mark_topic(user_id, closed=False)
                if not rename or await self.repository.topic_title(user_id) == name:
                    return thread, False
                try:
                    await bot.edit_forum_topic(chat_id, thread, name=name)
                except BadRequest as error:
                    reason = str(error).lower()
                    if "thread not found" not in reason:
                        if "not_modified" not in reason.replace(" ", "_"):
                            raise
                    else:  # deleted by staff: created again below
                        found = None
                        await self.repository.save_topic(user_id, 0, None, self.clock())
                if found is not None:
                    await self.repository.set_topic_title(user_id, name)
                    return thread, False
            if await self.repository.topic_intent(user_id) == chat_id:
                return None, False
            await self.repository.begin_topic(user_id, chat_id, self.clock())
            try:
                topic = await bot.create_forum_topic(chat_id, name=name)
            except (BadRequest, Forbidden, RetryAfter):  # refused: surely not created
                await self.repository.drop_topic_intent(user_id)
                raise
            await self.repository.save_topic(
                user_id, chat_id, topic.message_thread_id, self.clock(), name
            )
            return topic.message_thread_id, True

    async def forget(self, user_id: int) -> None:
        """Staff deleted the topic: the next post creates another."""
        await self.repository.save_topic(user_id, 0, None, self.clock())

    async def close(self, bot: Bot, user_id: int) -> None:
        """Close the user's topic (the ticket is closed); an unfinished creation is dropped
        (staff have seen the ticket in General: the next one gets a topic)."""
        await self.repository.drop_topic_intent(user_id)
        found = await self.repository.topic(user_id)
        if found is None:
            return
        chat_id, thread, _ = found
        with contextlib.suppress(BadRequest):  # already closed, or deleted
            await bot.close_forum_topic(chat_id, thread)
        await self.repository.mark_topic(user_id, closed=True)

    # --- copies -----------------------------------------------------------------------------

    async def copied(self, relay_id: int, chat_id: int, message_id: int) -> None:
        """The outbox sent the copy of relay ``relay_id``."""
        await self.repository.set_copy(relay_id, chat_id, message_id)

    async def posted_before(self, relay_id: int, message_id: int) -> None:
        """The post before the relay's copy (a new ticket's card) is sent."""
        await self.repository.set_before(relay_id, message_id)

    async def before_posted(self, relay_id: int) -> bool:
        """Whether the post before the relay's copy was sent already (an earlier attempt)."""
        relay = await self.repository.relay(relay_id)
        return relay is not None and relay.before_message_id is not None

    async def copy_of(self, relay_id: int) -> tuple[int | None, int | None] | None:
        """Where the relay's copy is ((None, None) until sent); None if the relay is gone."""
        relay = await self.repository.relay(relay_id)
        if relay is None:
            return None
        return relay.copy_chat_id, relay.copy_message_id
