"""SQL of the operations tools: what a start-up check, the health page and a backup read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage.db import Database
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
