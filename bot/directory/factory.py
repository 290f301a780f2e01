"""The directory the settings name: the bot's SQLite file (default) or the school's LDAP."""

from __future__ import annotations

import logging
from typing import Any

from bot.config.ldap import LdapSetupError, sends_passwords_in_clear
from bot.directory.port import Directory
from bot.directory.sqlite import SqliteDirectory
from bot.security import SecretHasher
from bot.settings import Settings
from storage.db import Database

logger = logging.getLogger(__name__)


def open_directory(
    settings: Settings, database: Database, hasher: SecretHasher, outbox: Any
) -> Directory:
    """``DIRECTORY=sqlite`` or ``ldap`` (python-ldap is imported only then: ``.[ldap]``). An
    LDAP directory's owed writes leave through ``outbox`` (None: the staff tools, which owe
    none)."""
    if settings.directory != "ldap":
        return SqliteDirectory(database, hasher)
    from bot.texts import ldap as ldap_texts

    if sends_passwords_in_clear(settings.ldap.url, settings.ldap.starttls):
        # Password Modify carries the new password: only over TLS or a local socket.
        raise LdapSetupError(ldap_texts.cleartext_refused(settings.ldap.url))
    if not settings.ldap.decoy_dn:
        # Without a decoy entry, an unknown identifier's bind fails faster than a real one's.
        logger.warning(ldap_texts.NO_DECOY_WARNING)
    try:
        from bot.directory.ldap import DirectoryWriter, LdapDirectory
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise LdapSetupError(ldap_texts.LIBRARY_MISSING) from error
    directory = LdapDirectory(settings.ldap, database, hasher)
    if outbox is not None:
        directory.outbox = outbox
        outbox.directory = DirectoryWriter(directory)
    return directory
