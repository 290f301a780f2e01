"""Purges: what the bot no longer needs is deleted (expired codes, abandoned procedures, old
failed attempts). Locks set by too many failures stay until staff unlock them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, to_db_time


@dataclass(frozen=True)
class PurgeReport:
    """How many rows each purge touched."""

    expired_codes: int
    abandoned_sessions: int
    old_failures: int
    old_attempts: int


async def purge(
    database: Database, now: datetime, *, abandoned_before: datetime, attempts_before: datetime
) -> PurgeReport:
    """Forget expired code and link hashes, sessions untouched since ``abandoned_before``, and
    failed attempts older than ``attempts_before``."""
    async with database.transaction() as connection:
        codes = await connection.execute(
            "UPDATE conversation_sessions SET code_hash = NULL, token_hash = NULL "
            "WHERE code_expires_at IS NOT NULL AND code_expires_at < ? "
            "AND (code_hash IS NOT NULL OR token_hash IS NOT NULL)",
            (to_db_time(now),),
        )
        sessions = await connection.execute(
            "DELETE FROM conversation_sessions WHERE updated_at < ?",
            (to_db_time(abandoned_before),),
        )
        failures = await connection.execute(
            "DELETE FROM auth_failures WHERE at < ?", (to_db_time(attempts_before),)
        )
        attempts = await connection.execute(
            "DELETE FROM identifiant_attempts WHERE last_at < ?", (to_db_time(attempts_before),)
        )
        await connection.execute(
            "DELETE FROM mail_requests WHERE at < ?", (to_db_time(attempts_before),)
        )
        await connection.execute(
            "DELETE FROM menu_prompts WHERE shown_at < ?", (to_db_time(abandoned_before),)
        )
        await connection.execute(
            "DELETE FROM throttle WHERE locked_at IS NULL AND last_failure_at < ?",
            (to_db_time(attempts_before),),
        )
    return PurgeReport(codes.rowcount, sessions.rowcount, failures.rowcount, attempts.rowcount)
