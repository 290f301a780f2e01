"""The bot's own records: CGU acceptances and the append-only audit trail."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from storage.db import Database, to_db_time


class RecordRepository:
    """CGU acceptances and audit events. Never a secret."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def record_cgu_acceptance(
        self, account_id: int, cgu_version: str, accepted_at: datetime, telegram_user_id: int
    ) -> None:
        """Record that this Telegram user accepted this version of the CGU for this account."""
        stamp = to_db_time(accepted_at)

        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                "INSERT INTO cgu_acceptances (account_id, cgu_version, accepted_at, "
                "telegram_user_id) VALUES (?, ?, ?, ?)",
                (account_id, cgu_version, stamp, telegram_user_id),
            )
            connection.execute(
                "INSERT INTO audit_events (at, event, account_id, actor, details) "
                "VALUES (?, 'cgu_accepted', ?, ?, ?)",
                (stamp, account_id, f"telegram:{telegram_user_id}", f"version={cgu_version}"),
            )

        return await self.db.write(work)

    async def audit(
        self, event: str, account_id: int | None, actor: str, at: datetime, details: str = ""
    ) -> None:
        """Append one event to the audit trail."""

        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                "INSERT INTO audit_events (at, event, account_id, actor, details) "
                "VALUES (?, ?, ?, ?, ?)",
                (to_db_time(at), event, account_id, actor, details),
            )

        return await self.db.write(work)
