"""Time ``run_bot.py accounts export FILE`` over N accounts (default 100,000).

    python bench/bench_export.py [N] [--runs 3]

The accounts are written straight into a temporary database (one shared provisional hash, a
third of them active with a verified address or secret questions, an audit trail and an open
session for some): not timed. Then the export is timed twice: in the process (the staff
service's rows and the CSV file, as the command does them) and as the command itself, in its
own process (interpreter start-up and imports included). Prints min / median / max of
``--runs`` runs of each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.procedures.throttle import throttle_policy
from bot.security import Argon2Params, KeyedHasher, SecretHasher, load_or_create_server_secret
from bot.settings import Settings
from bot.staff.cli import write_export
from bot.staff.service import StaffService
from storage.db import Database, to_db_time
from storage.records import RecordRepository
from storage.staff import StaffRepository
from storage.throttle import ThrottleRepository

CHEAP = Argon2Params(time_cost=1, memory_cost=1024, parallelism=1)


async def seed(database: Database, count: int) -> None:
    hashed = await SecretHasher(CHEAP).hash("Prov-Bench-7Kq")
    base = datetime(2026, 9, 1, tzinfo=UTC)
    rows = []
    for n in range(count):
        at = to_db_time(base + timedelta(seconds=n))
        active = n % 3 == 0
        rows.append(
            (
                f"eleve.{n:06d}",
                f"eleve.{n:06d}",
                None if active else hashed,
                hashed if active else None,
                "active" if active else "a_activer",
                "eleve",
                "Prénom",
                f"Nom{n}",
                f"Lycée {n % 7}",
                f"eleve{n}@example.org" if active and n % 2 else None,
                at if active and n % 2 else None,
                "Question A ?" if active and not n % 2 else None,
                hashed if active and not n % 2 else None,
                "Question B ?" if active and not n % 2 else None,
                hashed if active and not n % 2 else None,
                100_000 + n if active else None,
                "v1" if active else None,
                at if active else None,
                at if active else None,
                at,
                at,
            )
        )
    async with database.transaction() as connection:
        await connection.executemany(
            """INSERT INTO accounts (identifiant, identifiant_norm, provisional_password_hash,
                   password_hash, status, profil, prenom, nom, etablissement, email,
                   email_verified_at, secret_question1, secret_answer1_hash, secret_question2,
                   secret_answer2_hash, telegram_user_id, cgu_version, cgu_accepted_at,
                   activated_at, imported_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        await connection.execute(
            "INSERT INTO audit_events (at, event, account_id, actor, details) "
            "SELECT imported_at, 'imported', id, 'cli', 'added' FROM accounts"
        )
        await connection.execute(
            "INSERT INTO audit_events (at, event, account_id, actor, details) "
            "SELECT imported_at, 'activation_started', id, 'bench', '' FROM accounts "
            "WHERE id % 5 = 0"
        )


async def in_process(database: Database, key: bytes, path: Path) -> float:
    staff = StaffService(
        repository=StaffRepository(database),
        throttle=ThrottleRepository(database),
        records=RecordRepository(database),
        hasher=SecretHasher(CHEAP),
        keyed=KeyedHasher(key),
        throttle_policy=throttle_policy(Settings(_env_file=None)),  # type: ignore[call-arg]
        clock=lambda: datetime.now(UTC),
    )
    start = time.perf_counter()
    rows = await staff.export_rows()
    write_export(path, rows)
    return time.perf_counter() - start


async def prepare(home: Path, count: int, runs: int) -> list[float]:
    """Seed the database; the in-process export's times."""
    key = load_or_create_server_secret(home / "server.key")
    database = await Database.open(home / "bot.sqlite3")
    try:
        await seed(database, count)
        return [await in_process(database, key, home / "in.csv") for _ in range(runs)]
    finally:
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int, nargs="?", default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        inside = asyncio.run(prepare(home, args.count, args.runs))
        env = {
            **os.environ,
            "ENT_BOT_HOME": str(home),
            "DATABASE_PATH": str(home / "bot.sqlite3"),
            "SERVER_SECRET_FILE": str(home / "server.key"),
        }
        command = [sys.executable, str(Path(__file__).resolve().parent.parent / "run_bot.py")]
        whole = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run(
                [*command, "accounts", "export", str(home / "out.csv")],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            whole.append(time.perf_counter() - start)
        lines = sum(1 for _ in (home / "out.csv").open(encoding="utf-8-sig")) - 1
    print(f"accounts export of {args.count:,} accounts ({lines:,} lines); load {load[0]:.2f}")
    for name, values in (
        ("export_rows + CSV, in process", inside),
        ("run_bot.py accounts export", whole),
    ):
        print(
            f"{name:32}: min {min(values):.2f} s, median {statistics.median(values):.2f} s, "
            f"max {max(values):.2f} s ({len(values)} runs)"
        )


if __name__ == "__main__":
    main()
