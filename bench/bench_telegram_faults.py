"""The bot under Telegram's failures: the real Application against the local Bot API server.

    python bench/bench_telegram_faults.py [--users 20] [--retry-after 5] [--compare]

Prints three figures:

- 429: another chat's reply time while one chat waits out a 429 (``retry_after`` seconds);
- flood: another chat's reply time while one chat sends 50 updates at once (4 update slots, as in
  issue 9's measure);
- faults: user actions left without a reply when about 20 % of the Bot API calls fail
  (429, 5xx, answers slower than the bot's timeout), each user doing /start then a profile button;
- start-ups: how many of 30 start-ups die under the same faults.

``--compare`` runs them first with what the bot had before (python-telegram-bot's
``AIORateLimiter`` with retries; the chat lock taken inside PTB's global slot).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram.ext import AIORateLimiter, Application, BaseUpdateProcessor

from bot import texts
from bot.app import build_application, start_bot, stop_bot
from bot.cli import quiet_noisy_loggers
from bot.sandbox.bot_api_server import ApiEvent, Fault, LocalBotApi
from bot.settings import Settings
from bot.telegram_api.concurrency import _chat_id
from bot.telegram_api.limiter import StartupRetry

TOKEN = "123456789:AAE2eBenchTokenForTheLocalBotApiServer"
ANSWERS = ("sendMessage", "editMessageText", "editMessageReplyMarkup")


class SlotThenLock(BaseUpdateProcessor):
    """The update processor before issue 9: the chat lock taken inside PTB's global slot."""

    def __init__(self, slots: int) -> None:
        super().__init__(slots)
        self._locks: dict[int, asyncio.Lock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat_id = _chat_id(update)
        if chat_id is None:
            await coroutine
            return
        async with self._locks.setdefault(chat_id, asyncio.Lock()):
            await coroutine

    async def initialize(self) -> None:
        """Nothing."""

    async def shutdown(self) -> None:
        """Nothing."""


class Bench:
    """One bot and its local Bot API server in a temporary folder."""

    def __init__(self, folder: Path, name: str, **overrides: Any) -> None:
        self.folder = folder / name
        self.overrides = overrides
        self.server = LocalBotApi(bot_token=TOKEN, bot_username="bench_bot")
        self.app: Application | None = None

    async def start(self, *, old: bool = False, faults: float = 0.0) -> None:
        await self.server.start()
        if faults:
            seed = sum(map(ord, self.folder.name))
            self.server.inject_random(faults, retry_after=1, delay=1.0, seed=seed)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_bot_token=TOKEN,
            telegram_api_url=self.server.root_url,
            database_path=self.folder / "bot.sqlite3",
            server_secret_file=self.folder / "server.key",
            smtp_host="127.0.0.1",
            smtp_port=9,
            log_level="WARNING",
            **self.overrides,
        )
        self.app = build_application(settings)
        if old:  # what the bot had before (bench only: private attributes)
            self.app.bot._rate_limiter = AIORateLimiter(max_retries=3)
            self.app._update_processor = SlotThenLock(settings.concurrent_updates)
        if not old:
            await start_bot(self.app, poll_timeout=1, startup_retry=StartupRetry(0.2, 1.0))
            return
        # start_bot before issue 9: one try of getMe and of deleteWebhook
        await self.app.initialize()
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(poll_interval=0.0, timeout=1)

    async def stop(self) -> None:
        if self.app is not None:
            await stop_bot(self.app)
        await self.server.stop()

    def mark(self) -> int:
        return self.server.events[-1].seq if self.server.events else 0

    async def answer(self, chat_id: int, after: int, timeout: float = 60) -> ApiEvent:
        """The first message sent or edited in ``chat_id`` after event ``after``."""
        return await self.server.wait_for_event(
            lambda e: (
                e.seq > after and e.chat_id == chat_id and e.method in ANSWERS and e.outcome == "ok"
            ),
            timeout,
        )

    async def reply_time(self, chat_id: int, text: str = "/start") -> float:
        """Seconds from the user's message to the bot's first answer (server's clock)."""
        mark = self.mark()
        sent = time.monotonic()
        await self.server.user(chat_id).send_text(text)
        return (await self.answer(chat_id, mark)).at - sent


