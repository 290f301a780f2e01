"""A bot process killed with SIGKILL and started again resumes each chat at the step its user
last saw: the real ``python run_bot.py`` in a subprocess, against the local Bot API server."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from bot.sandbox.bot_api_server import LocalBotApi, SandboxUser
from bot.sandbox.mailbox import Mailbox

from conftest import BOT_TOKEN, harness_settings
from support import GOOD_PASSWORD, write_accounts_csv

PROJECT = Path(__file__).resolve().parents[2]


class BotProcess:
    """``python run_bot.py`` with the test's environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "run_bot.py",
            cwd=PROJECT,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> bytes:
        if self.process is None or self.process.returncode is not None:
            return b""
        self.process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(self.process.communicate(), 20)
        return stderr


async def real_bot_env(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox, **extra: str
) -> dict[str, str]:
    """The environment of a real ``run_bot.py`` (cheap argon2id, the test servers, ``extra``
    variables), with the test accounts imported through the real command line."""
    settings = harness_settings(tmp_path, bot_api, mailbox.port)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_"))},
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_URL": bot_api.root_url,
        "DATABASE_PATH": str(settings.database_path),
        "SERVER_SECRET_FILE": str(settings.server_secret_file),
        "SCHOOL_CONFIG": str(settings.school_config),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mailbox.port),
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "1024",
        "ARGON2_PARALLELISM": "1",
        **extra,
    }
    importer = await asyncio.create_subprocess_exec(
        sys.executable,
        "run_bot.py",
        "accounts",
        "import",
        str(write_accounts_csv(tmp_path / "accounts.csv")),
        cwd=PROJECT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await importer.wait() == 0
    return env


@pytest_asyncio.fixture
async def bot_process(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> AsyncIterator[BotProcess]:
    env = await real_bot_env(tmp_path, bot_api, mailbox)
    process = BotProcess(env)
    await process.start()
    yield process
    await process.stop()


async def turn(user: SandboxUser, action: object, expect: str) -> str:
    """Do ``action`` and wait for a bot message containing ``expect``; return its text."""
    seen = sum(1 for m in user.messages if m.from_bot)
    await action  # type: ignore[misc]
    for _ in range(200):
        fresh = [m for m in user.messages if m.from_bot][seen:]
        for message in fresh:
            if expect in message.text:
                return message.text
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {expect!r}; the chat shows:\n{user.transcript()}")


async def test_sigkill_mid_flow_then_restart_resumes(
    bot_process: BotProcess, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    user = bot_api.user(4242, first_name="Léa")
    await turn(user, user.send_text("/activer"), "identifiant")
    await turn(user, user.send_text("lea.martin"), "provisoire")
    await turn(user, user.send_text("Xq7-Tb4k-Wpz"), "Acceptez-vous")
    await turn(user, user.press("J'accepte"), "Étape 3")

    await bot_process.kill()
    await bot_process.start()
    await turn(user, user.press("e-mail"), "adresse e-mail personnelle")
    await turn(user, user.send_text("lea@example.org"), "code à 8 chiffres")
    mail = await mailbox.wait_for(1)
    code = re.search(r"\b(\d{8})\b", mail.text).group(1)  # type: ignore[union-attr]

    await bot_process.kill()
    await bot_process.start()
    await turn(user, user.send_text(code), "Étape 4")

    await bot_process.kill()
    await bot_process.start()
    await turn(user, user.send_text(GOOD_PASSWORD), "deuxième fois")
    await turn(user, user.send_text(GOOD_PASSWORD), "Compte activé")
    stderr = await bot_process.stop()
    for secret in (GOOD_PASSWORD, code, "Xq7-Tb4k-Wpz"):
        assert secret.encode() not in stderr


async def test_a_refused_token_is_one_french_line_without_the_token(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    env = await real_bot_env(tmp_path, bot_api, mailbox)
    wrong = BOT_TOKEN.split(":")[0] + ":Faux-Jeton-Secret-123"
    env["TELEGRAM_BOT_TOKEN"] = wrong
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        "run_bot.py",
        "run",
        cwd=PROJECT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(bot.communicate(), timeout=60)
    said = (out + err).decode()
    assert bot.returncode == 2, said
    assert "Telegram refuse le jeton" in said
    assert "Faux-Jeton-Secret" not in said and "Traceback" not in said
