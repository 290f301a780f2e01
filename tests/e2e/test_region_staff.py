"""One bot for a region (issue 27), in Telegram: a staff member of establishment A sees, in
/compte and /stats, only A's people; B's accounts are « unknown » to them, and a regional
administrator sees both. The real Application, the local Bot API server, a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

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
    assert "Article Alpha." in first and "Bêta" not in first
    await parent.press("J'accepte")
    second = texts_of(await parent.replies())
    assert "CGU du CFA Bêta." in second and "Alpha" not in second
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
