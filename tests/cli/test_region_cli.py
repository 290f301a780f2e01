"""One bot for a region (issue 27), on the command line: with two establishments every staff
command needs ``--etablissement`` and only sees and acts on that establishment's accounts
(filtered in SQL): staff of A cannot see, reset, unlock, export, write letters for, broadcast
to or read the tickets of B's people; ``--etablissement tous`` (the region) can."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from storage.db import Database, to_db_time

from support import DATA, UAI_A, UAI_B, write_two_schools

HEADER = ["identifiant", "mot_de_passe_provisoire", "profil", "prenom", "nom", "etablissement"]
PEOPLE = [
    ("ana.alpha", "Xq7-Tb4k-Wpz", "eleve", "Ana", "Alpha", "Lycée Alpha", UAI_A),
    ("ali.alpha", "Rm2-Hv8n-Zcw", "parent", "Ali", "Alpha", "Lycée Alpha", UAI_A.lower()),
    ("bea.beta", "Gd5-Js3y-Fex", "apprenti", "Béa", "Bêta", "CFA Bêta", UAI_B),
]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Production-like settings with SCHOOLS_DIR (two establishments), in tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "STAFF_TELEGRAM_IDS", "REGION_ADMIN_TELEGRAM_IDS"):
        monkeypatch.delenv(name, raising=False)
    values = {
        "ENT_BOT_HOME": str(tmp_path),
        "DATABASE_PATH": str(tmp_path / "data" / "bot.sqlite3"),
        "SERVER_SECRET_FILE": str(tmp_path / "data" / "server.key"),
        "SCHOOL_CONFIG": str(DATA / "school.toml"),
        "SCHOOLS_DIR": str(write_two_schools(tmp_path / "etablissements")),
        "TELEGRAM_BOT_USERNAME": "ent_region_bot",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "1024",
        "ARGON2_PARALLELISM": "1",
        "LOG_LEVEL": "WARNING",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def write_csv(path: Path, rows: list[tuple[str, ...]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow([*HEADER, "uai"])
        writer.writerows(rows)
    return path


def sql(env: Path, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    async def go() -> list[tuple[object, ...]]:
        database = await Database.open(env / "data" / "bot.sqlite3")
        try:
            if query.lstrip().upper().startswith("SELECT"):
                return [tuple(row) for row in await database.fetch_all(query, params)]
            async with database.transaction() as connection:
                await connection.execute(query, params)
            return []
        finally:
            await database.close()

    return asyncio.run(go())


@pytest.fixture
def region(env: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A's two people and B's one, imported for the whole region."""
    path = write_csv(env / "region.csv", PEOPLE)
    code, out, err = run(["accounts", "import", str(path), "--etablissement", "tous"], capsys)
    assert code == 0, out + err
    # Ali (A) and Béa (B) activated and linked to Telegram; a ticket each.
    now = to_db_time(datetime.now(UTC))
    for identifiant, user in (("ali.alpha", 501), ("bea.beta", 502)):
        sql(
            env,
            "UPDATE accounts SET status = 'active', activated_at = ?, telegram_user_id = ? "
            "WHERE identifiant_norm = ?",
            (now, user, identifiant),
        )
        sql(
            env,
            "INSERT INTO support_tickets (telegram_user_id, chat_id, account_id, opened_at, "
            "updated_at) SELECT ?, ?, id, ?, ? FROM accounts WHERE identifiant_norm = ?",
            (user, user, now, now, identifiant),
        )
    return env


