"""The LDAP directory against a slapd shaped like NetO'Centre's (issue 25): our own minimal
ESCO-like schema (tests/ldap_server.py), ``{SCRIPT}LOCK`` entries whose provisional password
the bot keeps (``LDAP_PROVISIONAL_SOURCE=local``), account states, SDET profiles, establishment
names from the structure entries, and the charter attribute."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config.ldap_profiles import ProfileMapError, profile_map, profile_of
from bot.security import KeyedHasher, SecretHasher
from bot.settings import Settings
from storage.accounts import AccountStatus, ActivationRecord, Profil
from storage.db import Database
from storage.outbox import OutboxRepository

from ldap_server import (
    ESCO_FILTER,
    ESCO_LETTERS,
    ESCO_PEOPLE,
    ESCO_STRUCTURES,
    ESCO_STRUCTURES_NAMES,
    SCRIPT_LOCK,
    SERVICE_DN,
    SERVICE_PASSWORD,
    LdapServer,
    esco_dn,
)
from support import CHEAP_ARGON2

pytest.importorskip("ldap", reason="python-ldap is not installed (pip install -e '.[ldap]')")

from bot.config.ldap import LdapConfig
from bot.directory.ldap import DirectoryWriter, LdapDirectory

NEW = "Velo-Rouge-Soleil-42"
LYCEE = ESCO_STRUCTURES_NAMES["0450001A"]
CFA = ESCO_STRUCTURES_NAMES["0370002B"]


def esco_config(server: LdapServer, **overrides: object) -> LdapConfig:
    """The README's NetO'Centre example, on the test slapd."""
    values: dict[str, object] = {
        "url": server.url,
        "bind_dn": SERVICE_DN,
        "bind_password": SERVICE_PASSWORD,
        "user_base": ESCO_PEOPLE,
        "user_filter": ESCO_FILTER,
        "attr_identifiant": "ENTPersonLogin",
        "attr_profile": "ENTPersonProfils",
        "attr_establishment": "ESCOUAIRattachement,ESCOUAI",
        "attr_status": "ESCOPersonEtatCompte",
        "status_to_activate": "INVALIDE,NOUVEAU",
        "status_active": "VALIDE",
        "status_blocked": "BLOQUE",
        "status_deleted": "DELETE",
        "provisional_source": "local",
        "structure_base": ESCO_STRUCTURES,
        "attr_charter": "ESCOPersonValidationCharte",
        "timeout_seconds": 2.0,
    }
    values.update(overrides)
    return LdapConfig(**values)  # type: ignore[arg-type]


def hasher() -> SecretHasher:
    return SecretHasher(Settings(_env_file=None, **CHEAP_ARGON2).argon2)  # type: ignore[call-arg, arg-type]


def record(telegram_user_id: int = 42) -> ActivationRecord:
    now = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    return ActivationRecord(
        email="jean@example.org",
        email_verified_at=now,
        secret_question1=None,
        secret_answer1_hash=None,
        secret_question2=None,
        secret_answer2_hash=None,
        telegram_user_id=telegram_user_id,
        cgu_version="v3",
        cgu_accepted_at=now,
        activated_at=now,
    )


async def import_letters(
    directory: LdapDirectory, tmp_path: Path, rows: list[tuple[str, str]]
) -> object:
    from bot.staff.ldap_import import import_provisional_passwords

    csv = tmp_path / "courriers.csv"
    lines = ["identifiant;mot_de_passe_provisoire;nom"] + [f"{i};{p};X" for i, p in rows]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert directory.hasher is not None
    return await import_provisional_passwords(
        csv, directory, directory.hasher, KeyedHasher(b"k" * 32), datetime.now(UTC)
    )


async def send_owed_writes(directory: LdapDirectory, database: Database) -> None:
    writer = DirectoryWriter(directory)
    for item in await OutboxRepository(database).pending():
        await writer.send(item)


async def test_locked_entries_activate_with_the_imported_provisional_password(
    ldap_server: LdapServer, database: Database, tmp_path: Path
) -> None:
    directory = LdapDirectory(esco_config(ldap_server), database, hasher())
    try:
        dn = esco_dn("F0450001")
        letter = ESCO_LETTERS["F0450001"]
        # The directory holds no usable password: neither the letter's nor the lock word.
        assert not ldap_server.can_bind(dn, letter) and not ldap_server.can_bind(dn, SCRIPT_LOCK)
        account = await directory.find(" Jean.Dupont ")  # the alias, any case
        assert account is not None and account.identifiant == "F0450001"
        assert account.status == AccountStatus.TO_ACTIVATE
        assert not await directory.check_provisional(account.id, letter), "not imported yet"
        report = await import_letters(
            directory,
            tmp_path,
            [("F0450001", letter), ("inconnu", "Xx1-Yy2-Zz3"), ("paul.valide", "Xx1-Yy2-Zz3")],
        )
        assert (report.set, len(report.rejected), report.ignored_columns) == (1, 2, ["nom"])  # type: ignore[attr-defined]
        again = await import_letters(directory, tmp_path, [("F0450001", letter)])
        assert (again.set, again.unchanged) == (0, 1)  # type: ignore[attr-defined]
        assert await directory.check_provisional(account.id, letter)
        assert not await directory.check_provisional(account.id, "Lt4-Kc8m-Tqx")
        assert not await directory.check_provisional(None, letter)
        # The new password goes to the directory, the state to « active », the charter too.
        assert await directory.activate(account.id, NEW, record())
        assert ldap_server.can_bind(dn, NEW)
        assert not await directory.check_provisional(account.id, letter), "hash dropped"
        await send_owed_writes(directory, database)
        entry = ldap_server.entry(dn)
        assert entry["ESCOPersonEtatCompte"] == ["VALIDE"]
        assert entry["mail"] == ["jean@example.org"]
        assert entry["ESCOPersonValidationCharte"] == ["20261207233000Z"]
        assert await directory.check_password(account.id, NEW)
    finally:
        directory.close()


async def test_the_directory_source_still_binds(
    ldap_server: LdapServer, database: Database
) -> None:
    config = esco_config(ldap_server, provisional_source="directory")
    directory = LdapDirectory(config, database)
    try:
        account = await directory.find("dina.direct")
        assert account is None  # no such alias
        account = await directory.find("direct.user")
        assert account is not None
        assert await directory.check_provisional(account.id, "Di4-Lm8p-Qrs-9")
        locked = await directory.find("jean.dupont")
        assert locked is not None
        assert not await directory.check_provisional(locked.id, SCRIPT_LOCK)
    finally:
        directory.close()


async def test_states_compared_without_case_blocked_and_deleted_refused(
    ldap_server: LdapServer, database: Database
) -> None:
    directory = LdapDirectory(esco_config(ldap_server), database, hasher())
    try:
        statuses = {}
        for typed in ("jean.dupont", "marie.curie", "prof.martin", "paul.valide"):
            account = await directory.find(typed)
            assert account is not None, typed
            statuses[typed] = account.status
        assert statuses == {
            "jean.dupont": AccountStatus.TO_ACTIVATE,  # INVALIDE
            "marie.curie": AccountStatus.TO_ACTIVATE,  # invalide
            "prof.martin": AccountStatus.TO_ACTIVATE,  # NOUVEAU, a second « to activate »
            "paul.valide": AccountStatus.ACTIVE,
        }
        # Blocked (BLOQUE) and deleted (« Delete »): like an unknown identifier...
        assert await directory.find("bloque.user") is None
        assert await directory.find("SUPPRIME.USER") is None
        # ... even with the right password, and staff see why.
        blocked = await directory.staff_find("bloque.user")
        deleted = await directory.staff_find("supprime.user")
        assert blocked is not None and blocked.status == "bloque"
        assert deleted is not None and deleted.status == "supprime"
        assert not await directory.check_password(blocked.id, "Bq4-Lm8p-Qrs-9")
        assert not await directory.check_provisional(blocked.id, "Bq4-Lm8p-Qrs-9")
        exported = {row[1]: row[7] for row in await directory.staff_export()}
        assert exported["F0450004"] == "bloque" and exported["F0450005"] == "supprime"
        assert exported["F0450006"] == "active" and exported["F0450001"] == "a_activer"
        to_activate = {a.identifiant for a in await directory.staff_to_activate()}
        assert to_activate == {"F0450001", "F0450002", "F0450003", "F0450007"}
        assert await directory.state_counts() == {"bloque": 1, "supprime": 1}
    finally:
        directory.close()


async def test_sdet_profiles_multi_valued_and_overridden(
    ldap_server: LdapServer, database: Database
) -> None:
    directory = LdapDirectory(esco_config(ldap_server), database, hasher())
    try:
        profiles = {}
        for typed in ("jean.dupont", "marie.curie", "prof.martin", "direct.user"):
            account = await directory.find(typed)
            assert account is not None
            profiles[typed] = account.profil
        assert profiles == {
            "jean.dupont": "eleve",  # National_ELV (and National_1, unknown)
            "marie.curie": "parent",  # National_TUT
            "prof.martin": "personnel",  # National_TUT and National_ENS: staff first
            "direct.user": "maitre_apprentissage",  # Tuteur_stage
        }
    finally:
        directory.close()
    cfa = LdapDirectory(
        esco_config(ldap_server, profile_map="national_elv=apprenti"), database, hasher()
    )
    try:
        account = await cfa.find("jean.dupont")
        assert account is not None and account.profil == "apprenti"
    finally:
        cfa.close()


def test_profile_map_setting() -> None:
    mapping = profile_map("National_ELV=apprenti, Local_X = personnel")
    assert profile_of(["NATIONAL_ELV"], mapping) == Profil.APPRENTI
    assert profile_of(["local_x", "National_TUT"], mapping) == Profil.PERSONNEL
    assert profile_of([], mapping) == Profil.AUTRE
    assert profile_of(["eleve"], mapping) == Profil.ELEVE  # the bot's own names, as before
    for wrong in ("National_ELV", "National_ELV=prof", "=eleve"):
        with pytest.raises(ProfileMapError):
            profile_map(wrong)


async def test_establishment_names_from_structure_entries_cached(
    ldap_server: LdapServer, database: Database
) -> None:
    directory = LdapDirectory(esco_config(ldap_server), database, hasher())
    calls: list[list[str]] = []
    read = directory.connector.structure_names

    def counting(uais: list[str]) -> dict[str, str]:
        calls.append(uais)
        return read(uais)

    directory.connector.structure_names = counting  # type: ignore[method-assign]
    try:
        jean = await directory.find("jean.dupont")
        marie = await directory.find("marie.curie")
        assert jean is not None and jean.etablissement == LYCEE
        assert marie is not None and marie.etablissement == f"{LYCEE} / {CFA}"
        assert calls == [["0450001A"], ["0370002B"]], "each UAI read once"
        await directory.refresh_all()
        assert len(calls) == 2, "names kept"
        # An entry of two establishments gets letters for either.
        for name in (LYCEE, CFA.lower()):
            found = await directory.staff_to_activate(etablissement=name)
            assert "F0450002" in {a.identifiant for a in found}, name
    finally:
        directory.close()
    raw = LdapDirectory(esco_config(ldap_server, structure_base=""), database, hasher())
    try:
        account = await raw.find("marie.curie")
        assert account is not None and account.etablissement == "0450001A / 0370002B"
    finally:
        raw.close()


async def test_charter_in_the_service_form_keeps_other_services(
    ldap_server: LdapServer, database: Database
) -> None:
    dn = esco_dn("F0450007")
    ldap_server.modify(
        dn, "ESCOPersonValidationCharteService", ["AUTRE;v9;20250101000000Z", "ENT;v1;2024"]
    )
    config = esco_config(
        ldap_server,
        provisional_source="directory",
        attr_charter="ESCOPersonValidationCharteService",
        charter_format="service",
    )
    directory = LdapDirectory(config, database)
    try:
        account = await directory.find("direct.user")
        assert account is not None
        assert await directory.activate(account.id, NEW, record())
        await send_owed_writes(directory, database)
        values = ldap_server.entry(dn)["ESCOPersonValidationCharteService"]
        assert sorted(values) == ["AUTRE;v9;20250101000000Z", "ENT;v3;20261207233000Z"]
    finally:
        directory.close()


async def test_the_entry_s_uai_is_stored_and_scopes_staff(
    ldap_server: LdapServer, database: Database
) -> None:
    """Issue 27: the local row keeps the entry's establishment (its first UAI, the
    « rattachement » first); staff of another establishment do not find it."""
    directory = LdapDirectory(esco_config(ldap_server), database, hasher())
    try:
        jean = await directory.find("jean.dupont")
        marie = await directory.find("marie.curie")
        assert jean is not None and jean.uai == "0450001A"
        assert marie is not None and marie.uai == "0450001A"
        assert await directory.staff_find("jean.dupont", frozenset({"0370002B"})) is None
        found = await directory.staff_find("jean.dupont", frozenset({"0450001A"}))
        assert found is not None and found.uai == "0450001A"
    finally:
        directory.close()
