"""Time the staff import of N accounts (default 10,000) with the configured argon2id cost.

    python bench/bench_import.py [N] [--cheap]

Prints lines read per second for a first import (every provisional password hashed) and a
re-import of the same file (nothing hashed: keyed fingerprints are compared).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.security import Argon2Params, KeyedHasher, SecretHasher
from bot.staff.accounts_import import import_accounts
from storage.accounts import SqliteAccountDirectory
from storage.db import Database


def write_file(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            ["identifiant", "mot_de_passe_provisoire", "profil", "prenom", "nom", "etablissement"]
        )
        for n in range(count):
            writer.writerow(
                [f"eleve.{n:05d}", secrets.token_urlsafe(8), "eleve", "Prénom", f"Nom{n}", "CFA"]
            )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int, nargs="?", default=10_000)
    parser.add_argument("--cheap", action="store_true", help="argon2id t=1, m=1 MiB (test cost)")
    args = parser.parse_args()
    params = (
        Argon2Params(time_cost=1, memory_cost=1024, parallelism=1) if args.cheap else Argon2Params()
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "accounts.csv"
        write_file(path, args.count)
        database = await Database.open(Path(folder) / "bench.sqlite3")
        directory = SqliteAccountDirectory(database)
        hasher, keyed = SecretHasher(params), KeyedHasher(b"b" * 32)
        for label in ("first import", "re-import"):
            start = time.perf_counter()
            report = await import_accounts(path, directory, hasher, keyed, datetime.now(UTC))
            elapsed = time.perf_counter() - start
            print(
                f"{label}: {args.count} accounts in {elapsed:.1f} s "
                f"({args.count / elapsed:.0f}/s; added {report.added}, "
                f"unchanged {report.unchanged}) argon2id {params}"
            )
        await database.close()


if __name__ == "__main__":
    asyncio.run(main())
