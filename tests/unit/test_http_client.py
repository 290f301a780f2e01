"""The Bot API client (``AiohttpRequest``) against a real aiohttp server on 127.0.0.1: what it
sends (form parameters, multipart files, its User-Agent), and Telegram's errors as
python-telegram-bot raises them with its own client (``TimedOut``, ``NetworkError``)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.app import build_application
from bot.settings import Settings
from bot.telegram_api.http import AiohttpRequest

from support import CHEAP_ARGON2, DATA

TOKEN = "123:abc"


class FakeTelegram:
    """A few Bot API methods; what each call carried is kept."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.delay = 0.0
        self.release = asyncio.Event()
        self.hanging = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call: dict[str, Any] = {
            "method": method,
            "agent": request.headers.get("User-Agent", ""),
            "type": request.content_type,
        }
        form = await request.post()
        for key, value in form.items():
            call[key] = value.file.read() if isinstance(value, web.FileField) else value
            if isinstance(value, web.FileField):
                call[f"{key}.filename"] = value.filename
                call[f"{key}.type"] = value.content_type
        self.calls.append(call)
        if method == "hang":
            self.hanging.set()
            await self.release.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response({"ok": True, "result": True})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/bot{TOKEN}"

    async def stop(self) -> None:
        self.release.set()
        if self.runner is not None:
            await self.runner.cleanup()


@pytest_asyncio.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture
async def client() -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(4, read_timeout=2.0, pool_timeout=0.2)
    await request.initialize()
    yield request
    await request.shutdown()


def data(**values: Any) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in values.items()])


async def test_parameters_are_form_encoded_with_the_user_agent(
    telegram: FakeTelegram, client: AiohttpRequest
) -> None:
    answer = await client.post(
        f"{telegram.url}/sendMessage", data(chat_id=42, text="Étape 1 : « J'accepte » & co")
    )
    assert answer is True
    (call,) = telegram.calls
    assert call["type"] == "application/x-www-form-urlencoded"
    assert call["chat_id"] == "42" and call["text"] == "Étape 1 : « J'accepte » & co"
    assert call["agent"] == BaseRequest.USER_AGENT


async def test_a_file_goes_as_multipart_with_its_name_and_type(
    telegram: FakeTelegram, client: AiohttpRequest
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    parameters = data(chat_id=7, caption="Entonnoir", photo=InputFile(png, filename="f.png"))
    await client.post(f"{telegram.url}/sendPhoto", parameters)
    (call,) = telegram.calls
    assert call["type"] == "multipart/form-data"
    assert call["photo"] == png and call["photo.filename"] == "f.png"
    assert call["photo.type"] == "image/png"
    assert call["chat_id"] == "7" and call["caption"] == "Entonnoir"


async def test_a_slow_answer_is_timed_out(telegram: FakeTelegram, client: AiohttpRequest) -> None:
    telegram.delay = 1.0
    with pytest.raises(TimedOut):
        await client.post(f"{telegram.url}/getMe", read_timeout=0.1)
    telegram.delay = 0.0


async def test_a_call_gives_its_own_longer_read_timeout(
    telegram: FakeTelegram, client: AiohttpRequest
) -> None:
    """``getUpdates`` waits longer than the default read timeout (PTB adds the poll's)."""
    quick = AiohttpRequest(1, read_timeout=0.05)
    await quick.initialize()
    telegram.delay = 0.2
    try:
        assert await quick.post(f"{telegram.url}/getUpdates", read_timeout=2.0) is True
        with pytest.raises(TimedOut):
            await quick.post(f"{telegram.url}/getUpdates")
    finally:
        telegram.delay = 0.0
        await quick.shutdown()


async def test_a_full_pool_is_a_timeout_that_says_so(telegram: FakeTelegram) -> None:
    request = AiohttpRequest(1, read_timeout=5.0, pool_timeout=0.1)
    await request.initialize()
    try:
        hanging = asyncio.create_task(request.post(f"{telegram.url}/hang"))
        await telegram.hanging.wait()
        with pytest.raises(TimedOut, match="not sent"):
            await request.post(f"{telegram.url}/getMe")
        telegram.release.set()
        assert await hanging is True
    finally:
        await request.shutdown()


async def test_no_server_is_a_network_error(client: AiohttpRequest) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NetworkError) as raised:
        await client.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    assert not isinstance(raised.value, TimedOut)


async def test_shut_down_then_initialised_again(telegram: FakeTelegram) -> None:
    request = AiohttpRequest(2)
    with pytest.raises(NetworkError, match="not initialized"):  # PTB wraps the RuntimeError
        await request.post(f"{telegram.url}/getMe")
    await request.initialize()
    await request.shutdown()
    await request.shutdown()  # twice is fine
    await request.initialize()
    assert await request.post(f"{telegram.url}/getMe") is True
    await request.shutdown()


@pytest.mark.parametrize("name", ["aiohttp", "httpx"])
def test_the_setting_chooses_the_client(name: str, tmp_path: Any) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,
        telegram_http_client=name,
        telegram_connection_pool_size=12,
        database_path=tmp_path / "bot.sqlite3",
        server_secret_file=tmp_path / "server.key",
        school_config=DATA / "school.toml",
        **CHEAP_ARGON2,
    )
    bot = build_application(settings).bot
    kind = "AiohttpRequest" if name == "aiohttp" else "HTTPXRequest"
    assert type(bot.request).__name__ == kind
    assert bot.request.read_timeout == settings.telegram_timeout_seconds


async def test_the_proxy_of_the_environment_is_used(
    telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A school behind a proxy sets ``HTTPS_PROXY`` (here ``HTTP_PROXY``: the test is plain
    HTTP), as httpx honoured it: the call goes through the proxy, to the same URL."""
    seen: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(str(request.url))
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    request = AiohttpRequest(1)
    await request.initialize()
    try:
        assert await request.post("http://telegram.invalid/bot123:abc/getMe") is True
    finally:
        await request.shutdown()
        await runner.cleanup()
    assert seen == ["http://telegram.invalid/bot123:abc/getMe"]


async def test_an_error_quoting_the_url_never_shows_the_token(client: AiohttpRequest) -> None:
    """Some aiohttp errors quote the URL, which holds the token: the error PTB gets (and a log
    may print) has it blanked."""
    token = "123456789:AAE2eTheSecretPartOfTheTokenXYZ"
    with pytest.raises(NetworkError) as raised:
        await client.post(f"http://exa mple.invalid:99999/bot{token}/getMe")
    assert "AAE2eTheSecretPartOfTheTokenXYZ" not in str(raised.value)
