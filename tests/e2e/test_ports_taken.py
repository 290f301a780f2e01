"""A port already taken, for the real ``run_bot.py run`` (operations port, webhook) and
``run_bot.py sandbox``: one French sentence naming the port and the setting to change, exit
code 2, never a traceback nor the system's English « [Errno 98] … » (issue 22.16)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_startup_refusals import one_french_sentence, run_to_exit

from bot.sandbox.bot_api_server import LocalBotApi
from bot.sandbox.mailbox import Mailbox

from test_kill_restart import PROJECT, real_bot_env


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A local port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


@pytest.mark.parametrize("setting", ["OPS_PORT", "WEBHOOK_PORT"])
async def test_the_bot_refuses_a_taken_port_in_one_french_sentence(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox, taken_port: int, setting: str
) -> None:
    extra = {setting: str(taken_port)}
    if setting == "WEBHOOK_PORT":
        extra |= {
            "WEBHOOK_URL": f"http://127.0.0.1:{taken_port}/hook",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_SECRET_TOKEN": "secret_0123456789",
        }
    env = await real_bot_env(tmp_path, bot_api, mailbox, **extra)
    code, stderr = await run_to_exit(env)
    assert code == 2
    refusal = "\n".join(line for line in stderr.splitlines() if "le serveur d'e-mails" not in line)
    line = one_french_sentence(refusal)
    assert f"127.0.0.1:{taken_port}" in line and "port déjà pris" in line and setting in line
    assert "Errno" not in stderr and "address already in use" not in stderr


async def test_the_sandbox_says_the_port_is_taken_in_french(
    taken_port: int, tmp_path: Path
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SANDBOX_"))},
        "ENT_BOT_HOME": str(tmp_path),
        "SANDBOX_PORT": str(taken_port),
        "SANDBOX_DATABASE_PATH": str(tmp_path / "sandbox.sqlite3"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "run_bot.py",
        "sandbox",
        cwd=PROJECT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    text = stderr.decode()
    assert "port déjà pris" in text and f"SANDBOX_PORT={taken_port + 1}" in text
    assert "Errno" not in text and "Traceback" not in text
