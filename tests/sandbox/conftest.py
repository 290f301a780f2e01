"""The whole sandbox (page, local Bot API server, SMTP catcher, real bot, demo accounts) running
in the test's event loop, on a free port, with a temporary database and cheap argon2id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio

from bot.cli import quiet_noisy_loggers
from bot.sandbox.run import Sandbox

from sandbox_client import SandboxClient, sandbox_test_settings


@pytest_asyncio.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    """A running sandbox; ``sandbox.url`` is the page."""
    quiet_noisy_loggers()
    box = Sandbox(sandbox_test_settings(tmp_path), poll_timeout=1)
    await box.start()
    yield box
    await box.stop()


@pytest_asyncio.fixture
async def api(sandbox: Sandbox) -> AsyncIterator[SandboxClient]:
    """The page's JSON API over HTTP."""
    async with httpx.AsyncClient(base_url=sandbox.server.root_url, timeout=10) as http:
        yield SandboxClient(http)
