"""Support and the team's opening hours, end to end on an injected clock: the one reminder of
an unanswered ticket (counted in opening hours, posted while the team is there, never twice,
across a restart), the note to a user who writes while the team is away, and the support
figures of /stats. The real Application, the local Bot API server, real SMTP, a real SQLite
file; the school file of the tests with ``[horaires]``."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from bot.cli import build_parser
from bot.sandbox.bot_api_server import SandboxGroup
from bot.support.cli import support_command
from bot.texts import support as support_texts

from chat import Chat
from conftest import BotHarness
from support import DATA

STAFF_ID = 9001
TEAM_CHAT = -100777
FORUM_CHAT = -100888
PARIS = ZoneInfo("Europe/Paris")
HOURS = """
[horaires]
fuseau = "Europe/Paris"
lundi = ["08:00-12:00", "13:30-17:00"]
mardi = ["08:00-12:00", "13:30-17:00"]
mercredi = ["08:00-12:00"]
jeudi = ["08:00-12:00", "13:30-17:00"]
vendredi = ["08:00-12:00", "13:30-16:30"]
fermetures = [2026-12-25]
"""


def paris(*args: int) -> datetime:
    """A Paris wall-clock moment, as the bot's (UTC) clock holds it."""
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)  # type: ignore[misc]


def school_with_hours(tmp_path: Path) -> Path:
    """The tests' school file with opening hours."""
    folder = tmp_path / "school"
    folder.mkdir(exist_ok=True)
    (folder / "cgu.txt").write_text((DATA / "cgu.txt").read_text(encoding="utf-8"), "utf-8")
    path = folder / "school.toml"
    path.write_text((DATA / "school.toml").read_text(encoding="utf-8") + HOURS, "utf-8")
    return path


async def restart_with(harness: BotHarness, **update: Any) -> BotHarness:
    await harness.stop()
    harness.settings = harness.settings.model_copy(
        update={
            "staff_telegram_ids": [STAFF_ID],
            "school_config": school_with_hours(harness.tmp_path),
            "support_remind_after_minutes": 120,
            "support_remind_scan_seconds": 0.05,
            **update,
        }
    )
    await harness.start()
    return harness


@pytest_asyncio.fixture
async def team(harness: BotHarness) -> AsyncIterator[BotHarness]:
    """A staff group without topics (reply mode), on Monday 7 December 2026, 10:30 in Paris."""
    harness.clock.now = paris(2026, 12, 7, 10, 30)
    harness.server.group(TEAM_CHAT, "Équipe ENT")
    yield await restart_with(harness, support_chat_id=TEAM_CHAT)


@pytest_asyncio.fixture
async def forum(harness: BotHarness) -> AsyncIterator[BotHarness]:
    """A staff group with forum topics, same Monday."""
    harness.clock.now = paris(2026, 12, 7, 10, 30)
    harness.server.group(FORUM_CHAT, "Équipe ENT", is_forum=True)
    yield await restart_with(harness, support_chat_id=FORUM_CHAT, support_forum_topics=True)


async def scans(harness: BotHarness, count: int = 3) -> None:
    """Let the reminders' periodic job look ``count`` more times (at the clock's time)."""
    reminders = harness.services.reminders
    target = reminders.scans + count
    for _ in range(1000):
        if reminders.scans >= target:
            break
        await asyncio.sleep(0.01)
    assert reminders.scans >= target, "the reminders' job did not run"
    await harness.settle()


def reminders_in(group: SandboxGroup) -> list[Any]:
    return [p for p in group.bot_posts() if p.text.startswith("⏰")]


async def write_to_team(chat: Chat, text: str) -> Any:
    await chat.say("/aide")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    return await chat.say(text)


