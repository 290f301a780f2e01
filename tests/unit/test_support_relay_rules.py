"""Support relays without Telegram: captions within Telegram's limit, the original ↔ copy
ledger, and the topic's life (the intent written before createForumTopic, the title edited
only when it changes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from telegram.error import BadRequest, TimedOut

from bot.outbox.templates import CAPTION_LIMIT
from bot.sandbox.telegram_html import parse_html
from bot.support.service import cut, relayed_caption, team_caption
from bot.support.topics import TopicDirectory
from storage.db import Database
from storage.outbox import NewOutboxItem, OutboxKind
from storage.support import RELAY_ID, RelaySource, SupportRepository

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CHAT = -100888


def test_cut_keeps_short_texts_and_marks_a_cut() -> None:
    assert cut("bonjour", 10) == "bonjour"
    assert cut("bonjour à tous", 8) == "bonjour…" and len(cut("x" * 50, 8)) == 8


def test_captions_carry_the_number_and_stay_within_telegram_limit() -> None:
    assert relayed_caption(3, "Léa", "") == "<b>✉️ Demande #3 · Léa</b>"
    caption = relayed_caption(3, "Léa", "<écran> " + "x" * 2000)
    text, _ = parse_html(caption)
    assert text.startswith("✉️ Demande #3 · Léa\n\n<écran>") and len(text) <= CAPTION_LIMIT
    staff, _ = parse_html(team_caption("Lycée de Test", "y" * 2000))
    assert staff.startswith("💬 L'équipe de Lycée de Test :") and len(staff) <= CAPTION_LIMIT
    assert parse_html(team_caption("Lycée de Test", " "))[0] == "💬 L'équipe de Lycée de Test"


@pytest.fixture
async def repository(tmp_path: Path) -> AsyncIterator[SupportRepository]:
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield SupportRepository(database)
    await database.close()


async def test_a_relay_row_is_written_with_its_outbox_item(repository: SupportRepository) -> None:
    def item(ticket: Any, is_new: bool) -> list[NewOutboxItem]:
        return [
            NewOutboxItem(
                OutboxKind.TELEGRAM_MESSAGE,
                "staff_notice",
                {"chat_id": CHAT, RELAY_ID: None},
                NOW,
                NOW,
            )
        ]

    items: list[NewOutboxItem] = []

    def keep(ticket: Any, is_new: bool) -> list[NewOutboxItem]:
        items.extend(item(ticket, is_new))
        return items

    ticket, _ = await repository.add_user_message(
        7, 7, None, NOW, keep, source=RelaySource(7, 70, media=True)
    )
    relay = await repository.relay_of(7, 70)
    assert relay is not None and relay.media and relay.with_card and relay.direction == "user"
    assert items[0].params[RELAY_ID] == relay.id and relay.copy_message_id is None
    await repository.set_copy(relay.id, CHAT, 123)
    relay = await repository.relay(relay.id)
    assert relay is not None and (relay.copy_chat_id, relay.copy_message_id) == (CHAT, 123)
    # A second message is no card; a staff answer is a relay the other way.
    await repository.add_user_message(7, 7, None, NOW, lambda t, n: [], source=RelaySource(7, 71))
    second = await repository.relay_of(7, 71)
    assert second is not None and not second.with_card and not second.media
    await repository.add_staff_message(ticket.id, NOW, [], source=RelaySource(CHAT, 500))
    staff = await repository.relay_of(CHAT, 500)
    assert staff is not None and staff.direction == "staff"
    # « Supprimer mes données » forgets the relays with the tickets.
    await repository.forget_user(7)
    assert await repository.relay_of(7, 70) is None and await repository.relay_of(CHAT, 500) is None


class FakeBot:
    """The forum calls of a bot, recorded; ``create_error`` makes createForumTopic fail."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.create_error: Exception | None = None
        self.next_thread = 41

    async def create_forum_topic(self, chat_id: int, name: str) -> Any:
        self.calls.append(("create", name))
        if self.create_error is not None:
            raise self.create_error
        self.next_thread += 1
        return SimpleNamespace(message_thread_id=self.next_thread)

    async def edit_forum_topic(self, chat_id: int, thread: int, name: str) -> bool:
        self.calls.append(("edit", name))
        return True

    async def reopen_forum_topic(self, chat_id: int, thread: int) -> bool:
        self.calls.append(("reopen", thread))
        return True

    async def close_forum_topic(self, chat_id: int, thread: int) -> bool:
        self.calls.append(("close", thread))
        return True


async def test_the_intent_comes_first_and_a_cut_short_creation_is_never_doubled(
    repository: SupportRepository,
) -> None:
    topics = TopicDirectory(repository, lambda: NOW)
    bot: Any = FakeBot()
    # A process wrote its intent, then died before saving the topic (kill -9).
    await repository.begin_topic(1, CHAT, NOW)
    assert await topics.open_topic(bot, CHAT, 1, "Léa · #1") == (None, False)
    assert await topics.open_topic(bot, CHAT, 1, "Léa · #1") == (None, False)
    assert bot.calls == []
    # Staff closed the ticket (seen in General): the next one gets its topic.
    await topics.close(bot, 1)
    assert await topics.open_topic(bot, CHAT, 1, "Léa · #2") == (42, True)
    assert await repository.topic_intent(1) is None and await repository.topic(1) == (
        CHAT,
        42,
        False,
    )


async def test_a_refused_creation_drops_the_intent_an_uncertain_one_keeps_it(
    repository: SupportRepository,
) -> None:
    topics = TopicDirectory(repository, lambda: NOW)
    bot: Any = FakeBot()
    bot.create_error = BadRequest("Not enough rights to create a topic")
    with pytest.raises(BadRequest):
        await topics.open_topic(bot, CHAT, 2, "Sam · #1")
    assert await repository.topic_intent(2) is None  # surely not created: tried again later
    bot.create_error = TimedOut()
    with pytest.raises(TimedOut):
        await topics.open_topic(bot, CHAT, 2, "Sam · #1")
    assert await repository.topic_intent(2) == CHAT  # it may exist: never a second one
    assert await topics.open_topic(bot, CHAT, 2, "Sam · #1") == (None, False)


async def test_the_title_is_edited_only_when_it_changes(repository: SupportRepository) -> None:
    topics = TopicDirectory(repository, lambda: NOW)
    bot: Any = FakeBot()
    thread, created = await topics.open_topic(bot, CHAT, 3, "Léa · #1")
    assert created
    assert await topics.open_topic(bot, CHAT, 3, "Léa · #1") == (thread, False)
    await topics.open_topic(bot, CHAT, 3, "Léa M. · apprenti · Lycée de Test · #1")
    await topics.open_topic(bot, CHAT, 3, "Léa M. · apprenti · Lycée de Test · #1")
    assert bot.calls == [
        ("create", "Léa · #1"),
        ("edit", "Léa M. · apprenti · Lycée de Test · #1"),
    ]
    assert await repository.topic_title(3) == "Léa M. · apprenti · Lycée de Test · #1"
