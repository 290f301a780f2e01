"""SQL of the ``accounts`` table: who may activate an account, and the result of an activation.

The services reach the passwords only through the directory port (:mod:`bot.directory.port`),
whose SQLite implementation (:mod:`bot.directory.sqlite`) hashes over this SQL; what only the bot
knows (Telegram link, CGU acceptance, secret answers' hashes) is written here whatever the
directory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

import aiosqlite

from storage.db import Database, from_db_time, to_db_time
from storage.outbox import NewOutboxItem, insert_items, insert_items_now

# ``import_fingerprint`` of an account whose provisional password staff set (reset, letters):
# an import never replaces it; only the names, profile and establishment of the line count.
STAFF_SET_PROVISIONAL = "staff"


class AccountStatus(StrEnum):
    """Where an account stands."""

    TO_ACTIVATE = "a_activer"
    ACTIVE = "active"


class Profil(StrEnum):
    """Profiles of imported accounts (the CSV ``profil`` column)."""

    APPRENTI = "apprenti"
    MAITRE_APPRENTISSAGE = "maitre_apprentissage"
    ELEVE = "eleve"
    PARENT = "parent"
    PERSONNEL = "personnel"
    AUTRE = "autre"


@dataclass(frozen=True)
class Account:
    """An account as the bot needs it: never a password hash (the directory checks passwords);
    the secret answers' hashes are the bot's own (argon2id, never clear text)."""

    id: int
    identifiant: str
    profil: str
    prenom: str
    nom: str
    etablissement: str
    status: AccountStatus
    email: str | None
    telegram_user_id: int | None
    activated_at: datetime | None
    email_verified: bool = False
    secret_question1: str | None = None
    secret_answer1_hash: str | None = None
    secret_question2: str | None = None
    secret_answer2_hash: str | None = None
    cgu_version: str | None = None
    # The establishment's UAI (upper case); None: the region's defaults (issue 27).
    uai: str | None = None


@dataclass(frozen=True)
class StoredPasswords:
    """The argon2id hashes of an account's passwords (for the SQLite directory only)."""

    status: AccountStatus
    provisional_password_hash: str | None
    password_hash: str | None


PasswordColumn = Literal["provisional_password_hash", "password_hash"]


@dataclass(frozen=True)
class ActivationRecord:
    """What a completed activation writes to the account (besides its password)."""

    email: str | None
    email_verified_at: datetime | None
    secret_question1: str | None
    secret_answer1_hash: str | None
    secret_question2: str | None
    secret_answer2_hash: str | None
    telegram_user_id: int
    cgu_version: str
    cgu_accepted_at: datetime
    activated_at: datetime


@dataclass(frozen=True)
class ImportedAccount:
    """One valid line of a staff CSV file; its provisional password only as an argon2id hash."""

    identifiant: str
    identifiant_norm: str
    provisional_password_hash: str | None
    profil: Profil
    prenom: str
    nom: str
    etablissement: str
    fingerprint: str
    # The establishment's UAI (the CSV's « uai » column, upper case), if any.
    uai: str | None = None


