"""The broadcast worker lives through a transient database error (a write refused, as on a
file system remounted read-only for a moment): the error is logged, the worker goes on, and no
campaign is left unsent nor unfinished. The real Application, the local Bot API server and a
real SQLite file whose writer connection refuses writes for a while (``PRAGMA query_only``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from test_broadcast import campaign, finished, link, reminders

from bot.app import build_application, services_of, start_bot
from bot.cli import quiet_noisy_loggers
from bot.sandbox.bot_api_server import Fault, LocalBotApi
from bot.sandbox.mailbox import Mailbox

from conftest import BotHarness, _ListHandler, harness_settings
from support import MutableClock


@pytest_asyncio.fixture
async def quiet_harness(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox, clock: MutableClock
) -> AsyncIterator[BotHarness]:
    """A bot not started yet (the test starts it), every log record kept."""
    settings = harness_settings(tmp_path, bot_api, mailbox.port).model_copy(
        update={"broadcast_poll_seconds": 0.2, "broadcast_retry_first_seconds": 0.05}
    )
    harness = BotHarness(bot_api, settings, clock, mailbox, tmp_path)
    handler = _ListHandler(harness.log_records)
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet_noisy_loggers()
    await harness.import_accounts()
    yield harness
    await harness.stop()
    root.removeHandler(handler)
    root.setLevel(previous_level)


async def logged(harness: BotHarness, wanted: str, timeout: float = 20) -> logging.LogRecord:
    """The first log record of the broadcast worker whose message has ``wanted``."""
    async with asyncio.timeout(timeout):
        while True:
            for record in harness.log_records:
                if record.name == "bot.broadcast.worker" and wanted in record.getMessage():
                    return record
            await asyncio.sleep(0.02)


async def test_a_write_error_at_start_is_logged_and_the_worker_goes_on(
    quiet_harness: BotHarness,
) -> None:
    harness = quiet_harness
    await link(harness.settings.database_path, {"paul.durand": 8101})
    paul = harness.server.user(8101)
    app = build_application(harness.settings, clock=harness.clock)
    services = services_of(app)
    await services.open()
    writer = services.database.connection
    await writer.execute("PRAGMA query_only = ON")  # every write refused from the start
    harness.app = app
    await start_bot(app, poll_timeout=1)
    record = await logged(harness, "database")
    assert record.levelno == logging.WARNING and "OperationalError" in record.getMessage()
    await writer.execute("PRAGMA query_only = OFF")

    repository = services.broadcast.repository
    stats = await finished(repository, await campaign(harness, "Rappel après la panne"))
    assert (stats.sent, stats.failed, stats.uncertain) == (1, 0, 0)
    assert reminders(paul) == ["Rappel après la panne"]


async def test_an_outcome_not_written_is_written_later_and_the_campaign_ends(
    quiet_harness: BotHarness, bot_api: LocalBotApi
) -> None:
    harness = quiet_harness
    await link(harness.settings.database_path, {"paul.durand": 8201, "nora.petit": 8202})
    paul, nora = bot_api.user(8201), bot_api.user(8202)
    await harness.start()
    services = harness.services
    writer = services.database.connection
    repository = services.broadcast.repository
    # Paul's send is slow: the database stops taking writes while it is under way, so its
    # outcome (sent) cannot be written at first.
    bot_api.inject(Fault("slow", chat_id=8201, methods=frozenset({"sendmessage"}), delay=1.0))
    first = await campaign(harness, "Rappel 1")
    in_flight = "SELECT 1 FROM broadcast_deliveries WHERE campaign_id = ? AND status = 'in_flight'"
    async with asyncio.timeout(20):
        while True:
            if await services.database.fetch_one(in_flight, (first,)):
                break
            await asyncio.sleep(0.01)
    await writer.execute("PRAGMA query_only = ON")
    await logged(harness, "not written")
    await writer.execute("PRAGMA query_only = OFF")

    stats = await finished(repository, first)
    assert stats.sent == 2 and stats.uncertain == stats.failed == stats.pending == 0
    assert reminders(paul) == ["Rappel 1"]  # once: never sent again
    second = await finished(repository, await campaign(harness, "Rappel 2"))
    assert second.sent == 2
    assert reminders(nora) == ["Rappel 1", "Rappel 2"]
    assert reminders(paul) == ["Rappel 1", "Rappel 2"]
