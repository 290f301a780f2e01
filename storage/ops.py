"""SQL of the operations tools: what a start-up check, the health page and a backup read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage.db import Database


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
