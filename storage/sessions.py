"""Where each Telegram user is in a procedure, saved before every answer of the bot."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import Database, from_db_time, to_db_time
from storage.outbox import NewOutboxItem, insert_items_now

_TIME_FIELDS = {
    "cgu_accepted_at",
    "email_verified_at",
    "code_expires_at",
    "code_sent_at",
    "started_at",
    "updated_at",
}


@dataclass
class ConversationSession:
    """One user's progress. Secret fields hold hashes only (argon2id or HMAC)."""

    telegram_user_id: int
    chat_id: int
    flow: str
    step: str
    started_at: datetime
    updated_at: datetime
    prompt_nonce: str = ""
    profil: str | None = None
    # The account's identifier once proven (never the text typed at the prompt: see below).
    identifiant: str | None = None
    account_id: int | None = None
    cgu_version: str | None = None
    cgu_accepted_at: datetime | None = None
    email: str | None = None
    email_verified_at: datetime | None = None
    code_hash: str | None = None
    token_hash: str | None = None
    code_expires_at: datetime | None = None
    code_sent_at: datetime | None = None
    resend_count: int = 0
    question1: str | None = None
    answer1_hash: str | None = None
    question2: str | None = None
    answer2_hash: str | None = None
    new_password_hash: str | None = None
    flow_data: str = "{}"
    # What an identifier prompt keeps of the text typed: its throttle key (HMAC) and the id of
    # the account it names, if any (not proven yet: the provisional password or the recovery
    # proves it).
    identifiant_key: str | None = None
    candidate_account_id: int | None = None


_FIELDS = [f.name for f in dataclasses.fields(ConversationSession)]


def _from_row(row: aiosqlite.Row) -> ConversationSession:
    values: dict[str, Any] = {
        name: (from_db_time(row[name]) if name in _TIME_FIELDS else row[name]) for name in _FIELDS
    }
    return ConversationSession(**values)


class SessionRepository:
    """Conversation sessions, one per Telegram user."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def get(self, telegram_user_id: int) -> ConversationSession | None:
        """The user's session, if any."""
        row = await self.db.fetch_one(
            "SELECT * FROM conversation_sessions WHERE telegram_user_id = ?", (telegram_user_id,)
        )
        return _from_row(row) if row else None

    async def find_by_token_hash(self, token_hash: str) -> ConversationSession | None:
        """The session waiting for the e-mail link whose token has this keyed hash."""
        row = await self.db.fetch_one(
            "SELECT * FROM conversation_sessions WHERE token_hash = ?", (token_hash,)
        )
        return _from_row(row) if row else None

    async def save(
        self, session: ConversationSession, *, outbox: Sequence[NewOutboxItem] = ()
    ) -> None:
        """Insert or replace the session (committed when this returns), with the outbox items
        this step causes in the same transaction."""
        values = [
            to_db_time(v) if name in _TIME_FIELDS and v is not None else v
            for name, v in ((name, getattr(session, name)) for name in _FIELDS)
        ]
        placeholders = ", ".join("?" for _ in _FIELDS)

        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                f"INSERT OR REPLACE INTO conversation_sessions ({', '.join(_FIELDS)}) "
                f"VALUES ({placeholders})",
                values,
            )
            insert_items_now(connection, outbox)

        return await self.db.write(work)

    async def delete(self, telegram_user_id: int, *, outbox: Sequence[NewOutboxItem] = ()) -> None:
        """Forget the user's session (with the outbox items its end causes, same transaction)."""

        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                "DELETE FROM conversation_sessions WHERE telegram_user_id = ?", (telegram_user_id,)
            )
            insert_items_now(connection, outbox)

        return await self.db.write(work)

    async def steps(self) -> dict[tuple[int, int], str]:
        """``{(chat_id, user_id): step}`` of every open session (steps are unique across
        procedures, so they are the states of one ConversationHandler)."""
        rows = await self.db.fetch_all(
            "SELECT chat_id, telegram_user_id, step FROM conversation_sessions"
        )
        return {(row["chat_id"], row["telegram_user_id"]): row["step"] for row in rows}
