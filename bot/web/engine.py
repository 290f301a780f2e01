"""What the web adapter asks of a conversation engine, transport-neutral and plain data.

The adapter (:mod:`bot.web.server`) turns HTTP requests into these calls and stores what they
return in the conversation's outbound log; the engine never sees HTTP, the adapter never knows
a procedure. Step 2 of issue 24 binds this protocol to the channel-neutral procedures of
issue 23 (their ``Prompt``/``Choice`` map one to one onto :class:`WebPrompt`/:class:`WebChoice`);
until then :class:`bot.web.demo.DemoEngine` stands in for tests and the sandbox, and
:class:`ClosedEngine` is what a production start serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from bot.texts import web as texts


class InputKind(StrEnum):
    """What the person is expected to give next."""

    TEXT = "text"
    SECRET = "secret"
    CHOICE = "choice"
    NONE = "none"


class Autocomplete(StrEnum):
    """The ``autocomplete`` hint of the input (what password managers read)."""

    USERNAME = "username"
    NEW_PASSWORD = "new-password"
    CURRENT_PASSWORD = "current-password"
    NONE = "off"


@dataclass(frozen=True)
class WebChoice:
    """One button: what it says and the action sent back when pressed."""

    label: str
    action: str


@dataclass(frozen=True)
class WebPrompt:
    """One message of the bot: its text, rows of choices, and the input it waits for."""

    text: str
    rows: tuple[tuple[WebChoice, ...], ...] = ()
    input: InputKind = InputKind.TEXT
    autocomplete: Autocomplete = Autocomplete.NONE

    def to_json(self) -> dict[str, Any]:
        """The stored and served form (no secret ever reaches a prompt)."""
        return {
            "text": self.text,
            "rows": [[{"label": c.label, "action": c.action} for c in row] for row in self.rows],
            "input": self.input.value,
            "autocomplete": self.autocomplete.value,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WebPrompt:
        """Inverse of :meth:`to_json`."""
        return cls(
            text=str(data.get("text", "")),
            rows=tuple(
                tuple(WebChoice(str(c["label"]), str(c["action"])) for c in row)
                for row in data.get("rows", [])
            ),
            input=InputKind(data.get("input", InputKind.TEXT)),
            autocomplete=Autocomplete(data.get("autocomplete", Autocomplete.NONE)),
        )


@dataclass
class WebConversation:
    """One web conversation as the engine sees it: ``address`` is the person's channel-neutral
    address (``web:<row>``), stable across reloads; ``state`` the engine's own small data,
    stored with the conversation (never a secret)."""

    row: int
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> str:
        """The person's address on the web channel."""
        return f"web:{self.row}"


class WebEngine(Protocol):
    """What a conversation engine answers; every call returns the bot's next messages."""

    async def open(self, conversation: WebConversation) -> list[WebPrompt]:
        """A new conversation: the greeting and the first step."""
        ...

    async def text(self, conversation: WebConversation, text: str) -> list[WebPrompt]:
        """The person typed ``text`` (free text, never a secret)."""
        ...

    async def secret(self, conversation: WebConversation, value: str) -> list[WebPrompt]:
        """The person typed a secret in a password field: use it, never keep or echo it."""
        ...

    async def choose(self, conversation: WebConversation, action: str) -> list[WebPrompt]:
        """The person pressed a choice of the current prompt (the adapter checked its nonce)."""
        ...


class ClosedEngine:
    """What a production start serves until step 2 binds the procedures: one kind sentence
    saying the web assistant is not open yet, and nothing else (never the demo)."""

    async def open(self, conversation: WebConversation) -> list[WebPrompt]:
        return [WebPrompt(texts.CLOSED, input=InputKind.NONE)]

    async def text(self, conversation: WebConversation, text: str) -> list[WebPrompt]:
        return await self.open(conversation)

    async def secret(self, conversation: WebConversation, value: str) -> list[WebPrompt]:
        return await self.open(conversation)

    async def choose(self, conversation: WebConversation, action: str) -> list[WebPrompt]:
        return await self.open(conversation)
