"""Time one activation password step with the LDAP directory next to the SQLite one, same run.

    python bench/bench_ldap_step.py [N]

For N users (default 30) of each directory: the provisional-password check (LDAP: a simple bind
as the user's DN; SQLite: an argon2id verify with the production parameters) and the activation
write (LDAP: Password Modify by the service account under ppolicy, then the local transaction
with its outbox item; SQLite: an argon2id hash, then the transaction). slapd is Debian's, on
127.0.0.1, started in a temporary folder by the tests' helper (``tests/ldap_server.py``);
``--password-hash {ARGON2}`` makes it hash with its argon2 module (default: {SSHA}).
Prints the median and the 95th percentile of each, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bot.config.ldap import LdapConfig  # noqa: E402
from bot.directory.ldap import LdapDirectory  # noqa: E402
from bot.directory.sqlite import SqliteDirectory  # noqa: E402
from bot.security import Argon2Params, SecretHasher  # noqa: E402
from storage.accounts import (  # noqa: E402
    ActivationRecord,
    ImportedAccount,
    Profil,
    SqliteAccountDirectory,
)
from storage.db import Database  # noqa: E402

from ldap_server import (  # type: ignore[import-not-found]  # noqa: E402
    PEOPLE,
    SERVICE_DN,
    SERVICE_PASSWORD,
    LdapServer,
    missing,
    user_dn,
)

PROVISIONAL = "Xq7-Tb4k-Wpz"
NEW = "Velo-Rouge-Soleil-42"


def record() -> ActivationRecord:
    now = datetime.now(UTC)
    return ActivationRecord(
        email="x@example.org",
        email_verified_at=now,
        secret_question1=None,
        secret_answer1_hash=None,
        secret_question2=None,
        secret_answer2_hash=None,
        telegram_user_id=1,
        cgu_version="v1",
        cgu_accepted_at=now,
        activated_at=now,
    )


async def timed(work: Awaitable[object]) -> float:
    """Milliseconds until ``work`` (a coroutine not started yet) is done."""
    started = time.perf_counter()
    await work
    return (time.perf_counter() - started) * 1000


def line(label: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"  {label:<34} median {statistics.median(values):7.2f} ms   p95 {p95:7.2f} ms"


async def run(users: int, folder: Path, password_hash: str) -> None:
    names = [f"user{n:04d}" for n in range(users)]
    server = LdapServer(folder / "slapd", password_hash)
    entries = [(name, PROVISIONAL, "eleve", "Prénom", "Nom", "Lycée") for name in names]
    server.start([*entries, ("leurre", "Leurre-Aleatoire-Long-9", "autre", "L", "x", "x")])
    try:
        ldap_db = await Database.open(folder / "ldap.sqlite3")
        sqlite_db = await Database.open(folder / "sqlite.sqlite3")
        ldap_config = LdapConfig(
            url=server.url, bind_dn=SERVICE_DN, bind_password=SERVICE_PASSWORD, user_base=PEOPLE
        )
        ldap_dir = LdapDirectory(ldap_config, ldap_db)
        decoyed = LdapDirectory(replace(ldap_config, decoy_dn=user_dn("leurre")), ldap_db)
        hasher = SecretHasher(Argon2Params())  # production parameters
        sqlite_dir = SqliteDirectory(sqlite_db, hasher)
        provisional_hash = await hasher.hash(PROVISIONAL)
        store = SqliteAccountDirectory(sqlite_db)
        for name in names:
            await store.import_account(
                ImportedAccount(name, name, provisional_hash, Profil.ELEVE, "P", "N", "L", "f"),
                datetime.now(UTC),
                "bench",
            )
        results: dict[str, list[float]] = {
            "LDAP: check, unknown identifier": [
                await timed(ldap_dir.check_provisional(None, PROVISIONAL)) for _ in names
            ],
            "LDAP: same, with LDAP_DECOY_DN": [
                await timed(decoyed.check_provisional(None, PROVISIONAL)) for _ in names
            ],
        }
        for label, directory in (("LDAP", ldap_dir), ("SQLite", sqlite_dir)):
            checks, writes = [], []
            for name in names:
                account = await directory.find(name)
                assert account is not None
                checks.append(await timed(directory.check_provisional(account.id, PROVISIONAL)))
                writes.append(await timed(directory.activate(account.id, NEW, record())))
            results[f"{label}: check provisional"] = checks
            results[f"{label}: set new password"] = writes
            results[f"{label}: whole step"] = [c + w for c, w in zip(checks, writes, strict=True)]
        print(f"{users} users per directory; slapd hashes with {password_hash}; bot's argon2id:")
        print(f"  {Argon2Params()}")
        for label, values in results.items():
            print(line(label, values))
        ldap_dir.close()
        decoyed.close()
        await ldap_db.close()
        await sqlite_db.close()
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("users", nargs="?", type=int, default=30)
    parser.add_argument(
        "--password-hash", default="{SSHA}", help="slapd's scheme: {SSHA} (default) or {ARGON2}"
    )
    args = parser.parse_args()
    reason = missing()
    if reason:
        sys.exit(reason)
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args.users, Path(folder), args.password_hash))


if __name__ == "__main__":
    main()
