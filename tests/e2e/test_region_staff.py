"""One bot for a region (issue 27), in Telegram: a staff member of establishment A sees, in
/compte and /stats, only A's people; B's accounts are « unknown » to them, and a regional
administrator sees both. The real Application, the local Bot API server, a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio

from bot.security import normalise_answer
from storage.accounts import ActivationRecord

from chat import Chat
from conftest import BotHarness
from support import ACCOUNTS, GOOD_PASSWORD, UAI_A, UAI_B, write_two_schools

STAFF_A, STAFF_B, ADMIN = 111, 222, 333
PROVISIONAL = {row[0]: row[1] for row in ACCOUNTS}


def texts_of(messages: list[object]) -> str:
    """The turn's texts, one after the other."""
    return "\n".join(getattr(m, "text", "") or "" for m in messages)


async def link(harness: BotHarness, identifiant: str, user_id: int, cgu: str) -> None:
    """``identifiant`` made active as an activation leaves it, linked to ``user_id``, with the
    CGU version ``cgu`` accepted."""
    ports = harness.services.ports
    account = await ports.directory.find(identifiant)
    assert account is not None
    now = datetime.now(UTC)
    questions = ports.school.secret_questions
    record = ActivationRecord(
        email=f"{identifiant}@example.org",
        email_verified_at=now,
        secret_question1=questions[0],
        secret_answer1_hash=await ports.hasher.hash(normalise_answer("Mon Éléphant")),
        secret_question2=questions[1],
        secret_answer2_hash=await ports.hasher.hash(normalise_answer("Tours")),
        telegram_user_id=user_id,
        cgu_version=cgu,
        cgu_accepted_at=now,
        activated_at=now,
    )
    assert await ports.directory.activate(account.id, GOOD_PASSWORD, record)


@pytest_asyncio.fixture
async def region(harness: BotHarness) -> AsyncIterator[BotHarness]:
    """The harness's bot restarted over two establishments: lea.martin of A, paul.durand of B."""
    await harness.stop()
    harness.settings = harness.settings.model_copy(
        update={
            "schools_dir": write_two_schools(harness.tmp_path / "etablissements"),
            "region_admin_telegram_ids": [ADMIN],
        }
    )
    await harness.start()
    database = harness.services.database
    async with database.transaction() as connection:
        for identifiant, uai in (("lea.martin", UAI_A), ("paul.durand", UAI_B)):
            await connection.execute(
                "UPDATE accounts SET uai = ? WHERE identifiant_norm = ?", (uai, identifiant)
            )
    yield harness


async def test_compte_and_stats_show_only_the_staff_member_s_establishment(
    region: BotHarness,
) -> None:
    staff_a = Chat(region, STAFF_A, "Équipe A")
    assert "lea.martin" in (await staff_a.say("/compte lea.martin")).text
    assert "Aucun compte" in (await staff_a.say("/compte paul.durand")).text
    await staff_a.send("/stats")
    funnel = next(m for m in await staff_a.replies() if m.kind == "text")
    assert "Importés : 1 (100 %)" in funnel.text

    staff_b = Chat(region, STAFF_B, "Équipe B")
    assert "Aucun compte" in (await staff_b.say("/compte lea.martin")).text
    assert "paul.durand" in (await staff_b.say("/compte paul.durand")).text

    admin = Chat(region, ADMIN, "Région")
    assert "lea.martin" in (await admin.say("/compte lea.martin")).text
    assert "paul.durand" in (await admin.say("/compte paul.durand")).text


async def test_a_person_reads_their_establishment_s_cgu_and_contacts(region: BotHarness) -> None:
    lea = Chat(region, 5001, "Léa")
    before = await lea.say("/aide")  # not known yet: the region's contacts
    assert "Lycée de Test" in before.text and "Alpha" not in before.text
    await lea.walk_to_cgu("lea.martin", PROVISIONAL["lea.martin"])
    cgu = texts_of(await lea.replies())
    assert "Conditions de test" in cgu and "Article Alpha." in cgu  # the region's + A's own
    assert "Bêta" not in cgu
    await lea.send("/aide")
    helped = texts_of(await lea.replies())
    assert "Lycée Alpha" in helped and "Secrétariat Alpha" in helped

    paul = Chat(region, 5002, "Paul")
    await paul.walk_to_cgu("paul.durand", PROVISIONAL["paul.durand"])
    cgu = texts_of(await paul.replies())
    assert "CGU du CFA Bêta." in cgu  # B's own CGU, in place of the region's
    assert "Conditions de test" not in cgu and "Alpha" not in cgu
    accepted = await paul.press("J'accepte")
    assert accepted.text
    # The e-mails are in the establishment's words too.
    await paul.press("e-mail")
    count = len(region.mailbox.mails)
    await paul.say("paul@example.org")
    mail = await region.mailbox.wait_for(count + 1)
    assert "CFA Bêta" in mail.text and "Lycée de Test" not in mail.text
    session = await region.services.ports.sessions.get(5002)
    schools = region.services.ports.region
    assert schools is not None and session is not None
    assert session.cgu_version == schools.establishments[UAI_B].school.cgu_version


