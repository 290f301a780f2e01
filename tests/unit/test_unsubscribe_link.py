"""The unsubscribe endpoint (bot/broadcast/unsubscribe.py) over real HTTP: an unknown row, a
malformed row or token (non-ASCII included) and a wrong token on an existing row all get the
same 200 page, with no traceback; only the right link opts out (issue 29.8: no existence
oracle, no 500)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import quote

import aiohttp
import pytest
import pytest_asyncio

from bot.broadcast.email import unsubscribe_token
from bot.broadcast.unsubscribe import UnsubscribeServer
from bot.security import KeyedHasher
from storage.broadcasts import BroadcastRepository, Channel

ADDRESS = "Parent.Petit@Example.org"


class Ledger:
    """The two calls the endpoint makes, on one e-mail row (number 7)."""

    def __init__(self) -> None:
        self.opted_out: list[tuple[Channel, str]] = []

    async def email_of_delivery(self, delivery_id: int) -> str | None:
        return ADDRESS if delivery_id == 7 else None

    async def opt_out(self, channel: Channel, recipient: str, now: datetime) -> None:
        self.opted_out.append((channel, recipient))


@pytest_asyncio.fixture
async def endpoint() -> AsyncIterator[tuple[str, Ledger, KeyedHasher]]:
    ledger = Ledger()
    keyed = KeyedHasher(bytes(range(32)))
    repository: BroadcastRepository = ledger  # type: ignore[assignment]
    server = UnsubscribeServer(repository, keyed, lambda: datetime(2026, 12, 1, tzinfo=UTC))
    await server.start("127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.port}/desinscription", ledger, keyed
    await server.stop()


async def test_every_wrong_link_answers_alike_and_only_the_right_one_opts_out(
    endpoint: tuple[str, Ledger, KeyedHasher], caplog: pytest.LogCaptureFixture
) -> None:
    base, ledger, keyed = endpoint
    caplog.set_level(logging.INFO)
    good = unsubscribe_token(keyed, 7, ADDRESS)
    wrong = [
        f"7/{'0' * 32}",  # existing row, wrong token
        f"7/{quote('é' * 32)}",  # existing row, non-ASCII token
        f"7/{quote('é')}{good[1:]}",
        f"8/{good}",  # unknown row
        f"8/{quote('é' * 32)}",
        f"{quote('٧')}/{good}",  # a non-ASCII digit
        f"x/{good}",
        f"{'9' * 30}/{good}",
        f"7/{good * 3}",
    ]
    form = {"List-Unsubscribe": "One-Click"}
    async with aiohttp.ClientSession() as session:
        pages = set()
        for link in wrong:
            async with session.post(f"{base}/{link}", data=form) as response:
                assert response.status == 200, link
                pages.add(await response.text())
            async with session.get(f"{base}/{link}") as response:
                assert response.status == 200, link
        assert ledger.opted_out == []
        async with session.post(f"{base}/7/{good}", data=form) as response:
            assert response.status == 200
            pages.add(await response.text())
    assert len(pages) == 1  # the right link's page is the wrong links' page
    assert ledger.opted_out == [(Channel.EMAIL, ADDRESS.lower())]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_taken_port_is_a_start_up_refusal_in_french() -> None:
    import socket

    from bot.ops.startup import StartupRefused

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = int(other.getsockname()[1])
        keyed = KeyedHasher(bytes(range(32)))
        repository: BroadcastRepository = Ledger()  # type: ignore[assignment]
        server = UnsubscribeServer(repository, keyed, lambda: datetime(2026, 12, 1, tzinfo=UTC))
        with pytest.raises(StartupRefused) as refused:
            await server.start("127.0.0.1", port)
    assert "port déjà pris" in str(refused.value) and "BROADCAST_UNSUBSCRIBE_PORT" in str(
        refused.value
    )