class ImportOutcome(StrEnum):
    """What importing one line did."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def _account(row: aiosqlite.Row) -> Account:
    return Account(
        id=row["id"],
        identifiant=row["identifiant"],
        profil=row["profil"],
        prenom=row["prenom"],
        nom=row["nom"],
        etablissement=row["etablissement"],
        status=AccountStatus(row["status"]),
        email=row["email"],
        telegram_user_id=row["telegram_user_id"],
        activated_at=from_db_time(row["activated_at"]),
        email_verified=row["email_verified_at"] is not None,
        secret_question1=row["secret_question1"],
        secret_answer1_hash=row["secret_answer1_hash"],
        secret_question2=row["secret_question2"],
        secret_answer2_hash=row["secret_answer2_hash"],
        cgu_version=row["cgu_version"],
        uai=row["uai"],
    )


def _keeps_its_password(row: aiosqlite.Row) -> bool:
    """An import does not touch the passwords of an active account, nor the provisional password
    that staff set."""
    status: str = row["status"]
    fingerprint: str | None = row["import_fingerprint"]
    return status == AccountStatus.ACTIVE or fingerprint == STAFF_SET_PROVISIONAL


class SqliteAccountDirectory:
    """The ``accounts`` table of the bot's SQLite database (hashes in, hashes out)."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def find(self, identifiant_norm: str) -> Account | None:
        """The account with this normalised identifier, if any."""
        row = await self.db.fetch_one(
            "SELECT * FROM accounts WHERE identifiant_norm = ?", (identifiant_norm,)
        )
        return _account(row) if row else None

    async def get(self, account_id: int) -> Account | None:
        """The account with this id, if any."""
        row = await self.db.fetch_one("SELECT * FROM accounts WHERE id = ?", (account_id,))
        return _account(row) if row else None

    async def password_hashes(self, account_id: int) -> StoredPasswords | None:
        """The account's status and password hashes, if there is such an account."""
        row = await self.db.fetch_one(
            "SELECT status, provisional_password_hash, password_hash FROM accounts WHERE id = ?",
            (account_id,),
        )
        if row is None:
            return None
        return StoredPasswords(
            AccountStatus(row["status"]), row["provisional_password_hash"], row["password_hash"]
        )

    async def upgrade_hash(
        self, account_id: int, column: PasswordColumn, old_hash: str, new_hash: str
    ) -> bool:
        """Replace a hash by one of the same secret made with the current parameters, unless it
        changed meanwhile (a new password is never overwritten by the old one)."""

        def work(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                f"UPDATE accounts SET {column} = ? WHERE id = ? AND {column} = ?",
                (new_hash, account_id, old_hash),
            )
            return cursor.rowcount == 1

        return await self.db.write(work)

    async def complete_activation(
        self,
        account_id: int,
        record: ActivationRecord,
        password_hash: str | None,
        outbox: Sequence[NewOutboxItem] = (),
    ) -> bool:
        """Activate the account if it is still to activate; False if somebody else did first.
        ``password_hash`` is None when the directory keeps the password (LDAP); ``outbox``
        items are written in the same transaction, only if the activation wins."""

        def work(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                """UPDATE accounts SET status = 'active', password_hash = ?, email = ?,
                       email_verified_at = ?, secret_question1 = ?, secret_answer1_hash = ?,
                       secret_question2 = ?, secret_answer2_hash = ?, telegram_user_id = ?,
                       cgu_version = ?, cgu_accepted_at = ?, activated_at = ?,
                       provisional_password_hash = NULL, import_fingerprint = NULL,
                       updated_at = ?
                   WHERE id = ? AND status = 'a_activer'""",
                (
                    password_hash,
                    record.email,
                    to_db_time(record.email_verified_at) if record.email_verified_at else None,
                    record.secret_question1,
                    record.secret_answer1_hash,
                    record.secret_question2,
                    record.secret_answer2_hash,
                    record.telegram_user_id,
                    record.cgu_version,
                    to_db_time(record.cgu_accepted_at),
                    to_db_time(record.activated_at),
                    to_db_time(record.activated_at),
                    account_id,
                ),
            )
            if cursor.rowcount != 1:
                return False
            connection.execute(
                "INSERT INTO audit_events (at, event, account_id, actor, details) "
                "VALUES (?, 'password_set', ?, ?, 'activation')",
                (
                    to_db_time(record.activated_at),
                    account_id,
                    f"telegram:{record.telegram_user_id}",
                ),
            )
            insert_items_now(connection, outbox)
            return True

        return await self.db.write(work)

    async def set_password(
        self, account_id: int, password_hash: str | None, actor: str, now: datetime
    ) -> bool:
        """Replace the password of an active account (recovery); False if it is not active."""

        def work(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "UPDATE accounts SET password_hash = ?, updated_at = ? "
                "WHERE id = ? AND status = 'active'",
                (password_hash, to_db_time(now), account_id),
            )
            if cursor.rowcount != 1:
                return False
            connection.execute(
                "INSERT INTO audit_events (at, event, account_id, actor, details) "
                "VALUES (?, 'password_set', ?, ?, 'recovery')",
                (to_db_time(now), account_id, actor),
            )
            return True

        return await self.db.write(work)

    async def issue_letter_token(
        self, identifiant_norm: str, token_hash: str, now: datetime
    ) -> bool:
        """Give the account of this identifier a letter token (replacing any earlier one),
        without changing its provisional password (the sandbox's demo letters). False if there
        is no such account."""
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "INSERT OR REPLACE INTO letter_tokens (account_id, token_hash, created_at) "
                "SELECT id, ?, ? FROM accounts WHERE identifiant_norm = ?",
                (token_hash, to_db_time(now), identifiant_norm),
            )
            return cursor.rowcount == 1

    async def account_of_letter(self, token_hash: str) -> int | None:
        """The account whose latest printed letter carries the token of this keyed hash, if it
        is still to activate."""
        row = await self.db.fetch_one(
            "SELECT t.account_id FROM letter_tokens t JOIN accounts a ON a.id = t.account_id "
            "WHERE t.token_hash = ? AND a.status = 'a_activer'",
            (token_hash,),
        )
        return int(row[0]) if row else None

    async def linked_to(self, telegram_user_id: int) -> list[Account]:
        """Active accounts linked to this Telegram user."""
        rows = await self.db.fetch_all(
            "SELECT * FROM accounts WHERE telegram_user_id = ? AND status = 'active' ORDER BY id",
            (telegram_user_id,),
        )
        return [_account(row) for row in rows]

    async def accept_cgu(
        self, account_id: int, cgu_version: str, telegram_user_id: int, now: datetime
    ) -> None:
        """Record that the account's user accepted this version of the CGU."""
        stamp = to_db_time(now)
        async with self.db.transaction() as connection:
            await connection.execute(
                "UPDATE accounts SET cgu_version = ?, cgu_accepted_at = ?, updated_at = ? "
                "WHERE id = ?",
                (cgu_version, stamp, stamp, account_id),
            )
            await connection.execute(
                "INSERT INTO cgu_acceptances (account_id, cgu_version, accepted_at, "
                "telegram_user_id) VALUES (?, ?, ?, ?)",
                (account_id, cgu_version, stamp, telegram_user_id),
            )
            await connection.execute(
                "INSERT INTO audit_events (at, event, account_id, actor, details) "
                "VALUES (?, 'cgu_accepted', ?, ?, ?)",
                (stamp, account_id, f"telegram:{telegram_user_id}", f"version={cgu_version}"),
            )

    async def unlink(self, telegram_user_id: int, now: datetime) -> int:
        """Forget the link between this Telegram user and their accounts; how many."""
        stamp = to_db_time(now)
        async with self.db.transaction() as connection:
            rows = await connection.execute_fetchall(
                "SELECT id FROM accounts WHERE telegram_user_id = ?", (telegram_user_id,)
            )
            await connection.execute(
                "UPDATE accounts SET telegram_user_id = NULL, updated_at = ? "
                "WHERE telegram_user_id = ?",
                (stamp, telegram_user_id),
            )
            for row in rows:
                await connection.execute(
                    "INSERT INTO audit_events (at, event, account_id, actor, details) "
                    "VALUES (?, 'unlink', ?, ?, '')",
                    (stamp, row[0], f"telegram:{telegram_user_id}"),
                )
            return len(list(rows))

    async def uais_of(self, identifiants_norm: Sequence[str]) -> dict[str, str | None]:
        """``{identifiant_norm: uai}`` of the accounts that exist among these identifiers."""
        found: dict[str, str | None] = {}
        for start in range(0, len(identifiants_norm), 500):
            chunk = tuple(identifiants_norm[start : start + 500])
            rows = await self.db.fetch_all(
                "SELECT identifiant_norm, uai FROM accounts WHERE identifiant_norm IN "
                f"({', '.join('?' * len(chunk))})",
                chunk,
            )
            found.update({row[0]: row[1] for row in rows})
        return found

    async def plan_import(self, line: ImportedAccount) -> tuple[ImportOutcome, bool]:
        """What importing ``line`` would do, and whether its provisional password must be hashed.

        A to-activate account is unchanged when its line's keyed fingerprint is the same; an
        active account keeps its password, and so does an account whose provisional password
        staff set (reset, letters): only their names, profile and establishment count.
        """
        row = await self.db.fetch_one(
            "SELECT * FROM accounts WHERE identifiant_norm = ?", (line.identifiant_norm,)
        )
        if row is None:
            return ImportOutcome.ADDED, True
        if _keeps_its_password(row):
            same = (
                row["identifiant"],
                row["profil"],
                row["prenom"],
                row["nom"],
                row["etablissement"],
                row["uai"],
            ) == (
                line.identifiant,
                line.profil.value,
                line.prenom,
                line.nom,
                line.etablissement,
                line.uai,
            )
            return (ImportOutcome.UNCHANGED if same else ImportOutcome.UPDATED), False
        if row["import_fingerprint"] == line.fingerprint and row["uai"] == line.uai:
            return ImportOutcome.UNCHANGED, False
        return ImportOutcome.UPDATED, True

    async def import_account(
        self, line: ImportedAccount, now: datetime, actor: str
    ) -> ImportOutcome:
        """Add or update one imported account. An active account keeps its password and status
        (a new provisional password goes through a staff reset)."""
        stamp = to_db_time(now)
        async with self.db.transaction() as connection:
            async with connection.execute(
                "SELECT id, status, import_fingerprint FROM accounts WHERE identifiant_norm = ?",
                (line.identifiant_norm,),
            ) as cursor:
                existing = await cursor.fetchone()
            if existing is None:
                cursor = await connection.execute(
                    """INSERT INTO accounts (identifiant, identifiant_norm,
                           provisional_password_hash, profil, prenom, nom, etablissement,
                           import_fingerprint, imported_at, updated_at, uai)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        line.identifiant,
                        line.identifiant_norm,
                        line.provisional_password_hash,
                        line.profil.value,
                        line.prenom,
                        line.nom,
                        line.etablissement,
                        line.fingerprint,
                        stamp,
                        stamp,
                        line.uai,
                    ),
                )
                account_id = cursor.lastrowid
                outcome = ImportOutcome.ADDED
            else:
                account_id = existing["id"]
                if _keeps_its_password(existing):
                    await connection.execute(
                        """UPDATE accounts SET identifiant = ?, profil = ?, prenom = ?, nom = ?,
                               etablissement = ?, uai = ?, updated_at = ? WHERE id = ?""",
                        (
                            line.identifiant,
                            line.profil.value,
                            line.prenom,
                            line.nom,
                            line.etablissement,
                            line.uai,
                            stamp,
                            account_id,
                        ),
                    )
                else:
                    if line.provisional_password_hash is None:
                        raise ValueError("a to-activate account needs its provisional hash")
                    await connection.execute(
                        """UPDATE accounts SET identifiant = ?, provisional_password_hash = ?,
                               profil = ?, prenom = ?, nom = ?, etablissement = ?, uai = ?,
                               import_fingerprint = ?, updated_at = ? WHERE id = ?""",
                        (
                            line.identifiant,
                            line.provisional_password_hash,
                            line.profil.value,
                            line.prenom,
                            line.nom,
                            line.etablissement,
                            line.uai,
                            line.fingerprint,
                            stamp,
                            account_id,
                        ),
                    )
                outcome = ImportOutcome.UPDATED
            await connection.execute(
                "INSERT INTO audit_events (at, event, account_id, actor, details) "
                "VALUES (?, 'imported', ?, ?, ?)",
                (stamp, account_id, actor, outcome.value),
            )
            return outcome

    async def replace_email(
        self,
        account_id: int,
        telegram_user_id: int,
        email: str,
        now: datetime,
        details: str,
        outbox: Sequence[NewOutboxItem] = (),
    ) -> bool:
        """Replace the verified recovery address of an active account linked to this Telegram
        user (audited ``email_verified``, with ``outbox`` items); False if it is not linked to
        them any more."""
        stamp = to_db_time(now)
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE accounts SET email = ?, email_verified_at = ?, updated_at = ? "
                "WHERE id = ? AND telegram_user_id = ? AND status = 'active'",
                (email, stamp, stamp, account_id, telegram_user_id),
            )
            if cursor.rowcount != 1:
                return False
            await connection.execute(
                "INSERT INTO audit_events (at, event, account_id, actor, details) "
                "VALUES (?, 'email_verified', ?, ?, ?)",
                (stamp, account_id, f"telegram:{telegram_user_id}", details),
            )
            await insert_items(connection, outbox)
            return True

    async def replace_secret_questions(
        self,
        account_id: int,
        telegram_user_id: int,
        questions: tuple[str, str],
        answer_hashes: tuple[str, str],
        now: datetime,
    ) -> bool:
        """Replace both secret questions and answer hashes at once (audited ``questions_set``);
        False if the account is not linked to this Telegram user any more."""
        stamp = to_db_time(now)
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE accounts SET secret_question1 = ?, secret_answer1_hash = ?, "
                "secret_question2 = ?, secret_answer2_hash = ?, updated_at = ? "
                "WHERE id = ? AND telegram_user_id = ? AND status = 'active'",
                (
                    questions[0],
                    answer_hashes[0],
                    questions[1],
                    answer_hashes[1],
                    stamp,
                    account_id,
                    telegram_user_id,
                ),
            )
            if cursor.rowcount != 1:
                return False
            await connection.execute(
                "INSERT INTO audit_events (at, event, account_id, actor, details) "
                "VALUES (?, 'questions_set', ?, ?, 'moncompte')",
                (stamp, account_id, f"telegram:{telegram_user_id}"),
            )
            return True

    async def unlink_account(self, account_id: int, telegram_user_id: int, now: datetime) -> bool:
        """Unlink one account from this Telegram user (audited); False if it was not linked."""
        stamp = to_db_time(now)
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE accounts SET telegram_user_id = NULL, updated_at = ? "
                "WHERE id = ? AND telegram_user_id = ?",
                (stamp, account_id, telegram_user_id),
            )
            if cursor.rowcount != 1:
                return False
            await connection.execute(
                "INSERT INTO audit_events (at, event, account_id, actor, details) "
                "VALUES (?, 'unlink', ?, ?, '')",
                (stamp, account_id, f"telegram:{telegram_user_id}"),
            )
            return True