async def test_a_parent_accepts_each_establishment_s_changed_cgu(region: BotHarness) -> None:
    await link(region, "lea.martin", 5003, "ancienne")
    await link(region, "paul.durand", 5003, "ancienne")
    parent = Chat(region, 5003, "Nora")
    await parent.send("/moncompte")
    first = texts_of(await parent.replies())
    await parent.press("J'accepte")
    second = texts_of(await parent.replies())
    # One establishment's text at a time, each once (in the order of the links).
    alpha, beta = sorted((first, second), key=lambda text: "Bêta" in text)
    assert "Article Alpha." in alpha and "Bêta" not in alpha
    assert "CGU du CFA Bêta." in beta and "Alpha" not in beta
    await parent.press("J'accepte")
    schools = region.services.ports.region
    assert schools is not None
    lea = await region.services.ports.directory.find("lea.martin")
    paul = await region.services.ports.directory.find("paul.durand")
    assert lea is not None and paul is not None
    assert lea.cgu_version == schools.establishments[UAI_A].school.cgu_version
    assert paul.cgu_version == schools.establishments[UAI_B].school.cgu_version
    assert lea.cgu_version != paul.cgu_version
    # Help for a person of two establishments: the region's contacts (each account's own
    # content comes with that account).
    assert "Lycée de Test" in (await parent.say("/aide")).text


REGION_CHAT, CHAT_A, CHAT_B = -1000, -1001, -1002


@pytest_asyncio.fixture
async def teams(harness: BotHarness) -> AsyncIterator[BotHarness]:
    """Two establishments with their staff groups (A's a forum) and the region's group."""
    await harness.stop()
    harness.settings = harness.settings.model_copy(
        update={
            "schools_dir": write_two_schools(harness.tmp_path / "etablissements"),
            "region_admin_telegram_ids": [ADMIN],
            "support_chat_id": REGION_CHAT,
        }
    )
    harness.server.group(REGION_CHAT, "Région")
    harness.server.group(CHAT_A, "Équipe Alpha", is_forum=True)
    harness.server.group(CHAT_B, "Équipe Bêta")
    await harness.start()
    async with harness.services.database.transaction() as connection:
        for identifiant, uai in (("lea.martin", UAI_A), ("paul.durand", UAI_B)):
            await connection.execute(
                "UPDATE accounts SET uai = ? WHERE identifiant_norm = ?", (uai, identifiant)
            )
    yield harness


async def write_to_team(chat: Chat, text: str) -> None:
    await chat.say("/aide")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    await chat.say(text)


async def user_sees(chat: Chat, fragment: str) -> Any:
    """The bot's message to ``chat`` holding ``fragment``, once the outbox delivered it."""

    def found() -> Any:
        return next(
            (m for m in chat.user.visible_messages() if m.from_bot and fragment in m.text), None
        )

    await chat.harness.server.wait_until(lambda: found() is not None)
    return found()