def test_a_command_without_establishment_is_refused_with_the_uais(
    region: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (
        ["accounts", "show", "bea.beta"],
        ["accounts", "stats"],
        ["accounts", "export", str(region / "x.csv")],
        ["accounts", "import", str(region / "region.csv")],
        ["broadcast", "list"],
        ["support", "list"],
    ):
        code, _, err = run(args, capsys)
        assert code == 2, args
        assert "Plusieurs établissements" in err and f"{UAI_A}, {UAI_B}" in err, args
        assert "--etablissement" in err
    code, _, err = run(["accounts", "show", "bea.beta", "--etablissement", "0459999Z"], capsys)
    assert code == 2 and "Aucun établissement « 0459999Z »" in err


def test_import_stores_the_uai_and_checks_it(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        PEOPLE[0],
        ("x.inconnu", "Pw-1234567", "eleve", "X", "Y", "?", "0459999Z"),
        PEOPLE[2],
        ("sans.uai", "Pw-1234567", "eleve", "S", "U", "Lycée Alpha", ""),
    ]
    path = write_csv(env / "a.csv", rows)
    code, out, _ = run(["accounts", "import", str(path), "--etablissement", UAI_A], capsys)
    assert code == 1
    assert "ligne 3 : UAI « 0459999Z » inconnu" in out
    assert f"ligne 4 : UAI « {UAI_B} » : cet import est pour l'établissement {UAI_A}" in out
    assert sql(env, "SELECT identifiant, uai FROM accounts ORDER BY identifiant") == [
        ("ana.alpha", UAI_A),
        ("sans.uai", UAI_A),  # the import's establishment
    ]
    # B's import cannot take over A's identifier
    path = write_csv(env / "b.csv", [("ana.alpha", "Pw-7654321", "eleve", "A", "B", "C", "")])
    code, out, _ = run(["accounts", "import", str(path), "--etablissement", UAI_B], capsys)
    assert code == 1 and "identifiant déjà rattaché à un autre établissement" in out
    assert sql(env, "SELECT uai FROM accounts WHERE identifiant = 'ana.alpha'") == [(UAI_A,)]


def test_staff_of_a_cannot_see_reset_unlock_or_read_the_history_of_b(
    region: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in ("show", "reset", "unlock", "history"):
        code, out, err = run(["accounts", command, "bea.beta", "--etablissement", UAI_A], capsys)
        assert code == 1, command
        assert "Aucun compte" in err or "inconnu" in err, err
        assert "Béa" not in out + err
    assert sql(region, "SELECT status FROM accounts WHERE identifiant = 'bea.beta'") == [
        ("active",)
    ]
    code, out, _ = run(["accounts", "show", "bea.beta", "--etablissement", UAI_B], capsys)
    assert code == 0 and "Béa" in out
    code, out, _ = run(["accounts", "reset", "ana.alpha", "--etablissement", UAI_A], capsys)
    assert code == 0
    assert sql(
        region,
        "SELECT details FROM audit_events WHERE event = 'reset' ORDER BY id DESC LIMIT 1",
    ) == [(f"password=generated,uai={UAI_A}",)]
    code, out, _ = run(["accounts", "show", "bea.beta", "--etablissement", "tous"], capsys)
    assert code == 0 and "Béa" in out
    code, out, _ = run(["accounts", "history", "ana.alpha", "--etablissement", UAI_A], capsys)
    assert code == 0 and f"établissement {UAI_A}" in out


def test_export_and_stats_only_hold_the_establishment(
    region: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = region / "a.csv"
    code, _, _ = run(["accounts", "export", str(target), "--etablissement", UAI_A], capsys)
    assert code == 0
    text = target.read_text(encoding="utf-8-sig")
    assert "ana.alpha" in text and "ali.alpha" in text and "bea.beta" not in text
    code, out, _ = run(["accounts", "stats", "--json", "--etablissement", UAI_A], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["total"]["imported"] == 2 and data["total"]["active"] == 1
    assert [row["uai"] for row in data["par_uai"]] == [UAI_A]
    code, out, _ = run(["accounts", "stats", "--json", "--etablissement", "tous"], capsys)
    data = json.loads(out)
    # one row per establishment, the least activated first
    assert [(r["uai"], r["comptes"], r["actives"]) for r in data["par_uai"]] == [
        (UAI_A, 2, 1),
        (UAI_B, 1, 1),
    ]
    code, out, _ = run(["accounts", "stats", "--etablissement", "tous"], capsys)
    assert code == 0
    table = out[out.index("Par établissement") :]
    assert table.index("Lycée Alpha") < table.index("CFA Bêta")  # 50 % before 100 %


def test_letters_only_for_the_establishment(
    region: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql(region, "UPDATE accounts SET status = 'a_activer' WHERE identifiant = 'bea.beta'")
    target = region / "b.pdf"
    code, _, err = run(
        ["accounts", "letters", str(target), "--etablissement", UAI_A, "--yes"], capsys
    )
    assert code == 0, err
    assert sql(
        region,
        "SELECT a.identifiant, e.details FROM audit_events e "
        "JOIN accounts a ON a.id = e.account_id WHERE e.event = 'letter'",
    ) == [("ana.alpha", f"b.pdf;profil=*,etablissement={UAI_A},uai={UAI_A}")]


def test_broadcasts_are_scoped(region: Path, capsys: pytest.CaptureFixture[str]) -> None:
    message = region / "message.txt"
    message.write_text("Bonjour {prenom} !", encoding="utf-8")
    code, out, err = run(
        ["broadcast", "new", "--message", str(message), "--yes", "--etablissement", UAI_A],
        capsys,
    )
    assert code == 0, err
    assert sql(region, "SELECT recipient FROM broadcast_deliveries") == [("501",)]
    assert sql(region, "SELECT uai FROM broadcast_campaigns") == [(UAI_A,)]
    code, out, err = run(["broadcast", "status", "1", "--etablissement", UAI_B], capsys)
    assert code == 1
    code, out, _ = run(["broadcast", "list", "--json", "--etablissement", UAI_B], capsys)
    assert json.loads(out) == []
    code, out, _ = run(["broadcast", "list", "--json", "--etablissement", UAI_A], capsys)
    assert [c["id"] for c in json.loads(out)] == [1]
    code, _, _ = run(["broadcast", "cancel", "1", "--etablissement", UAI_B], capsys)
    assert code == 1
    code, out, _ = run(["broadcast", "status", "1", "--etablissement", "tous"], capsys)
    assert code == 0


def test_tickets_are_scoped(region: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["support", "list", "--json", "--etablissement", UAI_A], capsys)
    assert code == 0
    assert [t["numero"] for t in json.loads(out)] == [1]
    code, _, _ = run(["support", "show", "2", "--etablissement", UAI_A], capsys)
    assert code == 1
    code, out, _ = run(["support", "show", "2", "--etablissement", UAI_B], capsys)
    assert code == 0
    code, out, _ = run(["support", "list", "--json", "--etablissement", "tous"], capsys)
    assert len(json.loads(out)) == 2


def test_etablissements_lists_the_figures(region: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["etablissements", "--json"], capsys)
    assert code == 0
    assert json.loads(out) == [
        {"uai": UAI_A, "nom": "Lycée Alpha", "comptes": 2, "actives": 1, "demandes_ouvertes": 1},
        {"uai": UAI_B, "nom": "CFA Bêta", "comptes": 1, "actives": 1, "demandes_ouvertes": 1},
    ]
    code, out, _ = run(["etablissements"], capsys)
    assert code == 0 and UAI_A in out and "CFA Bêta" in out


def test_one_establishment_needs_no_choice(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (env / "etablissements" / "beta.toml").unlink()
    path = write_csv(env / "a.csv", [PEOPLE[0]])
    code, out, _ = run(["accounts", "import", str(path)], capsys)
    assert code == 0
    code, out, _ = run(["accounts", "show", "ana.alpha"], capsys)
    assert code == 0 and "Ana" in out


def test_a_school_file_error_names_the_file(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    beta = env / "etablissements" / "beta.toml"
    beta.write_text(beta.read_text(encoding="utf-8").replace('uai = "0450002B"\n', ""))
    code, _, err = run(["accounts", "stats", "--etablissement", UAI_A], capsys)
    assert code == 2
    assert "beta.toml : il manque « uai » dans [etablissement]" in err
