"""A staff broadcast to many recipients, through the real ``run_bot.py`` killed (SIGKILL) in the
middle and started again, against the local Bot API server enforcing Telegram's flood limits
(30 messages a second overall, 1 a second a chat: 429 with ``retry_after`` beyond).

    python bench/bench_broadcast.py [--recipients 10000] [--rate 25] [--kill-at 0.4]

Accounts are imported with cheap argon2id (this measures sending, not hashing) and linked to
Telegram users; one more user, not a recipient, types ``/aide`` every 1.2 s while the bot runs.
Prints the sending rate ÷ the configured rate (goal ≥ 0.95, over the time the bot was up),
the p95 of that user's reply time, the 429s answered, and the duplicates and losses across the
kill (a loss: a recipient who got nothing while the ledger does not say « incertain »).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.broadcast.worker import OPT_OUT_PREFIX
from bot.sandbox.bot_api_server import FloodLimits, LocalBotApi, SandboxUser
from bot.sandbox.mailbox import Mailbox
from bot.school import load_school_config
from bot.security import Argon2Params, KeyedHasher, SecretHasher, load_or_create_server_secret
from bot.settings import PROJECT_ROOT
from bot.staff.accounts_import import import_accounts
from storage.accounts import SqliteAccountDirectory
from storage.broadcasts import Audience, BroadcastRepository, Segment
from storage.db import Database

TOKEN = "123456789:AAE2eBenchTokenForTheLocalBotApiServer"
CHATTER = 10
FIRST_RECIPIENT = 1_000_000
CHEAP = Argon2Params(time_cost=1, memory_cost=1024, parallelism=1)


async def prepare(folder: Path, recipients: int) -> None:
    """Import and link ``recipients`` accounts."""
    path = folder / "accounts.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            ["identifiant", "mot_de_passe_provisoire", "profil", "prenom", "nom", "etablissement"]
        )
        for i in range(recipients):
            writer.writerow(
                [f"eleve.{i:05d}", "Xq7-Tb4k-Wpz", "eleve", f"Élève{i}", "Banc", "Lycée Banc"]
            )
    database = await Database.open(folder / "bot.sqlite3")
    try:
        await import_accounts(
            path,
            SqliteAccountDirectory(database),
            SecretHasher(CHEAP),
            KeyedHasher(load_or_create_server_secret(folder / "server.key")),
            datetime.now(UTC),
        )
    finally:
        await database.close()
    cgu = load_school_config(PROJECT_ROOT / "config" / "school.example.toml").cgu_version
    with contextlib.closing(sqlite3.connect(folder / "bot.sqlite3")) as connection:
        connection.executemany(
            "UPDATE accounts SET status = 'active', cgu_version = ?, telegram_user_id = ? "
            "WHERE identifiant = ?",
            [(cgu, FIRST_RECIPIENT + i, f"eleve.{i:05d}") for i in range(recipients)],
        )
        connection.commit()


async def chat(user: SandboxUser, running: asyncio.Event, times: list[float]) -> None:
    """Type /aide every 1.2 s while the bot runs; keep each reply's delay."""
    while True:
        await running.wait()
        started = time.monotonic()
        await user.send_text("/aide")
        with contextlib.suppress(AssertionError):
            await user.wait_for_message(timeout=10)
            if running.is_set():
                times.append(time.monotonic() - started)
        await asyncio.sleep(max(0.0, 1.2 - (time.monotonic() - started)))


def reminders_received(server: LocalBotApi, user_id: int) -> int:
    user = server.users[user_id]
    return sum(
        1
        for m in user.messages
        if m.from_bot
        and any(
            str(b.get("callback_data", "")).startswith(OPT_OUT_PREFIX)
            for row in m.buttons
            for b in row
        )
    )


