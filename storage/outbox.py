"""The outbox table: messages owed to users (e-mails, deletions of messages holding a secret),
written in the transaction of the change that causes them and sent by the outbox worker."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import aiosqlite

from storage.db import Database, from_db_time, to_db_time


class OutboxKind(StrEnum):
    """What an item is; code e-mails count in the per-account and per-address limits."""

    CODE_MAIL = "code_mail"
    NOTICE_MAIL = "notice_mail"
    TELEGRAM_DELETE = "telegram_delete"
    TELEGRAM_MESSAGE = "telegram_message"
    # Attributes still owed to the LDAP directory (status, recovery address) after activation.
    DIRECTORY_WRITE = "directory_write"


class OutboxStatus(StrEnum):
    """Where an item is."""

    PENDING = "pending"
    SENT = "sent"
    GIVEN_UP = "given_up"


@dataclass
class NewOutboxItem:
    """An item to write. ``params`` are not secret; ``seed`` (code e-mails) is random and only
    gives the code and the token with the server key. ``id`` is set once written."""

    kind: OutboxKind
    template: str
    params: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    seed: str | None = field(default=None, repr=False)
    account_id: int | None = None
    address_key: str | None = None
    id: int | None = None
    # A decoy costs the same statement but writes nothing (same work whether a mail leaves).
    decoy: bool = False


@dataclass(frozen=True)
class OutboxItem:
    """A stored item."""

    id: int
    kind: OutboxKind
    template: str
    params: dict[str, Any]
    seed: str | None = field(repr=False)
    account_id: int | None
    status: OutboxStatus
    created_at: datetime
    expires_at: datetime
    attempts: int
    last_error: str | None
    # When a request of the item that must not be repeated (a post, a copy) left for Telegram;
    # None once an answer proved it did nothing. Set at the start of an attempt: the earlier
    # one may have delivered it (« incertain »).
    in_flight_at: datetime | None = None


@dataclass(frozen=True)
class OutboxStats:
    """What staff see of the outbox (never a secret, never an address)."""

    pending: int
    oldest_pending_at: datetime | None
    retrying: int
    given_up: int
    sent_last_day: int
    last_error: str | None
    last_error_at: datetime | None
    pending_by_kind: dict[str, int]
    # Given up because they may have gone (« Incertain:… »: a timeout, a kill mid-send).
    uncertain: int = 0
    # Pending, with a request out now (or cut short by a stop: « incertain » at the next try).
    in_flight: int = 0


#: The ``last_error`` prefix of an item given up because it may have gone (« incertain »).
UNCERTAIN = "Incertain:"


def _item(row: aiosqlite.Row) -> OutboxItem:
    created = from_db_time(row["created_at"])
    expires = from_db_time(row["expires_at"])
    assert created is not None and expires is not None
    return OutboxItem(
        id=row["id"],
        kind=OutboxKind(row["kind"]),
        template=row["template"],
        params=json.loads(row["params"] or "{}"),
        seed=row["seed"],
        account_id=row["account_id"],
        status=OutboxStatus(row["status"]),
        created_at=created,
        expires_at=expires,
        attempts=row["attempts"],
        last_error=row["last_error"],
        in_flight_at=from_db_time(row["in_flight_at"]),
    )


async def insert_items(connection: aiosqlite.Connection, items: Sequence[NewOutboxItem]) -> None:
    """Write ``items`` inside the caller's open transaction (setting their ids)."""
    for item in items:
        cursor = await connection.execute(_INSERT_ITEM, _item_values(item))
        item.id = None if item.decoy else cursor.lastrowid


_INSERT_ITEM = (
    "INSERT INTO outbox (kind, template, params, seed, account_id, address_key, "
    "created_at, expires_at) SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE ?"
)


def _item_values(item: NewOutboxItem) -> tuple[object, ...]:
    return (
        item.kind.value,
        item.template,
        json.dumps(item.params, ensure_ascii=False),
        item.seed,
        item.account_id,
        item.address_key,
        to_db_time(item.created_at),
        to_db_time(item.expires_at),
        not item.decoy,
    )


def insert_items_now(connection: sqlite3.Connection, items: Sequence[NewOutboxItem]) -> None:
    """:func:`insert_items` in the body of a :meth:`storage.db.Database.write` (on the writer's
    thread)."""
    for item in items:
        cursor = connection.execute(_INSERT_ITEM, _item_values(item))
        item.id = None if item.decoy else cursor.lastrowid


