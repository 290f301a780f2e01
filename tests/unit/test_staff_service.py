"""Staff rules without Telegram: step reached, the funnel across a reset, letters' passwords."""

from __future__ import annotations

from pathlib import Path

from bot.directory.sqlite import SqliteDirectory
from bot.security import KeyedHasher, SecretHasher
from bot.staff.accounts_import import import_accounts
from bot.staff.service import STEP_ACTIVE, STEP_NOT_STARTED, StaffService, bot_link, step_reached
from storage.accounts import SqliteAccountDirectory
from storage.db import Database
from storage.records import RecordRepository
from storage.staff import StaffRepository
from storage.throttle import ThrottleRepository

from support import ACCOUNTS, MutableClock, write_accounts_csv


def test_step_reached() -> None:
    assert step_reached("active", "cgu", {"activation_started"}) == STEP_ACTIVE
    assert step_reached("a_activer", "code", {"activation_started"}) == "code"
    assert step_reached("a_activer", None, set()) == STEP_NOT_STARTED
    assert step_reached("a_activer", None, {"activation_started"}) == "cgu"
    assert step_reached("a_activer", None, {"activation_started", "cgu_accepted"}) == (
        "choix_secours"
    )
    assert step_reached("a_activer", None, {"questions_set", "cgu_accepted"}) == "mot_de_passe"


def test_bot_link_carries_no_secret() -> None:
    assert bot_link("@ent_bot") == "https://t.me/ent_bot?start=activer"
    # A region's letter names its establishment (issue 27).
    assert bot_link("@ent_bot", "0450001A") == "https://t.me/ent_bot?start=activer_0450001A"


async def test_funnel_counts_progress_since_the_last_reset(
    database: Database,
    tmp_path: Path,
    hasher: SecretHasher,
    keyed: KeyedHasher,
    clock: MutableClock,
) -> None:
    await import_accounts(
        write_accounts_csv(tmp_path / "a.csv", ACCOUNTS),
        SqliteAccountDirectory(database),
        hasher,
        keyed,
        clock(),
    )
    staff = StaffService(
        StaffRepository(database),
        ThrottleRepository(database),
        RecordRepository(database),
        hasher,
        keyed,
        clock=clock,
    )
    records = RecordRepository(database)
    lea = await staff.find("lea.martin")
    assert lea is not None
    await records.audit("activation_started", lea.id, "telegram:1", clock())
    await records.record_cgu_acceptance(lea.id, "v1", clock(), 1)
    total = (await staff.funnel()).total
    assert (total.imported, total.started, total.cgu_accepted, total.active) == (4, 1, 1, 0)
    report = await staff.report("lea.martin")
    assert report is not None and report.step == "choix_secours"

    result = await staff.reset("lea.martin", "cli:test")
    assert result is not None and result.report.step == STEP_NOT_STARTED
    total = (await staff.funnel()).total
    assert (total.started, total.cgu_accepted) == (0, 0)
    lea_after = await SqliteAccountDirectory(database).find("lea.martin")
    assert lea_after is not None
    assert await SqliteDirectory(database, hasher).check_provisional(
        lea_after.id, result.provisional_password
    )


async def test_letters_give_new_passwords_only_to_accounts_to_activate(
    database: Database,
    tmp_path: Path,
    hasher: SecretHasher,
    keyed: KeyedHasher,
    clock: MutableClock,
) -> None:
    directory = SqliteAccountDirectory(database)
    await import_accounts(
        write_accounts_csv(tmp_path / "a.csv", ACCOUNTS), directory, hasher, keyed, clock()
    )
    staff = StaffService(
        StaffRepository(database),
        ThrottleRepository(database),
        RecordRepository(database),
        hasher,
        keyed,
        clock=clock,
    )
    parents = await staff.accounts_for_letters(profil="parent")
    assert [account.identifiant for account in parents] == ["nora.petit"]
    assert await staff.accounts_for_letters(etablissement="LYCÉE DE TEST") != []
    ticks: list[int] = []
    letters = await staff.prepare_letters(await staff.accounts_for_letters(), ticks.append)
    assert len(letters) == 4 and sum(ticks) == 4
    assert len({letter.provisional_password for letter in letters}) == 4
    assert "provisional_hash" not in repr(letters[0])
    assert await staff.commit_letters(letters, "cli:test", "x.pdf") == 4
    for letter in letters:
        account = await directory.find(letter.account.identifiant_norm)
        assert account is not None
        assert await SqliteDirectory(database, hasher).check_provisional(
            account.id, letter.provisional_password
        )
