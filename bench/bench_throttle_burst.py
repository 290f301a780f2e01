"""A burst of guesses at one identifier's provisional password, sent at once by many Telegram
users: how many the throttle lets through to be evaluated before the delay starts.

    python bench/bench_throttle_burst.py [--users 40] [--right-at 20] [--cheap]

Each user has reached the provisional-password step for the same identifier; all submit at
the same moment (one of them, at position ``--right-at``, the right password). Prints how many
attempts were let through and checked, how many were refused by the delay (checked only to be
counted), whether the right guess was accepted, and whether the identifier ended locked.
Real services (bot.app.BotServices) over a temporary SQLite file, production argon2id unless
``--cheap``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import BotServices
from bot.procedures.activation import Step
from bot.procedures.kernel import Outcome
from bot.sandbox.run import demo_accounts_file
from bot.school import load_school_config
from bot.security import Argon2Params
from bot.settings import PROJECT_ROOT, Settings
from bot.staff.accounts_import import import_accounts
from storage.accounts import SqliteAccountDirectory

IDENTIFIANT, PROVISIONAL = "lea.demo", "Demo-Lea-2026"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--right-at", type=int, default=20, help="position of the right guess")
    parser.add_argument("--cheap", action="store_true", help="argon2id t=1, m=1 MiB (test cost)")
    args = parser.parse_args()
    params = Argon2Params(time_cost=1, memory_cost=1024, parallelism=1) if args.cheap else None
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_path=Path(folder) / "bench.sqlite3",
            server_secret_file=Path(folder) / "server.key",
            **(
                {
                    "argon2_time_cost": params.time_cost,
                    "argon2_memory_cost": params.memory_cost,
                    "argon2_parallelism": params.parallelism,
                }
                if params
                else {}
            ),
        )
        school = load_school_config(PROJECT_ROOT / "config" / "school.example.toml")
        services = BotServices(settings=settings, school=school)
        await services.open()
        assert services.database is not None
        svc = services.activation
        policy = svc.ports.throttle_policy
        await import_accounts(
            demo_accounts_file(),
            SqliteAccountDirectory(services.database),
            svc.ports.hasher,
            svc.ports.keyed,
            svc.ports.clock(),
        )
        sessions = []
        for user in range(1, args.users + 1):
            session = await svc.begin(user, user, Step.IDENTIFIANT)
            await svc.submit_identifiant(session, IDENTIFIANT)
            sessions.append(session)
        guesses = [
            PROVISIONAL if index == args.right_at else f"Faux-{index}-Essai"
            for index in range(args.users)
        ]
        start = time.perf_counter()
        results = await asyncio.gather(
            *(svc.submit_provisional(s, g) for s, g in zip(sessions, guesses, strict=True))
        )
        elapsed = time.perf_counter() - start
        key = svc.ports.identifiant_key(IDENTIFIANT)
        window = svc.ports.clock() - svc.ports.throttle_policy.window
        checked, refused = await svc.ports.throttle.failure_counts(key, window)
        accepted = sum(result.outcome == Outcome.OK for result in results)
        locked = (await svc.ports.throttle.counters(key, window)).locked_at is not None
        print(
            f"burst of {args.users} guesses on one identifier "
            f"(argon2id {'cheap' if params else 'default'}, {elapsed:.2f} s): "
            f"{checked + accepted} evaluated before the delay started "
            f"(limit {policy.failures_before_delay}), {refused} refused and counted; "
            f"right guess at position {args.right_at} "
            f"{'ACCEPTED' if accepted else 'refused'}; identifier "
            f"{'locked' if locked else 'not locked'}"
        )
        await services.close()


if __name__ == "__main__":
    asyncio.run(main())