class OutboxRepository:
    """Outbox rows."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def add(self, items: Sequence[NewOutboxItem]) -> None:
        """Write ``items`` in a transaction of their own (when no state change goes with them)."""
        async with self.db.transaction() as connection:
            await insert_items(connection, items)

    async def pending(self, limit: int = 100) -> list[OutboxItem]:
        """Pending items, oldest first."""
        rows = await self.db.fetch_all(
            "SELECT * FROM outbox WHERE status = 'pending' ORDER BY id LIMIT ?", (limit,)
        )
        return [_item(row) for row in rows]

    async def get(self, item_id: int) -> OutboxItem | None:
        """One item."""
        row = await self.db.fetch_one("SELECT * FROM outbox WHERE id = ?", (item_id,))
        return _item(row) if row else None

    async def mark_done(self, item_id: int, status: OutboxStatus, at: datetime) -> None:
        """Sent or given up: the seed and the parameters (address, names) are wiped."""
        async with self.db.transaction() as connection:
            await connection.execute(
                "UPDATE outbox SET status = ?, done_at = ?, seed = NULL, params = '{}', "
                "in_flight_at = NULL WHERE id = ? AND status = 'pending'",
                (status.value, to_db_time(at), item_id),
            )

    async def mark_in_flight(self, item_id: int, at: datetime) -> None:
        """A request of the item that must not be repeated is about to leave: committed
        before it leaves, so that a ``kill -9`` during it leaves the item « incertain »."""

        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE outbox SET in_flight_at = ? WHERE id = ? AND status = 'pending'",
                (to_db_time(at), item_id),
            )

        await self.db.write(work)

    async def clear_in_flight(self, item_id: int) -> None:
        """An answer proved that the request did nothing (a 429, a 5xx, a refusal), or what
        it sent is recorded elsewhere: the item may be tried again."""

        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE outbox SET in_flight_at = NULL WHERE id = ? AND in_flight_at IS NOT NULL",
                (item_id,),
            )

        await self.db.write(work)

    async def record_failure(self, item_id: int, error_kind: str, at: datetime) -> None:
        """One more failed attempt (``error_kind`` is an exception class name, never a text
        that could hold an address or a secret)."""
        async with self.db.transaction() as connection:
            await connection.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?, last_error = ? "
                "WHERE id = ?",
                (to_db_time(at), error_kind, item_id),
            )

    async def code_mails_since(
        self, since: datetime, *, account_id: int | None, address_key: str
    ) -> tuple[int, int, datetime | None]:
        """Code e-mails written since ``since``: (to this account, to this address, time of the
        last one to this address). Counted whatever the procedure and across restarts."""
        stamp = to_db_time(since)
        row = await self.db.fetch_one(
            "SELECT "
            "(SELECT COUNT(*) FROM outbox WHERE kind = 'code_mail' AND account_id = ? "
            " AND created_at >= ?) AS by_account, "
            "(SELECT COUNT(*) FROM outbox WHERE kind = 'code_mail' AND address_key = ? "
            " AND created_at >= ?) AS by_address, "
            "(SELECT MAX(created_at) FROM outbox WHERE kind = 'code_mail' AND address_key = ? "
            " AND created_at >= ?) AS last_at",
            (account_id, stamp, address_key, stamp, address_key, stamp),
        )
        assert row is not None
        return row["by_account"], row["by_address"], from_db_time(row["last_at"])

    async def request_code_mail(
        self, telegram_user_id: int, now: datetime, *, since: datetime, limit: int
    ) -> bool:
        """Count one code e-mail asked for by this Telegram user, if fewer than ``limit`` were
        since ``since``; False (nothing counted) once the limit is reached. Every request
        counts, sent or not, so the count tells nothing about the accounts asked for; the
        check and the count are one statement."""

        def work(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "INSERT INTO mail_requests (telegram_user_id, at) SELECT ?, ? "
                "WHERE (SELECT COUNT(*) FROM mail_requests WHERE telegram_user_id = ? "
                "AND at >= ?) < ?",
                (telegram_user_id, to_db_time(now), telegram_user_id, to_db_time(since), limit),
            )
            return cursor.rowcount == 1

        return await self.db.write(work)

    async def stats(self, now: datetime, day_ago: datetime) -> OutboxStats:
        """Counts for staff."""
        row = await self.db.fetch_one(
            "SELECT "
            "(SELECT COUNT(*) FROM outbox WHERE status = 'pending') AS pending, "
            "(SELECT MIN(created_at) FROM outbox WHERE status = 'pending') AS oldest, "
            "(SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND attempts > 0) AS retrying, "
            "(SELECT COUNT(*) FROM outbox WHERE status = 'given_up') AS given_up, "
            "(SELECT COUNT(*) FROM outbox WHERE status = 'given_up' "
            " AND substr(last_error, 1, ?) = ?) AS uncertain, "
            "(SELECT COUNT(*) FROM outbox WHERE status = 'pending' "
            " AND in_flight_at IS NOT NULL) AS in_flight, "
            "(SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND done_at >= ?) AS sent_day",
            (len(UNCERTAIN), UNCERTAIN, to_db_time(day_ago)),
        )
        assert row is not None
        last = await self.db.fetch_one(
            "SELECT last_error, last_attempt_at FROM outbox WHERE last_error IS NOT NULL "
            "ORDER BY last_attempt_at DESC LIMIT 1"
        )
        kinds = await self.db.fetch_all(
            "SELECT kind, COUNT(*) AS n FROM outbox WHERE status = 'pending' GROUP BY kind"
        )
        return OutboxStats(
            pending=row["pending"],
            oldest_pending_at=from_db_time(row["oldest"]),
            retrying=row["retrying"],
            given_up=row["given_up"],
            sent_last_day=row["sent_day"],
            last_error=last["last_error"] if last else None,
            last_error_at=from_db_time(last["last_attempt_at"]) if last else None,
            pending_by_kind={r["kind"]: r["n"] for r in kinds},
            uncertain=row["uncertain"],
            in_flight=row["in_flight"],
        )

    async def purge(self, before: datetime) -> int:
        """Forget items sent or given up before ``before``."""
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "DELETE FROM outbox WHERE status != 'pending' AND done_at < ?",
                (to_db_time(before),),
            )
        return cursor.rowcount
