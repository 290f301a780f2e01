"""The ``mail_in`` table (storage/mail_in.py): one row per UID, written with its answer in one
transaction; a purge keeps where reading resumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.db import Database
from storage.mail_in import HandledMail, MailInRepository, MailOutcome
from storage.outbox import NewOutboxItem, OutboxKind

NOW = datetime(2026, 12, 7, 10, tzinfo=UTC)


def handled(uid: int, at: datetime = NOW, key: str | None = "k") -> HandledMail:
    return HandledMail("INBOX", 7, uid, at, MailOutcome.ANSWERED, None, key)


def answer() -> NewOutboxItem:
    return NewOutboxItem(
        kind=OutboxKind.NOTICE_MAIL,
        template="mail_answer",
        params={"to": "a@example.org"},
        created_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )


async def test_a_uid_is_recorded_once_with_its_answer(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "db.sqlite3")
    try:
        repository = MailInRepository(database)
        assert await repository.record(handled(1), [answer()])
        # A second time (a replay): nothing written, no second answer.
        assert not await repository.record(handled(1), [answer()])
        rows = await database.fetch_all("SELECT COUNT(*) AS n FROM outbox")
        assert rows[0]["n"] == 1
        assert await repository.last_uid("INBOX", 7) == 1
        assert await repository.last_uid("INBOX", 8) == 0
        assert await repository.handled("INBOX", 7, [1, 2]) == {1}
        assert await repository.answers_since("k", NOW - timedelta(hours=24)) == 1
    finally:
        await database.close()


async def test_the_purge_keeps_where_reading_resumes(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "db.sqlite3")
    try:
        repository = MailInRepository(database)
        old = NOW - timedelta(days=40)
        for uid in (1, 2, 3):
            await repository.record(handled(uid, old))
        assert await repository.purge(NOW - timedelta(days=30)) == 2
        assert await repository.last_uid("INBOX", 7) == 3
    finally:
        await database.close()
