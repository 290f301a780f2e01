"""The unanswered-ticket reminder on a real SQLite file: due after N minutes of opening time,
written once with its outbox item, even by two workers (two connections, as two processes)
racing on the same tickets; the support figures of /stats."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config.hours import parse_opening_hours
from bot.support.figures import median, support_figures
from bot.support.reminders import ReminderSettings, UnansweredReminders, reminder_due
from bot.texts import staff as staff_texts
from storage.db import Database
from storage.outbox import NewOutboxItem, OutboxRepository
from storage.support import SupportRepository

PARIS = ZoneInfo("Europe/Paris")
HOURS = parse_opening_hours({"lundi": ["08:00-12:00", "13:30-17:00"], "mardi": ["08:00-12:00"]})
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS).astimezone(UTC)
SETTINGS = ReminderSettings(chat_id=-100, topics=False, after=timedelta(minutes=120))


class Kicks:
    def __init__(self) -> None:
        self.items: list[NewOutboxItem] = []

    def kick(self, item: NewOutboxItem) -> None:
        self.items.append(item)


def test_due_in_opening_time_or_plain_time() -> None:
    # 10:00 + 2 h is noon; + 2 h 30 crosses lunch to 14:00.
    assert reminder_due(HOURS, MONDAY_10, timedelta(minutes=120)) == MONDAY_10 + timedelta(hours=2)
    assert reminder_due(HOURS, MONDAY_10, timedelta(minutes=150)) == MONDAY_10 + timedelta(hours=4)
    assert reminder_due(None, MONDAY_10, timedelta(minutes=120)) == MONDAY_10 + timedelta(hours=2)


async def _open_tickets(database: Database, count: int) -> None:
    repository = SupportRepository(database)
    for n in range(count):
        await repository.add_user_message(100 + n, 100 + n, None, MONDAY_10, lambda t, new: [])


async def test_two_workers_racing_write_one_reminder_a_ticket(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first, second = await Database.open(path), await Database.open(path)
    try:
        await _open_tickets(first, 5)
        now = MONDAY_10 + timedelta(hours=4)
        workers = [
            UnansweredReminders(SupportRepository(db), Kicks(), HOURS, lambda: now, SETTINGS)
            for db in (first, second, first)
        ]
        written = await asyncio.gather(*(w.scan_once() for w in workers))
        assert sum(written) == 5
        items = await OutboxRepository(first).pending()
        assert len(items) == 5
        assert sorted(item.params["text"].split(" · ")[0] for item in items) == [
            f"<b>⏰ Demande #{n}" for n in range(1, 6)
        ]
        # Later scans, by any worker, write nothing more.
        assert sum(await asyncio.gather(*(w.scan_once() for w in workers))) == 0
        assert len(await OutboxRepository(second).pending()) == 5
    finally:
        await first.close()
        await second.close()


async def test_not_due_yet_nor_while_the_team_is_away(database: Database) -> None:
    await _open_tickets(database, 1)
    now = MONDAY_10 + timedelta(hours=3)  # 13:00: due since noon, but lunch
    kicks = Kicks()
    worker = UnansweredReminders(SupportRepository(database), kicks, HOURS, lambda: now, SETTINGS)
    assert await worker.scan_once() == 0
    now = MONDAY_10 + timedelta(hours=3, minutes=29)  # 13:29: still lunch
    assert await worker.scan_once() == 0
    now = MONDAY_10 + timedelta(hours=3, minutes=30)  # 13:30
    assert await worker.scan_once() == 1
    assert len(kicks.items) == 1 and worker.scans == 3
    off = UnansweredReminders(
        SupportRepository(database),
        kicks,
        HOURS,
        lambda: now,
        ReminderSettings(chat_id=-100, topics=False, after=timedelta(0)),
    )
    assert not off.enabled and await off.scan_once() == 0


async def test_support_figures(database: Database) -> None:
    repository = SupportRepository(database)
    figures = await support_figures(repository, HOURS, MONDAY_10)
    assert (figures.open_tickets, figures.median_first_response) == (0, None)
    await _open_tickets(database, 3)
    for ticket_id, minutes in ((1, 30), (2, 300)):  # 10:30; 15:00 (lunch not counted)
        await repository.add_staff_message(ticket_id, MONDAY_10 + timedelta(minutes=minutes), [])
    figures = await support_figures(repository, HOURS, MONDAY_10 + timedelta(hours=6))
    assert figures.open_tickets == 3 and figures.answered == 2
    assert figures.median_first_response == timedelta(minutes=(30 + 210) / 2)
    raw = await support_figures(repository, None, MONDAY_10 + timedelta(hours=6))
    assert raw.median_first_response == timedelta(minutes=(30 + 300) / 2)
    # Out of the 30-day window: not counted.
    later = await support_figures(repository, HOURS, MONDAY_10 + timedelta(days=31))
    assert later.answered == 0 and later.median_first_response is None
    assert median([]) is None
    html = staff_texts.staff_support_html(3, None, 0, 30, True)
    assert "Ouvertes : 3" in html and html.endswith(": —")


async def test_a_ticket_is_timed_by_its_establishment_s_opening_hours(database: Database) -> None:
    """A region (issue 27): the ticket of an account of A waits for A's team, whose hours are
    not the region's; a ticket of no establishment keeps the region's."""
    async with database.transaction() as connection:
        await connection.execute(
            "INSERT INTO accounts (identifiant, identifiant_norm, profil, imported_at, "
            "updated_at, uai) VALUES ('ana', 'ana', 'apprenti', '2026-12-01', '2026-12-01', "
            "'0450001A')"
        )
    repository = SupportRepository(database)
    await repository.add_user_message(100, 100, 1, MONDAY_10, lambda t, new: [])
    await repository.add_user_message(101, 101, None, MONDAY_10, lambda t, new: [])
    afternoons = parse_opening_hours({"lundi": ["14:00-18:00"]})
    now = MONDAY_10 + timedelta(hours=3, minutes=30)  # 13:30: the region's team is back, not A's
    kicks = Kicks()
    worker = UnansweredReminders(
        repository,
        kicks,
        HOURS,
        lambda: now,
        SETTINGS,
        hours_by_uai=lambda uai: afternoons if uai == "0450001A" else HOURS,
    )
    assert await worker.scan_once() == 1
    assert "#2" in kicks.items[0].params["text"]
    now = MONDAY_10 + timedelta(hours=6)  # 16:00: two hours of A's afternoon
    assert await worker.scan_once() == 1
    assert "#1" in kicks.items[1].params["text"]
