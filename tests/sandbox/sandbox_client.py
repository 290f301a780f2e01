"""The sandbox page's JSON API, as the tests call it over HTTP, and the sandbox's test settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bot.settings import PROJECT_ROOT, Settings

from support import CHEAP_ARGON2


def sandbox_test_settings(tmp_path: Path) -> Settings:
    """No .env read, the shipped example school, a temporary sandbox database."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_path=tmp_path / "production-must-stay-untouched.sqlite3",
        sandbox_database_path=tmp_path / "sandbox" / "sandbox.sqlite3",
        sandbox_host="127.0.0.1",
        sandbox_port=0,
        school_config=PROJECT_ROOT / "config" / "school.example.toml",
        **CHEAP_ARGON2,
    )


class SandboxClient:
    """``/sandbox/api/`` over real HTTP."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def state(self) -> dict[str, Any]:
        response = await self.http.get("/sandbox/api/state")
        assert response.status_code == 200
        return response.json()

    async def send(self, user_id: int, text: str) -> httpx.Response:
        return await self.http.post(f"/sandbox/api/users/{user_id}/messages", json={"text": text})

    async def press(self, user_id: int, message_id: int, data: str) -> httpx.Response:
        return await self.http.post(
            f"/sandbox/api/users/{user_id}/press", json={"message_id": message_id, "data": data}
        )

    async def wait(
        self, ready: Callable[[dict[str, Any]], Any], timeout: float = 10
    ) -> dict[str, Any]:
        """Poll the state until ``ready(state)`` is true; return that state."""
        async with asyncio.timeout(timeout):
            while True:
                state = await self.state()
                if ready(state):
                    return state
                await asyncio.sleep(0.02)

    @staticmethod
    def messages(state: dict[str, Any], user_id: int) -> list[dict[str, Any]]:
        return next(u["messages"] for u in state["users"] if u["id"] == user_id)

    @classmethod
    def last_bot(cls, state: dict[str, Any], user_id: int) -> dict[str, Any] | None:
        bot = [m for m in cls.messages(state, user_id) if m["from_bot"]]
        return bot[-1] if bot else None

    @classmethod
    def bot_says(cls, state: dict[str, Any], user_id: int, fragment: str) -> bool:
        last = cls.last_bot(state, user_id)
        return last is not None and fragment in last["text"]

    @staticmethod
    def button(message: dict[str, Any], fragment: str) -> str:
        """Callback data of the button whose label contains ``fragment``."""
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if fragment in button["text"] and "callback_data" in button:
                    return str(button["callback_data"])
        raise AssertionError(f"no button {fragment!r} in {message}")
