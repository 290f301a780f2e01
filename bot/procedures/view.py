"""What a person sees at a step, as plain data any channel can render: a leaf module.

A procedure says what to show (:class:`Prompt`: a text, rows of choices, the kind of input the
step takes); a channel decides how. Telegram renders a prompt as a message with an inline
keyboard whose buttons carry the prompt's nonce (``conversations.common.render``); a web chat
or an e-mail would render the same data its own way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class InputKind(StrEnum):
    """What a step waits for."""

    # Free text, kept (an address).
    TEXT = "text"
    # Typed, then deleted at once and never kept in clear (a password, an answer, an
    # identifier that could be a password typed by mistake).
    SECRET = "secret"
    # A choice among the prompt's buttons only.
    CHOICE = "choice"
    # The link of an e-mail, or its code typed (a secret).
    EMAIL_LINK = "email_link"
    # Nothing: the step only informs.
    NONE = "none"

    @property
    def secret(self) -> bool:
        """Whether what is typed at such a step is read as a secret (and deleted)."""
        return self in (InputKind.SECRET, InputKind.EMAIL_LINK)


class Choice(NamedTuple):
    """A choice offered: its label and its action (``prefix:arg``, what the channel sends back
    when it is chosen; Telegram adds the prompt's nonce)."""

    label: str
    action: str


class LinkChoice(NamedTuple):
    """A choice that opens an address (the ENT) instead of answering the step."""

    label: str
    url: str


Row = tuple[Choice | LinkChoice, ...]


@dataclass(frozen=True)
class Prompt:
    """One message of a step: its text (HTML), its choices (one row a line) and the input the
    step takes."""

    text: str
    rows: tuple[Row, ...] = ()
    input: InputKind = InputKind.NONE

    def with_intro(self, intro: str) -> Prompt:
        """The same prompt after ``intro`` (what the last input did)."""
        return Prompt(intro + self.text, self.rows, self.input)


def rows_of(*actions: tuple[str, str]) -> tuple[Row, ...]:
    """One :class:`Choice` a row, from ``(label, action)`` pairs (long French labels on a phone)."""
    return tuple((Choice(label, action),) for label, action in actions)


_NUMBER = re.compile(r"[0-9]{1,18}")


def small_int(text: str) -> int | None:
    """A non-negative number written in ASCII digits (at most 18), else None: an action's
    argument comes from the person's client and may be forged (``str.isdigit`` accepts « ① »,
    which ``int`` refuses)."""
    return int(text) if _NUMBER.fullmatch(text) else None
