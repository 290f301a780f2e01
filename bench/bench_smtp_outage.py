"""E-mails through an SMTP outage: the real bot (production factory and default outbox settings),
the local Bot API server over HTTP, a real aiosmtpd and a real SQLite file.

    python bench/bench_smtp_outage.py [--outage 300] [--users 10]

The SMTP server is stopped, ``--users`` users ask for their activation e-mail during the outage
(half at its start, half at its middle), then the server comes back on the same port. Prints what
each user read, the e-mails lost, and each e-mail's delay after the server's return.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import build_application, start_bot, stop_bot
from bot.cli import configure_logging
from bot.sandbox.bot_api_server import LocalBotApi, SandboxUser
from bot.sandbox.mailbox import Mailbox
from bot.security import KeyedHasher, SecretHasher, load_or_create_server_secret
from bot.settings import PROJECT_ROOT, Settings
from bot.staff.accounts_import import import_accounts
from storage.accounts import SqliteAccountDirectory
from storage.db import Database

TOKEN = "123456789:AAE2eBenchTokenForTheLocalBotApiServer"
QUEUED = "partira dans quelques instants"
SENT = "C'est envoyé"


async def turn(user: SandboxUser, action: object, expect: tuple[str, ...]) -> str:
    """Do ``action``; wait for a bot message containing one of ``expect``; return its text."""
    seen = sum(1 for m in user.messages if m.from_bot)
    await action  # type: ignore[misc]
    for _ in range(1200):
        for message in [m for m in user.messages if m.from_bot][seen:]:
            if any(word in message.text for word in expect):
                return message.text
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {expect!r}:\n{user.transcript()}")


async def ask_for_mail(user: SandboxUser, identifiant: str, password: str) -> str:
    """Activation up to the address (sent at once); the text the user read after it."""
    await turn(user, user.send_text("/activer"), ("identifiant",))
    await turn(user, user.send_text(identifiant), ("provisoire",))
    await turn(user, user.send_text(password), ("Acceptez-vous",))
    await turn(user, user.press("J'accepte"), ("Étape 3",))
    await turn(user, user.press("e-mail"), ("adresse e-mail personnelle",))
    return await turn(
        user, user.send_text(f"{identifiant}@example.org"), (QUEUED, SENT, "pas pu partir")
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outage", type=float, default=300, help="seconds without SMTP")
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    configure_logging("WARNING")
    folder = Path(tempfile.mkdtemp(prefix="bench-outage-"))
    server = LocalBotApi(bot_token=TOKEN, bot_username="bench_bot", bot_first_name="Bench")
    await server.start(host="127.0.0.1", port=0)
    mailbox = Mailbox()
    mailbox.start("127.0.0.1")
    port = mailbox.port
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,
        telegram_api_url=server.root_url,
        database_path=folder / "bot.sqlite3",
        server_secret_file=folder / "server.key",
        school_config=PROJECT_ROOT / "tests" / "data" / "school.toml",
        smtp_host="127.0.0.1",
        smtp_port=port,
        argon2_time_cost=1,
        argon2_memory_cost=1024,
        argon2_parallelism=1,
    )
    accounts = [(f"user{n:03d}", f"Prov-{n:03d}-Xk9") for n in range(args.users)]
    csv_path = folder / "accounts.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            ["identifiant", "mot_de_passe_provisoire", "profil", "prenom", "nom", "etablissement"]
        )
        for identifiant, password in accounts:
            writer.writerow([identifiant, password, "apprenti", "Bench", "User", "Lycée"])
    database = await Database.open(settings.database_path)
    await import_accounts(
        csv_path,
        SqliteAccountDirectory(database),
        SecretHasher(settings.argon2),
        KeyedHasher(load_or_create_server_secret(settings.server_secret_file)),
        datetime.now(UTC),
    )
    await database.close()
    application = build_application(settings)
    await start_bot(application, poll_timeout=1)
    print(
        f"outbox: retry after {settings.outbox_retry_first_seconds:g} s doubling up to "
        f"{settings.outbox_retry_max_seconds:g} s; the answer waits "
        f"{settings.outbox_reply_wait_seconds:g} s at most for the first attempt"
    )
    try:
        mailbox.stop()
        down_at = time.monotonic()
        print(f"SMTP server stopped for {args.outage:g} s; {args.users} users ask for a mail")
        users = [server.user(9000 + n, first_name="Bench") for n in range(args.users)]
        half = args.users // 2
        answers = list(
            await asyncio.gather(
                *(
                    ask_for_mail(u, i, p)
                    for u, (i, p) in zip(users[:half], accounts[:half], strict=True)
                )
            )
        )
        await asyncio.sleep(max(0.0, down_at + args.outage / 2 - time.monotonic()))
        answers += await asyncio.gather(
            *(
                ask_for_mail(u, i, p)
                for u, (i, p) in zip(users[half:], accounts[half:], strict=True)
            )
        )
        await asyncio.sleep(max(0.0, down_at + args.outage - time.monotonic()))
        mailbox.start("127.0.0.1", port)
        back = datetime.now(UTC)
        print("SMTP server back")
        with contextlib.suppress(TimeoutError):
            await mailbox.wait_for(args.users, timeout=120)
    finally:
        await stop_bot(application)
        mailbox.stop()
        await server.stop()
    told = sum(QUEUED in answer for answer in answers)
    errors = sum("pas pu partir" in answer for answer in answers)
    delays = sorted((mail.received_at - back).total_seconds() for mail in mailbox.mails)
    print(f"users told « {QUEUED} »: {told}/{args.users}; told an error: {errors}")
    print(f"e-mails lost: {args.users - len(mailbox.mails)} of {args.users}")
    if delays:
        print(
            "delay after the server's return, each e-mail (s): "
            + ", ".join(f"{d:.1f}" for d in delays)
        )
        print(f"median {statistics.median(delays):.1f} s, max {max(delays):.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
