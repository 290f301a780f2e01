"""Backups (issue 16): ``run_bot.py backup FILE`` copies the database of a running bot and its
key beside it (0600); restored in a new place, the bot goes on with the walk where the user
left it (the code e-mailed before the backup still works: the key came back with the base).
A database newer than the code is refused in one French sentence."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import stat
import sys
from pathlib import Path

from test_startup_refusals import one_french_sentence, run_to_exit

from bot.sandbox.bot_api_server import LocalBotApi
from bot.sandbox.mailbox import Mailbox

from chat import Chat
from conftest import BotHarness, last_code
from support import GOOD_PASSWORD, MutableClock
from test_kill_restart import PROJECT, real_bot_env


async def run_cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "run_bot.py",
        *args,
        cwd=PROJECT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_backup_of_a_running_bot_then_restore_then_the_walk_goes_on(
    harness: BotHarness, tmp_path: Path, clock: MutableClock
) -> None:
    chat = Chat(harness, 5401, "Léa")
    await chat.say("/activer")
    await chat.say_secret("lea.martin")
    await chat.say_secret("Xq7-Tb4k-Wpz")
    await chat.press("J'accepte")
    await chat.press("e-mail")
    await chat.say("lea@example.org")  # sent at once
    await harness.mailbox.wait_for(1)
    code = last_code(harness.mailbox)

    target = tmp_path / "sauvegardes" / "ent-bot.sqlite3"
    target.parent.mkdir()
    env = {
        "DATABASE_PATH": str(harness.settings.database_path),
        "SERVER_SECRET_FILE": str(harness.settings.server_secret_file),
        "SCHOOL_CONFIG": str(harness.settings.school_config),
        "PATH": "/usr/bin:/bin",
    }
    status, out, err = await run_cli(env, "backup", str(target))  # the bot keeps running
    assert status == 0, err
    key = target.with_name("ent-bot.sqlite3.key")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes() == harness.settings.server_secret_file.read_bytes()
    assert str(target) in out and str(key) in out
    assert (await run_cli(env, "backup", str(target)))[0] == 2  # never overwritten
    await harness.stop()

    # Restore as the README says: the two files back where the settings point.
    restored = tmp_path / "restored"
    (restored / "data").mkdir(parents=True)
    shutil.copy2(target, restored / "data" / "bot.sqlite3")
    shutil.copy2(key, restored / "data" / "server.key")
    harness.settings = harness.settings.model_copy(
        update={
            "database_path": restored / "data" / "bot.sqlite3",
            "server_secret_file": restored / "data" / "server.key",
        }
    )
    await harness.start()
    assert "Étape 4" in (await chat.say(code)).text
    await chat.say_secret(GOOD_PASSWORD)
    assert "Compte activé" in (await chat.say_secret(GOOD_PASSWORD)).text


async def test_database_newer_than_the_code_is_refused(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    env = await real_bot_env(tmp_path, bot_api, mailbox)
    with sqlite3.connect(env["DATABASE_PATH"]) as connection:
        connection.execute(
            "INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', '2030-01-01')"
        )
    connection.close()
    code, stderr = await run_to_exit(env)
    assert code == 2
    line = one_french_sentence(stderr)
    assert "version plus récente" in line and "9999" in line
