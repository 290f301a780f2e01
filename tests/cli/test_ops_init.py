"""``run_bot.py init`` (issue 16): the school file from the example, the server key and the
database made private (0600), nothing ever overwritten, and what to edit next printed."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.school import load_school_config

from support import write_accounts_csv


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty installation folder named by ENT_BOT_HOME, no path from the environment."""
    for name in ("DATABASE_PATH", "SERVER_SECRET_FILE", "SCHOOL_CONFIG", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "srv"
    folder.mkdir()
    monkeypatch.setenv("ENT_BOT_HOME", str(folder))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    for key, value in (("ARGON2_TIME_COST", "1"), ("ARGON2_MEMORY_COST", "1024")):
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    previous = os.umask(0o022)
    yield folder
    os.umask(previous)


def test_init_creates_the_files_private_and_says_what_to_edit(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    school = home / "config" / "school.toml"
    assert load_school_config(school).cgu_text  # the copied CGU is found beside it
    assert (home / "config" / "cgu.txt").is_file()
    assert mode(home / "data" / "server-secret.key") == 0o600
    assert mode(home / "data" / "ent-bot.sqlite3") == 0o600
    assert mode(home / "data") == 0o700
    assert str(school) in out and "À faire ensuite" in out and "run_bot.py run" in out
    assert "TELEGRAM_BOT_TOKEN" in out
    # The database is ready: the accounts can be imported with the key init made.
    assert main(["accounts", "import", str(write_accounts_csv(home / "comptes.csv"))]) == 0


def test_init_never_overwrites(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"]) == 0
    school = home / "config" / "school.toml"
    school.write_text(school.read_text(encoding="utf-8").replace("CFA Exemple", "Lycée Réel"))
    key = (home / "data" / "server-secret.key").read_bytes()
    capsys.readouterr()
    assert main(["init"]) == 0
    assert "Lycée Réel" in school.read_text(encoding="utf-8")
    assert (home / "data" / "server-secret.key").read_bytes() == key
    assert capsys.readouterr().out.count("gardé") == 3  # school, key, database


def test_init_refuses_a_new_key_beside_accounts(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    assert main(["accounts", "import", str(write_accounts_csv(home / "comptes.csv"))]) == 0
    (home / "data" / "server-secret.key").unlink()
    capsys.readouterr()
    assert main(["init"]) == 2
    err = capsys.readouterr().err
    assert "clé serveur" in err and "contient déjà des comptes" in err
    assert len(err.strip().splitlines()) == 1
    assert not (home / "data" / "server-secret.key").exists()