async def figure_429(folder: Path, retry_after: int, old: bool) -> str:
    bench = Bench(folder, f"429-{old}")
    await bench.start(old=old)
    try:
        normal = statistics.median([await bench.reply_time(100 + n) for n in range(5)])
        bench.server.inject(
            Fault(
                "retry_after",
                chat_id=1,
                methods=frozenset({"sendmessage"}),
                retry_after=retry_after,
            )
        )
        mark = bench.mark()
        started = time.monotonic()
        await bench.server.user(1).send_text("/start")
        await bench.server.wait_for_event(lambda e: e.seq > mark and e.outcome == "429")
        other = await bench.reply_time(2)
        throttled = (await bench.answer(1, mark)).at - started
    finally:
        await bench.stop()
    return (
        f"429 ({'before' if old else 'now'}): other chat's reply {other * 1000:.0f} ms while "
        f"one chat waits out retry_after={retry_after} s (normal reply {normal * 1000:.0f} ms; "
        f"the throttled chat was answered after {throttled:.1f} s)"
    )


async def figure_flood(folder: Path, old: bool, count: int = 50) -> str:
    bench = Bench(folder, f"flood-{old}", concurrent_updates=4)
    await bench.start(old=old)
    try:
        normal = statistics.median([await bench.reply_time(100 + n) for n in range(5)])
        mark = bench.mark()
        started = time.monotonic()
        flooder = bench.server.user(1)
        for _ in range(count):
            await flooder.send_text("/aide")
        other = await bench.reply_time(2)
        await bench.server.wait_for_event(
            lambda e: e.seq > mark and len(bench.server.events_of(1, "sendMessage")) >= count,
            120,
        )
        flood_done = time.monotonic() - started
    finally:
        await bench.stop()
    return (
        f"flood ({'before' if old else 'now'}): other chat's reply {other * 1000:.0f} ms while "
        f"one chat sends {count} updates at once, 4 slots (normal reply {normal * 1000:.0f} ms; "
        f"the flood took {flood_done:.1f} s)"
    )


async def figure_faults(folder: Path, users: int, rate: float, old: bool) -> str:
    bench = Bench(folder, f"faults-{old}", telegram_timeout_seconds=0.5)
    await bench.start(old=old)
    missing: list[str] = []
    stuck: list[int] = []
    try:
        bench.server.inject_random(rate, retry_after=1, delay=1.0, seed=1)

        async def walk(chat_id: int) -> None:
            user = bench.server.user(chat_id, first_name=f"U{chat_id}")
            for action in ("/start", texts.BUTTON_PROFILES["apprenti"]):
                mark = bench.mark()
                if action.startswith("/"):
                    await user.send_text(action)
                else:
                    try:
                        await user.press(action)
                    except AssertionError:  # the last answer was an error, not the profiles
                        stuck.append(chat_id)
                        return
                try:
                    await bench.answer(chat_id, mark, timeout=30)
                except AssertionError:
                    missing.append(f"{chat_id} {action}")
                    return

        started = time.monotonic()
        await asyncio.gather(*(walk(1000 + n) for n in range(users)))
        elapsed = time.monotonic() - started
        calls = [e for e in bench.server.events if e.method != "getMe"]
        faults = [e for e in calls if e.fault]
        errors = sum(
            1
            for user in bench.server.users.values()
            for m in user.messages
            if m.from_bot and m.text == texts.TECHNICAL_ERROR
        )
    finally:
        await bench.stop()
    return (
        f"faults ({'before' if old else 'now'}): {len(missing)} of {users * 2} user actions "
        f"without a reply, {len(stuck)} users left without the profile buttons, under "
        f"{len(faults)} injected faults in {len(calls)} Bot API calls "
        f"({len(faults) / max(len(calls), 1):.0%}); {errors} « erreur technique » answers; "
        f"{elapsed:.1f} s for {users} users"
    )


async def figure_startups(folder: Path, rate: float, old: bool, count: int = 30) -> str:
    died = 0
    for n in range(count):
        bench = Bench(folder, f"start-{old}-{n}", telegram_timeout_seconds=0.5)
        try:
            await bench.start(old=old, faults=rate)
        except Exception:
            died += 1
        finally:
            bench.server.clear_faults()
            await bench.stop()
    when = "before" if old else "now"
    return f"start-ups ({when}): {died} of {count} died under {rate:.0%} injected faults"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--retry-after", type=int, default=5)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    quiet_noisy_loggers()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for old in [True, False] if args.compare else [False]:
            print(await figure_429(folder, args.retry_after, old), flush=True)
            print(await figure_flood(folder, old), flush=True)
            print(await figure_faults(folder, args.users, args.rate, old), flush=True)
            print(await figure_startups(folder, args.rate, old), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
