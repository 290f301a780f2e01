"""Errors reach the staff and the logs suit a collector (issue 16): an unhandled error sends
one short note to ALERT_CHAT_ID through the outbox (its type, procedure and step, never the
update's text), once per kind per 10 minutes by the bot's clock, a restart included;
``LOG_FORMAT=json`` writes one JSON object a line from the real ``run_bot.py``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from telegram import Update
from telegram.ext import MessageHandler, filters
from test_startup_refusals import closed_port, lines_until

from bot.sandbox.bot_api_server import LocalBotApi
from bot.sandbox.mailbox import Mailbox

from chat import Chat
from conftest import BotHarness, harness_settings
from support import MutableClock
from test_kill_restart import real_bot_env

ALERT_CHAT = 777001
SECRET_TEXT = "boom Velo-Rouge-Soleil-42"


async def explode(update: Update, context: object) -> None:
    raise RuntimeError("a bug whose message must not reach the chat either")


@pytest_asyncio.fixture
async def alert_harness(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox, clock: MutableClock
) -> AsyncIterator[BotHarness]:
    settings = harness_settings(tmp_path, bot_api, mailbox.port).model_copy(
        update={"alert_chat_id": ALERT_CHAT}
    )
    harness = BotHarness(bot_api, settings, clock, mailbox, tmp_path)
    await harness.import_accounts()
    app = await harness.start()
    app.add_handler(MessageHandler(filters.Regex("^boom"), explode), group=-50)
    yield harness
    await harness.stop()


def alerts(harness: BotHarness) -> list[str]:
    staff = harness.server.user(ALERT_CHAT)
    return [m.text for m in staff.messages if m.from_bot]


async def test_an_unhandled_error_alerts_once_per_kind_per_ten_minutes(
    alert_harness: BotHarness,
) -> None:
    harness = alert_harness
    harness.server.user(ALERT_CHAT)  # the staff chat exists on the server
    chat = Chat(harness, 5301)
    await chat.say("/activer")
    await chat.say(SECRET_TEXT)
    await harness.services.outbox.drain()
    await harness.settle()
    assert len(alerts(harness)) == 1
    note = alerts(harness)[0]
    assert "RuntimeError" in note and "activation" in note and "identifi" in note
    assert "Velo" not in note and "bug" not in note

    await chat.say(SECRET_TEXT)
    await harness.services.outbox.drain()
    await harness.settle()
    assert len(alerts(harness)) == 1  # same kind within 10 minutes: no new alert

    harness.clock.advance(minutes=10)
    await chat.say(SECRET_TEXT)
    await harness.services.outbox.drain()
    await harness.settle()
    assert len(alerts(harness)) == 2


async def test_a_restart_does_not_alert_again_within_ten_minutes(
    alert_harness: BotHarness,
) -> None:
    """The limit is in the database: a bot restarting (in a loop, say) does not send the same
    alert each time."""
    harness = alert_harness
    harness.server.user(ALERT_CHAT)
    chat = Chat(harness, 5302)
    await chat.say(SECRET_TEXT)
    await harness.services.outbox.drain()
    await harness.settle()
    assert len(alerts(harness)) == 1

    await harness.stop()
    harness.clock.advance(minutes=5)
    app = await harness.start()
    app.add_handler(MessageHandler(filters.Regex("^boom"), explode), group=-50)
    await chat.say(SECRET_TEXT)
    await harness.services.outbox.drain()
    await harness.settle()
    assert len(alerts(harness)) == 1

    harness.clock.advance(minutes=5)
    await chat.say(SECRET_TEXT)
    await harness.services.outbox.drain()
    await harness.settle()
    assert len(alerts(harness)) == 2


async def test_json_logs_are_one_object_a_line(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    env = await real_bot_env(
        tmp_path, bot_api, mailbox, LOG_FORMAT="json", SMTP_PORT=str(closed_port())
    )
    _, stderr = await lines_until(env, "serveur d'e-mails", 1)
    entries = [json.loads(line) for line in stderr.strip().splitlines()]
    assert any("serveur d'e-mails" in entry["message"] for entry in entries)
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
