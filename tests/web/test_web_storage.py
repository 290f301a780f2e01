"""The web channel's tables (migration 0043): the log in order, the state with it, the purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.web import WebRepository

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


async def test_append_numbers_the_log_and_keeps_the_state(database: Database) -> None:
    repository = WebRepository(database)
    row = await repository.create("hash-1", NOW)
    assert await repository.find("hash-1") is not None
    assert await repository.find("hash-2") is None
    last = await repository.append(row, {"step": "a"}, "n1", [("bot", {"text": "un"})], NOW)
    assert last == 1
    last = await repository.append(
        row, {"step": "b"}, None, [("person", {"text": "deux"}), ("bot", {"text": "trois"})], NOW
    )
    assert last == 3
    stored = await repository.find("hash-1")
    assert stored is not None and stored.state == {"step": "b"} and stored.nonce is None
    assert [m.body["text"] for m in await repository.messages_after(row, 1)] == ["deux", "trois"]


async def test_purge_forgets_idle_conversations_and_their_logs(database: Database) -> None:
    repository = WebRepository(database)
    old = await repository.create("old", NOW - timedelta(days=40))
    await repository.append(old, {}, None, [("bot", {"text": "x"})], NOW - timedelta(days=40))
    recent = await repository.create("recent", NOW)
    assert await repository.purge(NOW - timedelta(days=30)) == 1
    assert await repository.find("old") is None
    assert await repository.find_row(recent) is not None
    assert (
        await database.fetch_all("SELECT * FROM web_messages WHERE conversation_id = ?", (old,))
        == []
    )
