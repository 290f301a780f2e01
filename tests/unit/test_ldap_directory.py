"""The LDAP directory against a real slapd (ppolicy, hashing clear-text passwords): binds,
Password Modify, the server's policy, escaping, unavailability, the throttle left untouched."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.directory.port import DirectoryRule, DirectoryUnavailable, PasswordRejected
from bot.outbox.senders import DeliveryError
from bot.procedures.throttle import ThrottlePolicy, guarded_check
from storage.accounts import AccountStatus, ActivationRecord
from storage.db import Database
from storage.outbox import OutboxKind, OutboxRepository
from storage.throttle import ThrottleRepository

from ldap_server import (
    PEOPLE,
    SERVICE_DN,
    SERVICE_PASSWORD,
    STATUS_ACTIVE,
    STATUS_ATTR,
    STATUS_TO_ACTIVATE,
    LdapServer,
    user_dn,
)

pytest.importorskip("ldap", reason="python-ldap is not installed (pip install -e '.[ldap]')")

from bot.config.ldap import LdapConfig
from bot.directory.ldap import DirectoryWriter, LdapDirectory, user_filter

NEW = "Velo-Rouge-Soleil-42"


def config(server: LdapServer, **overrides: object) -> LdapConfig:
    values: dict[str, object] = {
        "url": server.url,
        "bind_dn": SERVICE_DN,
        "bind_password": SERVICE_PASSWORD,
        "user_base": PEOPLE,
        "attr_profile": "businessCategory",
        "attr_establishment": "o",
        "attr_status": STATUS_ATTR,
        "status_to_activate": STATUS_TO_ACTIVATE,
        "status_active": STATUS_ACTIVE,
        "timeout_seconds": 2.0,
    }
    values.update(overrides)
    return LdapConfig(**values)  # type: ignore[arg-type]


def record(telegram_user_id: int = 42) -> ActivationRecord:
    now = datetime.now(UTC)
    return ActivationRecord(
        email="lea@example.org",
        email_verified_at=now,
        secret_question1=None,
        secret_answer1_hash=None,
        secret_question2=None,
        secret_answer2_hash=None,
        telegram_user_id=telegram_user_id,
        cgu_version="v1",
        cgu_accepted_at=now,
        activated_at=now,
    )


def test_filter_escaping() -> None:
    assert user_filter("(uid={identifiant})", "*") == r"(uid=\2a)"
    assert user_filter("(uid={identifiant})", "a)(uid=*") == r"(uid=a\29\28uid=\2a)"
    assert user_filter("(uid={identifiant})", "\\") == r"(uid=\5c)"
    assert user_filter("(&(objectClass=x)(uid={identifiant}))", "é") == "(&(objectClass=x)(uid=é))"


async def test_find_bind_and_activate(ldap_server: LdapServer, database: Database) -> None:
    directory = LdapDirectory(config(ldap_server), database)
    try:
        account = await directory.find(" Lea.Martin ")
        assert account is not None and account.identifiant == "lea.martin"
        assert (account.prenom, account.profil, account.etablissement) == (
            "Léa",
            "apprenti",
            "Lycée de Test",
        )
        assert account.status == AccountStatus.TO_ACTIVATE
        assert await directory.check_provisional(account.id, "Xq7-Tb4k-Wpz")
        assert not await directory.check_provisional(account.id, "wrong")
        assert not await directory.check_provisional(account.id, "")
        assert not await directory.check_provisional(None, "Xq7-Tb4k-Wpz")
        with pytest.raises(PasswordRejected) as refused:
            await directory.activate(account.id, "Lune-Vert7", record())
        assert refused.value.rule == DirectoryRule.TOO_SHORT
        assert await directory.activate(account.id, NEW, record())
        dn = user_dn("lea.martin")
        assert ldap_server.can_bind(dn, NEW) and not ldap_server.can_bind(dn, "Xq7-Tb4k-Wpz")
        assert await directory.check_password(account.id, NEW)
        with pytest.raises(PasswordRejected) as again:
            await directory.set_password(account.id, NEW, "test", datetime.now(UTC))
        assert again.value.rule == DirectoryRule.IN_HISTORY
        row = await database.fetch_one(
            "SELECT password_hash, provisional_password_hash, directory_dn FROM accounts "
            "WHERE id = ?",
            (account.id,),
        )
        assert row is not None and tuple(row) == (None, None, dn)
    finally:
        directory.close()


async def test_injection_never_widens_the_search(
    ldap_server: LdapServer, database: Database
) -> None:
    directory = LdapDirectory(config(ldap_server), database)
    try:
        for typed in ("*", "a)(uid=*", "\\", "lea*", "lea.martin)(uid=*", "*)(|(uid=*"):
            assert await directory.find(typed) is None, typed
        found = await directory.find("élodie")
        assert found is not None and found.prenom == "Élodie"
        assert await directory.check_provisional(found.id, "Pz4-Kc8m-Tqs")
    finally:
        directory.close()


async def test_unreachable_directory_counts_no_attempt(
    ldap_server: LdapServer, database: Database
) -> None:
    directory = LdapDirectory(config(ldap_server), database)
    throttle = ThrottleRepository(database)
    policy = ThrottlePolicy()
    try:
        account = await directory.find("paul.durand")
        assert account is not None
        ldap_server.stop_for_now()
        now = datetime.now(UTC)
        with pytest.raises(DirectoryUnavailable):
            await guarded_check(
                throttle,
                policy,
                "key",
                now,
                lambda: directory.check_provisional(account.id, "Rm2-Hv8n-Zcw"),
            )
        with pytest.raises(DirectoryUnavailable):
            await directory.find("paul.durand")
        counters = await throttle.counters("key", now - policy.window)
        assert counters.consecutive_failures == 0 and counters.failures_in_window == 0
        ldap_server.resume()
        attempt = await guarded_check(
            throttle,
            policy,
            "key",
            now,
            lambda: directory.check_provisional(account.id, "Rm2-Hv8n-Zcw"),
        )
        assert attempt.accepted
    finally:
        directory.close()


async def test_owed_writes_wait_in_the_outbox_until_the_directory_answers(
    ldap_server: LdapServer, database: Database
) -> None:
    directory = LdapDirectory(config(ldap_server), database)  # no outbox: nothing is kicked
    try:
        account = await directory.find("lea.martin")
        assert account is not None
        assert await directory.activate(account.id, NEW, record())
        [item] = await OutboxRepository(database).pending()
        assert item.kind == OutboxKind.DIRECTORY_WRITE and item.account_id == account.id
        assert item.params["changes"] == {STATUS_ATTR: STATUS_ACTIVE, "mail": "lea@example.org"}
        # The directory still says « to activate »: the local row stays active meanwhile.
        again = await directory.find("lea.martin")
        assert again is not None and again.status == AccountStatus.ACTIVE
        writer = DirectoryWriter(directory)
        ldap_server.stop_for_now()
        with pytest.raises(DeliveryError) as failed:
            await writer.send(item)
        assert not failed.value.permanent
        ldap_server.resume()
        await writer.send(item)
        entry = ldap_server.entry(user_dn("lea.martin"))
        assert entry[STATUS_ATTR] == [STATUS_ACTIVE] and entry["mail"] == ["lea@example.org"]
    finally:
        directory.close()


async def test_two_chats_activating_at_once_exactly_one_writes(
    ldap_server: LdapServer, database: Database
) -> None:
    directory = LdapDirectory(config(ldap_server), database)
    try:
        account = await directory.find("nora.petit")
        assert account is not None
        first, second = "Premier-Choix-Long-1", "Second-Choix-Long-2"
        won = await asyncio.gather(
            directory.activate(account.id, first, record(1)),
            directory.activate(account.id, second, record(2)),
        )
        assert sorted(won) == [False, True]
        winner = first if won[0] else second
        loser = second if won[0] else first
        dn = user_dn("nora.petit")
        assert ldap_server.can_bind(dn, winner) and not ldap_server.can_bind(dn, loser)
        # A refusal releases the claim: the same user (or another) may try again.
        other = await directory.find("paul.durand")
        assert other is not None
        with pytest.raises(PasswordRejected):
            await directory.activate(other.id, "Lune-Vert7", record(3))
        assert await directory.activate(other.id, first, record(4))
    finally:
        directory.close()


async def test_unknown_identifiers_bind_as_the_decoy_and_never_succeed(
    ldap_server: LdapServer, database: Database
) -> None:
    # The decoy here is a real user, with its own password typed: still no success.
    decoy = user_dn("élodie")
    directory = LdapDirectory(config(ldap_server, decoy_dn=decoy), database)
    try:
        assert not await directory.check_provisional(None, "Pz4-Kc8m-Tqs")
        assert not await directory.check_password(None, "Pz4-Kc8m-Tqs")
        account = await directory.find("lea.martin")
        assert account is not None
        assert not await directory.check_password(account.id, "Xq7-Tb4k-Wpz"), "not active"
    finally:
        directory.close()
