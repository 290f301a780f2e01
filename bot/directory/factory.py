"""The directory the settings name: the bot's SQLite file (default) or the school's LDAP."""

from __future__ import annotations

from typing import Any

from bot.directory.port import Directory
from bot.directory.sqlite import SqliteDirectory
from bot.security import SecretHasher
from bot.settings import Settings
from storage.db import Database


def open_directory(
    settings: Settings, database: Database, hasher: SecretHasher, outbox: Any
) -> Directory:
    """``DIRECTORY=sqlite`` or ``ldap`` (python-ldap is imported only then: ``.[ldap]``). An
    LDAP directory's owed writes leave through ``outbox`` (None: the staff tools, which owe
    none)."""
    if settings.directory != "ldap":
        return SqliteDirectory(database, hasher)
    try:
        from bot.directory.ldap import DirectoryWriter, LdapDirectory
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise RuntimeError(
            "DIRECTORY=ldap needs python-ldap: pip install -e '.[ldap]'"
        ) from error
    directory = LdapDirectory(settings.ldap, database)
    if outbox is not None:
        directory.outbox = outbox
        outbox.directory = DirectoryWriter(directory)
    return directory
