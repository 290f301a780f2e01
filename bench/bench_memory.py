"""The bot's memory with 100,000 accounts and 10,000 open conversations.

    python bench/bench_memory.py [--accounts 100000] [--users 10000] [--at-once 200]

The accounts and the open conversations (sessions at the provisional password) are written
straight into the database; then the real bot runs in its own process (bench_load.py's
``--serve`` mode, against the local Bot API server) and every one of the ``--users`` users
sends /start and waits for the answer, ``--at-once`` of them at a time. Prints the bot's
resident memory (now and at its highest, from /proc) and the size of python-telegram-bot's
user and chat id sets, which grew by one entry a user before issue 15.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_load import (  # type: ignore[import-not-found]
    CHEAP,
    TOKEN,
    Recorder,
    Users,
    bench_overrides,
    seed_accounts,
)

from bot.sandbox.bot_api_server import LocalBotApi
from bot.sandbox.mailbox import Mailbox
from bot.settings import Settings
from storage.db import Database, to_db_time


async def open_sessions(settings: Settings, names: list[str], count: int) -> None:
    """``count`` sessions at the provisional password (Telegram users 1…count)."""
    database = await Database.open(settings.database_path)
    from datetime import UTC, datetime

    stamp = to_db_time(datetime.now(UTC))
    async with database.transaction() as connection:
        await connection.executemany(
            "INSERT INTO conversation_sessions (telegram_user_id, chat_id, flow, step, "
            "started_at, updated_at, prompt_nonce, identifiant_key, candidate_account_id) "
            "VALUES (?, ?, 'activation', 'mot_de_passe_provisoire', ?, ?, 'abcdef', ?, ?)",
            [(n, n, stamp, stamp, f"key-{names[n % len(names)]}", n) for n in range(1, count + 1)],
        )
    await database.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--at-once", type=int, default=200)
    args = parser.parse_args()
    load = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    server = LocalBotApi(bot_token=TOKEN, bot_username="bench_bot", bot_first_name="Bench")
    await server.start(host="127.0.0.1", port=0)
    mailbox = Mailbox()
    mailbox.start("127.0.0.1")
    overrides = bench_overrides(folder, server, mailbox, CHEAP)
    settings = Settings(_env_file=None, **overrides)  # type: ignore[call-arg]
    names = await seed_accounts(settings, args.accounts, CHEAP)
    await open_sessions(settings, names, args.users)
    config, stats, ready = folder / "serve.json", folder / "stats.json", folder / "ready"
    config.write_text(
        json.dumps({"settings": overrides, "stats": str(stats), "ready": str(ready)}),
        encoding="utf-8",
    )
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).resolve().parent / "bench_load.py"),
        "--serve",
        str(config),
    )
    recorder = Recorder()
    recorder.start_at, recorder.end_at = 0.0, float("inf")
    users = Users(server, mailbox, recorder)
    start = time.perf_counter()
    try:
        while not ready.exists():
            if bot.returncode is not None:
                raise SystemExit("the bot's process died at start")
            await asyncio.sleep(0.1)
        gate = asyncio.Semaphore(args.at_once)

        async def one(n: int) -> None:
            user = server.user(n, first_name="Mem")
            async with gate:
                await users.turn(
                    user,
                    "start",
                    lambda: user.send_text("/start"),
                    ("démarche en cours", "Bonjour"),
                    60,
                )
            user.messages.clear()  # the bench's memory is not the bot's

        await asyncio.gather(*(one(n) for n in range(1, args.users + 1)))
        os.kill(bot.pid, signal.SIGUSR2)
        for _ in range(100):
            if stats.exists():
                break
            await asyncio.sleep(0.05)
    finally:
        if bot.returncode is None:
            bot.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(bot.wait(), 30)
            except TimeoutError:
                bot.kill()
        mailbox.stop()
        await server.stop()
    figures = json.loads(stats.read_text(encoding="utf-8"))
    elapsed = time.perf_counter() - start
    print(
        f"bench_memory: {args.accounts:,} accounts, {args.users:,} open conversations, each of "
        f"their users sent /start ({elapsed:.0f} s, load {load[0]:.2f})"
    )
    mib = 1024 * 1024
    print(
        f"bot's resident memory: {figures.get('VmRSS', 0) / mib:.1f} MiB now, "
        f"{figures.get('VmHWM', 0) / mib:.1f} MiB at its highest"
    )
    print(
        f"python-telegram-bot's persistence id sets: {figures['ptb_sets']:,} entries; "
        f"user_data + chat_data: {figures['ptb_data']:,}"
    )
    if recorder.failures:
        print(f"/start without an answer: {dict(recorder.failures)}")


if __name__ == "__main__":
    asyncio.run(main())
