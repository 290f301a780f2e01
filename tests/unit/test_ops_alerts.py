"""The alert rate limit (issue 16): at most one alert per kind per 10 minutes, by the clock,
across restarts (SQLite)."""

from __future__ import annotations

from pathlib import Path

from bot.ops.alerts import AlertLimiter
from storage.db import Database

from support import MutableClock


def test_one_alert_per_kind_per_ten_minutes() -> None:
    clock = MutableClock()
    limiter = AlertLimiter(clock)
    assert limiter.allow("RuntimeError")
    assert not limiter.allow("RuntimeError")
    assert limiter.allow("KeyError")  # another kind has its own window
    clock.advance(minutes=9, seconds=59)
    assert not limiter.allow("RuntimeError")
    clock.advance(seconds=1)
    assert limiter.allow("RuntimeError")
    assert not limiter.allow("RuntimeError")


async def test_the_limit_survives_a_restart(tmp_path: Path) -> None:
    """Kept in SQLite: a new limiter (a restarted bot) on the same file still waits out the
    10 minutes; each kind has its own window; a clock set back does not hold alerts."""
    clock = MutableClock()
    path = tmp_path / "bot.sqlite3"
    database = await Database.open(path)
    assert await AlertLimiter(clock).claim("RuntimeError", database)
    assert not await AlertLimiter(clock).claim("RuntimeError", database)
    await database.close()

    database = await Database.open(path)  # the bot restarted
    try:
        restarted = AlertLimiter(clock)
        clock.advance(minutes=9, seconds=59)
        assert not await restarted.claim("RuntimeError", database)
        assert await restarted.claim("KeyError", database)
        clock.advance(seconds=1)
        assert await restarted.claim("RuntimeError", database)
        assert not await restarted.claim("RuntimeError", database)
        clock.advance(hours=-2)  # the clock was set back: the next alert is not held
        assert await restarted.claim("RuntimeError", database)
        assert not await restarted.claim("RuntimeError", database)
    finally:
        await database.close()


async def test_a_database_that_cannot_be_written_falls_back_to_memory(tmp_path: Path) -> None:
    clock = MutableClock()
    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        await database.connection.execute("PRAGMA query_only = ON")
        limiter = AlertLimiter(clock)
        assert await limiter.claim("OperationalError", database)  # the alert still goes
        assert not await limiter.claim("OperationalError", database)
    finally:
        await database.close()
