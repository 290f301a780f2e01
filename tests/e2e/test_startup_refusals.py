"""Start-up refusals and retries of the real ``run_bot.py run`` (issue 16): one French sentence
and exit code 2 for a missing school file, a server key gone beside accounts, a refused token;
one French line an attempt (never a traceback) while the Bot API or SMTP cannot be reached."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

from bot.sandbox.bot_api_server import LocalBotApi
from bot.sandbox.mailbox import Mailbox

from conftest import BOT_TOKEN
from test_kill_restart import PROJECT, real_bot_env

SECRET_PART = BOT_TOKEN.split(":", 1)[1]


def closed_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run_to_exit(env: dict[str, str]) -> tuple[int, str]:
    """``run_bot.py run`` until it exits by itself: its exit code and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "run_bot.py",
        "run",
        cwd=PROJECT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def lines_until(
    env: dict[str, str], wanted: str, count: int, args: tuple[str, ...] = ("run",)
) -> tuple[int, str]:
    """``run_bot.py run`` (or ``args``) until stderr has ``count`` lines with ``wanted``, then
    SIGTERM."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "run_bot.py",
        *args,
        cwd=PROJECT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    seen: list[str] = []
    async with asyncio.timeout(60):
        while sum(wanted in line for line in seen) < count:
            line = await process.stderr.readline()
            assert line, "the bot exited: " + "".join(seen)
            seen.append(line.decode())
        process.terminate()
        rest = await process.stderr.read()
        await process.wait()
    assert process.returncode is not None
    return process.returncode, "".join(seen) + rest.decode()


def one_french_sentence(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and SECRET_PART not in stderr
    return lines[0]


async def test_missing_school_file_is_refused_without_falling_back_to_the_example(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    missing = tmp_path / "config" / "school.toml"
    env = await real_bot_env(tmp_path, bot_api, mailbox, SCHOOL_CONFIG=str(missing))
    code, stderr = await run_to_exit(env)
    assert code == 2
    line = one_french_sentence(stderr)
    assert str(missing) in line and "run_bot.py init" in line
    assert bot_api.events_of(method="getMe") == []  # refused before any call to Telegram


async def test_missing_secret_beside_accounts_is_refused_and_not_recreated(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    env = await real_bot_env(tmp_path, bot_api, mailbox)
    secret = Path(env["SERVER_SECRET_FILE"])
    secret.unlink()
    code, stderr = await run_to_exit(env)
    assert code == 2
    line = one_french_sentence(stderr)
    assert str(secret) in line and "contient déjà des comptes" in line
    assert not secret.exists()


async def test_refused_token_is_one_line_without_the_token(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    env = await real_bot_env(tmp_path, bot_api, mailbox)
    env["TELEGRAM_BOT_TOKEN"] = "987654321:AAWrongTokenThatTelegramRefuses"
    code, stderr = await run_to_exit(env)
    assert code == 2
    # The SMTP probe runs beside the start (by design): on a loaded machine it may print its
    # own line before the refusal ends the process. The refusal itself is one line.
    refusal = "\n".join(line for line in stderr.splitlines() if "le serveur d'e-mails" not in line)
    line = one_french_sentence(refusal)
    assert "TELEGRAM_BOT_TOKEN" in line and "AAWrongTokenThatTelegramRefuses" not in stderr
    assert "Traceback" not in stderr


async def test_unreachable_bot_api_gives_one_french_line_an_attempt(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    env = await real_bot_env(tmp_path, bot_api, mailbox)
    env["TELEGRAM_API_URL"] = f"http://127.0.0.1:{closed_port()}"
    code, stderr = await lines_until(env, "Démarrage :", 1)
    assert code == 0  # stopped by SIGTERM while retrying
    attempts = [line for line in stderr.splitlines() if "Démarrage :" in line]
    assert len(attempts) == 1 and "essai 1" in attempts[0] and "nouvel essai" in attempts[0]
    assert env["TELEGRAM_API_URL"] in attempts[0] and "TELEGRAM_API_URL" in attempts[0]
    assert "Traceback" not in stderr and "retried in" not in stderr
    assert SECRET_PART not in stderr


async def test_unreachable_smtp_gives_one_french_line_an_attempt(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    env = await real_bot_env(tmp_path, bot_api, mailbox, SMTP_PORT=str(closed_port()))
    code, stderr = await lines_until(env, "serveur d'e-mails", 2)
    assert code == 0
    attempts = [line for line in stderr.splitlines() if "serveur d'e-mails" in line]
    assert "essai 1" in attempts[0] and "SMTP_HOST" in attempts[0]
    assert "Traceback" not in stderr
    assert bot_api.events_of(method="getMe")  # the bot starts meanwhile: the outbox waits


async def test_no_command_with_a_token_still_runs_but_says_to_use_run(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    env = await real_bot_env(tmp_path, bot_api, mailbox)
    code, stderr = await lines_until(env, "en interrogeant Telegram", 1, args=())
    assert code == 0  # it ran, until SIGTERM
    warning = stderr.splitlines()[0]
    assert "obsolète" in warning and "utilisez `run_bot.py run`" in warning
    assert bot_api.events_of(method="getMe")
    assert "Traceback" not in stderr and SECRET_PART not in stderr

    code, stderr = await lines_until(env, "en interrogeant Telegram", 1)
    assert code == 0 and "obsolète" not in stderr  # `run` says nothing of the kind


async def test_invalid_school_file_is_refused_in_french(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    school = tmp_path / "config" / "school.toml"
    school.parent.mkdir()
    school.write_text('[etablissement]\nnom = "Lycée"\ncgu = "cgu.txt"\n', encoding="utf-8")
    env = await real_bot_env(tmp_path, bot_api, mailbox, SCHOOL_CONFIG=str(school))
    code, stderr = await run_to_exit(env)
    assert code == 2
    line = one_french_sentence(stderr)
    assert line.startswith("Le fichier de l'établissement est incorrect")
    assert f"{school} : il manque « ent_url » dans [etablissement]" in line
    assert "needs" not in line and "config/school.example.toml" in line
    assert bot_api.events_of(method="getMe") == []
