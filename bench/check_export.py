"""Pin ``run_bot.py accounts export``'s bytes: the same database gives the same file.

    python bench/check_export.py write REFERENCE.csv [N]   # with the code to compare against
    python bench/check_export.py check REFERENCE.csv [N]   # with the code under test

Seeds a temporary database as ``bench_export.py`` does (N accounts, default 100,000) plus a
few accounts with every kind of cell (formula triggers, quotes, ``;`` and line breaks, times
written from Paris around a DST change, microseconds, an open procedure, a reset, a locked
identifier, a Telegram id of 0), with a fixed server key so that the « bloque » column is
reproducible; runs the command in its own process; writes the file, or compares it byte for
byte (and its mode, 0600) with the reference. Exit code 1 on any difference.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_export import seed
from bot.procedures.throttle import identifiant_key
from bot.security import KeyedHasher
from storage.db import Database, to_db_time

KEY = bytes(range(32))
PARIS = ZoneInfo("Europe/Paris")
# (identifiant, profil, prenom, nom, etablissement, status, email verified, questions,
#  telegram id, cgu accepted, activated)
EDGE_ACCOUNTS = [
    ("=cmd", "@x", "=1+1", "+1", "-1", "a_activer", None, False, None, None, None),
    ("\tTab", "eleve", "\rCR", "'t Hooft", "@SUM(A1)", "a_activer", None, False, 0, None, None),
    (
        "guillemets",
        "parent",
        'Dit "Jo"',
        "Nom;avec;points",
        "Ligne\nDeux",
        "active",
        "2026-03-29T01:59:59.999999",
        True,
        42,
        "2026-03-29T03:00:00.000001",
        "2026-10-25T02:30:00",
    ),
    (
        "questions",
        "enseignant",
        "",
        "",
        "",
        "active",
        None,
        True,
        7,
        "2026-10-25T02:30:00",
        "2026-10-25T03:30:00",
    ),
    (
        "cgu.seule",
        "eleve",
        "Zoé",
        "Ærø",
        "Lycée Ünïcode",
        "a_activer",
        None,
        False,
        9,
        "2026-12-31T23:59:59.5",
        None,
    ),
    # Issue 29.9: full-width and small signs and a leading | (a reference written before that
    # fix differs on this one line).
    (
        "|pipe",
        "\uff1dx",
        "\ufe66SUM(A1)",
        "\uff5cy",
        "a|b",
        "a_activer",
        None,
        False,
        None,
        None,
        None,
    ),
]


async def add_edges(database: Database) -> None:
    """The accounts with every kind of cell, a session, a reset and a lock."""
    keyed = KeyedHasher(KEY)
    base = datetime(2026, 1, 1, 0, 30, tzinfo=PARIS)  # 2025-12-31T23:30Z
    async with database.transaction() as connection:
        for n, (
            ident,
            profil,
            prenom,
            nom,
            etab,
            status,
            verified,
            questions,
            telegram,
            cgu,
            activated,
        ) in enumerate(EDGE_ACCOUNTS):

            def paris(text: str | None) -> str | None:
                return (
                    to_db_time(datetime.fromisoformat(text).replace(tzinfo=PARIS)) if text else None
                )

            await connection.execute(
                """INSERT INTO accounts (identifiant, identifiant_norm, status, profil, prenom,
                       nom, etablissement, email, email_verified_at, secret_question1,
                       secret_answer1_hash, secret_question2, secret_answer2_hash,
                       telegram_user_id, cgu_version, cgu_accepted_at, activated_at,
                       imported_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    ident,
                    ident.strip().casefold(),
                    status,
                    profil,
                    prenom,
                    nom,
                    etab,
                    "x@example.org" if verified else None,
                    paris(verified),
                    "Q1 ?" if questions else None,
                    "h" if questions else None,
                    "Q2 ?" if questions else None,
                    "h" if questions else None,
                    telegram,
                    "v1" if cgu else None,
                    paris(cgu),
                    paris(activated),
                    to_db_time(base + timedelta(microseconds=999_999 * n)),
                    to_db_time(base + timedelta(hours=n)),
                ),
            )
        ids = {
            row[1]: row[0]
            for row in await connection.execute_fetchall(
                "SELECT id, identifiant FROM accounts WHERE identifiant IN "
                f"({', '.join('?' * len(EDGE_ACCOUNTS))})",
                [edge[0] for edge in EDGE_ACCOUNTS],
            )
        }
        at = to_db_time(base)
        await connection.execute(
            "INSERT INTO conversation_sessions (telegram_user_id, chat_id, flow, step, "
            "account_id, started_at, updated_at) VALUES (900, 900, 'activation', 'email', ?, ?, ?)",
            (ids["=cmd"], at, at),
        )
        for event in ("activation_started", "cgu_accepted", "reset", "activation_started"):
            await connection.execute(
                "INSERT INTO audit_events (at, event, account_id, actor, details) "
                "VALUES (?, ?, ?, 'check', '')",
                (at, event, ids["\tTab"]),
            )
        await connection.execute(
            "INSERT INTO audit_events (at, event, account_id, actor, details) "
            "VALUES (?, 'questions_set', ?, 'check', '')",
            (at, ids["cgu.seule"]),
        )
        for ident in ("\tTab", "eleve.000003"):
            await connection.execute(
                "INSERT INTO throttle (key, consecutive_failures, locked_at) VALUES (?, 5, ?)",
                (identifiant_key(keyed, ident), at),
            )
        await connection.execute(
            "INSERT INTO throttle (key, consecutive_failures) VALUES (?, 2)",
            (identifiant_key(keyed, "questions"),),
        )


async def prepare(home: Path, count: int) -> None:
    key = home / "server.key"
    key.write_bytes(KEY)
    key.chmod(0o600)
    database = await Database.open(home / "bot.sqlite3")
    try:
        await seed(database, count)
        await add_edges(database)
    finally:
        await database.close()


def main() -> int:
    mode, reference = sys.argv[1], Path(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        asyncio.run(prepare(home, count))
        out = home / "out.csv"
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve().parent.parent / "run_bot.py"),
                "accounts",
                "export",
                str(out),
            ],
            env={
                **os.environ,
                "ENT_BOT_HOME": str(home),
                "DATABASE_PATH": str(home / "bot.sqlite3"),
                "SERVER_SECRET_FILE": str(home / "server.key"),
            },
            check=True,
            stdout=subprocess.DEVNULL,
        )
        data = out.read_bytes()
        file_mode = stat.S_IMODE(out.stat().st_mode)
    if file_mode != 0o600:
        print(f"mode {file_mode:o}, not 600")
        return 1
    if mode == "write":
        reference.write_bytes(data)
        print(f"wrote {reference} ({len(data):,} bytes)")
        return 0
    expected = reference.read_bytes()
    if data == expected:
        print(f"identical to {reference} ({len(data):,} bytes, mode 600)")
        return 0
    new, old = data.split(b"\n"), expected.split(b"\n")
    first = next((i for i, (a, b) in enumerate(zip(new, old, strict=False)) if a != b), None)
    print(f"DIFFERENT: {len(data):,} bytes vs {len(expected):,}; first line differing: {first}")
    if first is not None:
        print(f"  reference: {old[first]!r}\n  now:       {new[first]!r}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