async def main(recipients: int, rate: float, kill_at: float) -> None:
    server = LocalBotApi(TOKEN, bot_username="bench_bot")
    await server.start()
    server.enforce_limits(FloodLimits())
    mailbox = Mailbox()
    mailbox.start("127.0.0.1")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.monotonic()
        await prepare(folder, recipients)
        print(f"préparation : {recipients} comptes en {time.monotonic() - started:.1f} s")
        for i in range(recipients):
            server.user(FIRST_RECIPIENT + i, first_name=f"Élève{i}")
        chatter = server.user(CHATTER, first_name="Bavard")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_"))},
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": server.root_url,
            "DATABASE_PATH": str(folder / "bot.sqlite3"),
            "SERVER_SECRET_FILE": str(folder / "server.key"),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mailbox.port),
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_COST": "1024",
            "ARGON2_PARALLELISM": "1",
            "BROADCAST_RATE_PER_SECOND": str(rate),
            "LOG_LEVEL": "WARNING",
        }
        database = await Database.open(folder / "bot.sqlite3")
        repository = BroadcastRepository(database)
        number = await repository.create(
            Audience(segment=Segment.ACTIVES),
            "Bonjour {prenom}, un rappel.",
            "",
            "bench",
            datetime.now(UTC),
            send_now=True,
        )
        running = asyncio.Event()
        replies: list[float] = []
        chatter_task = asyncio.create_task(chat(chatter, running, replies))
        windows: list[tuple[float, float]] = []

        def sends() -> list[float]:
            return [
                e.at
                for e in server.events
                if e.method == "sendMessage"
                and e.outcome == "ok"
                and e.chat_id is not None
                and e.chat_id >= FIRST_RECIPIENT
            ]

        async def run_until(condition: object) -> tuple[float, float]:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "run_bot.py",
                cwd=PROJECT_ROOT,
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            before = len(sends())
            while len(sends()) == before:  # noqa: ASYNC110 (the bot is up and sending)
                await asyncio.sleep(0.01)
            running.set()
            first = sends()[before]
            while not condition():  # type: ignore[operator]  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            running.clear()
            last = sends()[-1]
            process.send_signal(signal.SIGKILL)
            await process.wait()
            return first, last

        kill_after = int(recipients * kill_at)
        windows.append(await run_until(lambda: len(sends()) >= kill_after))
        killed_at = len(sends())

        async def done() -> bool:
            stats = await repository.stats(number, datetime.now(UTC))
            return stats is not None and stats.state == "terminee"

        state = {"done": False}

        async def watch() -> None:
            while not await done():  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            state["done"] = True

        watcher = asyncio.create_task(watch())
        windows.append(await run_until(lambda: state["done"]))
        await watcher
        chatter_task.cancel()
        stats = await repository.stats(number, datetime.now(UTC))
        assert stats is not None
        rows = dict(
            (int(r[0]), r[1])
            for r in await database.fetch_all(
                "SELECT recipient, status FROM broadcast_deliveries WHERE campaign_id = ?",
                (number,),
            )
        )
        await database.close()
    mailbox.stop()
    await server.stop()

    received = {uid: reminders_received(server, uid) for uid in rows}
    duplicates = sum(1 for n in received.values() if n > 1)
    losses = sum(1 for uid, n in received.items() if n == 0 and rows[uid] != "uncertain")
    uncertain = [uid for uid, status in rows.items() if status == "uncertain"]
    landed = sum(1 for uid in uncertain if received[uid])
    total = len(sends())
    up = sum(last - first for first, last in windows)
    measured = (total - len(windows)) / up if up else 0.0
    print(f"destinataires : {recipients} ; envoyés avant le kill : {killed_at}")
    for i, (first, last) in enumerate(windows, 1):
        count = sum(1 for t in sends() if first <= t <= last)
        print(
            f"  run {i} : {count} messages en {last - first:.1f} s "
            f"= {(count - 1) / (last - first):.2f} msg/s"
        )
    print(
        f"débit : {measured:.2f} msg/s ÷ {rate:g} configurés = {measured / rate:.3f} "
        "(objectif ≥ 0.95)"
    )
    if replies:
        p95 = statistics.quantiles(replies, n=20)[-1] if len(replies) >= 20 else max(replies)
        print(
            f"réponses à l'utilisateur qui discute : {len(replies)}, médiane "
            f"{statistics.median(replies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
        )
    to_chatter = sum(1 for e in server.events if e.outcome == "429" and e.chat_id == CHATTER)
    print(
        f"429 répondus par le serveur (limites Telegram) : {server.flood_refusals}, "
        f"dont {to_chatter} à l'utilisateur qui discute"
    )
    print(
        f"campagne : envoyés {stats.sent}, incertains {stats.uncertain} "
        f"(dont arrivés : {landed}), échecs {stats.failed}, bloqués {stats.blocked}, "
        f"en attente {stats.pending}"
    )
    print(f"doublons : {duplicates} ; pertes : {losses}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--kill-at", type=float, default=0.4)
    args = parser.parse_args()
    asyncio.run(main(args.recipients, args.rate, args.kill_at))
