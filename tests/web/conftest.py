"""A web channel bound to a real migrated database and the demo engine, served by aiohttp's
test server (a free port on the loopback)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.security import KeyedHasher
from bot.web.demo import DemoEngine
from bot.web.server import PREFIX, Bound, WebChannel, WebConfig
from storage.db import Database
from storage.web import WebRepository

ENT = "https://lycees.ent-region.example.org"


@pytest_asyncio.fixture
async def channel(database: Database, keyed: KeyedHasher) -> WebChannel:
    """The channel, bound (the ENT origin allowed; a short long poll)."""
    web_channel = WebChannel(WebConfig(allowed_origins=(ENT,), poll_seconds=1.0))
    web_channel.bind(Bound(WebRepository(database), keyed, DemoEngine(), _now))
    return web_channel


def _now() -> datetime:
    return datetime.now(UTC)


@pytest_asyncio.fixture
async def client(channel: WebChannel) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """An HTTP client of the channel mounted at /web."""
    root = web.Application()
    root.add_subapp(PREFIX, channel.app)
    async with TestClient(TestServer(root)) as test_client:
        yield test_client
