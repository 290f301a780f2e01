"""One bot for a region (issue 27), in Telegram: a staff member of establishment A sees, in
/compte and /stats, only A's people; B's accounts are « unknown » to them, and a regional
administrator sees both. The real Application, the local Bot API server, a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from chat import Chat
from conftest import BotHarness
from support import UAI_A, UAI_B, write_two_schools

STAFF_A, STAFF_B, ADMIN = 111, 222, 333


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
