"""Support tickets, their messages (metadata only) and each user's help mode."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import Database, Scope, from_db_time, scope_sql, to_db_time
from storage.outbox import NewOutboxItem, insert_items


@dataclass(frozen=True)
class Ticket:
    """A request to the school's team."""

    id: int
    telegram_user_id: int
    chat_id: int
    account_id: int | None
    state: str
    opened_at: datetime
    first_response_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    user_messages: int = 0
    staff_messages: int = 0
    # The staff group it was posted to (None: a ticket of before, in SUPPORT_CHAT_ID's group).
    staff_chat_id: int | None = None
    # Its account's establishment (read by :meth:`SupportRepository.unanswered` only).
    uai: str | None = None


@dataclass(frozen=True)
class RelaySource:
    """The message a relay copies (its chat and id), and whether it is a photo or document."""

    chat_id: int
    message_id: int
    media: bool = False


@dataclass(frozen=True)
class Relay:
    """A relayed message and its copy on the other side (None until the outbox sent it)."""

    id: int
    ticket_id: int
    direction: str
    source_chat_id: int
    source_message_id: int
    media: bool
    with_card: bool
    copy_chat_id: int | None
    copy_message_id: int | None
    before_message_id: int | None = None


def _relay(row: aiosqlite.Row) -> Relay:
    return Relay(
        id=row["id"],
        ticket_id=row["ticket_id"],
        direction=row["direction"],
        source_chat_id=row["source_chat_id"],
        source_message_id=row["source_message_id"],
        media=bool(row["media"]),
        with_card=bool(row["with_card"]),
        copy_chat_id=row["copy_chat_id"],
        copy_message_id=row["copy_message_id"],
        before_message_id=row["before_message_id"],
    )


# An outbox item whose params hold this key gets the id of the relay written with it.
RELAY_ID = "relay_id"


async def _insert_relay(
    connection: aiosqlite.Connection,
    ticket_id: int,
    direction: str,
    source: RelaySource,
    with_card: bool,
    stamp: str,
    items: Sequence[NewOutboxItem],
) -> None:
    """Write the relay row of ``source`` and give its id to the items that ask for it."""
    cursor = await connection.execute(
        "INSERT OR IGNORE INTO support_relays (ticket_id, direction, source_chat_id, "
        "source_message_id, media, with_card, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            ticket_id,
            direction,
            source.chat_id,
            source.message_id,
            int(source.media),
            int(with_card),
            stamp,
        ),
    )
    relay_id = cursor.lastrowid if cursor.rowcount else None
    for item in items:
        if RELAY_ID in item.params:
            item.params[RELAY_ID] = relay_id


def _ticket(row: aiosqlite.Row) -> Ticket:
    opened, updated = from_db_time(row["opened_at"]), from_db_time(row["updated_at"])
    assert opened is not None and updated is not None
    keys = row.keys()
    return Ticket(
        id=row["id"],
        telegram_user_id=row["telegram_user_id"],
        chat_id=row["chat_id"],
        account_id=row["account_id"],
        state=row["state"],
        opened_at=opened,
        first_response_at=from_db_time(row["first_response_at"]),
        closed_at=from_db_time(row["closed_at"]),
        updated_at=updated,
        user_messages=row["user_messages"] if "user_messages" in keys else 0,
        staff_messages=row["staff_messages"] if "staff_messages" in keys else 0,
        staff_chat_id=row["staff_chat_id"] if "staff_chat_id" in keys else None,
        uai=row["uai"] if "uai" in keys else None,
    )


_WITH_COUNTS = (
    "SELECT t.*, "
    "(SELECT COUNT(*) FROM support_messages m WHERE m.ticket_id = t.id "
    " AND m.direction = 'user') AS user_messages, "
    "(SELECT COUNT(*) FROM support_messages m WHERE m.ticket_id = t.id "
    " AND m.direction = 'staff') AS staff_messages "
    "FROM support_tickets t"
)


# The establishment of a ticket: its account's (none before the account is known).
_TICKET_UAI = "(SELECT a.uai FROM accounts a WHERE a.id = t.account_id)"