async def test_a_ticket_goes_to_its_establishment_s_group_and_only_its_staff_act(
    teams: BotHarness,
) -> None:
    server = teams.server
    group_a, group_b, group_r = (
        server.group(CHAT_A),
        server.group(CHAT_B),
        server.group(REGION_CHAT),
    )
    await link(teams, "lea.martin", 6001, "ancienne")
    lea = Chat(teams, 6001, "Léa")
    await lea.say("/moncompte")
    await lea.press("J'accepte")  # A's changed CGU first
    await write_to_team(lea, "Je n'arrive pas à me connecter")
    await server.wait_until(lambda: len(group_a.bot_posts()) >= 1)
    await teams.settle()
    [(thread, _)] = group_a.topics.items()
    assert "Je n'arrive pas" in group_a.bot_posts(thread)[0].text
    assert group_b.bot_posts() == [] and group_r.bot_posts() == []

    # Someone not identified yet: the region's group.
    stranger = Chat(teams, 6002, "Inconnu")
    await write_to_team(stranger, "Je n'ai pas de courrier")
    await server.wait_until(lambda: len(group_r.bot_posts()) >= 1)
    assert "pas de courrier" in group_r.bot_posts()[0].text
    assert group_b.bot_posts() == []

    # B's staff (even if they were in A's group) act with their rights: A's person is unknown.
    staff_b = server.user(STAFF_B, first_name="Bruno")
    await group_a.post(staff_b, "/compte", thread_id=thread)
    await server.wait_until(lambda: len(group_a.bot_posts(thread)) >= 2)
    await teams.settle()
    assert "lea.martin" in group_a.bot_posts(thread)[-1].text
    assert "Aucun compte" in group_a.bot_posts(thread)[-1].text
    # A's staff answer in A's topic: it reaches Léa, signed by her establishment.
    staff_a = server.user(STAFF_A, first_name="Alice")
    await group_a.post(staff_a, "Nous regardons cela.", thread_id=thread)
    answer = await user_sees(lea, "Nous regardons")
    assert "Lycée Alpha" in answer.text

    # A ticket number of A's group, named from B's group: unknown there.
    ticket = await teams.services.support.repository.open_ticket(6001)
    assert ticket is not None and ticket.staff_chat_id == CHAT_A
    support = teams.services.support
    assert await support.ticket_in(ticket.id, CHAT_B) is None
    assert await support.ticket_in(ticket.id, CHAT_A) is not None

    # /stats counts the open tickets of the staff member's establishments only.
    async def open_line(user_id: int) -> str:
        chat = Chat(teams, user_id, "Équipe")
        await chat.send("/stats")
        figures = next(m.text for m in await chat.replies() if "Ouvertes" in (m.text or ""))
        return next(line for line in figures.splitlines() if "Ouvertes" in line)

    assert await open_line(STAFF_A) == "Ouvertes : 1"
    assert await open_line(STAFF_B) == "Ouvertes : 0"
    assert await open_line(ADMIN) == "Ouvertes : 2"  # the region's: A's and the stranger's


async def test_a_region_s_letter_link_names_the_establishment(region: BotHarness) -> None:
    chat = Chat(region, 7001, "Léa")
    first = await chat.say(f"/start activer_{UAI_A.lower()}")
    assert "Lycée Alpha" in first.text  # the school's name at once
    await chat.say("lea.martin")
    await chat.say_secret(PROVISIONAL["lea.martin"])
    cgu = texts_of(await chat.replies())
    assert "Article Alpha." in cgu and "Bêta" not in cgu
    # The plain link still works: the region's (nothing of A before the account is known).
    plain = Chat(region, 7002, "Paul")
    asked = await plain.say("/start activer")
    assert "Alpha" not in asked.text and "identifiant" in asked.text
    await plain.say("paul.durand")
    await plain.say_secret(PROVISIONAL["paul.durand"])
    assert "CGU du CFA Bêta." in texts_of(await plain.replies())


async def test_a_parent_sees_each_account_s_establishment_in_mon_compte(
    region: BotHarness,
) -> None:
    schools = region.services.staff.region
    assert schools is not None
    for identifiant, uai in (("lea.martin", UAI_A), ("paul.durand", UAI_B)):
        await link(region, identifiant, 7003, schools.establishments[uai].school.cgu_version)
    parent = Chat(region, 7003, "Nora")
    for identifiant, name in (("paul.durand", "CFA Bêta"), ("lea.martin", "Lycée Alpha")):
        await parent.say("/moncompte")
        await parent.press(identifiant)
        await parent.press("Changer mes questions secrètes")
        await parent.send("/aide")  # in this account's change: its establishment's contacts
        assert name in texts_of(await parent.replies())
        listed = await parent.say_secret(GOOD_PASSWORD)
        # The secret questions are the region's for every establishment (bot.region).
        assert "Question A ?" in " ".join(Chat.labels(listed))
        await parent.say("/annuler")
