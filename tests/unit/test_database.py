"""The database: reads see committed rows only, never another coroutine's open transaction."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.staff.service import _stamp
from storage.db import Database, db_time_seconds, from_db_time, to_db_time


async def test_a_read_does_not_see_an_open_transaction(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "bot.sqlite3")
    inside = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        async with database.transaction() as connection:
            await connection.execute(
                "INSERT INTO audit_events (event, account_id, actor, at) VALUES (?, ?, ?, ?)",
                ("test_event", None, "test", "2026-01-01T00:00:00.000000Z"),
            )
            inside.set()
            await release.wait()

    task = asyncio.create_task(writer())
    try:
        await inside.wait()
        seen = await database.fetch_all("SELECT * FROM audit_events WHERE event = 'test_event'")
        assert seen == []
        release.set()
        await task
        seen = await database.fetch_all("SELECT * FROM audit_events WHERE event = 'test_event'")
        assert len(seen) == 1
    finally:
        release.set()
        await task
        await database.close()


async def test_a_transaction_cancelled_at_its_begin_leaves_the_connection_usable(
    database: Database,
) -> None:
    """A task cancelled while its BEGIN runs (a stop during start-up, say) must not leave the
    connection inside a transaction: every later write would fail (« cannot start a
    transaction within a transaction »), found by bench_telegram_faults' start-ups."""

    async def write() -> None:
        async with database.transaction() as connection:
            await connection.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")

    for _ in range(5):
        task = asyncio.create_task(write())
        await asyncio.sleep(0)  # it is now awaiting its BEGIN
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        async with database.transaction() as connection:
            await connection.execute("CREATE TABLE IF NOT EXISTS u (x INTEGER)")


def _insert(event: str) -> Callable[[sqlite3.Connection], int]:
    def work(connection: sqlite3.Connection) -> int:
        cursor = connection.execute(
            "INSERT INTO audit_events (event, account_id, actor, at) VALUES (?, ?, ?, ?)",
            (event, None, "test", "2026-01-01T00:00:00.000000Z"),
        )
        if event == "fails":
            raise ValueError("this work fails")
        return int(cursor.lastrowid or 0)

    return work


async def test_writes_queued_together_commit_together_a_failing_one_alone(
    tmp_path: Path,
) -> None:
    """Group commit (issue 15): works queued while the writer's thread is busy share one
    transaction; one that raises is rolled back alone and its caller gets the exception."""
    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        events = [f"e{n}" for n in range(20)] + ["fails"]
        outcomes = await asyncio.gather(
            *(database.write(_insert(event)) for event in events), return_exceptions=True
        )
        assert isinstance(outcomes[-1], ValueError)
        assert all(isinstance(outcome, int) and outcome > 0 for outcome in outcomes[:-1])
        rows = await database.fetch_all("SELECT event FROM audit_events WHERE actor = 'test'")
        assert sorted(row["event"] for row in rows) == sorted(events[:-1])
    finally:
        await database.close()


async def test_writes_wait_for_an_open_transaction(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "bot.sqlite3")
    inside, release = asyncio.Event(), asyncio.Event()

    async def long_transaction() -> None:
        async with database.transaction() as connection:
            await connection.execute(
                "INSERT INTO audit_events (event, account_id, actor, at) VALUES (?, ?, ?, ?)",
                ("first", None, "test", "2026-01-01T00:00:00.000000Z"),
            )
            inside.set()
            await release.wait()

    task = asyncio.create_task(long_transaction())
    try:
        await inside.wait()
        write = asyncio.create_task(database.write(_insert("second")))
        await asyncio.sleep(0.05)
        assert not write.done()
        release.set()
        await task
        await write
        rows = await database.fetch_all(
            "SELECT event FROM audit_events WHERE actor = 'test' ORDER BY id"
        )
        assert [row["event"] for row in rows] == ["first", "second"]
    finally:
        release.set()
        await task
        await database.close()


def test_db_time_seconds_is_the_stamp_of_the_datetime() -> None:
    """The export slices the database's text: the same as the datetime round trip, for any
    offset, microseconds cut (never rounded), and the same refusals."""
    paris_summer = timezone(timedelta(hours=2))
    moments = [
        datetime(2026, 3, 29, 1, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=1))),
        datetime(2026, 10, 25, 2, 30, tzinfo=paris_summer),
        datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2027, 1, 1, 0, 0, 0, 1, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    ]
    for moment in moments:
        text = to_db_time(moment)
        assert db_time_seconds(text) == _stamp(from_db_time(text))
    assert db_time_seconds(None) == _stamp(None) == ""
    for wrong in (
        "2026-01-01T00:00:00Z",
        "2026-01-01 00:00:00.000000Z",
        "2026-01-01T00:00:00.000000+",
    ):
        with pytest.raises(ValueError, match="not a database time"):
            db_time_seconds(wrong)
