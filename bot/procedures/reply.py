"""What a step did, said as plain data (:class:`Reply`), and the small interface every channel
uses to drive a procedure (:class:`StepService`): a typed text, a chosen action. A channel
reads the input its own way (Telegram deletes a secret message), calls the service, and says
the reply its own way; the procedure decides the words (``bot/texts``) and the next step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.procedures.kernel import Steps
from bot.procedures.view import Row
from storage.sessions import ConversationSession


@dataclass(frozen=True)
class Via:
    """The channel the person is on, as far as a procedure needs it (links in its e-mails)."""

    bot_username: str


@dataclass(frozen=True)
class Reply:
    """What to say after an input, in order: ``say`` (a message on its own, with ``say_rows``),
    then either the procedure is over (``done``), or another one begins (``begin``: its name
    and step), or the step stays with ``refusal`` (with ``rows``, else none; ``fitting``: a
    thank-you or a question typed gets a word that fits it instead), or the step's prompt is
    shown after ``intro`` (unless ``show`` is False: the step stays, its choices where they
    are)."""

    say: str = ""
    say_rows: tuple[Row, ...] = ()
    done: bool = False
    begin: tuple[str, str] | None = None
    refusal: str = ""
    rows: tuple[Row, ...] = ()
    fitting: bool = False
    intro: str = ""
    show: bool = True


def refused(text: str, rows: tuple[Row, ...] = (), *, fitting: bool = False) -> Reply:
    """The step stays: ``text`` (with ``rows``)."""
    return Reply(refusal=text, rows=rows, fitting=fitting)


def over(text: str, rows: tuple[Row, ...] = ()) -> Reply:
    """The procedure is over: ``text`` (with ``rows``) is the last word."""
    return Reply(say=text, say_rows=rows, done=True)


class StepService(Protocol):
    """What a channel asks of a procedure's service, whatever the procedure."""

    # Its sessions (a secret read is noted there: the same typed again is deleted).
    steps: Steps

    async def session_of(self, telegram_user_id: int) -> ConversationSession | None:
        """The user's session of this procedure, if one is open."""
        ...

    async def submit_text(self, session: ConversationSession, text: str, via: Via) -> Reply:
        """What was typed at the session's step."""
        ...

    async def choose(self, session: ConversationSession, action: str, via: Via) -> Reply:
        """A choice of the session's prompt (``prefix:arg``, as :class:`Choice` has it)."""
        ...


class CommandService(StepService, Protocol):
    """The service of a procedure with entry commands (:class:`EntryCommand`)."""

    async def begin(self, telegram_user_id: int, chat_id: int, step: str) -> ConversationSession:
        """A new session at ``step`` (replacing any open procedure)."""
        ...
