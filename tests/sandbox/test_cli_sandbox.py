"""``python run_bot.py`` with no token: the sandbox starts and says where to open it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from bot import texts
from bot.sandbox.run import local_url, run_sandbox
from bot.settings import PROJECT_ROOT

from sandbox_client import sandbox_test_settings
from support import CHEAP_ARGON2


def test_run_bot_without_token_starts_the_sandbox(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "SANDBOX_", "SMTP_", "DATABASE_"))
    }
    env.update({key.upper(): str(value) for key, value in CHEAP_ARGON2.items()})
    env.update({"SANDBOX_PORT": "0", "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"})
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "run_bot.py")],
        cwd=tmp_path,  # no .env here; the sandbox database goes to tmp_path/data
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        for line in process.stdout:
            lines.append(line)
            if "Ctrl+C" in line:
                break
        banner = "".join(lines)
        found = re.search(r"Ouvrez dans votre navigateur : (http://127\.0\.0\.1:\d+)/", banner)
        assert found, banner
        assert "lea.demo" in banner and "Demo-Lea-2026" in banner
        page = httpx.get(found.group(1) + "/", timeout=10)
        assert page.status_code == 200 and "Boîte mail" in page.text
        assert (tmp_path / "data" / "sandbox.sqlite3").exists()
        assert not (tmp_path / "data" / "ent-bot.sqlite3").exists()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert texts.SANDBOX_STOPPED in out


async def test_a_taken_port_gets_a_clear_message(tmp_path: Path, capsys) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        settings = sandbox_test_settings(tmp_path).model_copy(update={"sandbox_port": port})
        assert await run_sandbox(settings) == 2
    assert f"SANDBOX_PORT={port + 1}" in capsys.readouterr().err


def test_local_url_reaches_wildcard_addresses() -> None:
    assert local_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert local_url("::", 8080) == "http://[::1]:8080"
    assert local_url("192.0.2.7", 81) == "http://192.0.2.7:81"
