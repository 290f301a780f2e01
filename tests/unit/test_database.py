"""The database: reads see committed rows only, never another coroutine's open transaction."""

from __future__ import annotations

import asyncio
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
