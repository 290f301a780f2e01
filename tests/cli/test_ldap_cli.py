"""Staff tools with DIRECTORY=ldap against a real slapd: ``accounts show`` reads the entry,
``stats`` and ``export`` read the whole directory by pages (RFC 2696), past the server's
size limit of 500 entries per search."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest

from bot.cli import main
from bot.security import load_or_create_server_secret
from storage.db import Database

from ldap_server import (
    PEOPLE,
    SERVICE_DN,
    SERVICE_PASSWORD,
    STATUS_ACTIVE,
    STATUS_ATTR,
    STATUS_TO_ACTIVATE,
    LdapServer,
    user_dn,
    user_ldif,
)
from support import DATA

EXTRA = 1200  # more than slapd's default size limit (500)


@pytest.fixture
def ldap_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ldap_server: LdapServer) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_USERNAME", "STAFF_TELEGRAM_IDS"):
        monkeypatch.delenv(name, raising=False)
    database = tmp_path / "data" / "bot.sqlite3"
    values = {
        "ENT_BOT_HOME": str(tmp_path),
        "DATABASE_PATH": str(database),
        "SERVER_SECRET_FILE": str(tmp_path / "data" / "server.key"),
        "SCHOOL_CONFIG": str(DATA / "school.toml"),
        "LOG_LEVEL": "WARNING",
        "DIRECTORY": "ldap",
        "LDAP_URL": ldap_server.url,
        "LDAP_BIND_DN": SERVICE_DN,
        "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
        "LDAP_USER_BASE": PEOPLE,
        "LDAP_ATTR_PROFILE": "businessCategory",
        "LDAP_ATTR_ESTABLISHMENT": "o",
        "LDAP_ATTR_STATUS": STATUS_ATTR,
        "LDAP_STATUS_TO_ACTIVATE": STATUS_TO_ACTIVATE,
        "LDAP_STATUS_ACTIVE": STATUS_ACTIVE,
        "LDAP_TIMEOUT_SECONDS": "2",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    load_or_create_server_secret(tmp_path / "data" / "server.key")

    async def create() -> None:
        await (await Database.open(database)).close()

    asyncio.run(create())
    extra = [
        user_ldif(f"eleve{n:04d}", "Provisoire-123", "eleve", "Élève", f"N{n}", "Lycée B")
        for n in range(EXTRA)
    ]
    ldap_server.server.ldapadd("\n\n".join(extra) + "\n")
    return tmp_path


def test_show_stats_and_export_read_the_directory(
    ldap_env: Path, capsys: pytest.CaptureFixture[str], ldap_server: LdapServer
) -> None:
    assert main(["accounts", "show", "Lea.Martin"]) == 0
    shown = capsys.readouterr().out
    assert "lea.martin" in shown and "Léa" in shown
    assert main(["accounts", "show", "*"]) == 1

    assert main(["accounts", "export", str(ldap_env / "export.csv")]) == 0
    with (ldap_env / "export.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert len(rows) == EXTRA + 4
    assert main(["accounts", "stats"]) == 0
    assert "Lycée B" in capsys.readouterr().out

    ldap_server.stop_for_now()
    assert main(["accounts", "show", "lea.martin"]) == 2
    assert "annuaire LDAP ne répond pas" in capsys.readouterr().err
    ldap_server.resume()


def test_reset_writes_a_new_provisional_password_to_the_directory(
    ldap_env: Path, capsys: pytest.CaptureFixture[str], ldap_server: LdapServer
) -> None:
    from datetime import UTC, datetime

    from bot.directory.ldap import LdapDirectory
    from bot.settings import load_settings
    from storage.accounts import AccountStatus, ActivationRecord

    dn = user_dn("lea.martin")
    settings = load_settings()

    async def activate(password: str, provisional: str) -> tuple[bool, bool]:
        database = await Database.open(settings.database_path)
        directory = LdapDirectory(settings.ldap, database)
        try:
            account = await directory.find("lea.martin")
            assert account is not None and account.status == AccountStatus.TO_ACTIVATE
            checked = await directory.check_provisional(account.id, provisional)
            now = datetime.now(UTC)
            record = ActivationRecord(None, None, "q1", "h1", "q2", "h2", 7, "v1", now, now)
            return checked, await directory.activate(account.id, password, record)
        finally:
            directory.close()
            await database.close()

    assert asyncio.run(activate("Velo-Rouge-Soleil-42", "Xq7-Tb4k-Wpz")) == (True, True)
    assert main(["accounts", "reset", "lea.martin", "--mot-de-passe", "Court-123"]) == 2
    assert "refuse ce mot de passe provisoire" in capsys.readouterr().err
    assert main(["accounts", "reset", "lea.martin"]) == 0
    out = capsys.readouterr().out
    provisional = next(
        word for word in out.split() if len(word) >= 12 and ldap_server.can_bind(dn, word)
    )
    assert not ldap_server.can_bind(dn, "Velo-Rouge-Soleil-42")
    assert ldap_server.entry(dn)[STATUS_ATTR] == [STATUS_TO_ACTIVATE]
    # and the user activates again with the new provisional password
    assert asyncio.run(activate("Nouveau-Velo-Bleu-7", provisional)) == (True, True)
    assert ldap_server.can_bind(dn, "Nouveau-Velo-Bleu-7")


def test_letters_write_their_provisional_passwords_to_the_directory(
    ldap_env: Path,
    capsys: pytest.CaptureFixture[str],
    ldap_server: LdapServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import re

    from test_accounts_cli import pdf_pages

    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "ent_cli_test_bot")
    target = ldap_env / "courriers.pdf"
    args = ["accounts", "letters", str(target), "--yes", "--etablissement", "Lycée de Test"]
    assert main(args) == 0, capsys.readouterr().err
    pages = pdf_pages(target)
    assert len(pages) == 4
    for text, _ in pages:
        identifiant = re.search(r"Identifiant\s*\n(\S+)", text)
        password = re.search(r"Mot de passe provisoire\s*\n(\S+)", text)
        assert identifiant and password
        # The directory took the printed password (its policy is stricter than the bot's)...
        assert ldap_server.can_bind(user_dn(identifiant.group(1)), password.group(1))
        assert ldap_server.entry(user_dn(identifiant.group(1)))[STATUS_ATTR] == [STATUS_TO_ACTIVATE]

    # ... and nothing of it is kept here.
    async def local() -> list[tuple[object, ...]]:
        database = await Database.open(ldap_env / "data" / "bot.sqlite3")
        try:
            rows = await database.fetch_all(
                "SELECT provisional_password_hash FROM accounts WHERE etablissement = ?",
                ("Lycée de Test",),
            )
            letters = await database.fetch_all(
                "SELECT COUNT(*) FROM audit_events WHERE event = 'letter'"
            )
            return [tuple(row) for row in rows] + [tuple(letters[0])]
        finally:
            await database.close()

    rows = asyncio.run(local())
    assert rows[:-1] == [(None,)] * 4 and rows[-1] == (4,)
    assert not ldap_server.can_bind(user_dn("lea.martin"), "Xq7-Tb4k-Wpz")


@pytest.mark.parametrize(
    ("url", "starttls", "refused"),
    [
        ("ldap://annuaire.example.org:389", False, True),
        ("ldap://annuaire.example.org:389", True, False),
        ("ldaps://annuaire.example.org:636", False, False),
        ("ldapi://%2Fvar%2Frun%2Fslapd%2Fldapi", False, False),
        ("ldap://127.0.0.1:3890", False, False),
    ],
)
def test_passwords_never_cross_a_network_in_clear(url: str, starttls: bool, refused: bool) -> None:
    from bot.config.ldap import sends_passwords_in_clear

    assert sends_passwords_in_clear(url, starttls) is refused


def test_a_clear_text_directory_is_refused_with_a_french_line(
    ldap_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LDAP_URL", "ldap://annuaire.example.org:389")
    assert main(["accounts", "show", "lea.martin"]) == 2
    err = capsys.readouterr().err
    assert "en clair" in err and "LDAP_STARTTLS=true" in err and "Traceback" not in err


# --- NetO'Centre (ESCO-like) directory, provisional passwords kept by the bot (issue 25) ---------


@pytest.fixture
def esco_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ldap_server: LdapServer) -> Path:
    """The README's NetO'Centre example on the test slapd (no extra entries)."""
    from ldap_server import ESCO_FILTER, ESCO_PEOPLE, ESCO_STRUCTURES
    from support import CHEAP_ARGON2

    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_USERNAME", "STAFF_TELEGRAM_IDS"):
        monkeypatch.delenv(name, raising=False)
    values = {
        "ENT_BOT_HOME": str(tmp_path),
        "DATABASE_PATH": str(tmp_path / "data" / "bot.sqlite3"),
        "SERVER_SECRET_FILE": str(tmp_path / "data" / "server.key"),
        "SCHOOL_CONFIG": str(DATA / "school.toml"),
        "LOG_LEVEL": "WARNING",
        "DIRECTORY": "ldap",
        "LDAP_URL": ldap_server.url,
        "LDAP_BIND_DN": SERVICE_DN,
        "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
        "LDAP_USER_BASE": ESCO_PEOPLE,
        "LDAP_USER_FILTER": ESCO_FILTER,
        "LDAP_ATTR_IDENTIFIANT": "ENTPersonLogin",
        "LDAP_ATTR_PROFILE": "ENTPersonProfils",
        "LDAP_ATTR_ESTABLISHMENT": "ESCOUAIRattachement,ESCOUAI",
        "LDAP_ATTR_STATUS": "ESCOPersonEtatCompte",
        "LDAP_STATUS_TO_ACTIVATE": "INVALIDE,NOUVEAU",
        "LDAP_STATUS_ACTIVE": "VALIDE",
        "LDAP_STATUS_BLOCKED": "BLOQUE",
        "LDAP_STATUS_DELETED": "DELETE",
        "LDAP_PROVISIONAL_SOURCE": "local",
        "LDAP_STRUCTURE_BASE": ESCO_STRUCTURES,
        "LDAP_ATTR_CHARTER": "ESCOPersonValidationCharte",
        "LDAP_TIMEOUT_SECONDS": "2",
        **{name.upper(): str(value) for name, value in CHEAP_ARGON2.items()},
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    load_or_create_server_secret(tmp_path / "data" / "server.key")

    async def create() -> None:
        await (await Database.open(tmp_path / "data" / "bot.sqlite3")).close()

    asyncio.run(create())
    return tmp_path


def local_check(identifiant: str, password: str) -> bool:
    """Whether the bot (LDAP_PROVISIONAL_SOURCE=local) takes this provisional password."""
    from bot.directory.ldap import LdapDirectory
    from bot.security import SecretHasher
    from bot.settings import load_settings

    settings = load_settings()

    async def check() -> bool:
        database = await Database.open(settings.database_path)
        directory = LdapDirectory(settings.ldap, database, SecretHasher(settings.argon2))
        try:
            account = await directory.find(identifiant)
            return account is not None and await directory.check_provisional(account.id, password)
        finally:
            directory.close()
            await database.close()

    return asyncio.run(check())


def test_import_reads_the_letters_provisional_passwords(
    esco_env: Path, capsys: pytest.CaptureFixture[str], ldap_server: LdapServer
) -> None:
    from ldap_server import ESCO_LETTERS

    letters = esco_env / "courriers.csv"
    letters.write_text(
        "identifiant;mot_de_passe_provisoire;prenom;etablissement\n"
        + "".join(f"{login};{password};X;Y\n" for login, password in ESCO_LETTERS.items())
        + "inconnu;Xx1-Yy2-Zz3;X;Y\nbloque.user;Xx1-Yy2-Zz3;X;Y\npaul.valide;Xx1-Yy2-Zz3;X;Y\n",
        encoding="utf-8",
    )
    assert main(["accounts", "import", str(letters), "--dry-run"]) == 1
    assert "essai à blanc" in capsys.readouterr().out
    assert not local_check("F0450001", ESCO_LETTERS["F0450001"])
    assert main(["accounts", "import", str(letters)]) == 1  # three lines rejected
    out = capsys.readouterr().out
    assert "enregistrés : 3" in out and "rejetés :   3" in out
    assert "Colonnes ignorées" in out and "prenom, etablissement" in out
    for secret in ESCO_LETTERS.values():
        assert secret not in out
    assert local_check("F0450001", ESCO_LETTERS["F0450001"])
    assert local_check("marie.curie", ESCO_LETTERS["F0450002"])
    assert not local_check("marie.curie", ESCO_LETTERS["F0450001"])
    assert main(["accounts", "import", str(letters)]) == 1
    assert "inchangés : 3" in capsys.readouterr().out


def test_import_is_still_refused_when_the_directory_holds_the_passwords(
    ldap_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (ldap_env / "a.csv").write_text("identifiant;mot_de_passe_provisoire\nx;y\n")
    assert main(["accounts", "import", str(ldap_env / "a.csv")]) == 2
    assert "LDAP_PROVISIONAL_SOURCE=local" in capsys.readouterr().err


def test_local_reset_and_letters_keep_the_hash_and_lock_the_directory(
    esco_env: Path, capsys: pytest.CaptureFixture[str], ldap_server: LdapServer
) -> None:
    from ldap_server import esco_dn

    dn = esco_dn("F0450006")  # VALIDE, its password known
    assert main(["accounts", "reset", "paul.valide", "--mot-de-passe", "Nouveau-Prov-12"]) == 0
    assert "Nouveau-Prov-12" in capsys.readouterr().out
    entry = ldap_server.entry(dn)
    assert entry["ESCOPersonEtatCompte"] == ["INVALIDE"]
    assert not ldap_server.can_bind(dn, "Va4-Lm8p-Qrs-9"), "the old password stops working"
    assert not ldap_server.can_bind(dn, "Nouveau-Prov-12"), "the directory never gets it"
    assert local_check("paul.valide", "Nouveau-Prov-12")

    import re

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "ent_cli_test_bot")
    try:
        target = esco_env / "courriers.pdf"
        args = ["accounts", "letters", str(target), "--yes", "--etablissement", "CFA DES TESTS"]
        assert main(args) == 0, capsys.readouterr().err
    finally:
        monkeypatch.undo()
    from test_accounts_cli import pdf_pages

    pages = pdf_pages(target)
    printed = {}
    for text, _ in pages:
        identifiant = re.search(r"Identifiant\s*\n(\S+)", text)
        password = re.search(r"Mot de passe provisoire\s*\n(\S+)", text)
        assert identifiant and password
        printed[identifiant.group(1)] = password.group(1)
    assert set(printed) == {"F0450002", "F0450007"}  # marie.curie's second UAI is the CFA
    for login, password in printed.items():
        assert local_check(login, password)
        assert not ldap_server.can_bind(esco_dn(login), password)


def test_show_export_and_stats_name_blocked_and_deleted_accounts(
    esco_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["accounts", "show", "bloque.user"]) == 0
    shown = capsys.readouterr().out
    assert "bloqué dans l'annuaire" in shown and "F0450004" in shown
    assert main(["accounts", "show", "jean.dupont"]) == 0
    shown = capsys.readouterr().out
    assert "LYCEE DES ESSAIS-ac-ORLEANS-TOURS" in shown and ": eleve" in shown
    assert main(["accounts", "export", str(esco_env / "export.csv")]) == 0
    with (esco_env / "export.csv").open(encoding="utf-8-sig") as handle:
        rows = {row["identifiant"]: row for row in csv.DictReader(handle, delimiter=";")}
    assert rows["F0450004"]["statut"] == "bloque" and rows["F0450005"]["statut"] == "supprime"
    assert rows["F0450002"]["etablissement"] == "LYCEE DES ESSAIS-ac-ORLEANS-TOURS / CFA DES TESTS"
    assert main(["accounts", "stats"]) == 0
    assert "1 compte(s) bloqué(s), 1 supprimé(s)" in capsys.readouterr().out
    assert main(["accounts", "stats", "--json"]) == 0
    assert '"bloques": 1' in capsys.readouterr().out


def test_a_region_scopes_the_directory_s_entries_by_their_uai(
    esco_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 27 on the ESCO-like tree: each entry belongs to its ESCOUAIRattachement; a
    command for one establishment never sees nor imports another's entries."""
    from support import write_two_schools

    schools = write_two_schools(esco_env / "etablissements")
    beta = schools / "beta.toml"
    beta.write_text(beta.read_text(encoding="utf-8").replace("0450002B", "0370002B"))
    monkeypatch.setenv("SCHOOLS_DIR", str(schools))
    letters = esco_env / "courriers.csv"
    letters.write_text(
        "identifiant;mot_de_passe_provisoire\nF0450001;Lt4-Kc8m-Tqs\ndirect.user;Xx1-Yy2-Zz3\n",
        encoding="utf-8",
    )
    assert main(["accounts", "import", str(letters)]) == 2
    assert "0370002B, 0450001A" in capsys.readouterr().err
    assert main(["accounts", "import", str(letters), "--etablissement", "0370002B"]) == 1
    out = capsys.readouterr().out
    assert "enregistrés : 1" in out and "rejetés :   1" in out
    assert not local_check("F0450001", "Lt4-Kc8m-Tqs")
    assert local_check("direct.user", "Xx1-Yy2-Zz3")
    assert main(["accounts", "show", "jean.dupont", "--etablissement", "0370002B"]) == 1
    assert "Jean" not in capsys.readouterr().out
    assert main(["accounts", "show", "jean.dupont", "--etablissement", "0450001A"]) == 0
    assert "Jean" in capsys.readouterr().out
