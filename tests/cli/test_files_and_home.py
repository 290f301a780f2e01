"""Where the command line finds its files (one home: ``ENT_BOT_HOME``, else the ``.env``'s
folder, else the current one), that staff commands never create a database or a key, and that
the database, its ``-wal``/``-shm`` and the server key are private (0600, folder 0700) even with
umask 022. Real CLI, real SQLite files, real modes."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.security import load_or_create_server_secret
from bot.settings import Settings, find_home
from storage.db import Database, DatabaseMissing
from storage.files import UnsafePermissions

from support import CHEAP_ARGON2, DATA, write_accounts_csv


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    """The usual umask, under which files are created 0644 and folders 0755."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No path setting from the environment: only the home and its ``.env`` decide."""
    for name in (
        "ENT_BOT_HOME",
        "DATABASE_PATH",
        "SERVER_SECRET_FILE",
        "SCHOOL_CONFIG",
        "SANDBOX_DATABASE_PATH",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_BOT_USERNAME",
        "STAFF_TELEGRAM_IDS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")


@pytest.fixture
def install(tmp_path: Path, clean_env: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installation folder with a ``.env`` (relative default paths) and imported accounts,
    set up from that folder as the README says."""
    home = tmp_path / "install"
    home.mkdir()
    lines = [f"{key.upper()}={value}" for key, value in CHEAP_ARGON2.items()]
    lines.append(f"SCHOOL_CONFIG={DATA / 'school.toml'}")
    (home / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.chdir(home)
    assert main(["accounts", "import", str(write_accounts_csv(home / "comptes.csv"))]) == 0
    assert (home / "data" / "ent-bot.sqlite3").is_file()
    return home


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Another folder, with no ``.env``, as the current one."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


# --- point 12: one home, and no database made by a staff command ----------------------------


@pytest.mark.parametrize(
    "command",
    [["show", "lea.martin"], ["history", "lea.martin"], ["stats"], ["unlock", "lea.martin"]],
)
def test_a_staff_command_elsewhere_creates_nothing_and_says_where_it_looked(
    install: Path, elsewhere: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["accounts", *command]) == 2
    err = capsys.readouterr().err
    looked = elsewhere / "data" / "ent-bot.sqlite3"
    assert f"Aucune base de données à {looked}" in err and "ENT_BOT_HOME" in err
    assert "Aucun compte" not in err
    assert not (elsewhere / "data").exists()  # neither a database nor a key


def test_export_elsewhere_creates_no_database(
    install: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["accounts", "export", str(elsewhere / "etat.csv")]) == 2
    assert "Aucune base de données" in capsys.readouterr().err
    assert sorted(p.name for p in elsewhere.iterdir()) == []


def test_ent_bot_home_finds_the_installation_from_anywhere(
    install: Path,
    elsewhere: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ENT_BOT_HOME", str(install))
    assert main(["accounts", "show", "lea.martin"]) == 0
    assert "lea.martin" in capsys.readouterr().out
    # A relative path given by a variable starts from the home too, not from the current folder.
    monkeypatch.setenv("DATABASE_PATH", "data/ent-bot.sqlite3")
    assert main(["accounts", "show", "lea.martin"]) == 0
    assert not (elsewhere / "data").exists()


def test_a_missing_key_is_not_replaced_by_a_staff_command(
    install: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = install / "data" / "server-secret.key"
    key.unlink()
    assert main(["accounts", "show", "lea.martin"]) == 2
    assert f"Aucune clé serveur à {key}" in capsys.readouterr().err
    assert not key.exists()


def test_the_home_rule(tmp_path: Path, clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    cwd, project, chosen = tmp_path / "cwd", tmp_path / "project", tmp_path / "chosen"
    for folder in (cwd, project, chosen):
        folder.mkdir()
    assert find_home(cwd, project) == (cwd, None)
    (project / ".env").write_text("LOG_LEVEL=INFO\n")
    assert find_home(cwd, project) == (project, project / ".env")  # run_bot.py's folder
    (cwd / ".env").write_text("LOG_LEVEL=INFO\n")
    assert find_home(cwd, project) == (cwd, cwd / ".env")  # the current folder comes first
    monkeypatch.setenv("ENT_BOT_HOME", str(chosen))
    assert find_home(cwd, project) == (chosen, None)  # the variable wins, .env or not
    monkeypatch.setenv("ENT_BOT_HOME", "../chosen")
    assert find_home(cwd, project) == (chosen, None)


def test_relative_settings_start_from_the_home(tmp_path: Path, clean_env: None) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        ent_bot_home=tmp_path,
        server_secret_file=Path("/etc/ent/key"),
    )
    assert settings.database_path == tmp_path / "data" / "ent-bot.sqlite3"
    assert settings.sandbox_database_path == tmp_path / "data" / "sandbox.sqlite3"
    assert settings.school_config == tmp_path / "config" / "school.toml"
    assert settings.server_secret_file == Path("/etc/ent/key")  # absolute: as given


# --- point 6: private files -----------------------------------------------------------------


def test_import_creates_a_private_folder_database_and_key(install: Path) -> None:
    data = install / "data"
    assert mode(data) == 0o700
    assert mode(data / "ent-bot.sqlite3") == 0o600
    assert mode(data / "server-secret.key") == 0o600


async def test_the_database_and_its_wal_and_shm_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.sqlite3"
    database = await Database.open(path)
    try:
        async with database.transaction() as connection:
            await connection.execute("CREATE TABLE probe (x)")
        for name in ("bot.sqlite3", "bot.sqlite3-wal", "bot.sqlite3-shm"):
            assert mode(path.parent / name) == 0o600, name
    finally:
        await database.close()
    assert mode(path.parent) == 0o700


async def test_files_others_can_read_are_tightened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    path = shared / "bot.sqlite3"
    await (await Database.open(path)).close()
    key = shared / "server.key"
    load_or_create_server_secret(key)
    for made_by_an_old_version in (path, key):
        os.chmod(made_by_an_old_version, 0o644)
    Path(f"{path}-wal").write_bytes(b"")
    os.chmod(f"{path}-wal", 0o664)
    database = await Database.open(path)
    try:
        assert mode(Path(f"{path}-wal")) == 0o600
    finally:
        await database.close()
    assert load_or_create_server_secret(key)
    assert mode(path) == 0o600 and mode(key) == 0o600
    assert "readable by others (mode 0644): now 0600" in caplog.text


def test_an_existing_data_folder_others_can_list_is_tightened(
    install: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A data folder left 0755 (by hand, or an old version) is made 0700 with a warning, by
    the bot's start as by a staff command (issue 29.9)."""
    data = install / "data"
    os.chmod(data, 0o755)
    assert main(["accounts", "import", str(write_accounts_csv(install / "comptes.csv"))]) == 0
    assert mode(data) == 0o700
    assert f"{data} could be listed by others (mode 0755): now 0700" in caplog.text
    os.chmod(data, 0o750)
    assert main(["accounts", "stats"]) == 0  # opens the database without creating it
    assert mode(data) == 0o700


async def test_a_shared_or_code_folder_is_left_as_it_is(tmp_path: Path) -> None:
    """A sticky shared folder (``/tmp``) and the code's own folder (``run_bot.py``) keep their
    mode: others may need them; the files in them are 0600 all the same."""
    sticky = tmp_path / "tmp"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    code = tmp_path / "code"
    code.mkdir(mode=0o755)
    (code / "run_bot.py").write_text("")
    for folder, folder_mode in ((sticky, 0o1777), (code, 0o755)):
        await (await Database.open(folder / "bot.sqlite3")).close()
        assert mode(folder) == folder_mode
        assert mode(folder / "bot.sqlite3") == 0o600


def test_a_file_whose_mode_cannot_change_is_refused_in_french(
    install: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = install / "data" / "server-secret.key"
    os.chmod(key, 0o644)

    def not_the_owner(path: object, mode: int) -> None:
        raise PermissionError("not the owner")

    monkeypatch.setattr(os, "chmod", not_the_owner)  # what a file of another user does
    assert main(["accounts", "stats"]) == 2
    err = capsys.readouterr().err
    assert f"{key} est lisible par d'autres utilisateurs" in err and "chmod 600" in err


async def test_opening_without_create_never_creates(tmp_path: Path) -> None:
    with pytest.raises(DatabaseMissing):
        await Database.open(tmp_path / "data" / "nothing.sqlite3", create=False)
    assert not (tmp_path / "data").exists()


def test_refused_permissions_carry_the_path_and_mode(tmp_path: Path) -> None:
    error = UnsafePermissions(tmp_path / "x", 0o644)
    assert isinstance(error, PermissionError)
    assert (error.path, error.mode) == (tmp_path / "x", 0o644)
