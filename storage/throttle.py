"""Counters of failed attempts at guessable secrets, kept in the database."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, from_db_time, to_db_time


@dataclass(frozen=True)
class ThrottleCounters:
    """Failures recorded against one key (an HMAC of a normalised identifier)."""

    consecutive_failures: int = 0
    last_failure_at: datetime | None = None
    locked_at: datetime | None = None
    failures_in_window: int = 0


class ThrottleRepository:
    """Failed attempts per identifier, and identifiers tried per Telegram user."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def counters(self, key: str, window_start: datetime) -> ThrottleCounters:
        """The counters of ``key``, with failures since ``window_start``."""
        row = await self.db.fetch_one("SELECT * FROM throttle WHERE key = ?", (key,))
        count = await self.db.fetch_one(
            "SELECT COUNT(*) AS n FROM auth_failures WHERE key = ? AND at >= ?",
            (key, to_db_time(window_start)),
        )
        if row is None:
            return ThrottleCounters(failures_in_window=count["n"] if count else 0)
        return ThrottleCounters(
            consecutive_failures=row["consecutive_failures"],
            last_failure_at=from_db_time(row["last_failure_at"]),
            locked_at=from_db_time(row["locked_at"]),
            failures_in_window=count["n"] if count else 0,
        )

    async def reserve(self, key: str, now: datetime, cutoffs: Sequence[datetime]) -> int | None:
        """Reserve one attempt at a secret of ``key`` before it is checked: if attempts are
        allowed now, count a pending failure and return its id (see :meth:`settle`); None if
        ``key`` is locked or still in its delay.

        ``cutoffs[n]`` is the latest last-failure time that lets an attempt through after
        ``n`` consecutive failures (``now`` minus the delay; the last one holds for more). The
        check and the count are one SQL statement, so a burst of guesses sent at once cannot all
        read the counters before any of them is counted."""
        stamp = to_db_time(now)
        ladder = json.dumps([to_db_time(cutoff) for cutoff in cutoffs])

        def work(connection: sqlite3.Connection) -> int | None:
            granted = connection.execute(
                """INSERT INTO throttle (key, consecutive_failures, last_failure_at, locked_at)
                   VALUES (?, 1, ?, NULL)
                   ON CONFLICT (key) DO UPDATE SET
                       consecutive_failures = consecutive_failures + 1,
                       last_failure_at = excluded.last_failure_at
                   WHERE locked_at IS NULL
                     AND (last_failure_at IS NULL OR last_failure_at <= json_extract(
                           ?, '$[' || MIN(consecutive_failures, ?) || ']'))
                   RETURNING consecutive_failures""",
                (key, stamp, ladder, len(cutoffs) - 1),
            ).fetchall()  # RETURNING: its row, the statement stepped to its end
            if not granted:
                return None
            cursor = connection.execute(
                "INSERT INTO auth_failures (key, at) VALUES (?, ?)", (key, stamp)
            )
            return cursor.lastrowid

        return await self.db.write(work)

    async def settle(
        self,
        key: str,
        failure_id: int,
        correct: bool,
        now: datetime,
        *,
        window_start: datetime,
        failures_before_lock: int | None,
    ) -> bool:
        """The verdict of a reserved attempt: a correct secret turns its pending failure back
        into a success (the consecutive count starts again); a wrong one stays counted and
        locks ``key`` once it has ``failures_before_lock`` failures since ``window_start``
        (None: never locks, only delays). True if this attempt locked ``key``."""

        def work(connection: sqlite3.Connection) -> bool:
            if correct:
                connection.execute("DELETE FROM auth_failures WHERE id = ?", (failure_id,))
                connection.execute(
                    "UPDATE throttle SET consecutive_failures = 0 WHERE key = ?", (key,)
                )
                return False
            if failures_before_lock is None:
                return False
            return self._lock_if_due(
                connection, key, now, window_start=window_start, limit=failures_before_lock
            )

        return await self.db.write(work)

    async def release(self, key: str, failure_id: int) -> None:
        """Undo a reservation whose check could not run (the directory was unreachable): the
        attempt is not counted, and the last failure is that of the failures left."""

        def work(connection: sqlite3.Connection) -> None:
            connection.execute("DELETE FROM auth_failures WHERE id = ?", (failure_id,))
            connection.execute(
                "UPDATE throttle SET consecutive_failures = MAX(consecutive_failures - 1, 0), "
                "last_failure_at = (SELECT MAX(at) FROM auth_failures WHERE key = ?) "
                "WHERE key = ?",
                (key, key),
            )

        return await self.db.write(work)

    async def count_failure(
        self, key: str, now: datetime, *, window_start: datetime, failures_before_lock: int
    ) -> bool:
        """Count a wrong secret tried while attempts were refused (so that hammering reaches
        the staff-only lock), locking ``key`` as :meth:`settle` does (True if it did)."""
        stamp = to_db_time(now)

        def work(connection: sqlite3.Connection) -> bool:
            connection.execute(
                """INSERT INTO throttle (key, consecutive_failures, last_failure_at, locked_at)
                   VALUES (?, 1, ?, NULL)
                   ON CONFLICT (key) DO UPDATE SET
                       consecutive_failures = consecutive_failures + 1,
                       last_failure_at = excluded.last_failure_at""",
                (key, stamp),
            )
            connection.execute(
                "INSERT INTO auth_failures (key, at, while_refused) VALUES (?, ?, 1)",
                (key, stamp),
            )
            return self._lock_if_due(
                connection, key, now, window_start=window_start, limit=failures_before_lock
            )

        return await self.db.write(work)

    async def failure_counts(self, key: str, window_start: datetime) -> tuple[int, int]:
        """Failures of ``key`` since ``window_start``: (let through and checked, counted while
        attempts were refused)."""
        row = await self.db.fetch_one(
            "SELECT COALESCE(SUM(while_refused = 0), 0) AS checked, "
            "COALESCE(SUM(while_refused = 1), 0) AS refused "
            "FROM auth_failures WHERE key = ? AND at >= ?",
            (key, to_db_time(window_start)),
        )
        return (row["checked"], row["refused"]) if row else (0, 0)

    @staticmethod
    def _lock_if_due(
        connection: sqlite3.Connection,
        key: str,
        now: datetime,
        *,
        window_start: datetime,
        limit: int,
    ) -> bool:
        """Lock ``key`` if it has ``limit`` failures since ``window_start``; True if it was
        locked just now."""
        cursor = connection.execute(
            """UPDATE throttle SET locked_at = ? WHERE key = ? AND locked_at IS NULL
               AND (SELECT COUNT(*) FROM auth_failures WHERE key = ? AND at >= ?) >= ?""",
            (to_db_time(now), key, key, to_db_time(window_start), limit),
        )
        return cursor.rowcount == 1

    async def record_failure(self, key: str, now: datetime, *, lock: bool) -> None:
        """Count one failure; ``lock`` sets the staff-only lock."""
        stamp = to_db_time(now)

        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                """INSERT INTO throttle (key, consecutive_failures, last_failure_at, locked_at)
                   VALUES (?, 1, ?, CASE WHEN ? THEN ? END)
                   ON CONFLICT (key) DO UPDATE SET
                       consecutive_failures = consecutive_failures + 1,
                       last_failure_at = excluded.last_failure_at,
                       locked_at = COALESCE(locked_at, excluded.locked_at)""",
                (key, stamp, lock, stamp),
            )
            connection.execute("INSERT INTO auth_failures (key, at) VALUES (?, ?)", (key, stamp))

        return await self.db.write(work)

    async def record_success(self, key: str) -> None:
        """A correct secret: the consecutive count starts again (a staff lock stays)."""

        def work(connection: sqlite3.Connection) -> None:
            connection.execute("UPDATE throttle SET consecutive_failures = 0 WHERE key = ?", (key,))

        return await self.db.write(work)

    async def unlock(self, key: str) -> None:
        """Staff unlock: forget every failure of ``key``."""
        async with self.db.transaction() as connection:
            await connection.execute("DELETE FROM throttle WHERE key = ?", (key,))
            await connection.execute("DELETE FROM auth_failures WHERE key = ?", (key,))

    async def identifiants_tried(self, telegram_user_id: int, since: datetime) -> set[str]:
        """Keys of the identifiers this user tried since ``since``."""
        rows = await self.db.fetch_all(
            "SELECT key FROM identifiant_attempts WHERE telegram_user_id = ? AND last_at >= ?",
            (telegram_user_id, to_db_time(since)),
        )
        return {row["key"] for row in rows}

    async def record_identifiant_attempt(
        self, telegram_user_id: int, key: str, now: datetime
    ) -> None:
        """Remember that this user tried this identifier now."""

        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                """INSERT INTO identifiant_attempts (telegram_user_id, key, last_at)
                   VALUES (?, ?, ?)
                   ON CONFLICT (telegram_user_id, key) DO UPDATE SET last_at = excluded.last_at""",
                (telegram_user_id, key, to_db_time(now)),
            )

        return await self.db.write(work)

    async def purge(self, before: datetime) -> None:
        """Drop failures and attempts older than ``before`` (locks stay)."""
        async with self.db.transaction() as connection:
            await connection.execute(
                "DELETE FROM auth_failures WHERE at < ?", (to_db_time(before),)
            )
            await connection.execute(
                "DELETE FROM identifiant_attempts WHERE last_at < ?", (to_db_time(before),)
            )