async def test_one_reminder_after_two_opening_hours_never_twice(team: BotHarness) -> None:
    group = team.server.group(TEAM_CHAT)
    chat = Chat(team, 3101, "Léa")
    sent = await write_to_team(chat, "Je ne reçois pas l'e-mail")
    assert "demande n° 1" in sent.text
    assert "🕐" not in sent.text  # the team is there: no note
    await team.server.wait_until(lambda: len(group.bot_posts()) == 1)

    # 12:20: 1 h 30 of opening time (the morning); 13:45: lunch adds nothing but 15 minutes.
    for moment in (paris(2026, 12, 7, 12, 20), paris(2026, 12, 7, 13, 45)):
        team.clock.now = moment
        await scans(team)
        assert reminders_in(group) == []
    # 14:00: two hours of opening time. One reminder, quoting the ticket's number.
    team.clock.now = paris(2026, 12, 7, 14, 0)
    await team.server.wait_until(lambda: len(reminders_in(group)) == 1)
    [reminder] = reminders_in(group)
    assert reminder.text.startswith("⏰ Demande #1 · sans réponse depuis 2 heures d'ouverture")
    assert reminder.thread_id is None

    # Never twice: later scans, a restart, a later day.
    team.clock.advance(hours=3)
    await scans(team)
    await team.stop()
    team.clock.now = paris(2026, 12, 8, 9, 0)
    await team.start()
    await scans(team)
    assert len(reminders_in(group)) == 1
    ticket = await team.services.support.repository.get(1)
    assert ticket is not None and ticket.first_response_at is None

    # Replying to the reminder answers the ticket (its number is on the first line).
    staff = team.server.user(STAFF_ID, first_name="Camille")
    await group.post(staff, "Regardez vos spams.", reminder.message_id)
    await team.server.wait_until(
        lambda: any("Regardez vos spams" in m.text for m in chat.user.visible_messages())
    )


async def test_an_answered_ticket_gets_no_reminder(team: BotHarness) -> None:
    group = team.server.group(TEAM_CHAT)
    chat = Chat(team, 3102, "Sam")
    await write_to_team(chat, "Bonjour, mon courrier est perdu")
    await team.server.wait_until(lambda: len(group.bot_posts()) == 1)
    staff = team.server.user(STAFF_ID, first_name="Camille")
    await group.post(staff, "Passez au secrétariat.", group.bot_posts()[0].message_id)
    await team.server.wait_until(lambda: any("secrétariat" in m.text for m in chat.user.messages))
    team.clock.now = paris(2026, 12, 8, 11, 0)
    await scans(team)
    assert reminders_in(group) == []


async def test_no_reminder_outside_opening_hours_then_on_monday(team: BotHarness) -> None:
    """Written on Friday at 16:00: half an hour of Friday, then the weekend (no reminder,
    however long), then Monday from 8:00: due at 9:30, not before."""
    group = team.server.group(TEAM_CHAT)
    team.clock.now = paris(2026, 12, 11, 16, 0)
    chat = Chat(team, 3103, "Nora")
    await write_to_team(chat, "Le lien a expiré ?")
    await team.server.wait_until(lambda: len(group.bot_posts()) == 1)
    for moment in (
        paris(2026, 12, 11, 18, 0),  # two hours later, after closing
        paris(2026, 12, 12, 16, 0),  # Saturday
        paris(2026, 12, 14, 9, 29),  # Monday, a minute short
    ):
        team.clock.now = moment
        await scans(team)
        assert reminders_in(group) == [], moment
    team.clock.now = paris(2026, 12, 14, 9, 31)
    await team.server.wait_until(lambda: len(reminders_in(group)) == 1)


async def test_the_reminder_goes_to_the_user_s_topic(forum: BotHarness) -> None:
    group = forum.server.group(FORUM_CHAT)
    chat = Chat(forum, 3104, "Léa")
    await write_to_team(chat, "Je suis bloquée à l'étape du code")
    await forum.server.wait_until(lambda: len(group.topics) == 1 and len(group.bot_posts()) == 1)
    [thread] = list(group.topics)
    name = group.topics[thread]["name"]
    forum.clock.now = paris(2026, 12, 7, 14, 1)
    await forum.server.wait_until(lambda: len(reminders_in(group)) == 1)
    [reminder] = reminders_in(group)
    assert reminder.thread_id == thread and len(group.topics) == 1
    assert group.topics[thread]["name"] == name  # the reminder never renames the topic
    assert "Écrivez dans ce sujet" in reminder.text
    await scans(forum)
    assert len(reminders_in(group)) == 1


