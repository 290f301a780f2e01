"""SQL of the local rows that mirror LDAP entries (issue 10).

Every directory entry the bot meets gets an ``accounts`` row, created or refreshed when its
identifier is looked up: its id is the account id everywhere in the bot (sessions, throttle,
audit, CGU, Telegram link), it remembers the entry's DN, names, profile, establishment and
status; its password columns stay empty (the directory keeps the passwords).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.accounts import AccountStatus
from storage.db import Database, to_db_time


@dataclass(frozen=True)
class DirectoryEntry:
    """What a user search found, as the bot keeps it. ``status`` None: the directory has no
    status attribute, the local row says it."""

    dn: str
    identifiant: str
    identifiant_norm: str
    profil: str
    prenom: str
    nom: str
    etablissement: str
    status: AccountStatus | None
    # ``bloque`` or ``supprime`` when the directory's state says so (refused like unknown).
    state: str | None = None
    # The entry's establishment (its first UAI, upper case; issue 27).
    uai: str | None = None


@dataclass(frozen=True)
class DirectoryRef:
    """The DN and local status of an account (and its directory state, if refused)."""

    dn: str | None
    status: AccountStatus
    state: str | None = None


class LdapAccountStore:
    """The ``accounts`` rows of LDAP entries."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def upsert(self, entry: DirectoryEntry, now: datetime) -> int:
        """Create or refresh the row of ``entry`` (matched by DN, else by identifier); its id.

        The directory's status replaces the local one, except that an account activated here
        stays active while its status write is still owed (pending in the outbox)."""
        async with self.db.transaction() as connection:
            return await _upsert(connection, entry, to_db_time(now))

    async def upsert_many(self, entries: Sequence[DirectoryEntry], now: datetime) -> int:
        """:meth:`upsert` every entry (a whole directory: one transaction per thousand)."""
        stamp = to_db_time(now)
        for start in range(0, len(entries), 1000):
            async with self.db.transaction() as connection:
                for entry in entries[start : start + 1000]:
                    await _upsert(connection, entry, stamp)
        return len(entries)

    async def claim(
        self, account_id: int, telegram_user_id: int, now: datetime, stale_before: datetime
    ) -> bool:
        """Reserve the account's activation for this Telegram user before its password is
        written to the directory: False if it is not to activate, or another user holds a
        claim newer than ``stale_before`` (a claim left by a crash goes stale)."""
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE accounts SET directory_claim_by = ?, directory_claim_at = ? "
                "WHERE id = ? AND status = 'a_activer' AND (directory_claim_by IS NULL "
                "OR directory_claim_by = ? OR directory_claim_at < ?)",
                (
                    telegram_user_id,
                    to_db_time(now),
                    account_id,
                    telegram_user_id,
                    to_db_time(stale_before),
                ),
            )
            return cursor.rowcount == 1

    async def release(self, account_id: int, telegram_user_id: int) -> None:
        """Give up this user's claim (the directory refused the password or was unreachable)."""
        async with self.db.transaction() as connection:
            await connection.execute(
                "UPDATE accounts SET directory_claim_by = NULL, directory_claim_at = NULL "
                "WHERE id = ? AND directory_claim_by = ?",
                (account_id, telegram_user_id),
            )

    async def ref(self, account_id: int) -> DirectoryRef | None:
        """The DN and status of the account, if there is one."""
        row = await self.db.fetch_one(
            "SELECT directory_dn, status, directory_state FROM accounts WHERE id = ?",
            (account_id,),
        )
        if row is None:
            return None
        return DirectoryRef(row["directory_dn"], AccountStatus(row["status"]), row[2])

    async def refused_ids(self) -> set[int]:
        """The accounts the directory says are blocked or deleted."""
        rows = await self.db.fetch_all(
            "SELECT id FROM accounts WHERE directory_state IS NOT NULL AND directory_dn IS NOT NULL"
        )
        return {row["id"] for row in rows}

    async def state_counts(self) -> dict[str, int]:
        """How many accounts the directory says are blocked, deleted (``{state: n}``)."""
        rows = await self.db.fetch_all(
            "SELECT directory_state, COUNT(*) FROM accounts WHERE directory_state IS NOT NULL "
            "GROUP BY directory_state"
        )
        return {row[0]: row[1] for row in rows}

    async def set_provisional_hash(
        self, account_id: int, provisional_hash: str, fingerprint: str, actor: str, now: datetime
    ) -> bool:
        """The argon2id hash of an imported provisional password (``LDAP_PROVISIONAL_SOURCE=
        local``), for an account still to activate (audited ``imported``); False otherwise."""
        stamp = to_db_time(now)
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE accounts SET provisional_password_hash = ?, import_fingerprint = ?, "
                "updated_at = ? WHERE id = ? AND status = 'a_activer' "
                "AND directory_state IS NULL",
                (provisional_hash, fingerprint, stamp, account_id),
            )
            if cursor.rowcount != 1:
                return False
            await connection.execute(
                "INSERT INTO audit_events (at, event, account_id, actor, details) "
                "VALUES (?, 'imported', ?, ?, 'provisional=local')",
                (stamp, account_id, actor),
            )
            return True

    async def import_fingerprint(self, account_id: int) -> str | None:
        """The fingerprint of the last imported line of the account (unchanged lines skip)."""
        row = await self.db.fetch_one(
            "SELECT import_fingerprint FROM accounts WHERE id = ?", (account_id,)
        )
        return row[0] if row else None


async def _upsert(connection: aiosqlite.Connection, entry: DirectoryEntry, stamp: str) -> int:
    async with connection.execute(
        "SELECT id, identifiant, identifiant_norm, profil, prenom, nom, etablissement, "
        "status, directory_dn, directory_state, uai FROM accounts WHERE directory_dn = ? "
        "OR identifiant_norm = ? ORDER BY directory_dn = ? DESC LIMIT 1",
        (entry.dn, entry.identifiant_norm, entry.dn),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        cursor = await connection.execute(
            """INSERT INTO accounts (identifiant, identifiant_norm, profil, prenom, nom,
                   etablissement, status, directory_dn, directory_state, imported_at,
                   updated_at, uai)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                entry.identifiant,
                entry.identifiant_norm,
                entry.profil,
                entry.prenom,
                entry.nom,
                entry.etablissement,
                (entry.status or AccountStatus.TO_ACTIVATE).value,
                entry.dn,
                entry.state,
                stamp,
                stamp,
                entry.uai,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid
    account_id: int = row["id"]
    status = entry.status.value if entry.status else row["status"]
    if status == AccountStatus.TO_ACTIVATE and row["status"] == AccountStatus.ACTIVE:
        async with connection.execute(
            "SELECT 1 FROM outbox WHERE kind = 'directory_write' AND account_id = ? "
            "AND status = 'pending' LIMIT 1",
            (account_id,),
        ) as cursor:
            if await cursor.fetchone() is not None:
                status = AccountStatus.ACTIVE.value
    new = (
        entry.identifiant,
        entry.identifiant_norm,
        entry.profil,
        entry.prenom,
        entry.nom,
        entry.etablissement,
        status,
        entry.dn,
        entry.state,
        entry.uai,
    )
    if tuple(row)[1:] != new:
        await connection.execute(
            """UPDATE accounts SET identifiant = ?, identifiant_norm = ?, profil = ?,
                   prenom = ?, nom = ?, etablissement = ?, status = ?, directory_dn = ?,
                   directory_state = ?, uai = ?, updated_at = ? WHERE id = ?""",
            (*new, stamp, account_id),
        )
    return account_id
