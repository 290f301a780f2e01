"""The SQLite directory (bot.directory.sqlite): clear secrets in, argon2id hashes kept inside,
the same work for an unknown account, hashes upgraded when the argon2 parameters change."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.directory.sqlite import SqliteDirectory
from bot.security import KeyedHasher, SecretHasher
from bot.settings import Settings
from bot.staff.accounts_import import import_accounts
from storage.accounts import ActivationRecord, SqliteAccountDirectory
from storage.db import Database

from support import CHEAP_ARGON2, GOOD_PASSWORD, write_accounts_csv

LEA_PROVISIONAL = "Xq7-Tb4k-Wpz"


def settings(**argon2: int) -> Settings:
    """The bot's settings with cheap argon2id, some of its parameters changed."""
    return Settings(_env_file=None, **{**CHEAP_ARGON2, **argon2})  # type: ignore[call-arg, arg-type]


def record(now: datetime) -> ActivationRecord:
    return ActivationRecord(
        email="lea@example.org",
        email_verified_at=now,
        secret_question1=None,
        secret_answer1_hash=None,
        secret_question2=None,
        secret_answer2_hash=None,
        telegram_user_id=1,
        cgu_version="v1",
        cgu_accepted_at=now,
        activated_at=now,
    )


async def imported(database: Database, tmp_path: Path, hasher: SecretHasher) -> int:
    """Import the test accounts with ``hasher``; Léa's id."""
    store = SqliteAccountDirectory(database)
    await import_accounts(
        write_accounts_csv(tmp_path / "a.csv"),
        store,
        hasher,
        KeyedHasher(b"k" * 32),
        datetime.now(UTC),
    )
    lea = await store.find("lea.martin")
    assert lea is not None
    return lea.id


async def test_a_hash_made_with_other_parameters_is_upgraded_after_a_right_check(
    database: Database, tmp_path: Path
) -> None:
    old = SecretHasher(settings().argon2)
    new = SecretHasher(settings(argon2_time_cost=2, argon2_memory_cost=2048).argon2)
    lea = await imported(database, tmp_path, old)
    store = SqliteAccountDirectory(database)

    async def provisional_hash() -> str:
        stored = await store.password_hashes(lea)
        assert stored is not None and stored.provisional_password_hash is not None
        return stored.provisional_password_hash

    directory = SqliteDirectory(database, new)
    before = await provisional_hash()
    assert new.needs_rehash(before) and not old.needs_rehash(before)
    assert not await directory.check_provisional(lea, "wrong")
    assert await provisional_hash() == before, "a wrong guess changes nothing"
    assert await directory.check_provisional(lea, LEA_PROVISIONAL)
    after = await provisional_hash()
    assert after != before and not new.needs_rehash(after) and "t=2" in after
    assert await directory.check_provisional(lea, LEA_PROVISIONAL)
    assert await provisional_hash() == after, "an up-to-date hash is kept"

    # The account's own password, set by the old parameters, then checked under the new ones.
    activated = record(datetime.now(UTC))
    assert await SqliteDirectory(database, old).activate(lea, GOOD_PASSWORD, activated)
    stored = await store.password_hashes(lea)
    assert stored is not None and stored.password_hash and new.needs_rehash(stored.password_hash)
    assert await directory.check_password(lea, GOOD_PASSWORD)
    upgraded = await store.password_hashes(lea)
    assert upgraded is not None and upgraded.password_hash
    assert not new.needs_rehash(upgraded.password_hash)
    assert await directory.check_password(lea, GOOD_PASSWORD)


async def test_checks_refuse_unknown_accounts_and_the_wrong_kind_of_password(
    database: Database, tmp_path: Path, hasher: SecretHasher
) -> None:
    lea = await imported(database, tmp_path, hasher)
    directory = SqliteDirectory(database, hasher)
    assert not await directory.check_provisional(None, LEA_PROVISIONAL)
    assert not await directory.check_provisional(10_000, LEA_PROVISIONAL)
    assert not await directory.check_password(lea, LEA_PROVISIONAL), "not active yet"
    assert await directory.activate(lea, GOOD_PASSWORD, record(datetime.now(UTC)))
    assert not await directory.activate(lea, "Autre-Mot-De-Passe-9", record(datetime.now(UTC)))
    assert not await directory.check_provisional(lea, LEA_PROVISIONAL), "active now"
    assert await directory.check_password(lea, GOOD_PASSWORD)
    assert not await directory.check_password(None, GOOD_PASSWORD)
    now = datetime.now(UTC)
    assert await directory.set_password(lea, "Nouveau-Mot-De-Passe-7", "test", now)
    assert not await directory.check_password(lea, GOOD_PASSWORD)
    assert await directory.check_password(lea, "Nouveau-Mot-De-Passe-7")


class LockWatchingHasher(SecretHasher):
    """A hasher that fails if it runs while the database's write lock is held."""

    def __init__(self, database: Database, hasher: SecretHasher) -> None:
        super().__init__(hasher.params)
        self.database = database
        self.runs = 0

    async def _run(self, function: object, *args: str) -> object:
        assert not self.database._write_lock.locked(), "argon2 ran under the write lock"
        self.runs += 1
        return await super()._run(function, *args)


async def test_no_hashing_while_the_write_lock_is_held(
    database: Database, tmp_path: Path, hasher: SecretHasher
) -> None:
    lea = await imported(database, tmp_path, hasher)
    watching = LockWatchingHasher(database, SecretHasher(settings(argon2_time_cost=2).argon2))
    directory = SqliteDirectory(database, watching)
    assert await directory.check_provisional(lea, LEA_PROVISIONAL)  # with an upgrade
    assert await directory.activate(lea, GOOD_PASSWORD, record(datetime.now(UTC)))
    assert await directory.check_password(lea, GOOD_PASSWORD)
    assert await directory.set_password(lea, "Nouveau-Mot-De-Passe-7", "test", datetime.now(UTC))
    assert watching.runs >= 5
