"""Staff rights on the service path (issue 27), without any channel: the Telegram staff
commands (/compte, /debloquer, /stats, the tickets' /compte and /debloquer) call
StaffService with ``acting_as=staff.rights_of(user id)``; staff of A never see, reset,
unlock, export, count, write letters for or read the tickets of B's people; a regional
administrator does; without rights a region shows nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.region import Region, load_region
from bot.security import KeyedHasher, SecretHasher
from bot.staff.accounts_import import import_accounts
from bot.staff.service import StaffService
from storage.accounts import SqliteAccountDirectory
from storage.broadcasts import Audience, BroadcastRepository
from storage.db import Database, to_db_time
from storage.records import RecordRepository
from storage.staff import StaffRepository
from storage.support import SupportRepository
from storage.throttle import ThrottleRepository

from support import DATA, UAI_A, UAI_B, MutableClock, write_two_schools

HEADER = ("identifiant", "mot_de_passe_provisoire", "profil", "prenom", "nom")
HEADER += ("etablissement", "uai")
ADMIN, STAFF_A, STAFF_B, OLD_STAFF = 999, 111, 222, 333


@pytest.fixture
def region(tmp_path: Path) -> Region:
    return load_region(
        DATA / "school.toml",
        write_two_schools(tmp_path / "etablissements"),
        admin_telegram_ids=frozenset({ADMIN}),
    )


@pytest.fixture
async def staff(
    database: Database,
    tmp_path: Path,
    hasher: SecretHasher,
    keyed: KeyedHasher,
    clock: MutableClock,
    region: Region,
) -> StaffService:
    path = tmp_path / "region.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        writer.writerow(["ana.alpha", "Xq7-Tb4k-Wpz", "eleve", "Ana", "A", "Alpha", UAI_A])
        writer.writerow(["bea.beta", "Gd5-Js3y-Fex", "eleve", "Béa", "B", "Bêta", UAI_B])
        writer.writerow(["rita.region", "Nt9-Bw6q-Kyv", "eleve", "Rita", "R", "", ""])
    report = await import_accounts(
        path, SqliteAccountDirectory(database), hasher, keyed, clock(), known_uais=region.uais
    )
    assert report.added == 3 and not report.rejected
    now = to_db_time(clock())
    async with database.transaction() as connection:
        await connection.execute(
            "UPDATE accounts SET telegram_user_id = 500 + id, status = 'active'"
        )
        await connection.execute(
            "INSERT INTO support_tickets (telegram_user_id, chat_id, account_id, opened_at, "
            "updated_at) SELECT 500 + id, 500 + id, id, ?, ? FROM accounts ORDER BY id",
            (now, now),
        )
    return StaffService(
        StaffRepository(database),
        ThrottleRepository(database),
        RecordRepository(database),
        hasher,
        keyed,
        clock=clock,
        region=region,
        staff_telegram_ids=(OLD_STAFF,),
    )


async def test_staff_of_a_act_on_a_only(staff: StaffService, database: Database) -> None:
    rights = staff.rights_of(STAFF_A)
    assert rights is not None and rights.uais == {UAI_A}
    assert await staff.report("bea.beta", acting_as=rights) is None
    assert await staff.reset("bea.beta", "telegram:111", acting_as=rights) is None
    assert await staff.unlock("bea.beta", "telegram:111", acting_as=rights) is None
    assert await staff.history("bea.beta", acting_as=rights) is None
    assert await staff.report("rita.region", acting_as=rights) is None
    assert [row[0] for row in await staff.export_rows(acting_as=rights)] == ["ana.alpha"]
    assert (await staff.funnel(acting_as=rights)).total.imported == 1
    assert [f.uai for f in await staff.establishment_figures(acting_as=rights)] == [UAI_A]
    assert await staff.accounts_for_letters(acting_as=rights) == []
    report = await staff.report("ana.alpha", acting_as=rights)
    assert report is not None and report.prenom == "Ana"
    # B's account untouched
    rows = await database.fetch_all("SELECT status FROM accounts WHERE identifiant = 'bea.beta'")
    assert rows[0][0] == "active"
    # tickets and broadcasts, at the storage level the staff paths use
    # (the import hashes lines concurrently: account ids follow no order)
    ids = dict(await database.fetch_all("SELECT identifiant, id FROM accounts"))
    tickets = await SupportRepository(database).tickets(scope=rights.scope)
    assert [t.account_id for t in tickets] == [ids["ana.alpha"]]
    beta_ticket = await database.fetch_all(
        "SELECT id FROM support_tickets WHERE account_id = ?", (ids["bea.beta"],)
    )
    assert await SupportRepository(database).get(beta_ticket[0][0], rights.scope) is None
    recipients = await BroadcastRepository(database).recipients(Audience(uais=rights.uais))
    assert [r.recipient for r in recipients] == [str(500 + ids["ana.alpha"])]


async def test_a_regional_admin_acts_on_all(staff: StaffService) -> None:
    rights = staff.rights_of(ADMIN)
    assert rights is not None and rights.regional
    assert await staff.report("bea.beta", acting_as=rights) is not None
    assert await staff.report("rita.region", acting_as=rights) is not None
    assert len(await staff.export_rows(acting_as=rights)) == 3
    result = await staff.reset("bea.beta", "telegram:999", acting_as=rights)
    assert result is not None
    events = await staff.history("bea.beta", acting_as=rights)
    assert events is not None and events[-1].details == f"password=generated,uai={UAI_B}"


async def test_without_rights_a_region_shows_nothing(staff: StaffService) -> None:
    # STAFF_TELEGRAM_IDS alone names no establishment; a call without acting_as fails closed
    assert staff.rights_of(OLD_STAFF) is None
    assert staff.rights_of(12345) is None
    assert await staff.report("ana.alpha") is None
    assert await staff.export_rows() == []
    assert (await staff.funnel()).total.imported == 0
    assert staff.staff_user_ids() == {ADMIN, STAFF_A, STAFF_B, OLD_STAFF}


async def test_a_single_school_is_unchanged(staff: StaffService) -> None:
    staff.region = None
    rights = staff.rights_of(OLD_STAFF)
    assert rights is not None and rights.regional
    assert staff.rights_of(STAFF_A) is None
    assert await staff.report("bea.beta") is not None
    assert len(await staff.export_rows()) == 3


async def test_diffusion_reaches_the_staff_member_s_establishments_only(
    staff: StaffService, database: Database, clock: MutableClock
) -> None:
    """/diffusion's rules (bot/broadcast/diffusion.py) with ``rights_of``: staff of A reach
    A's people and their campaign is A's; a regional admin reaches everyone; without rights,
    nobody."""
    from bot.broadcast.diffusion import DiffusionService, Preview

    repository = BroadcastRepository(database)
    service = DiffusionService(
        repository, clock, email_enabled=False, quiet=None, rights_of=staff.rights_of
    )

    async def preview(user_id: int) -> Preview:
        draft = await service.start(user_id)
        chosen = await service.choose_segment(user_id, draft.nonce, 3)  # tous
        assert chosen is not None
        written = await service.write(user_id, "Bonjour {prenom}")
        assert isinstance(written, Preview)
        return written

    assert (await preview(STAFF_A)).counts == {"telegram": 1}
    assert (await preview(ADMIN)).counts == {"telegram": 3}
    assert (await preview(OLD_STAFF)).counts == {}
    shown = await preview(STAFF_A)
    number = await service.confirm(STAFF_A, shown.draft.nonce, now=False)
    assert number is not None
    assert await repository.all_stats(clock(), frozenset({UAI_B})) == []
    rows = await database.fetch_all("SELECT uai FROM broadcast_campaigns WHERE id = ?", (number,))
    assert rows[0][0] == UAI_A