class SupportRepository:
    """Rows of ``support_tickets``, ``support_messages`` and ``support_modes``."""

    def __init__(self, database: Database) -> None:
        self.db = database

    # --- help mode ------------------------------------------------------------------------

    async def mode(self, telegram_user_id: int) -> str | None:
        """The user's help mode (``menu`` or ``compose``), if any."""
        row = await self.db.fetch_one(
            "SELECT mode FROM support_modes WHERE telegram_user_id = ?", (telegram_user_id,)
        )
        return str(row["mode"]) if row else None

    async def set_mode(self, telegram_user_id: int, mode: str | None, now: datetime) -> None:
        """Enter ``mode`` (None: leave help)."""
        async with self.db.transaction() as connection:
            if mode is None:
                await connection.execute(
                    "DELETE FROM support_modes WHERE telegram_user_id = ?", (telegram_user_id,)
                )
            else:
                await connection.execute(
                    "INSERT OR REPLACE INTO support_modes (telegram_user_id, mode, since) "
                    "VALUES (?, ?, ?)",
                    (telegram_user_id, mode, to_db_time(now)),
                )

    # --- tickets --------------------------------------------------------------------------

    async def open_ticket(self, telegram_user_id: int) -> Ticket | None:
        """The user's open ticket, if any."""
        row = await self.db.fetch_one(
            f"{_WITH_COUNTS} WHERE t.telegram_user_id = ? AND t.state = 'open'",
            (telegram_user_id,),
        )
        return _ticket(row) if row else None

    async def get(self, ticket_id: int, scope: Scope = None) -> Ticket | None:
        """One ticket (of ``scope``'s establishments: that of the ticket's account)."""
        only, params = scope_sql(scope, _TICKET_UAI)
        row = await self.db.fetch_one(f"{_WITH_COUNTS} WHERE t.id = ?{only}", (ticket_id, *params))
        return _ticket(row) if row else None

    async def tickets(self, *, open_only: bool = False, scope: Scope = None) -> list[Ticket]:
        """Tickets (of ``scope``'s establishments), newest first."""
        only, params = scope_sql(scope, _TICKET_UAI)
        where = " WHERE t.state = 'open'" if open_only else " WHERE 1"
        rows = await self.db.fetch_all(f"{_WITH_COUNTS}{where}{only} ORDER BY t.id DESC", params)
        return [_ticket(row) for row in rows]

    async def admit(
        self, telegram_user_id: int, now: datetime, since: datetime, limit: int
    ) -> int | None:
        """Count a message screened for the team, unless ``limit`` were already screened since
        ``since`` (then None: the cap comes before any hashing). Counting and the check are one
        transaction, so a burst cannot slip past the cap. Returns the screening's id."""
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "SELECT COUNT(*) FROM support_screenings "
                "WHERE telegram_user_id = ? AND screened_at >= ?",
                (telegram_user_id, to_db_time(since)),
            )
            row = await cursor.fetchone()
            if row is not None and int(row[0]) >= limit:
                return None
            cursor = await connection.execute(
                "INSERT INTO support_screenings (telegram_user_id, screened_at) VALUES (?, ?)",
                (telegram_user_id, to_db_time(now)),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    async def hash_checks_since(self, telegram_user_id: int, since: datetime) -> int:
        """How many password hashes this user's messages cost since ``since``."""
        row = await self.db.fetch_one(
            "SELECT COALESCE(SUM(hash_checks), 0) AS n FROM support_screenings "
            "WHERE telegram_user_id = ? AND screened_at >= ?",
            (telegram_user_id, to_db_time(since)),
        )
        return int(row["n"]) if row else 0

    async def count_hash_check(self, screening_id: int) -> None:
        """One more password hash for this screening (written before the hash is computed)."""
        async with self.db.transaction() as connection:
            await connection.execute(
                "UPDATE support_screenings SET hash_checks = hash_checks + 1 WHERE id = ?",
                (screening_id,),
            )

    async def add_user_message(
        self,
        telegram_user_id: int,
        chat_id: int,
        account_id: int | None,
        now: datetime,
        outbox: Callable[[Ticket, bool], Sequence[NewOutboxItem]],
        *,
        source: RelaySource | None = None,
        staff_chat_id: int | None = None,
    ) -> tuple[Ticket, bool]:
        """Record a user's message on their open ticket (opened here if none, posted to the
        staff group ``staff_chat_id``), with the outbox items ``outbox(ticket, is_new)``
        returns, in one transaction. Returns (ticket, is_new). With ``source``, the relay row
        (original ↔ copy) is written too."""
        stamp = to_db_time(now)
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "SELECT * FROM support_tickets WHERE telegram_user_id = ? AND state = 'open'",
                (telegram_user_id,),
            )
            row = await cursor.fetchone()
            is_new = row is None
            if row is None:
                cursor = await connection.execute(
                    "INSERT INTO support_tickets (telegram_user_id, chat_id, account_id, "
                    "opened_at, updated_at, staff_chat_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
                    (telegram_user_id, chat_id, account_id, stamp, stamp, staff_chat_id),
                )
                row = await cursor.fetchone()
            else:
                await connection.execute(
                    "UPDATE support_tickets SET updated_at = ?, "
                    "account_id = COALESCE(account_id, ?) WHERE id = ?",
                    (stamp, account_id, row["id"]),
                )
            assert row is not None
            ticket = _ticket(row)
            await connection.execute(
                "INSERT INTO support_messages (ticket_id, direction, at) VALUES (?, 'user', ?)",
                (ticket.id, stamp),
            )
            items = outbox(ticket, is_new)
            if source is not None:
                await _insert_relay(connection, ticket.id, "user", source, is_new, stamp, items)
            await insert_items(connection, items)
        return ticket, is_new

    async def add_staff_message(
        self,
        ticket_id: int,
        now: datetime,
        outbox: Sequence[NewOutboxItem],
        *,
        source: RelaySource | None = None,
    ) -> bool:
        """Record a staff answer on an open ticket (its first-response time if first), with the
        relay to the user (and its relay row, with ``source``), in one transaction. False if the
        ticket is not open."""
        stamp = to_db_time(now)
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE support_tickets SET updated_at = ?, "
                "first_response_at = COALESCE(first_response_at, ?) "
                "WHERE id = ? AND state = 'open'",
                (stamp, stamp, ticket_id),
            )
            if cursor.rowcount == 0:
                return False
            await connection.execute(
                "INSERT INTO support_messages (ticket_id, direction, at) VALUES (?, 'staff', ?)",
                (ticket_id, stamp),
            )
            if source is not None:
                await _insert_relay(connection, ticket_id, "staff", source, False, stamp, outbox)
            await insert_items(connection, outbox)
        return True

    # --- relays (original ↔ copy) ----------------------------------------------------------

    async def relay_of(self, source_chat_id: int, source_message_id: int) -> Relay | None:
        """The relay of this original message, if it was relayed."""
        row = await self.db.fetch_one(
            "SELECT * FROM support_relays WHERE source_chat_id = ? AND source_message_id = ?",
            (source_chat_id, source_message_id),
        )
        return _relay(row) if row else None

    async def relay(self, relay_id: int) -> Relay | None:
        """One relay."""
        row = await self.db.fetch_one("SELECT * FROM support_relays WHERE id = ?", (relay_id,))
        return _relay(row) if row else None

    async def set_copy(self, relay_id: int, chat_id: int, message_id: int) -> None:
        """The outbox sent the copy of relay ``relay_id``."""
        async with self.db.transaction() as connection:
            await connection.execute(
                "UPDATE support_relays SET copy_chat_id = ?, copy_message_id = ? WHERE id = ?",
                (chat_id, message_id, relay_id),
            )

    async def set_before(self, relay_id: int, message_id: int) -> None:
        """The post before the copy of relay ``relay_id`` (a new ticket's card) is sent."""
        async with self.db.transaction() as connection:
            await connection.execute(
                "UPDATE support_relays SET before_message_id = ? WHERE id = ?",
                (message_id, relay_id),
            )

    async def owe(self, items: Sequence[NewOutboxItem]) -> None:
        """Outbox items about relays (an edit, a copy to delete), in a transaction of their own."""
        async with self.db.transaction() as connection:
            await insert_items(connection, items)

    async def close(self, ticket_id: int, now: datetime, outbox: Sequence[NewOutboxItem]) -> bool:
        """Close an open ticket, with the notice to the user; False if it was not open."""
        stamp = to_db_time(now)
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE support_tickets SET state = 'closed', closed_at = ?, updated_at = ? "
                "WHERE id = ? AND state = 'open'",
                (stamp, stamp, ticket_id),
            )
            if cursor.rowcount == 0:
                return False
            await insert_items(connection, outbox)
        return True

    # --- forum topics -----------------------------------------------------------------------

    async def topic(self, telegram_user_id: int) -> tuple[int, int, bool] | None:
        """The user's topic: (chat id, thread id, closed), if any."""
        row = await self.db.fetch_one(
            "SELECT chat_id, thread_id, closed FROM support_topics WHERE telegram_user_id = ?",
            (telegram_user_id,),
        )
        return (row["chat_id"], row["thread_id"], bool(row["closed"])) if row else None

    async def user_of_topic(self, chat_id: int, thread_id: int) -> int | None:
        """Whose topic ``thread_id`` is."""
        row = await self.db.fetch_one(
            "SELECT telegram_user_id FROM support_topics WHERE chat_id = ? AND thread_id = ?",
            (chat_id, thread_id),
        )
        return int(row["telegram_user_id"]) if row else None

    async def save_topic(
        self,
        telegram_user_id: int,
        chat_id: int,
        thread_id: int | None,
        now: datetime,
        title: str | None = None,
    ) -> None:
        """Remember the user's topic (None: forget it, e.g. staff deleted it); the intent to
        create it, if any, is done."""
        async with self.db.transaction() as connection:
            await connection.execute(
                "DELETE FROM support_topics WHERE telegram_user_id = ?", (telegram_user_id,)
            )
            await connection.execute(
                "DELETE FROM support_topic_intents WHERE telegram_user_id = ?",
                (telegram_user_id,),
            )
            if thread_id is not None:
                await connection.execute(
                    "INSERT INTO support_topics (telegram_user_id, chat_id, thread_id, "
                    "created_at, title) VALUES (?, ?, ?, ?, ?)",
                    (telegram_user_id, chat_id, thread_id, to_db_time(now), title),
                )

    async def topic_title(self, telegram_user_id: int) -> str | None:
        """The title the user's topic was last given (None: not known)."""
        row = await self.db.fetch_one(
            "SELECT title FROM support_topics WHERE telegram_user_id = ?", (telegram_user_id,)
        )
        return str(row["title"]) if row and row["title"] is not None else None

    async def set_topic_title(self, telegram_user_id: int, title: str) -> None:
        """The user's topic was renamed."""
        async with self.db.transaction() as connection:
            await connection.execute(
                "UPDATE support_topics SET title = ? WHERE telegram_user_id = ?",
                (title, telegram_user_id),
            )

    async def topic_intent(self, telegram_user_id: int) -> int | None:
        """The chat of an unfinished creation of the user's topic, if any."""
        row = await self.db.fetch_one(
            "SELECT chat_id FROM support_topic_intents WHERE telegram_user_id = ?",
            (telegram_user_id,),
        )
        return int(row["chat_id"]) if row else None

    async def begin_topic(self, telegram_user_id: int, chat_id: int, now: datetime) -> None:
        """Written before createForumTopic: a topic may exist from here on."""
        async with self.db.transaction() as connection:
            await connection.execute(
                "INSERT OR REPLACE INTO support_topic_intents (telegram_user_id, chat_id, "
                "started_at) VALUES (?, ?, ?)",
                (telegram_user_id, chat_id, to_db_time(now)),
            )

    async def drop_topic_intent(self, telegram_user_id: int) -> None:
        """The creation surely failed (Telegram refused it), or staff closed the ticket."""
        async with self.db.transaction() as connection:
            await connection.execute(
                "DELETE FROM support_topic_intents WHERE telegram_user_id = ?",
                (telegram_user_id,),
            )

    async def mark_topic(self, telegram_user_id: int, *, closed: bool) -> None:
        """The user's topic was closed or reopened."""
        async with self.db.transaction() as connection:
            await connection.execute(
                "UPDATE support_topics SET closed = ? WHERE telegram_user_id = ?",
                (int(closed), telegram_user_id),
            )

    # --- reminders and figures (unanswered tickets, /stats) ----------------------------------

    async def unanswered(self, opened_before: datetime, limit: int = 200) -> list[Ticket]:
        """Open tickets without a staff answer nor a reminder, opened before ``opened_before``,
        oldest first, with their account's establishment (whose opening hours count)."""
        rows = await self.db.fetch_all(
            f"SELECT t.*, {_TICKET_UAI} AS uai FROM support_tickets t WHERE t.state = 'open' "
            "AND t.first_response_at IS NULL AND t.reminded_at IS NULL AND t.opened_at <= ? "
            "ORDER BY t.opened_at LIMIT ?",
            (to_db_time(opened_before), limit),
        )
        return [_ticket(row) for row in rows]

    async def claim_reminder(
        self, ticket_id: int, now: datetime, outbox: Sequence[NewOutboxItem]
    ) -> bool:
        """Mark the ticket reminded and write the reminder's outbox items, in one transaction,
        only if it is still open, unanswered and not reminded (False otherwise: another worker
        did it, or staff answered meanwhile)."""
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE support_tickets SET reminded_at = ? WHERE id = ? AND state = 'open' "
                "AND first_response_at IS NULL AND reminded_at IS NULL",
                (to_db_time(now), ticket_id),
            )
            if cursor.rowcount == 0:
                return False
            await insert_items(connection, outbox)
        return True

    async def open_count(self, scope: Scope = None) -> int:
        """How many tickets are open (of ``scope``'s establishments)."""
        only, params = scope_sql(scope, _TICKET_UAI)
        row = await self.db.fetch_one(
            f"SELECT COUNT(*) AS n FROM support_tickets t WHERE t.state = 'open'{only}", params
        )
        assert row is not None
        return int(row["n"])

    async def first_responses(
        self, since: datetime, scope: Scope = None
    ) -> list[tuple[datetime, datetime]]:
        """(opened, first answered) of the tickets opened since ``since`` and answered (of
        ``scope``'s establishments)."""
        only, params = scope_sql(scope, _TICKET_UAI)
        rows = await self.db.fetch_all(
            "SELECT t.opened_at, t.first_response_at FROM support_tickets t "
            f"WHERE t.opened_at >= ? AND t.first_response_at IS NOT NULL{only} "
            "ORDER BY t.opened_at",
            (to_db_time(since), *params),
        )
        pairs = []
        for row in rows:
            opened, answered = (
                from_db_time(row["opened_at"]),
                from_db_time(row["first_response_at"]),
            )
            assert opened is not None and answered is not None
            pairs.append((opened, answered))
        return pairs

    # --- forgetting -------------------------------------------------------------------------

    async def forget_user(self, telegram_user_id: int) -> None:
        """« Supprimer mes données »: the user's tickets, messages and help mode (not the
        screenings of the last day: like the throttle's traces, they stay until purged, or
        deleting one's data would reset the cap and the hashing budget)."""
        async with self.db.transaction() as connection:
            await connection.execute(
                "DELETE FROM support_tickets WHERE telegram_user_id = ?", (telegram_user_id,)
            )
            await connection.execute(
                "DELETE FROM support_modes WHERE telegram_user_id = ?", (telegram_user_id,)
            )
            await connection.execute(
                "DELETE FROM support_topics WHERE telegram_user_id = ?", (telegram_user_id,)
            )
            await connection.execute(
                "DELETE FROM support_topic_intents WHERE telegram_user_id = ?",
                (telegram_user_id,),
            )

    async def purge(self, before: datetime, *, screenings_before: datetime | None = None) -> int:
        """Forget tickets not touched since ``before`` (closed or left open), stale modes, and
        screenings older than ``screenings_before`` (default ``before``)."""
        stamp = to_db_time(before)
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "DELETE FROM support_tickets WHERE updated_at < ?", (stamp,)
            )
            await connection.execute("DELETE FROM support_modes WHERE since < ?", (stamp,))
            await connection.execute(
                "DELETE FROM support_screenings WHERE screened_at < ?",
                (to_db_time(screenings_before or before),),
            )
        return cursor.rowcount
