"""``run_bot.py backup FILE``: an online, consistent copy of the database (SQLite's backup API:
the bot may keep running) and the server key beside it as ``FILE.key``, both 0600."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.security import load_or_create_server_secret
from bot.settings import Settings
from bot.texts import ops as ops_texts
from storage.db import Database, DatabaseMissing
from storage.files import PRIVATE_FILE_MODE
from storage.ops import backup_database


def key_beside(target: Path) -> Path:
    """Where the server key of the backup ``target`` goes."""
    return target.with_name(target.name + ".key")


async def backup_command(settings: Settings, target: Path) -> int:
    """Copy the database and the key; 2 if either is missing or the copy exists."""
    source = settings.database_path
    if not source.is_file():
        raise DatabaseMissing(source)
    key = load_or_create_server_secret(settings.server_secret_file, create=False)
    key_target = key_beside(target)
    for existing in (target, key_target):
        if existing.exists():
            print(ops_texts.backup_exists(str(existing)), file=sys.stderr)
            return 2
    # Migrated first: a database newer than this code is refused before any copy.
    database = await Database.open(source, create=False)
    await database.close()
    await asyncio.to_thread(backup_database, source, target)
    _write_private(key_target, key)
    print(ops_texts.backup_done(str(target), str(key_target)))
    return 0


def _write_private(path: Path, data: bytes) -> None:
    """A new file with ``data``, mode 0600 whatever the umask."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
