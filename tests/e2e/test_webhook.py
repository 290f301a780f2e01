"""Webhook mode (issue 16): the real Application receives its updates by HTTP POST from the
local Bot API server (setWebhook with allowed_updates and the secret token, getUpdates refused
meanwhile), a request without the secret is refused, and an activation walks through to
« Compte activé » with the e-mail proof (real SMTP server); updates sent while the bot is
stopped wait and are delivered at the next start."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from pydantic import SecretStr
from test_startup_refusals import closed_port

from bot.ops.webhook import ALLOWED_UPDATES, SECRET_HEADER, WEBHOOK_KEY, WebhookReceiver
from bot.sandbox.bot_api_server import LocalBotApi
from bot.sandbox.mailbox import Mailbox
from bot.texts import ops as ops_texts
from storage.accounts import AccountStatus

from chat import Chat
from conftest import BotHarness, harness_settings, last_code
from support import GOOD_PASSWORD, MutableClock

SECRET = "webhook-secret_0123456789"


@pytest_asyncio.fixture
async def webhook_harness(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox, clock: MutableClock
) -> AsyncIterator[BotHarness]:
    port = closed_port()
    settings = harness_settings(tmp_path, bot_api, mailbox.port).model_copy(
        update={
            "webhook_url": f"http://127.0.0.1:{port}/telegram/hook",
            "webhook_listen": "127.0.0.1",
            "webhook_port": port,
            "webhook_secret_token": SecretStr(SECRET),
        }
    )
    harness = BotHarness(bot_api, settings, clock, mailbox, tmp_path)
    await harness.import_accounts()
    await harness.start()
    yield harness
    await harness.stop()


async def test_a_walk_in_webhook_mode(webhook_harness: BotHarness) -> None:
    harness = webhook_harness
    server = harness.server
    assert server.webhook_url == harness.settings.webhook_url
    assert server.webhook_secret == SECRET
    assert server.webhook_allowed_updates == list(ALLOWED_UPDATES)

    chat = Chat(harness, 5501, "Léa")
    assert "Qui êtes-vous" in (await chat.say("/start")).text
    await chat.say("/activer")
    await chat.say_secret("lea.martin")
    assert "Acceptez-vous" in (await chat.say_secret("Xq7-Tb4k-Wpz")).text
    assert "Étape 3" in (await chat.press("J'accepte")).text
    await chat.press("e-mail")
    confirm = await chat.say("lea@example.org")
    assert "lea@example.org" in confirm.text
    mail = await harness.mailbox.wait_for(1)  # through the real SMTP server (aiosmtpd)
    assert mail.recipients == ("lea@example.org",)
    await chat.say_secret(last_code(harness.mailbox))
    assert "Adresse e-mail confirmée" in (await chat.last()).text
    await chat.say_secret(GOOD_PASSWORD)
    done = await chat.say_secret(GOOD_PASSWORD)
    assert "Compte activé" in done.text and "lea.martin" in done.text
    account = await harness.services.activation.ports.directory.find("lea.martin")
    assert account.status == AccountStatus.ACTIVE and account.telegram_user_id == 5501
    # Every update came by webhook: the bot never polled.
    assert harness.app is not None and harness.app.updater is not None
    assert not harness.app.updater.running
    await harness.settle()

    # Updates sent while the bot is stopped wait at the server, and come at the next start.
    await harness.stop()
    answers = sum(1 for m in chat.user.messages if m.from_bot)
    await chat.user.send_text("/aide")
    assert server.unconfirmed_updates() == 1
    await harness.start()
    await harness.settle()
    assert server.unconfirmed_updates() == 0
    assert sum(1 for m in chat.user.messages if m.from_bot) > answers


async def test_a_request_without_the_secret_token_is_refused(
    webhook_harness: BotHarness,
) -> None:
    url = webhook_harness.settings.webhook_url
    assert url is not None
    update = {
        "update_id": 999999,
        "message": {
            "message_id": 1,
            "date": 0,
            "text": "/start",
            "chat": {"id": 5502, "type": "private"},
            "from": {"id": 5502, "is_bot": False, "first_name": "Intrus"},
        },
    }
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {SECRET_HEADER: "wrong"}):
            async with session.post(url, json=update, headers=headers) as response:
                assert response.status == 403
        async with session.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 200


MALFORMED_BODIES = [
    b"[]",
    b"{}",
    b"null",
    b"\xff\xfe",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"update_id": 1, "message": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001,
    b'{"update_id": "1"}',
    b'{"update_id": 7, "message": "x"}',
    b'{"update_id": 8, "message": {"chat": []}}',
]


async def test_a_malformed_body_with_the_right_token_is_a_400_in_one_line(
    webhook_harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """A JSON list, ``{}``, deep nesting or fields of the wrong type: 400, never a 500 and a
    traceback; the bot goes on answering."""
    url = webhook_harness.settings.webhook_url
    assert url is not None
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as session:
        for body in MALFORMED_BODIES:
            async with session.post(url, data=body, headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 400, body[:40]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    refused = [r for r in caplog.records if "webhook" in r.getMessage()]
    assert len(refused) == 1, [r.getMessage() for r in refused]
    chat = Chat(webhook_harness, 5503, "Léa")
    assert "Qui êtes-vous" in (await chat.say("/start")).text


async def test_a_flood_of_refused_requests_is_one_log_line_a_minute(
    webhook_harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """2,000 requests with a wrong token: 403 each, but one log line (the first), then one
    line that counts the rest once the minute is over, not one line a request."""
    url = webhook_harness.settings.webhook_url
    assert url is not None
    assert webhook_harness.app is not None
    receiver: WebhookReceiver = webhook_harness.app.bot_data[WEBHOOK_KEY]
    now = [1000.0]
    receiver._refused_token.monotonic = lambda: now[0]
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as session:

        async def refused() -> None:
            async with session.post(url, data=b"{}", headers={SECRET_HEADER: "x"}) as response:
                assert response.status == 403

        for _ in range(20):
            await asyncio.gather(*(refused() for _ in range(100)))
        lines = [r.getMessage() for r in caplog.records if "webhook" in r.getMessage()]
        assert lines == [ops_texts.WEBHOOK_REFUSED_TOKEN]
        now[0] += 61
        await refused()
    lines = [r.getMessage() for r in caplog.records if "webhook" in r.getMessage()]
    assert lines[1:] == [ops_texts.log_burst(ops_texts.WEBHOOK_REFUSED_TOKEN, 1999, 61)]
    assert all(SECRET not in r.getMessage() for r in caplog.records)
