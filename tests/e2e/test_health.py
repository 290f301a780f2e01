"""``GET /healthz`` on the operations port (issue 16), against the real Application, the local
Bot API server, a real SMTP server and a real SQLite file: 200 with the figures when all is
well, 503 naming the database when it cannot be written, the Bot API when it fails."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from pydantic import SecretStr

from bot.ops import health
from bot.sandbox.bot_api_server import Fault, LocalBotApi
from bot.sandbox.mailbox import Mailbox

from chat import Chat
from conftest import BotHarness, harness_settings
from ldap_server import PEOPLE, SERVICE_DN, SERVICE_PASSWORD, LdapServer
from support import MutableClock
from test_kill_restart import PROJECT


@pytest_asyncio.fixture
async def ops_harness(
    tmp_path: Path,
    bot_api: LocalBotApi,
    mailbox: Mailbox,
    clock: MutableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[BotHarness]:
    """A running bot with its operations port on a free port; checks give up after 0.5 s. The
    broadcast worker writes once at start, then sleeps (its rhythm is not under test here)."""
    monkeypatch.setattr(health, "CHECK_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(health, "BOT_API_CACHE_SECONDS", 0.0)  # each probe sees the fault now
    quiet = {"broadcast_poll_seconds": 3600, "broadcast_heartbeat_seconds": 3600}
    settings = harness_settings(tmp_path, bot_api, mailbox.port).model_copy(
        update={"ops_port": 0, "reminder_scan_seconds": 3600, **quiet}
    )
    harness = BotHarness(bot_api, settings, clock, mailbox, tmp_path)
    await harness.import_accounts()
    await harness.start()
    yield harness
    bot_api.clear_faults()
    await harness.stop()


def dockerfile_health_check() -> str:
    """The Python code of the Dockerfile's ``HEALTHCHECK … CMD ["python", "-c", CODE]``."""
    text = (PROJECT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])$", text, re.MULTILINE)
    assert match, "no HEALTHCHECK in the Dockerfile"
    words = json.loads(match.group(1))
    assert words[:2] == ["python", "-c"]
    return str(words[2])


async def healthz(harness: BotHarness) -> tuple[int, dict[str, Any]]:
    assert harness.app is not None
    server: health.HealthServer = harness.app.bot_data[health.HEALTH_KEY]
    url = f"http://127.0.0.1:{server.port}/healthz"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def test_healthy_bot_answers_200_with_its_figures(ops_harness: BotHarness) -> None:
    status, body = await healthz(ops_harness)
    assert status == 200 and body["status"] == "ok" and body["failing"] == []
    assert all(check["ok"] for check in body["checks"].values())
    assert set(body["checks"]) == {"database", "bot_api", "directory"}
    assert body["last_update_seconds_ago"] is None  # nothing received yet
    assert body["outbox"]["pending"] == 0 and body["outbox"]["oldest_pending_seconds_ago"] is None
    await Chat(ops_harness, 5101).say("/start")
    ops_harness.clock.advance(seconds=30)
    _, body = await healthz(ops_harness)
    assert body["last_update_seconds_ago"] == 30


async def test_read_only_database_answers_503_naming_it(ops_harness: BotHarness) -> None:
    assert (await healthz(ops_harness))[0] == 200  # started, its first writes done
    connection = ops_harness.services.database.connection
    # SQLite refuses every write on this connection, as on a file system remounted read-only.
    await connection.execute("PRAGMA query_only = ON")
    try:
        status, body = await healthz(ops_harness)
    finally:
        await connection.execute("PRAGMA query_only = OFF")
    assert status == 503 and body["failing"] == ["database"]
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    status, _ = await healthz(ops_harness)
    assert status == 200


