"""The nonce of the last menu shown to each Telegram user outside a procedure."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, from_db_time, to_db_time


@dataclass(frozen=True)
class MenuPrompt:
    """A menu shown: the nonce its buttons carry and, for the changed CGU, the version shown."""

    nonce: str
    cgu_version: str | None
    shown_at: datetime


class MenuRepository:
    """One menu a user: showing a new one makes the buttons of the previous one stale."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def show(
        self, telegram_user_id: int, now: datetime, *, cgu_version: str | None = None
    ) -> str:
        """A new nonce for the menu about to be shown (saved before it is sent)."""
        nonce = secrets.token_hex(4)
        async with self.db.transaction() as connection:
            await connection.execute(
                "INSERT OR REPLACE INTO menu_prompts (telegram_user_id, nonce, cgu_version, "
                "shown_at) VALUES (?, ?, ?, ?)",
                (telegram_user_id, nonce, cgu_version, to_db_time(now)),
            )
        return nonce

    async def current(self, telegram_user_id: int, nonce: str) -> MenuPrompt | None:
        """The user's last menu if ``nonce`` is its nonce; None for any other button."""
        row = await self.db.fetch_one(
            "SELECT nonce, cgu_version, shown_at FROM menu_prompts WHERE telegram_user_id = ?",
            (telegram_user_id,),
        )
        if (
            row is None
            or not nonce
            or not secrets.compare_digest(row["nonce"].encode(), nonce.encode())
        ):
            return None
        shown_at = from_db_time(row["shown_at"])
        assert shown_at is not None
        return MenuPrompt(row["nonce"], row["cgu_version"], shown_at)

    async def forget(self, telegram_user_id: int) -> None:
        """No menu of this user works any more (« delete my data »)."""
        async with self.db.transaction() as connection:
            await connection.execute(
                "DELETE FROM menu_prompts WHERE telegram_user_id = ?", (telegram_user_id,)
            )
