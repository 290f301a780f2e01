"""The web channel in the services' life cycle: served when WEB_PORT is set, stopped by
close(); a production start serves the closed engine, never the demo; settings checked."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from bot.school import load_school_config
from bot.services import BotServices
from bot.settings import Settings
from bot.texts import web as texts
from bot.web.demo import DemoEngine

from support import CHEAP_ARGON2, DATA


def settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_path=tmp_path / "bot.sqlite3",
        server_secret_file=tmp_path / "server.key",
        school_config=DATA / "school.toml",
        **CHEAP_ARGON2,
        **extra,  # type: ignore[arg-type]
    )


async def test_web_port_serves_the_channel_until_close(tmp_path: Path) -> None:
    services = BotServices(
        settings=settings(
            tmp_path, web_port=0, web_allowed_origins="https://lycees.ent-region.example.org"
        ),
        school=load_school_config(DATA / "school.toml"),
    )
    await services.open()
    await services.start_web()
    assert services.web is not None
    base = f"http://127.0.0.1:{services.web.port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            opened = await http.post("/web/api/conversations", json={}, headers={"Origin": base})
            assert opened.status_code == 200
            messages = opened.json()["messages"]
            assert [m["text"] for m in messages] == [texts.CLOSED]  # not the demo
            bound = services.web.channel.bound
            assert bound is not None and not isinstance(bound.engine, DemoEngine)
            csp = opened.headers["content-security-policy"]
            assert "frame-ancestors 'self' https://lycees.ent-region.example.org" in csp
    finally:
        await services.close()
    assert services.web is None
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=base, timeout=2) as http:
            await http.get("/web/panel")


async def test_no_allowed_origin_is_told_to_the_operator(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    services = BotServices(
        settings=settings(tmp_path, web_port=0), school=load_school_config(DATA / "school.toml")
    )
    await services.open()
    try:
        await services.start_web()
    finally:
        await services.close()
    assert texts.NO_ALLOWED_ORIGINS in caplog.text


def test_allowed_origins_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="WEB_ALLOWED_ORIGINS"):
        settings(tmp_path, web_allowed_origins="lycees.ent-region.example.org")
    ok = settings(tmp_path, web_allowed_origins="https://a.fr, https://b.fr:8443")
    assert ok.web_port is None  # off unless set