async def test_bot_api_down_answers_503_naming_it(
    ops_harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    ops_harness.server.inject(Fault("server_error", times=None))
    status, body = await healthz(ops_harness)
    assert status == 503 and body["failing"] == ["bot_api"]
    assert body["checks"]["bot_api"]["ok"] is False
    for _ in range(5):  # a probe polling all the while: one warning, not one a probe
        assert (await healthz(ops_harness))[0] == 503
    warnings = [r for r in caplog.records if r.name == "bot.ops.health"]
    assert [r.getMessage() for r in warnings] == ["health: failing bot_api"]
    ops_harness.server.clear_faults()
    status, _ = await healthz(ops_harness)
    assert status == 200


async def test_directory_check_follows_a_real_slapd(
    tmp_path: Path,
    bot_api: LocalBotApi,
    mailbox: Mailbox,
    clock: MutableClock,
    monkeypatch: pytest.MonkeyPatch,
    ldap_server: LdapServer,  # skips, saying why, without slapd or python-ldap
) -> None:
    """With DIRECTORY=ldap the directory check binds as the service account: 200 while slapd
    runs, 503 naming the directory once it is stopped, 200 again when it is back."""
    monkeypatch.setattr(health, "CHECK_TIMEOUT_SECONDS", 2.0)
    settings = harness_settings(tmp_path, bot_api, mailbox.port).model_copy(
        update={
            "ops_port": 0,
            "broadcast_poll_seconds": 3600,
            "broadcast_heartbeat_seconds": 3600,
            "reminder_scan_seconds": 3600,
            "directory": "ldap",
            "ldap_url": ldap_server.url,
            "ldap_bind_dn": SERVICE_DN,
            "ldap_bind_password": SecretStr(SERVICE_PASSWORD),
            "ldap_user_base": PEOPLE,
            "ldap_timeout_seconds": 1.0,
        }
    )
    harness = BotHarness(bot_api, settings, clock, mailbox, tmp_path)
    await harness.start()
    try:
        status, body = await healthz(harness)
        assert status == 200 and body["checks"]["directory"] == {"ok": True, "error": None}
        ldap_server.stop_for_now()
        status, body = await healthz(harness)
        assert status == 503 and body["failing"] == ["directory"]
        assert body["checks"]["directory"]["ok"] is False
        assert body["checks"]["directory"]["error"] in ("DirectoryUnavailable", "TimeoutError")
        ldap_server.resume()
        status, _ = await healthz(harness)
        assert status == 200
    finally:
        await harness.stop()


async def test_get_me_is_called_once_for_a_burst_of_probes(
    ops_harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50 probes, 10 at a time, within the cache's few seconds: one getMe at Telegram; the
    next once the cache is stale."""
    monkeypatch.setattr(health, "BOT_API_CACHE_SECONDS", 5.0)
    assert ops_harness.app is not None
    server: health.HealthServer = ops_harness.app.bot_data[health.HEALTH_KEY]
    now = [100.0]
    server.monotonic = lambda: now[0]
    before = len(ops_harness.server.events_of(method="getMe"))
    for _ in range(5):
        answers = await asyncio.gather(*(healthz(ops_harness) for _ in range(10)))
        assert all(status == 200 for status, _ in answers)
        now[0] += 0.5
    assert len(ops_harness.server.events_of(method="getMe")) == before + 1
    now[0] += 5
    assert (await healthz(ops_harness))[0] == 200
    assert len(ops_harness.server.events_of(method="getMe")) == before + 2


async def test_no_operations_port_unless_set(harness: BotHarness) -> None:
    assert harness.app is not None and health.HEALTH_KEY not in harness.app.bot_data


async def test_the_dockerfile_health_check_follows_healthz(ops_harness: BotHarness) -> None:
    """The container's HEALTHCHECK one-liner, run as Docker would (exit 0 healthy, else not)
    against the real operations port."""
    assert ops_harness.app is not None
    server: health.HealthServer = ops_harness.app.bot_data[health.HEALTH_KEY]
    env = {**os.environ, "OPS_PORT": str(server.port)}

    async def check() -> int:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            dockerfile_health_check(),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return await asyncio.wait_for(process.wait(), 30)

    assert await check() == 0
    ops_harness.server.inject(Fault("server_error", times=None))
    assert await check() != 0
    ops_harness.server.clear_faults()
    assert await check() == 0
