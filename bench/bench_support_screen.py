"""What one person's messages to the school's team cost in password hashing (issue 29.4).

    python bench/bench_support_screen.py [--messages 300] [--every 0] [--cheap]

One person whose account is proven (to activate: its provisional password is compared) sends
``--messages`` messages of fifteen words to the team, one after the other (a chat's updates
run in order), ``--every`` seconds apart on the bot's clock (0: all within the same minute).
Prints how many were relayed, refused by the per-minute cap, how many password hashes were
checked, and the process's CPU seconds (the argon2 pool's threads included). Real services
(bot.app.BotServices) over a temporary SQLite file, production argon2id unless ``--cheap``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import BotServices
from bot.sandbox.run import demo_accounts_file
from bot.school import load_school_config
from bot.settings import PROJECT_ROOT, Settings
from bot.staff.accounts_import import import_accounts
from bot.support.service import Sent
from storage.accounts import SqliteAccountDirectory

IDENTIFIANT = "lea.demo"
MESSAGE = "Re-bonjour il y a un Souci avec le lien reçu 2 fois de suite hier et aujourd'hui {n}"


class Clock:
    """The bot's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--every", type=float, default=0.0, help="seconds between messages")
    parser.add_argument("--cheap", action="store_true", help="argon2id t=1, m=1 MiB (test cost)")
    args = parser.parse_args()
    cheap = (
        {"argon2_time_cost": 1, "argon2_memory_cost": 1024, "argon2_parallelism": 1}
        if args.cheap
        else {}
    )
    clock = Clock()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_path=Path(folder) / "bench.sqlite3",
            server_secret_file=Path(folder) / "server.key",
            support_chat_id=-100,
            **cheap,  # type: ignore[arg-type]
        )
        school = load_school_config(PROJECT_ROOT / "config" / "school.example.toml")
        services = BotServices(settings=settings, school=school, clock=clock)
        await services.open()
        assert services.database is not None
        ports = services.activation.ports
        await import_accounts(
            demo_accounts_file(),
            SqliteAccountDirectory(services.database),
            ports.hasher,
            ports.keyed,
            clock(),
        )
        account = await ports.directory.find(IDENTIFIANT)
        assert account is not None
        support = services.support
        outcomes: dict[Sent, int] = {}
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(args.messages):
            result = await support.submit(
                telegram_user_id=1,
                chat_id=1,
                first_name="Léa",
                text=MESSAGE.format(n=n),
                session=None,
                step_label=None,
                account_ids=[account.id],
                message_id=n + 1,
            )
            outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
            clock.now += timedelta(seconds=args.every)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        hashes = await support.repository.hash_checks_since(1, datetime(2000, 1, 1, tzinfo=UTC))
        print(
            f"{args.messages} messages, {args.every:g} s apart "
            f"(argon2id {'cheap' if args.cheap else 'default'}): "
            + ", ".join(f"{outcome.value} {count}" for outcome, count in outcomes.items())
            + f"; {hashes} hashes checked; {cpu:.2f} CPU-s ({wall:.2f} s)"
        )
        await services.close()


if __name__ == "__main__":
    asyncio.run(main())
