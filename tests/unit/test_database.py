"""The database: reads see committed rows only, never another coroutine's open transaction."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

from storage.db import Database


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
