"""The one parser of button data: ``prefix:arg:nonce`` (see :func:`conversations.common.button`).

Callback data comes from the user's client and may be forged: anything that is not exactly
three non-empty parts, or whose numbers are not plain ASCII digits, is refused here (``None``)
rather than in each handler. Python's ``str.isdigit`` accepts « ① » or « ٣ », which ``int``
refuses, so numbers are read by :func:`small_int` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.procedures.view import small_int as small_int

_PART = re.compile(r"[A-Za-z0-9_.\-]{1,40}")
# Telegram's limit on callback data (bytes); longer data is forged.
MAX_DATA_LENGTH = 64


@dataclass(frozen=True)
class ButtonData:
    """A parsed button: what it is (``prefix``), its argument, and the nonce of its prompt."""

    prefix: str
    arg: str
    nonce: str

    @property
    def action(self) -> str:
        """The argument before its optional ``.number`` (``show.42`` → ``show``)."""
        return self.arg.partition(".")[0]

    @property
    def number(self) -> int | None:
        """The number after the action (``show.42`` → 42); None if absent or malformed."""
        _, dot, rest = self.arg.partition(".")
        return small_int(rest) if dot else None


def parse_button(data: str | None, prefix: str | None = None) -> ButtonData | None:
    """``prefix:arg:nonce`` as a :class:`ButtonData`; None if the data has another shape (or
    another prefix than ``prefix``, when given)."""
    if not data or len(data) > MAX_DATA_LENGTH:
        return None
    parts = data.split(":")
    if len(parts) != 3 or not all(_PART.fullmatch(part) for part in parts):
        return None
    if prefix is not None and parts[0] != prefix:
        return None
    return ButtonData(*parts)


def button_data(prefix: str, action: str, nonce: str, number: int | None = None) -> str:
    """The callback data of a button (``prefix:action[.number]:nonce``)."""
    arg = action if number is None else f"{action}.{number}"
    return f"{prefix}:{arg}:{nonce}"
