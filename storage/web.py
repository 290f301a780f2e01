"""The web channel's conversations and their outbound logs (migration 0043): found by the keyed
hash of the random id the page holds, each with numbered messages a page reads after the last
sequence it has shown."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Database, to_db_time


@dataclass(frozen=True)
class StoredConversation:
    """One conversation row: the engine's state, the current nonce, the last sequence."""

    row: int
    state: dict[str, Any]
    nonce: str | None
    last_seq: int


@dataclass(frozen=True)
class LoggedMessage:
    """One message of the outbound log."""

    seq: int
    sender: str
    body: dict[str, Any]


class WebRepository:
    """The ``web_conversations`` and ``web_messages`` tables."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def create(self, key_hash: str, now: datetime) -> int:
        """A new, empty conversation; its row."""

        def work(connection: sqlite3.Connection) -> int:
            cursor = connection.execute(
                "INSERT INTO web_conversations (key_hash, created_at, last_seen_at) "
                "VALUES (?, ?, ?)",
                (key_hash, to_db_time(now), to_db_time(now)),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        return await self.db.write(work)

    async def find(self, key_hash: str) -> StoredConversation | None:
        """The conversation of that keyed hash, if any."""
        found = await self.db.fetch_one(
            "SELECT id, state, nonce, last_seq FROM web_conversations WHERE key_hash = ?",
            (key_hash,),
        )
        if found is None:
            return None
        return StoredConversation(found[0], json.loads(found[1]), found[2], found[3])

    async def find_row(self, row: int) -> StoredConversation | None:
        """The conversation of that row, if it still exists."""
        found = await self.db.fetch_one(
            "SELECT id, state, nonce, last_seq FROM web_conversations WHERE id = ?", (row,)
        )
        if found is None:
            return None
        return StoredConversation(found[0], json.loads(found[1]), found[2], found[3])

    async def append(
        self,
        row: int,
        state: dict[str, Any],
        nonce: str | None,
        messages: Sequence[tuple[str, dict[str, Any]]],
        now: datetime,
    ) -> int:
        """Save the engine's state and the new nonce, add ``messages`` (sender, body) to the
        log in order, all in one transaction; the last sequence."""
        state_text = json.dumps(state, ensure_ascii=False)

        def work(connection: sqlite3.Connection) -> int:
            last = connection.execute(
                "SELECT last_seq FROM web_conversations WHERE id = ?", (row,)
            ).fetchone()[0]
            for sender, body in messages:
                last += 1
                connection.execute(
                    "INSERT INTO web_messages (conversation_id, seq, sender, body, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (row, last, sender, json.dumps(body, ensure_ascii=False), to_db_time(now)),
                )
            connection.execute(
                "UPDATE web_conversations SET state = ?, nonce = ?, last_seq = ?, "
                "last_seen_at = ? WHERE id = ?",
                (state_text, nonce, last, to_db_time(now), row),
            )
            return int(last)

        return await self.db.write(work)

    async def messages_after(self, row: int, after: int, limit: int = 200) -> list[LoggedMessage]:
        """The log's messages after sequence ``after``, oldest first."""
        rows = await self.db.fetch_all(
            "SELECT seq, sender, body FROM web_messages WHERE conversation_id = ? AND seq > ? "
            "ORDER BY seq LIMIT ?",
            (row, after, limit),
        )
        return [LoggedMessage(found[0], found[1], json.loads(found[2])) for found in rows]

    async def purge(self, before: datetime) -> int:
        """Forget the conversations not seen since ``before`` (their logs with them)."""

        def work(connection: sqlite3.Connection) -> int:
            connection.execute(
                "DELETE FROM web_messages WHERE conversation_id IN "
                "(SELECT id FROM web_conversations WHERE last_seen_at < ?)",
                (to_db_time(before),),
            )
            cursor = connection.execute(
                "DELETE FROM web_conversations WHERE last_seen_at < ?", (to_db_time(before),)
            )
            return cursor.rowcount

        return await self.db.write(work)
