"""SQL of the staff tools: account reports, reset, new provisional passwords, export, funnel.

Never returns a secret: rows carry whether a hash exists, never the hash itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.accounts import STAFF_SET_PROVISIONAL
from storage.db import Database, from_db_time, scope_sql, to_db_time
from storage.db import Scope as Scope

# Audit events that mark progress in the activation (after the account's last reset).
STARTED_EVENTS = ("activation_started",)
CGU_EVENTS = ("cgu_accepted",)
RECOVERY_EVENTS = ("email_verified", "questions_set")


@dataclass(frozen=True)
class StaffAccount:
    """An account as staff see it: no hash, only whether one is set."""

    id: int
    identifiant: str
    identifiant_norm: str
    profil: str
    prenom: str
    nom: str
    etablissement: str
    status: str
    has_provisional_password: bool
    email: str | None
    email_verified_at: datetime | None
    has_secret_questions: bool
    telegram_user_id: int | None
    cgu_version: str | None
    cgu_accepted_at: datetime | None
    activated_at: datetime | None
    imported_at: datetime
    updated_at: datetime
    # The establishment's UAI (issue 27); None: the region's defaults.
    uai: str | None = None


@dataclass(frozen=True)
class OpenSession:
    """The procedure a user has open on an account (step and last activity)."""

    flow: str
    step: str
    started_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit trail."""

    at: datetime
    event: str
    actor: str
    details: str


@dataclass(frozen=True)
class FunnelRow:
    """How far the accounts of one profile and establishment went."""

    profil: str
    etablissement: str
    imported: int
    started: int
    cgu_accepted: int
    recovery_set: int
    active: int


@dataclass(frozen=True)
class EstablishmentFigures:
    """One establishment's figures (``uai`` None: accounts of the region's defaults)."""

    uai: str | None
    accounts: int
    activated: int
    open_tickets: int


def _staff_account(row: aiosqlite.Row) -> StaffAccount:
    imported_at = from_db_time(row["imported_at"])
    updated_at = from_db_time(row["updated_at"])
    assert imported_at is not None and updated_at is not None
    return StaffAccount(
        id=row["id"],
        identifiant=row["identifiant"],
        identifiant_norm=row["identifiant_norm"],
        profil=row["profil"],
        prenom=row["prenom"],
        nom=row["nom"],
        etablissement=row["etablissement"],
        status=row["status"],
        has_provisional_password=row["provisional_password_hash"] is not None,
        email=row["email"],
        email_verified_at=from_db_time(row["email_verified_at"]),
        has_secret_questions=row["secret_answer2_hash"] is not None,
        telegram_user_id=row["telegram_user_id"],
        cgu_version=row["cgu_version"],
        cgu_accepted_at=from_db_time(row["cgu_accepted_at"]),
        activated_at=from_db_time(row["activated_at"]),
        imported_at=imported_at,
        updated_at=updated_at,
        uai=row["uai"],
    )


# One account as the staff export reads it (:meth:`StaffRepository.export_accounts`), by
# position: id, identifiant, identifiant_norm, profil, prenom, nom, etablissement, status,
# imported_at, activated_at, cgu_accepted_at (the database's text, see to_db_time: no
# datetime is built for an export), whether the e-mail address is verified (1/0), whether the
# secret questions are set (1/0), telegram_user_id. No hash, not even whether there is one.
ExportAccount = tuple[
    int, str, str, str, str, str, str, str, str, str | None, str | None, int, int, int | None
]
_EXPORT_COLUMNS = (
    "id, identifiant, identifiant_norm, profil, prenom, nom, etablissement, status, "
    "imported_at, activated_at, cgu_accepted_at, email_verified_at IS NOT NULL, "
    "secret_answer2_hash IS NOT NULL, telegram_user_id"
)