async def test_outside_opening_hours_the_user_is_told_when_to_expect_an_answer(
    team: BotHarness,
) -> None:
    # Saturday morning: back on Monday at 8:00.
    team.clock.now = paris(2026, 12, 12, 10, 0)
    chat = Chat(team, 3105, "Sam")
    await chat.say("/aide")
    await chat.press("Je bloque")
    prompt = await chat.press("Écrire à l'équipe")
    assert "à partir de lundi 8 h 00" in prompt.text  # said before they write, too
    sent = await chat.say("Mon compte est bloqué")
    assert "demande n° 1" in sent.text
    assert "L'équipe n'est pas là en ce moment" in sent.text
    assert "à partir de lundi 8 h 00" in sent.text
    # Lunch time: back at 13:30 the same day.
    team.clock.now = paris(2026, 12, 14, 12, 15)
    again = await chat.say("Toujours bloqué")
    assert "à partir de 13 h 30." in again.text
    # Thursday evening before the closed Friday: « lundi », in a procedure too (« Reprendre »
    # shows the step again).
    team.clock.now = paris(2026, 12, 24, 18, 0)
    lea = Chat(team, 3106, "Léa")
    await lea.walk_to_cgu("lea.martin", "Xq7-Tb4k-Wpz")
    await lea.press("Je bloque")
    await lea.press("Écrire à l'équipe")
    sent = await lea.say("Je ne comprends pas")
    assert "à partir de lundi 8 h 00" in sent.text and "Reprendre" in " ".join(lea.labels(sent))
    # In opening hours: no note.
    team.clock.now = paris(2026, 12, 28, 9, 0)
    sent = await chat.say("Vous êtes là ?")
    assert "🕐" not in sent.text and support_texts.OUTSIDE_HOURS[:10] not in sent.text


async def test_stats_shows_open_tickets_and_the_median_first_response(
    team: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    group = team.server.group(TEAM_CHAT)
    staff_chat = Chat(team, STAFF_ID, "Camille")
    await staff_chat.send("/stats")
    [support] = [m for m in await staff_chat.replies() if "Demandes à l'équipe" in m.text]
    assert "Ouvertes : 0" in support.text
    assert "délai médian (30 derniers jours, heures d'ouverture) : —" in support.text

    # Three tickets on Monday 10:30, answered at 11:10, 11:50 and (across lunch) 14:30; the
    # last one closed.
    staff = team.server.user(STAFF_ID, first_name="Camille")
    chats = [Chat(team, 3110 + n, f"Personne {n}") for n in range(3)]
    for chat in chats:
        await write_to_team(chat, "J'ai un souci")
    await team.server.wait_until(lambda: len(group.bot_posts()) == 3)
    cards = {p.text.split("\n", 1)[0]: p for p in group.bot_posts()}
    for number, moment in ((1, (11, 10)), (2, (11, 50)), (3, (14, 30))):
        team.clock.now = paris(2026, 12, 7, *moment)
        card = next(p for title, p in cards.items() if f"#{number} " in title)
        await group.post(staff, "C'est noté.", card.message_id)
        await team.settle()
    closed = next(p for title, p in cards.items() if "#3 " in title)
    await group.post(staff, "/fermer", closed.message_id)
    await team.settle()

    await staff_chat.send("/stats")
    [support] = [m for m in await staff_chat.replies() if "Demandes à l'équipe" in m.text]
    assert "Ouvertes : 2" in support.text
    # 40 min, 80 min, 150 min of opening time (11:10, 11:50, and 10:30→12:00 + 13:30→14:30).
    assert ": 80 minutes (3 demande(s) répondue(s))" in support.text

    # The command line shows each ticket's first-response time (plain time).
    args = build_parser().parse_args(["support", "list", "--json"])
    assert await support_command(team.settings, args) == 0
    listed = {t["numero"]: t for t in json.loads(capsys.readouterr().out)}
    assert listed[3]["delai_premiere_reponse_secondes"] == 4 * 3600
    args = build_parser().parse_args(["support", "show", "1"])
    assert await support_command(team.settings, args) == 0
    assert re.search(r"Délai de 1re réponse +: 40 minutes", capsys.readouterr().out)
