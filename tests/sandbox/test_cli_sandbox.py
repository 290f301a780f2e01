"""``python run_bot.py`` with no token: the sandbox starts and says where to open it."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot import texts
from bot.sandbox.run import is_loopback_host, local_url, run_sandbox
from bot.settings import PROJECT_ROOT

from sandbox_client import sandbox_test_settings
from support import CHEAP_ARGON2


def start_run_bot(tmp_path: Path, **extra: str) -> subprocess.Popen[str]:
    """``python run_bot.py`` with no token, from ``tmp_path``, with ``extra`` variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "SANDBOX_", "SMTP_", "DATABASE_"))
    }
    env.update({key.upper(): str(value) for key, value in CHEAP_ARGON2.items()})
    env.update({"SANDBOX_PORT": "0", "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"})
    env["ENT_BOT_HOME"] = str(tmp_path)  # the home: no .env read, data/ goes there
    env.update(extra)
    return subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "run_bot.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_banner(process: subprocess.Popen[str]) -> str:
    """stdout up to the banner's last line."""
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if "Ctrl+C" in line:
            break
    return "".join(lines)


def test_run_bot_without_token_starts_the_sandbox(tmp_path: Path) -> None:
    process = start_run_bot(tmp_path)
    try:
        banner = read_banner(process)
        found = re.search(r"Ouvrez dans votre navigateur : (http://127\.0\.0\.1:\d+)/", banner)
        assert found, banner
        assert "lea.demo" in banner and "Demo-Lea-2026" in banner
        page = httpx.get(found.group(1) + "/", timeout=10)
        assert page.status_code == 200 and "Boîte mail" in page.text
        assert (tmp_path / "data" / "sandbox.sqlite3").exists()
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "data" / "sandbox.sqlite3").stat().st_mode) == 0o600
        assert not (tmp_path / "data" / "ent-bot.sqlite3").exists()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert texts.SANDBOX_STOPPED in out
    assert "production" not in err  # on the loopback address, no warning


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "sandbox.example.org"])
async def test_a_remote_address_is_refused_unless_confirmed(
    tmp_path: Path, host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = sandbox_test_settings(tmp_path).model_copy(update={"sandbox_host": host})
    assert await run_sandbox(settings) == 2
    err = capsys.readouterr().err
    assert "SANDBOX_ALLOW_REMOTE=1" in err and "pas fait pour la production" in err
    assert not settings.sandbox_database_path.exists()  # refused before anything started


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost", "LocalHost"])
def test_loopback_addresses_need_no_confirmation(host: str) -> None:
    assert is_loopback_host(host)


def test_a_confirmed_remote_address_starts_with_a_warning(tmp_path: Path) -> None:
    process = start_run_bot(tmp_path, SANDBOX_HOST="0.0.0.0", SANDBOX_ALLOW_REMOTE="1")
    try:
        banner = read_banner(process)
        found = re.search(r"Ouvrez dans votre navigateur : (http://127\.0\.0\.1:\d+)/", banner)
        assert found, banner
        assert httpx.get(found.group(1) + "/", timeout=10).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "pas fait pour la production" in err and "0.0.0.0" in err


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
