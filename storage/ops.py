"""SQL of the operations tools: what a start-up check, the health page and a backup read."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from storage.db import Database, to_db_time
from storage.files import create_private_file


def database_has_accounts(path: Path) -> bool:
    """Whether the database at ``path`` exists and holds at least one account (read-only;
    a missing file or a database not migrated yet holds none)."""
    if not path.is_file():
        return False
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'accounts'"
        ).fetchone()
        if row is None:
            return False
        return connection.execute("SELECT 1 FROM accounts LIMIT 1").fetchone() is not None
    finally:
        connection.close()


async def probe_writable(database: Database) -> None:
    """Commit a write that changes nothing (the last migration's name rewritten): raises
    ``sqlite3.Error`` if the database cannot be written (read-only, disk full, I/O error)."""
    async with database.transaction() as connection:
        await connection.execute(
            "UPDATE schema_migrations SET name = name "
            "WHERE version = (SELECT MAX(version) FROM schema_migrations)"
        )


async def claim_alert(database: Database, kind: str, now: datetime, window: timedelta) -> bool:
    """Whether an alert of ``kind`` may go at ``now`` (none in the ``window`` before it), and
    if so note it, in one statement (two processes never both claim it). An alert noted « in
    the future » (the clock was set back) does not hold the next one."""
    async with database.transaction() as connection:
        cursor = await connection.execute(
            "INSERT INTO ops_alerts (kind, last_at) VALUES (:kind, :now) "
            "ON CONFLICT (kind) DO UPDATE SET last_at = excluded.last_at "
            "WHERE ops_alerts.last_at <= :cutoff OR ops_alerts.last_at > :now",
            {"kind": kind, "now": to_db_time(now), "cutoff": to_db_time(now - window)},
        )
        return cursor.rowcount > 0


def backup_database(source: Path, target: Path) -> None:
    """An online, consistent copy of ``source`` into a new private ``target`` (0600), with
    SQLite's backup API (the bot may write meanwhile); the copy's integrity is checked.
    Raises ``FileExistsError`` if ``target`` exists and ``sqlite3.DatabaseError`` if the copy
    is damaged (it is then removed)."""
    if not create_private_file(target):
        raise FileExistsError(target)
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            reader.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            (result,) = copy.execute("PRAGMA integrity_check").fetchone()
        finally:
            copy.close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        reader.close()
    if result != "ok":
        target.unlink(missing_ok=True)
        raise sqlite3.DatabaseError(f"integrity_check: {result}")
