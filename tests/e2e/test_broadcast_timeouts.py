"""Exactly once under Bot API timeouts (issue 29.1): Telegram delivers a message but answers after
the bot's read timeout (the local Bot API server's ``late`` fault). The bot cannot know whether
it left: the broadcast row is « incertain » and never sent again, exactly as after a ``kill -9``;
an answer that proves the message did not leave (a 5xx) is still retried. The outbox's Telegram
items follow the same rule."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from test_broadcast import EXTRA, campaign, finished, link, reminders

from bot.cli import quiet_noisy_loggers
from bot.sandbox.bot_api_server import Fault, LocalBotApi
from bot.sandbox.mailbox import Mailbox
from storage.outbox import OutboxStatus

from conftest import BotHarness, _ListHandler, harness_settings
from support import ACCOUNTS, MutableClock

SEND = frozenset({"sendmessage"})


@pytest_asyncio.fixture
async def slow_telegram(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox, clock: MutableClock
) -> AsyncIterator[BotHarness]:
    """A running bot whose Bot API read timeout (0.5 s) is shorter than a late answer (1 s)."""
    settings = harness_settings(tmp_path, bot_api, mailbox.port).model_copy(
        update={
            "telegram_timeout_seconds": 0.5,
            "broadcast_poll_seconds": 0.2,
            "broadcast_retry_first_seconds": 0.05,
        }
    )
    harness = BotHarness(bot_api, settings, clock, mailbox, tmp_path)
    handler = _ListHandler(harness.log_records)
    root = logging.getLogger()
    root.addHandler(handler)
    quiet_noisy_loggers()
    await harness.import_accounts(ACCOUNTS + EXTRA)
    await harness.start()
    yield harness
    bot_api.clear_faults()
    await harness.stop()
    root.removeHandler(handler)


async def test_a_late_answer_is_uncertain_never_sent_twice(
    slow_telegram: BotHarness, bot_api: LocalBotApi
) -> None:
    harness = slow_telegram
    users = {identifiant: 9000 + n for n, (identifiant, *_) in enumerate(EXTRA[:30])}
    await link(harness.settings.database_path, users)
    chats = sorted(users.values())
    for chat_id in chats:
        bot_api.user(chat_id)  # they once wrote to the bot
    late, refused = chats[:6], chats[6:9]
    for chat_id in late:  # delivered, answered after the bot gave up waiting
        bot_api.inject(Fault("late", chat_id=chat_id, methods=SEND, delay=1.0))
    for chat_id in refused:  # a 5xx: Telegram says it did not send it
        bot_api.inject(Fault("server_error", chat_id=chat_id, methods=SEND, status=502))

    repository = harness.services.broadcast.repository
    stats = await finished(repository, await campaign(harness, "Rappel unique {prenom}"), 60)

    for chat_id in chats:
        assert len(reminders(bot_api.user(chat_id))) == 1, f"chat {chat_id}"
    assert (stats.sent, stats.uncertain, stats.failed, stats.pending) == (24, 6, 0, 0)
    for chat_id in late:  # one call only: never sent again
        assert [e.outcome for e in bot_api.events_of(chat_id, "sendMessage")] == ["ok"]
    for chat_id in refused:  # proven not sent: sent again
        outcomes = [e.outcome for e in bot_api.events_of(chat_id, "sendMessage")]
        assert outcomes == ["502", "ok"]
    rows = await harness.services.database.fetch_all(
        "SELECT last_error FROM broadcast_deliveries WHERE status = 'uncertain'"
    )
    assert {row[0] for row in rows} == {"TimedOut"}


async def test_an_outbox_message_answered_late_is_not_sent_again(
    slow_telegram: BotHarness, bot_api: LocalBotApi
) -> None:
    harness = slow_telegram
    staff = bot_api.user(9900)
    bot_api.inject(Fault("late", chat_id=9900, methods=SEND, delay=1.0))
    outbox = harness.services.outbox
    await outbox.tell_staff([9900], "Avis à l'équipe")
    await bot_api.wait_until(lambda: bool(staff.messages))
    await outbox.drain()
    await harness.settle()
    row = await harness.services.database.fetch_one(
        "SELECT status, last_error FROM outbox WHERE template = 'staff_notice'"
    )
    assert row is not None
    assert (row[0], row[1]) == (OutboxStatus.GIVEN_UP.value, "Incertain:TimedOut")
    assert [m.text for m in staff.messages] == ["Avis à l'équipe"]
    assert [e.outcome for e in bot_api.events_of(9900, "sendMessage")] == ["ok"]
