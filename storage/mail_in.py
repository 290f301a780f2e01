"""Incoming e-mails read from the IMAP mailbox (:mod:`bot.mail_in`): which UIDs are handled,
with what outcome, and the automatic answers given per address."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.db import Database, to_db_time
from storage.outbox import NewOutboxItem, insert_items


class MailOutcome(StrEnum):
    """What the bot did with one incoming e-mail."""

    # An automatic answer is in the outbox.
    ANSWERED = "answered"
    # An auto-reply, an out-of-office or a bounce: never answered.
    AUTOMATIC = "automatic"
    # The address had its share of automatic answers (a mail loop, or a chatty writer).
    CAPPED = "capped"
    # DMARC failed at the school's server: the sender is not who the From says.
    UNVERIFIED = "unverified"
    # No usable sender address.
    NO_SENDER = "no_sender"
    # One of the bot's own addresses (its inbound address, its From): never answered.
    OWN = "own"


@dataclass(frozen=True)
class HandledMail:
    """One handled message: its place in the mailbox and what was done."""

    mailbox: str
    uidvalidity: int
    uid: int
    received_at: datetime
    outcome: MailOutcome
    reason: str | None = None
    address_key: str | None = None


class MailInRepository:
    """The ``mail_in`` table."""

    def __init__(self, database: Database) -> None:
        self.db = database

    async def handled(self, mailbox: str, uidvalidity: int, uids: Sequence[int]) -> set[int]:
        """The UIDs among ``uids`` already handled (in this UIDVALIDITY)."""
        found: set[int] = set()
        for start in range(0, len(uids), 500):
            chunk = list(uids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = await self.db.fetch_all(
                f"SELECT uid FROM mail_in WHERE mailbox = ? AND uidvalidity = ? "
                f"AND uid IN ({marks})",
                (mailbox, uidvalidity, *chunk),
            )
            found.update(row["uid"] for row in rows)
        return found

    async def last_uid(self, mailbox: str, uidvalidity: int) -> int:
        """The highest UID handled in this UIDVALIDITY (0: none)."""
        row = await self.db.fetch_one(
            "SELECT COALESCE(MAX(uid), 0) AS last FROM mail_in "
            "WHERE mailbox = ? AND uidvalidity = ?",
            (mailbox, uidvalidity),
        )
        return int(row["last"]) if row is not None else 0

    async def answers_since(self, address_key: str, since: datetime) -> int:
        """Automatic answers given to this address since ``since``."""
        row = await self.db.fetch_one(
            "SELECT COUNT(*) AS n FROM mail_in WHERE address_key = ? AND outcome = 'answered' "
            "AND received_at >= ?",
            (address_key, to_db_time(since)),
        )
        return int(row["n"]) if row is not None else 0

    async def record(self, mail: HandledMail, items: Sequence[NewOutboxItem] = ()) -> bool:
        """Note ``mail`` as handled and write ``items`` (its answer) in one transaction; False
        (and nothing written) if it was handled already."""
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "INSERT OR IGNORE INTO mail_in (mailbox, uidvalidity, uid, received_at, outcome, "
                "reason, address_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    mail.mailbox,
                    mail.uidvalidity,
                    mail.uid,
                    to_db_time(mail.received_at),
                    mail.outcome.value,
                    mail.reason,
                    mail.address_key,
                ),
            )
            if cursor.rowcount != 1:
                return False
            await insert_items(connection, items)
            if items and items[0].id is not None:
                await connection.execute(
                    "UPDATE mail_in SET outbox_id = ? "
                    "WHERE mailbox = ? AND uidvalidity = ? AND uid = ?",
                    (items[0].id, mail.mailbox, mail.uidvalidity, mail.uid),
                )
        return True

    async def outcomes(self) -> dict[str, int]:
        """How many messages had each outcome (for tests and staff)."""
        rows = await self.db.fetch_all(
            "SELECT outcome, COUNT(*) AS n FROM mail_in GROUP BY outcome"
        )
        return {row["outcome"]: row["n"] for row in rows}

    async def purge(self, before: datetime) -> int:
        """Forget messages handled before ``before``, except the last one of each mailbox and
        UIDVALIDITY (reading resumes after it)."""
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "DELETE FROM mail_in WHERE received_at < ? AND uid < (SELECT MAX(newest.uid) "
                "FROM mail_in AS newest WHERE newest.mailbox = mail_in.mailbox "
                "AND newest.uidvalidity = mail_in.uidvalidity)",
                (to_db_time(before),),
            )
        return cursor.rowcount
