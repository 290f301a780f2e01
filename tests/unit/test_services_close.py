"""Closing the bot's services while the periodic purge is inside a transaction (the sandbox's
reset stops the bot at any moment): the purge task must end, not outlive its database."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import bot.services
from bot.school import load_school_config
from bot.services import BotServices
from bot.settings import Settings
from storage.db import Database

from support import CHEAP_ARGON2, DATA


async def test_close_during_a_purge_ends_the_purge_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = asyncio.Event()

    async def slow_purge(database: Database, *args: Any, **kwargs: Any) -> None:
        async with database.transaction():
            inside.set()
            await asyncio.Event().wait()  # a long purge, interrupted by close()

    monkeypatch.setattr(bot.services, "purge", slow_purge)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_path=tmp_path / "bot.sqlite3",
        server_secret_file=tmp_path / "server.key",
        school_config=DATA / "school.toml",
        **CHEAP_ARGON2,
    )
    services = BotServices(settings=settings, school=load_school_config(DATA / "school.toml"))
    await services.open()
    purger = asyncio.get_running_loop().create_task(services.purge_forever())
    services._purger = purger
    await asyncio.wait_for(inside.wait(), 5)
    await services.close()
    await asyncio.sleep(0.05)
    try:
        assert purger.done(), "the cancelled purge swallowed its cancellation and lives on"
    finally:
        purger.cancel()
