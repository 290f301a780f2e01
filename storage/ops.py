"""SQL of the operations tools: what a start-up check, the health page and a backup read."""

from __future__ import annotations

import sqlite3
from pathlib import Path


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
