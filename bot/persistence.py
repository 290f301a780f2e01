"""Gives ConversationHandler back the steps saved in SQLite when the bot starts.

The services save each step before the bot answers (python-telegram-bot's own persistence only
writes every few seconds, which a killed process would lose), so this adapter only reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

StepsLoader = Callable[[str], Awaitable[dict[tuple[int, int], str]]]


class SessionStepsPersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Read-only persistence of conversation states; user, chat and bot data are not kept."""

    def __init__(self, load_steps: StepsLoader) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=False, callback_data=False
            ),
            update_interval=3600,
        )
        self._load_steps = load_steps

    async def get_conversations(self, name: str) -> ConversationDict:
        """States of conversation ``name``, keyed by (chat id, user id)."""
        return dict(await self._load_steps(name))

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Nothing to do: the services wrote the step already."""

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        """Not kept."""
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        """Not kept."""
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        """Not kept."""
        return {}

    async def get_callback_data(self) -> None:
        """Not kept."""
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """Not kept."""

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Not kept."""

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """Not kept."""

    async def update_callback_data(self, data: Any) -> None:
        """Not kept."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Not kept."""

    async def drop_user_data(self, user_id: int) -> None:
        """Not kept."""

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Not kept."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Not kept."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Not kept."""

    async def flush(self) -> None:
        """Nothing buffered."""
