"""Time printing the activation letters of N accounts (default 10,000) with the configured
(production) argon2id cost: a new provisional password hashed per account, one PDF page each.

    python bench/bench_letters.py [N] [--cheap]

The accounts are loaded first with a cheap cost (not timed: see bench_import.py for the
import); then the same steps as ``run_bot.py accounts letters FILE.pdf --yes`` are timed:
hashing (thread pool, bounded concurrency), rendering the PDF, storing the hashes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_import import write_file  # type: ignore[import-not-found]

from bot.school import load_school_config
from bot.security import Argon2Params, KeyedHasher, SecretHasher
from bot.settings import PROJECT_ROOT
from bot.staff.accounts_import import import_accounts
from bot.staff.letters import render_letters
from bot.staff.service import StaffService, bot_link
from storage.accounts import SqliteAccountDirectory
from storage.db import Database
from storage.records import RecordRepository
from storage.staff import StaffRepository
from storage.throttle import ThrottleRepository

CHEAP = Argon2Params(time_cost=1, memory_cost=1024, parallelism=1)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int, nargs="?", default=10_000)
    parser.add_argument("--cheap", action="store_true", help="argon2id t=1, m=1 MiB (test cost)")
    args = parser.parse_args()
    params = CHEAP if args.cheap else Argon2Params()
    school = load_school_config(PROJECT_ROOT / "config" / "school.example.toml")
    with tempfile.TemporaryDirectory() as folder:
        csv_path, pdf_path = Path(folder) / "accounts.csv", Path(folder) / "letters.pdf"
        write_file(csv_path, args.count)
        database = await Database.open(Path(folder) / "bench.sqlite3")
        keyed = KeyedHasher(b"b" * 32)
        await import_accounts(
            csv_path,
            SqliteAccountDirectory(database),
            SecretHasher(CHEAP),
            keyed,
            datetime.now(UTC),
        )
        staff = StaffService(
            StaffRepository(database),
            ThrottleRepository(database),
            RecordRepository(database),
            SecretHasher(params),
            keyed,
        )
        start = time.perf_counter()
        accounts = await staff.accounts_for_letters()
        letters = await staff.prepare_letters(accounts)
        hashed = time.perf_counter()
        await asyncio.to_thread(
            render_letters, letters, school, bot_link("ent_bench_bot"), pdf_path, datetime.now(UTC)
        )
        rendered = time.perf_counter()
        stored = await staff.commit_letters(letters, "bench", "bench")
        done = time.perf_counter()
        await database.close()
        size = pdf_path.stat().st_size / 1e6
        print(
            f"letters: {stored} accounts in {done - start:.1f} s "
            f"(hashing {hashed - start:.1f} s, PDF {rendered - hashed:.1f} s, "
            f"storing {done - rendered:.1f} s; {stored / (done - start):.0f}/s; "
            f"PDF {size:.1f} MB) argon2id {params}"
        )


if __name__ == "__main__":
    asyncio.run(main())
