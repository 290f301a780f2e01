"""Activation and recovery against a real OpenLDAP (issue 10): the real Application through the
local Bot API server, a real SMTP server, a real SQLite file and Debian's slapd with ppolicy."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from pydantic import SecretStr

from bot.cli import quiet_noisy_loggers
from bot.sandbox.bot_api_server import LocalBotApi
from bot.sandbox.mailbox import Mailbox
from bot.texts import ldap as ldap_texts
from storage.outbox import OutboxKind

from chat import Chat
from conftest import BotHarness, _ListHandler, harness_settings, last_code
from ldap_server import (
    LDAP_USERS,
    PEOPLE,
    SERVICE_DN,
    SERVICE_PASSWORD,
    STATUS_ACTIVE,
    STATUS_ATTR,
    STATUS_TO_ACTIVATE,
    LdapServer,
    user_dn,
)
from support import GOOD_PASSWORD, MutableClock

PROVISIONAL = {row[0]: row[1] for row in LDAP_USERS}
# Good for the bot (10 characters, 4 kinds), too short for the server's policy (12).
SHORT_FOR_SERVER = "Lune-Vert7"
NEW_PASSWORD = "Train-Bleu-Montagne-7"


@pytest_asyncio.fixture
async def ldap_harness(
    tmp_path: Path,
    bot_api: LocalBotApi,
    mailbox: Mailbox,
    clock: MutableClock,
    ldap_server: LdapServer,
) -> AsyncIterator[tuple[BotHarness, LdapServer]]:
    """A running bot with DIRECTORY=ldap on the test slapd (an ENT-like status attribute)."""
    settings = harness_settings(tmp_path, bot_api, mailbox.port).model_copy(
        update={
            "directory": "ldap",
            "ldap_url": ldap_server.url,
            "ldap_bind_dn": SERVICE_DN,
            "ldap_bind_password": SecretStr(SERVICE_PASSWORD),
            "ldap_user_base": PEOPLE,
            "ldap_timeout_seconds": 2.0,
            "ldap_attr_profile": "businessCategory",
            "ldap_attr_establishment": "o",
            "ldap_attr_status": STATUS_ATTR,
            "ldap_status_to_activate": STATUS_TO_ACTIVATE,
            "ldap_status_active": STATUS_ACTIVE,
        }
    )
    harness = BotHarness(bot_api, settings, clock, mailbox, tmp_path)
    handler = _ListHandler(harness.log_records)
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet_noisy_loggers()
    await harness.start()
    yield harness, ldap_server
    await harness.stop()
    root.removeHandler(handler)
    root.setLevel(previous_level)


async def assert_written(
    harness: BotHarness, server: LdapServer, dn: str, name: str, value: str
) -> None:
    """The outbox wrote ``name: value`` to ``dn`` (once no directory write is pending)."""
    async with asyncio.timeout(20):
        for _ in itertools.count():
            pending = await harness.services.outbox.repository.pending()
            if not any(item.kind == OutboxKind.DIRECTORY_WRITE for item in pending):
                break
            await asyncio.sleep(0.02)
    assert server.entry(dn).get(name) == [value]


async def activate_by_email(chat: Chat, who: str, address: str) -> None:
    await chat.walk_to_password(who, PROVISIONAL[who], address)
    await chat.say_secret(GOOD_PASSWORD)
    await chat.say_secret(GOOD_PASSWORD)
    assert "activé" in (await chat.last()).text


async def test_activation_by_email_writes_the_directory(
    ldap_harness: tuple[BotHarness, LdapServer],
) -> None:
    harness, server = ldap_harness
    chat = Chat(harness, 3001)
    await activate_by_email(chat, "lea.martin", "lea@example.org")
    dn = user_dn("lea.martin")
    assert server.can_bind(dn, GOOD_PASSWORD)
    assert not server.can_bind(dn, PROVISIONAL["lea.martin"])
    # What the README tells the school's IT staff to check: ldapwhoami accepts the new password.
    whoami = await asyncio.create_subprocess_exec(
        "ldapwhoami",
        "-x",
        "-H",
        server.url,
        "-D",
        dn,
        "-w",
        GOOD_PASSWORD,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(whoami.communicate(), timeout=10)
    assert whoami.returncode == 0 and dn.casefold() in out.decode().casefold(), err
    await assert_written(harness, server, dn, "mail", "lea@example.org")
    await assert_written(harness, server, dn, STATUS_ATTR, STATUS_ACTIVE)
    assert server.entry(dn)["userPassword"][0].startswith("{SSHA}")
    chat.assert_secrets_deleted()

    # No password in the SQLite file (nor its journal), none in the logs.
    await harness.stop()
    data = harness.settings.database_path
    raw = b"".join(p.read_bytes() for p in data.parent.glob(data.name + "*"))
    for secret in (GOOD_PASSWORD, PROVISIONAL["lea.martin"]):
        assert secret.encode() not in raw
        assert all(secret not in record.getMessage() for record in harness.log_records)


async def test_activation_by_questions_then_recovery_by_questions(
    ldap_harness: tuple[BotHarness, LdapServer],
) -> None:
    harness, server = ldap_harness
    chat = Chat(harness, 3011)
    await chat.walk_to_questions("nora.petit", PROVISIONAL["nora.petit"])
    await chat.press("Question A")
    await chat.say_secret("Mon Éléphant")  # typed twice
    await chat.say_secret("Mon Éléphant")
    await chat.press("Question B")
    await chat.say_secret("Tours")  # typed twice
    await chat.say_secret("Tours")
    await chat.say_secret(GOOD_PASSWORD)
    await chat.say_secret(GOOD_PASSWORD)
    assert "activé" in (await chat.last()).text
    dn = user_dn("nora.petit")
    assert server.can_bind(dn, GOOD_PASSWORD)
    await assert_written(harness, server, dn, STATUS_ATTR, STATUS_ACTIVE)

    other = Chat(harness, 3012)
    await other.say("/motdepasse")
    await other.say("nora.petit")
    await other.press("questions secrètes")
    await other.say_secret("mon elephant")
    await other.say_secret("tours")
    await other.say_secret(NEW_PASSWORD)
    await other.say_secret(NEW_PASSWORD)
    assert "Mot de passe changé" in (await other.last()).text
    assert server.can_bind(dn, NEW_PASSWORD) and not server.can_bind(dn, GOOD_PASSWORD)


async def test_server_policy_refusal_then_success(
    ldap_harness: tuple[BotHarness, LdapServer],
) -> None:
    harness, server = ldap_harness
    chat = Chat(harness, 3021)
    await chat.walk_to_password("paul.durand", PROVISIONAL["paul.durand"], "paul@example.org")
    await chat.say_secret(SHORT_FOR_SERVER)
    assert "tapez-le une deuxième fois" in (await chat.last()).text  # the bot's rule holds
    refused = await chat.say_secret(SHORT_FOR_SERVER)
    assert "L'ENT refuse ce mot de passe" in refused.text and "trop court" in refused.text
    await chat.say_secret(GOOD_PASSWORD)
    await chat.say_secret(GOOD_PASSWORD)
    assert "activé" in (await chat.last()).text
    dn = user_dn("paul.durand")
    assert server.can_bind(dn, GOOD_PASSWORD)

    # Forgotten password by e-mail: the server's history refuses the current password.
    harness.clock.advance(seconds=61)
    count = len(harness.mailbox.mails)
    await chat.say("/motdepasse")
    await chat.say("paul.durand")
    await chat.press("adresse e-mail")
    await harness.mailbox.wait_for(count + 1)
    await chat.say_secret(last_code(harness.mailbox))
    await chat.say_secret(GOOD_PASSWORD)
    refused = await chat.say_secret(GOOD_PASSWORD)
    assert "déjà utilisé" in refused.text
    await chat.say_secret(NEW_PASSWORD)
    await chat.say_secret(NEW_PASSWORD)
    assert "Mot de passe changé" in (await chat.last()).text
    assert server.can_bind(dn, NEW_PASSWORD)


async def test_directory_stopped_mid_procedure(
    ldap_harness: tuple[BotHarness, LdapServer],
) -> None:
    harness, server = ldap_harness
    chat = Chat(harness, 3031)
    await chat.walk_to_provisional("lea.martin")
    server.stop_for_now()
    down = await chat.say_secret(PROVISIONAL["lea.martin"])
    assert down.text == ldap_texts.DIRECTORY_UNAVAILABLE
    failures = await harness.services.database.fetch_one("SELECT COUNT(*) FROM auth_failures")
    assert failures[0] == 0, "an unreachable directory counts no attempt"
    server.resume()
    await chat.say_secret(PROVISIONAL["lea.martin"])  # the step was kept
    assert "Conditions" in "".join(m.text for m in await chat.replies())
    await chat.press("J'accepte")
    await chat.press("e-mail")
    count = len(harness.mailbox.mails)
    await chat.say("lea@example.org")  # sent at once
    await harness.mailbox.wait_for(count + 1)
    await chat.say_secret(last_code(harness.mailbox))
    await chat.say_secret(GOOD_PASSWORD)
    server.stop_for_now()
    down = await chat.say_secret(GOOD_PASSWORD)
    assert down.text == ldap_texts.DIRECTORY_UNAVAILABLE
    server.resume()
    await chat.say_secret(GOOD_PASSWORD)  # the confirmation step was kept
    assert "activé" in (await chat.last()).text
    assert server.can_bind(user_dn("lea.martin"), GOOD_PASSWORD)
    assert harness.app is not None and harness.app.running


async def test_injection_attempts_are_refused_like_unknown_identifiers(
    ldap_harness: tuple[BotHarness, LdapServer],
) -> None:
    harness, _ = ldap_harness
    chat = Chat(harness, 3041)
    await chat.walk_to_provisional("inconnu")
    expected = (await chat.say_secret(PROVISIONAL["lea.martin"])).text
    assert "Conditions" not in "".join(m.text for m in await chat.replies())
    for n, typed in enumerate(("*", "a)(uid=*", "\\", "lea.martin)(uid=*")):
        other = Chat(harness, 3042 + n)
        await other.walk_to_provisional(typed)
        assert (await other.say_secret(PROVISIONAL["lea.martin"])).text == expected, typed
    accented = Chat(harness, 3050)
    await accented.walk_to_provisional("élodie")
    await accented.say_secret(PROVISIONAL["élodie"])
    assert "Conditions" in "".join(m.text for m in await accented.replies())


async def test_my_account_checks_the_directory_password_and_writes_the_new_address(
    ldap_harness: tuple[BotHarness, LdapServer],
) -> None:
    harness, server = ldap_harness
    chat = Chat(harness, 3061)
    await activate_by_email(chat, "lea.martin", "lea@example.org")
    dn = user_dn("lea.martin")
    await assert_written(harness, server, dn, "mail", "lea@example.org")
    harness.clock.advance(seconds=61)
    await chat.say("/moncompte")
    await chat.press("Changer d'adresse e-mail")
    assert "pas le bon mot de passe" in (await chat.say_secret(PROVISIONAL["lea.martin"])).text
    assert "nouvelle adresse" in (await chat.say_secret(GOOD_PASSWORD)).text
    await chat.say("lea.new@example.org")
    count = len(harness.mailbox.mails)
    await chat.press("Oui, envoyer")
    await harness.mailbox.wait_for(count + 1)
    done = await chat.say_secret(last_code(harness.mailbox))
    assert "Adresse e-mail changée" in done.text
    await assert_written(harness, server, dn, "mail", "lea.new@example.org")


async def test_owed_directory_writes_survive_a_restart(
    ldap_harness: tuple[BotHarness, LdapServer],
) -> None:
    """Password set, then the bot died before the status and address writes: they are in the
    outbox, and the restarted bot writes them."""
    from datetime import UTC, datetime

    from bot.directory.ldap import LdapDirectory
    from storage.accounts import ActivationRecord
    from storage.db import Database

    harness, server = ldap_harness
    await harness.stop()
    database = await Database.open(harness.settings.database_path)
    directory = LdapDirectory(harness.settings.ldap, database)  # no outbox: nothing leaves
    now = datetime.now(UTC)
    try:
        account = await directory.find("paul.durand")
        assert account is not None
        record = ActivationRecord(
            "paul@example.org", now, None, None, None, None, 3071, "v1", now, now
        )
        assert await directory.activate(account.id, GOOD_PASSWORD, record)
    finally:
        directory.close()
        await database.close()
    dn = user_dn("paul.durand")
    assert server.entry(dn)[STATUS_ATTR] == [STATUS_TO_ACTIVATE]
    await harness.start()
    await harness.settle()
    await assert_written(harness, server, dn, STATUS_ATTR, STATUS_ACTIVE)
    await assert_written(harness, server, dn, "mail", "paul@example.org")


# --- NetO'Centre (ESCO-like) directory, provisional passwords kept by the bot (issue 25) ---------


@pytest_asyncio.fixture
async def esco_harness(
    tmp_path: Path,
    bot_api: LocalBotApi,
    mailbox: Mailbox,
    clock: MutableClock,
    ldap_server: LdapServer,
) -> AsyncIterator[tuple[BotHarness, LdapServer]]:
    """A running bot on the ESCO-like tree with the README's NetO'Centre settings, the letters'
    provisional passwords imported (LDAP_PROVISIONAL_SOURCE=local)."""
    from datetime import UTC, datetime

    from bot.directory.ldap import LdapDirectory
    from bot.security import KeyedHasher, SecretHasher
    from bot.staff.ldap_import import import_provisional_passwords

    from ldap_server import ESCO_FILTER, ESCO_LETTERS, ESCO_PEOPLE, ESCO_STRUCTURES

    settings = harness_settings(tmp_path, bot_api, mailbox.port).model_copy(
        update={
            "directory": "ldap",
            "ldap_url": ldap_server.url,
            "ldap_bind_dn": SERVICE_DN,
            "ldap_bind_password": SecretStr(SERVICE_PASSWORD),
            "ldap_user_base": ESCO_PEOPLE,
            "ldap_user_filter": ESCO_FILTER,
            "ldap_timeout_seconds": 2.0,
            "ldap_attr_identifiant": "ENTPersonLogin",
            "ldap_attr_profile": "ENTPersonProfils",
            "ldap_attr_establishment": "ESCOUAIRattachement,ESCOUAI",
            "ldap_attr_status": "ESCOPersonEtatCompte",
            "ldap_status_to_activate": "INVALIDE,NOUVEAU",
            "ldap_status_active": "VALIDE",
            "ldap_status_blocked": "BLOQUE",
            "ldap_status_deleted": "DELETE",
            "ldap_provisional_source": "local",
            "ldap_structure_base": ESCO_STRUCTURES,
            "ldap_attr_charter": "ESCOPersonValidationCharte",
            # Parents of the Éducation nationale log in through EduConnect (marie.curie).
            "ldap_educonnect_profiles": "parent",
            "recovery_email_refused_domains": "ent-region.example.org, ent.example.org",
        }
    )
    harness = BotHarness(bot_api, settings, clock, mailbox, tmp_path)
    await harness.start()
    letters = tmp_path / "courriers.csv"
    letters.write_text(
        "identifiant;mot_de_passe_provisoire\n"
        + "".join(f"{login};{password}\n" for login, password in ESCO_LETTERS.items())
    )
    directory = LdapDirectory(
        settings.ldap, harness.services.database, SecretHasher(settings.argon2)
    )
    try:
        assert directory.hasher is not None
        report = await import_provisional_passwords(
            letters, directory, directory.hasher, KeyedHasher(b"k" * 32), datetime.now(UTC)
        )
        assert report.set == len(ESCO_LETTERS) - 1, "marie.curie logs in with EduConnect"
    finally:
        directory.close()
    yield harness, ldap_server
    await harness.stop()


async def test_esco_activation_with_the_letters_password(
    esco_harness: tuple[BotHarness, LdapServer],
) -> None:
    from ldap_server import ESCO_LETTERS, SCRIPT_LOCK, esco_dn

    harness, server = esco_harness
    dn = esco_dn("F0450001")
    chat = Chat(harness, 3101)
    # The alias, as the user knows it; the letter's password, which the directory never had.
    await chat.walk_to_password("Jean.Dupont", ESCO_LETTERS["F0450001"], "jean@example.org")
    await chat.say_secret(GOOD_PASSWORD)
    await chat.say_secret(GOOD_PASSWORD)
    assert "activé" in (await chat.last()).text
    assert server.can_bind(dn, GOOD_PASSWORD) and not server.can_bind(dn, SCRIPT_LOCK)
    await assert_written(harness, server, dn, "ESCOPersonEtatCompte", "VALIDE")
    entry = server.entry(dn)
    assert entry["mail"] == ["jean@example.org"]
    assert len(entry["ESCOPersonValidationCharte"]) == 1
    assert entry["ESCOPersonValidationCharte"][0].endswith("Z")
    chat.assert_secrets_deleted()


async def test_esco_blocked_and_deleted_accounts_answer_like_unknown_ones(
    esco_harness: tuple[BotHarness, LdapServer],
) -> None:
    harness, _ = esco_harness
    unknown = Chat(harness, 3111)
    await unknown.walk_to_provisional("personne.inconnue")
    expected = (await unknown.say_secret("Bq4-Lm8p-Qrs-9")).text
    for n, (typed, password) in enumerate(
        (("bloque.user", "Bq4-Lm8p-Qrs-9"), ("F0450005", "Sp4-Lm8p-Qrs-9"))
    ):
        chat = Chat(harness, 3112 + n)
        await chat.walk_to_provisional(typed)
        assert (await chat.say_secret(password)).text == expected, typed
        assert "Conditions" not in "".join(m.text for m in await chat.replies())


async def test_esco_educonnect_profiles_are_sent_to_educonnect_like_everybody_refused(
    esco_harness: tuple[BotHarness, LdapServer],
) -> None:
    """A parent of the Éducation nationale does not activate here; every refusal (unknown
    identifiers too: nothing tells them apart) says where EduConnect is."""
    from ldap_server import ESCO_LETTERS

    harness, _ = esco_harness
    unknown = Chat(harness, 3121)
    await unknown.walk_to_provisional("personne.inconnue")
    expected = (await unknown.say_secret("Xx1-Yy2-Zz3")).text
    assert "EduConnect" in expected and "educonnect.education.gouv.fr" in expected
    parent = Chat(harness, 3122)
    await parent.walk_to_provisional("marie.curie")
    assert (await parent.say_secret(ESCO_LETTERS["F0450002"])).text == expected


async def test_esco_recovery_address_on_the_ent_domains_is_refused_kindly(
    esco_harness: tuple[BotHarness, LdapServer],
) -> None:
    from ldap_server import ESCO_LETTERS

    harness, _ = esco_harness
    chat = Chat(harness, 3131)
    await chat.walk_to_email("jean.dupont", ESCO_LETTERS["F0450001"])
    for address in ("jean.dupont@lycees.ent-region.example.org", "Jean@ENT.example.org"):
        refused = await chat.say(address)
        assert "adresse de l'ENT" in refused.text and "personnelle" in refused.text, address
    assert len(harness.mailbox.mails) == 0
    count = len(harness.mailbox.mails)
    await chat.say("jean@example.org")
    await harness.mailbox.wait_for(count + 1)


async def test_esco_my_account_refuses_a_new_address_on_the_ent_domains(
    esco_harness: tuple[BotHarness, LdapServer],
) -> None:
    from ldap_server import ESCO_LETTERS

    harness, _ = esco_harness
    chat = Chat(harness, 3141)
    await chat.walk_to_password("jean.dupont", ESCO_LETTERS["F0450001"], "jean@example.org")
    await chat.say_secret(GOOD_PASSWORD)
    await chat.say_secret(GOOD_PASSWORD)
    assert "activé" in (await chat.last()).text
    harness.clock.advance(seconds=61)
    await chat.say("/moncompte")
    await chat.press("Changer d'adresse e-mail")
    assert "nouvelle adresse" in (await chat.say_secret(GOOD_PASSWORD)).text
    refused = await chat.say("jean@mail.ent-region.example.org")
    assert "adresse de l'ENT" in refused.text and "personnelle" in refused.text
