"""The database: reads see committed rows only, never another coroutine's open transaction."""

from __future__ import annotations

import asyncio
import contextlib
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
