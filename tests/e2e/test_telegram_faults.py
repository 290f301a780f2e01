"""The bot under Telegram's failures, end to end: 429 on one chat, a flood from one chat, random
429 / 5xx / timeouts, a start-up while Telegram fails. The local Bot API server plays the faults
and records every call; assertions are on the order of its records, never on wall-clock time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.app import build_application, start_bot
from bot.cli import quiet_noisy_loggers
from bot.sandbox.bot_api_server import ApiEvent, Fault, LocalBotApi
from bot.sandbox.mailbox import Mailbox
from bot.telegram_api.limiter import BACKGROUND, StartupRetry

from chat import Chat
from conftest import BOT_TOKEN, BotHarness, harness_settings
from support import MutableClock
from test_kill_restart import BotProcess, bot_process, turn  # noqa: F401 (a fixture)

ANSWERS = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPhoto")

MakeHarness = Callable[..., Awaitable[BotHarness]]


@pytest_asyncio.fixture
async def make_harness(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox, clock: MutableClock
) -> AsyncIterator[MakeHarness]:
    """A harness with setting overrides, accounts imported, not started."""
    made: list[BotHarness] = []

    async def make(**overrides: Any) -> BotHarness:
        settings = harness_settings(tmp_path, bot_api, mailbox.port).model_copy(update=overrides)
        harness = BotHarness(bot_api, settings, clock, mailbox, tmp_path)
        await harness.import_accounts()
        made.append(harness)
        return harness

    yield make
    bot_api.clear_faults()
    for harness in made:
        await harness.stop()


def answer_of(server: LocalBotApi, chat_id: int, after: int) -> Callable[[ApiEvent], bool]:
    """Matches a message sent or edited in ``chat_id`` after the event number ``after``."""
    return lambda e: (
        e.seq > after and e.chat_id == chat_id and e.method in ANSWERS and e.outcome == "ok"
    )


def last_seq(server: LocalBotApi) -> int:
    return server.events[-1].seq if server.events else 0


async def test_a_429_on_one_chat_does_not_hold_the_replies_to_another(
    make_harness: MakeHarness,
) -> None:
    harness = await make_harness()
    await harness.start()
    server = harness.server
    throttled, other = Chat(harness, 3001), Chat(harness, 3002)
    server.inject(
        Fault(
            "retry_after",
            chat_id=throttled.user_id,
            methods=frozenset({"sendmessage"}),
            retry_after=3,
        )
    )
    mark = last_seq(server)
    await throttled.send("/start")
    too_many = await server.wait_for_event(
        lambda e: e.seq > mark and e.chat_id == throttled.user_id and e.outcome == "429"
    )
    await other.send("/start")
    other_reply = await server.wait_for_event(answer_of(server, other.user_id, too_many.seq))
    retried = await server.wait_for_event(answer_of(server, throttled.user_id, too_many.seq))

    # The other chat was answered inside the throttled chat's retry_after window...
    assert too_many.seq < other_reply.seq < retried.seq
    # ...and the throttled chat waited its retry_after out (server's clock), once.
    assert retried.at - too_many.at >= 3
    assert len([e for e in server.events_of(throttled.user_id) if e.outcome == "429"]) == 1
    assert "Qui êtes-vous" in (await throttled.last()).text
    assert "Qui êtes-vous" in (await other.last()).text


async def test_a_flood_from_one_chat_does_not_delay_another(make_harness: MakeHarness) -> None:
    # Few slots, as in the measure (4): the flood must not take them all.
    harness = await make_harness(concurrent_updates=4)
    await harness.start()
    server = harness.server
    flood, other = Chat(harness, 3101), Chat(harness, 3102)
    mark = last_seq(server)
    for _ in range(50):
        await flood.send("/aide")
    await other.send("/start")
    other_reply = await server.wait_for_event(answer_of(server, other.user_id, mark), timeout=30)
    await harness.settle(timeout=60)

    flood_replies = [e for e in server.events_of(flood.user_id, "sendMessage") if e.seq > mark]
    assert len(flood_replies) >= 50, "every update of the flood is handled (none dropped)"
    # The other chat's reply came before the flood was half done.
    assert other_reply.seq < flood_replies[24].seq


async def test_background_messages_never_delay_a_reply(make_harness: MakeHarness) -> None:
    harness = await make_harness()
    app = await harness.start()
    server = harness.server
    recipients = [server.user(3400 + n) for n in range(60)]
    user = Chat(harness, 3399)
    mark = last_seq(server)
    broadcast = [
        asyncio.create_task(app.bot.send_message(r.id, "Rappel", rate_limit_args=BACKGROUND))
        for r in recipients
    ]
    await server.wait_for_event(lambda e: e.seq > mark and e.chat_id in range(3400, 3460))
    await user.send("/start")
    reply = await server.wait_for_event(answer_of(server, user.user_id, mark))
    await asyncio.gather(*broadcast)
    sent = [e for e in server.events if e.seq > mark and e.chat_id in range(3400, 3460)]
    assert len(sent) == 60 and all(e.outcome == "ok" for e in sent)
    # The reply did not queue behind the broadcast, which the global budget spreads out.
    assert reply.seq < sent[-1].seq
    assert "Qui êtes-vous" in (await user.last()).text


async def test_under_random_faults_every_action_gets_a_reply(make_harness: MakeHarness) -> None:
    # A short read timeout so that slow answers (1 s) are timeouts for the bot.
    harness = await make_harness(telegram_timeout_seconds=0.5)
    await harness.start()
    server = harness.server
    server.inject_random(0.2, retry_after=1, delay=1.0, seed=9)
    chats = [Chat(harness, 3200 + n, first_name=f"U{n}") for n in range(4)]

    async def walk(chat: Chat) -> list[str]:
        missing = []
        for action in ("/start", "Apprenti"):
            mark = last_seq(server)
            if action.startswith("/"):
                await chat.send(action)
            else:
                await chat.user.press(action)
            try:
                await server.wait_for_event(answer_of(server, chat.user_id, mark), timeout=40)
            except AssertionError:
                missing.append(f"{chat.user_id} {action}")
        return missing

    results = await asyncio.gather(*(walk(chat) for chat in chats))
    faults = [e for e in server.events if e.fault is not None]
    server.clear_faults()
    await harness.settle(timeout=60)
    assert [m for missing in results for m in missing] == [], "an action got no reply"
    assert faults, "faults were injected"


async def test_start_up_waits_for_telegram_instead_of_dying(
    make_harness: MakeHarness, caplog: pytest.LogCaptureFixture
) -> None:
    harness = await make_harness()
    server = harness.server
    # More failures than one call's retries: the start-up itself must try again.
    server.inject(Fault("server_error", methods=frozenset({"getme"}), times=6))
    server.inject(Fault("server_error", methods=frozenset({"deletewebhook"}), times=6))
    caplog.set_level(logging.INFO)
    quiet_noisy_loggers()  # as run_bot.py does: httpx logs URLs, which hold the token
    harness.app = build_application(harness.settings, clock=harness.clock)
    await start_bot(
        harness.app, poll_timeout=1, startup_retry=StartupRetry(first=0.05, longest=0.1)
    )

    get_me = server.events_of(method="getMe")
    assert [e.outcome for e in get_me[:6]] == ["500"] * 6 and get_me[6].outcome == "ok"
    assert [e.outcome for e in server.events_of(method="deleteWebhook")][-1] == "ok"
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Démarrage")]
    assert any("getMe" in line for line in retries)
    assert any("deleteWebhook" in line for line in retries)
    secret = BOT_TOKEN.split(":", 1)[1]
    assert all(secret not in r.getMessage() for r in caplog.records)
    chat = Chat(harness, 3301)
    assert "Qui êtes-vous" in (await chat.say("/start")).text


@pytest_asyncio.fixture
async def telegram_down(bot_api: LocalBotApi) -> AsyncIterator[LocalBotApi]:
    """Every getMe fails until the test clears the faults (set up before the process)."""
    bot_api.inject(Fault("server_error", methods=frozenset({"getme"}), times=None))
    yield bot_api
    bot_api.clear_faults()


async def wait_for_get_me_tries(server: LocalBotApi, count: int) -> None:
    await server.wait_for_event(
        lambda e: len(server.events_of(method="getMe")) >= count, timeout=60
    )


async def test_run_bot_waits_for_telegram_then_serves(
    telegram_down: LocalBotApi,
    bot_process: BotProcess,  # noqa: F811 (the fixture)
) -> None:
    server = telegram_down
    # More tries than one call's retries (5): the start-up itself has tried again.
    await wait_for_get_me_tries(server, 7)
    assert bot_process.process is not None and bot_process.process.returncode is None
    server.clear_faults()
    user = server.user(4343)
    await turn(user, user.send_text("/start"), "Qui êtes-vous")
    stderr = (await bot_process.stop()).decode()
    assert bot_process.process.returncode == 0
    assert "Démarrage : la vérification du jeton auprès de Telegram (getMe) a échoué" in stderr
    assert BOT_TOKEN.split(":", 1)[1] not in stderr


async def test_run_bot_stops_cleanly_on_sigterm_while_telegram_is_down(
    telegram_down: LocalBotApi,
    bot_process: BotProcess,  # noqa: F811 (the fixture)
) -> None:
    await wait_for_get_me_tries(telegram_down, 6)
    stderr = (await bot_process.stop()).decode()
    assert bot_process.process is not None and bot_process.process.returncode == 0
    assert "Démarrage" in stderr and "Traceback" not in stderr
