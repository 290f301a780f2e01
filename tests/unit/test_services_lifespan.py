"""The services' one life cycle (bot/services.py): ``start`` opens them and starts every
worker, ``close`` stops them all and closes the database — what ``start_bot`` and
``stop_bot`` call, once each, around python-telegram-bot's own start and shutdown."""

from __future__ import annotations

import asyncio
from pathlib import Path

from telegram import Bot

from bot.school import load_school_config
from bot.services import BotServices
from bot.settings import Settings

from support import CHEAP_ARGON2, DATA


def _services(tmp_path: Path) -> BotServices:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_path=tmp_path / "bot.sqlite3",
        server_secret_file=tmp_path / "server.key",
        school_config=DATA / "school.toml",
        broadcast_unsubscribe_url="http://127.0.0.1/desabonnement",
        broadcast_unsubscribe_port=0,
        **CHEAP_ARGON2,
    )
    return BotServices(settings=settings, school=load_school_config(DATA / "school.toml"))


def _running() -> set[asyncio.Task[object]]:
    return {
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task() and not task.done()
    }


async def test_close_stops_every_worker_that_start_started(tmp_path: Path) -> None:
    before = _running()
    services = _services(tmp_path)
    await services.start(Bot("123456:TEST"))
    assert services.database is not None
    assert _running() - before, "start() started no worker"
    assert services.unsubscribe is not None
    await services.close()
    await asyncio.sleep(0.05)
    assert _running() - before == set()
    assert services.database is None
    await services.close()  # idempotent: a second stop finds nothing to stop