def _in(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


class StaffRepository:
    """Lookups, funnel counts, reset and new provisional passwords, for staff."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def find(self, identifiant_norm: str, scope: Scope = None) -> StaffAccount | None:
        """The account with this normalised identifier, if any (and in ``scope``)."""
        only, params = scope_sql(scope)
        row = await self.db.fetch_one(
            f"SELECT * FROM accounts WHERE identifiant_norm = ?{only}", (identifiant_norm, *params)
        )
        return _staff_account(row) if row else None

    async def export_accounts(self, scope: Scope = None) -> list[ExportAccount]:
        """Every account (of ``scope``) for the export, by identifier (plain tuples, see
        :data:`ExportAccount`)."""
        only, params = scope_sql(scope)
        rows = await self.db.fetch_tuples(
            f"SELECT {_EXPORT_COLUMNS} FROM accounts WHERE 1{only} ORDER BY identifiant_norm",
            params,
        )
        return rows

    async def to_activate(
        self, profil: str | None = None, etablissement: str | None = None, scope: Scope = None
    ) -> list[StaffAccount]:
        """Accounts still to activate, optionally of one profile and one establishment
        (establishment compared without case, accents kept), by establishment, name, identifier."""
        only, scoped = scope_sql(scope)
        sql = f"SELECT * FROM accounts WHERE status = 'a_activer'{only}"
        params: list[object] = list(scoped)
        if profil:
            sql += " AND profil = ?"
            params.append(profil)
        sql += " ORDER BY etablissement, nom, prenom, identifiant_norm"
        accounts = [_staff_account(row) for row in await self.db.fetch_all(sql, tuple(params))]
        if etablissement:
            # In Python: SQLite's NOCASE folds ASCII only (« LYCÉE » ≠ « Lycée »).
            wanted = etablissement.strip().casefold()
            accounts = [a for a in accounts if a.etablissement.strip().casefold() == wanted]
        return accounts

    async def open_session(self, account: StaffAccount) -> OpenSession | None:
        """The procedure open on this account (once its provisional password was typed)."""
        row = await self.db.fetch_one(
            "SELECT flow, step, started_at, updated_at FROM conversation_sessions "
            "WHERE account_id = ? ORDER BY updated_at DESC LIMIT 1",
            (account.id,),
        )
        if row is None:
            return None
        started, updated = from_db_time(row["started_at"]), from_db_time(row["updated_at"])
        assert started is not None and updated is not None
        return OpenSession(row["flow"], row["step"], started, updated)

    async def history(self, account_id: int) -> list[AuditEvent]:
        """The account's audit trail, in the order it was written (the table is append-only)."""
        rows = await self.db.fetch_all(
            "SELECT at, event, actor, details FROM audit_events WHERE account_id = ? ORDER BY id",
            (account_id,),
        )
        return [
            AuditEvent(from_db_time(row["at"]), row["event"], row["actor"], row["details"])  # type: ignore[arg-type]
            for row in rows
        ]

    async def last_event(self, account_id: int, events: Sequence[str]) -> AuditEvent | None:
        """The newest of these events for the account."""
        row = await self.db.fetch_one(
            f"SELECT at, event, actor, details FROM audit_events WHERE account_id = ? "
            f"AND event IN ({_in(events)}) ORDER BY at DESC, id DESC LIMIT 1",
            (account_id,),
        )
        if row is None:
            return None
        return AuditEvent(from_db_time(row["at"]), row["event"], row["actor"], row["details"])  # type: ignore[arg-type]

    async def reset(
        self,
        account_id: int,
        provisional_hash: str | None,
        actor: str,
        now: datetime,
        details: str = "",
    ) -> bool:
        """Back to « to activate » with a new provisional password (its hash; None when the
        LDAP directory keeps it): the password, recovery
        means and CGU acceptance go (the user activates again), the Telegram link stays, open
        procedures on the account end. False if there is no such account."""
        stamp = to_db_time(now)
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                """UPDATE accounts SET status = 'a_activer', provisional_password_hash = ?,
                       password_hash = NULL, email = NULL, email_verified_at = NULL,
                       secret_question1 = NULL, secret_answer1_hash = NULL,
                       secret_question2 = NULL, secret_answer2_hash = NULL,
                       cgu_version = NULL, cgu_accepted_at = NULL, activated_at = NULL,
                       import_fingerprint = ?, updated_at = ?
                   WHERE id = ?""",
                (provisional_hash, STAFF_SET_PROVISIONAL, stamp, account_id),
            )
            if cursor.rowcount != 1:
                return False
            # An earlier letter's QR code names a password that no longer works.
            await connection.execute(
                "DELETE FROM letter_tokens WHERE account_id = ?", (account_id,)
            )
            await connection.execute(
                "DELETE FROM conversation_sessions WHERE account_id = ? OR telegram_user_id = "
                "(SELECT telegram_user_id FROM accounts WHERE id = ?)",
                (account_id, account_id),
            )
            await connection.execute(
                "INSERT INTO audit_events (at, event, account_id, actor, details) "
                "VALUES (?, 'reset', ?, ?, ?)",
                (stamp, account_id, actor, details),
            )
            return True

    async def set_provisional_passwords(
        self,
        hashes: Sequence[tuple[int, str | None, str | None]],
        actor: str,
        now: datetime,
        details: str,
    ) -> int:
        """New provisional passwords for accounts still to activate (printed letters), with the
        keyed hash of each letter's token (replacing an earlier letter's), in one transaction;
        an account activated meanwhile is left alone. How many were set. A password hash of
        None: the directory holds the password (LDAP), none is kept here."""
        stamp = to_db_time(now)
        done = 0
        async with self.db.transaction() as connection:
            for account_id, provisional_hash, token_hash in hashes:
                cursor = await connection.execute(
                    "UPDATE accounts SET provisional_password_hash = ?, import_fingerprint = ?, "
                    "updated_at = ? WHERE id = ? AND status = 'a_activer'",
                    (provisional_hash, STAFF_SET_PROVISIONAL, stamp, account_id),
                )
                if cursor.rowcount != 1:
                    continue
                done += 1
                await connection.execute(
                    "DELETE FROM letter_tokens WHERE account_id = ?", (account_id,)
                )
                if token_hash is not None:
                    await connection.execute(
                        "INSERT INTO letter_tokens (account_id, token_hash, created_at) "
                        "VALUES (?, ?, ?)",
                        (account_id, token_hash, stamp),
                    )
                await connection.execute(
                    "INSERT INTO audit_events (at, event, account_id, actor, details) "
                    "VALUES (?, 'letter', ?, ?, ?)",
                    (stamp, account_id, actor, details),
                )
        return done

    async def progress(self, account_id: int | None = None) -> dict[int, set[str]]:
        """``{account_id: {events}}`` of the progress events since each account's last reset
        (of every account, or of ``account_id`` only)."""
        events = (*STARTED_EVENTS, *CGU_EVENTS, *RECOVERY_EVENTS)
        only = "" if account_id is None else "AND e.account_id = ?"
        rows = await self.db.fetch_all(
            f"""SELECT e.account_id, e.event FROM audit_events e
                LEFT JOIN (SELECT account_id, MAX(id) AS id FROM audit_events
                           WHERE event = 'reset' GROUP BY account_id) r
                       ON r.account_id = e.account_id
                WHERE e.account_id IS NOT NULL AND e.event IN ({_in(events)})
                  AND e.id > COALESCE(r.id, 0) {only}
                GROUP BY e.account_id, e.event""",
            () if account_id is None else (account_id,),
        )
        found: dict[int, set[str]] = {}
        for row in rows:
            found.setdefault(row["account_id"], set()).add(row["event"])
        return found

    async def funnel(self, scope: Scope = None) -> list[FunnelRow]:
        """The activation funnel by profile and establishment. An active account counts in
        every stage; the others by their audit events since their last reset. Entries an LDAP
        directory says are blocked or deleted are left out."""
        only, params = scope_sql(scope, "a.uai")
        rows = await self.db.fetch_all(
            f"""WITH last_reset AS (
                    SELECT account_id, MAX(id) AS id FROM audit_events
                    WHERE event = 'reset' GROUP BY account_id),
                progress AS (
                    SELECT e.account_id,
                           MAX(e.event IN ({_in(STARTED_EVENTS)})) AS started,
                           MAX(e.event IN ({_in(CGU_EVENTS)})) AS cgu,
                           MAX(e.event IN ({_in(RECOVERY_EVENTS)})) AS recovery
                    FROM audit_events e LEFT JOIN last_reset r ON r.account_id = e.account_id
                    WHERE e.account_id IS NOT NULL
                      AND e.event IN ({_in((*STARTED_EVENTS, *CGU_EVENTS, *RECOVERY_EVENTS))})
                      AND e.id > COALESCE(r.id, 0)
                    GROUP BY e.account_id)
                SELECT a.profil, a.etablissement, COUNT(*) AS imported,
                       SUM(a.status = 'active' OR COALESCE(p.started, 0)) AS started,
                       SUM(a.status = 'active' OR COALESCE(p.cgu, 0)) AS cgu_accepted,
                       SUM(a.status = 'active' OR COALESCE(p.recovery, 0)) AS recovery_set,
                       SUM(a.status = 'active') AS active
                FROM accounts a LEFT JOIN progress p ON p.account_id = a.id
                WHERE a.directory_state IS NULL{only}
                GROUP BY a.profil, a.etablissement
                ORDER BY a.etablissement, a.profil""",
            params,
        )
        return [
            FunnelRow(
                profil=row["profil"],
                etablissement=row["etablissement"],
                imported=row["imported"],
                started=row["started"],
                cgu_accepted=row["cgu_accepted"],
                recovery_set=row["recovery_set"],
                active=row["active"],
            )
            for row in rows
        ]

    async def establishment_figures(self, scope: Scope = None) -> list[EstablishmentFigures]:
        """Accounts, activated accounts and open tickets per UAI (of ``scope``); entries an
        LDAP directory says are blocked or deleted are left out. A ticket counts for the
        establishment of its account."""
        only, params = scope_sql(scope, "a.uai")
        rows = await self.db.fetch_all(
            f"""SELECT a.uai, COUNT(*) AS accounts, SUM(a.status = 'active') AS activated,
                       SUM(EXISTS (SELECT 1 FROM support_tickets t WHERE t.account_id = a.id
                                   AND t.state = 'open')) AS open_tickets
                FROM accounts a WHERE a.directory_state IS NULL{only}
                GROUP BY a.uai ORDER BY a.uai""",
            params,
        )
        return [
            EstablishmentFigures(
                row["uai"], row["accounts"], row["activated"] or 0, row["open_tickets"] or 0
            )
            for row in rows
        ]

    async def locked_keys(self) -> set[str]:
        """Throttle keys under the staff-only lock."""
        rows = await self.db.fetch_all("SELECT key FROM throttle WHERE locked_at IS NOT NULL")
        return {row["key"] for row in rows}

    async def open_steps(self) -> dict[int, str]:
        """``{account_id: step}`` of every procedure open on an account."""
        rows = await self.db.fetch_all(
            "SELECT account_id, step FROM conversation_sessions WHERE account_id IS NOT NULL"
        )
        return {row["account_id"]: row["step"] for row in rows}
