"""A procedure described as plain data, owned by the procedure: its steps and the input each
takes, its entry points, its mails, how its service is made. No channel in here: Telegram (the
adapter in ``conversations/``) builds its handlers from a description; another channel would
build its own from the same one. The registry (:mod:`bot.procedures.registry`) lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot import texts
from bot.procedures.view import InputKind, Prompt

if TYPE_CHECKING:
    from bot.procedures.kernel import ProcedurePorts
    from storage.sessions import ConversationSession


class DuplicateStepError(ValueError):
    """Two procedures (or one, twice) declare the same step or name, or a step has no staff
    label: refused at start-up."""


@dataclass(frozen=True)
class StepSpec:
    """One step: its name (unique across all procedures, saved in the session), the input it
    takes, and whether nothing the person did would be lost there (``fresh``: a command starting
    another procedure replaces this one without asking « Reprendre / Tout recommencer »)."""

    name: str
    input: InputKind
    fresh: bool = False
    # The prefixes of the actions its choices send back (``cgu`` for ``cgu:ok``).
    choices: tuple[str, ...] = ()
    # A secret step where a message that reads like a question, a plea or a thank-you is held
    # back rather than taken for the secret (not a confirmation: nothing is kept from it).
    screen: bool = False


@dataclass(frozen=True)
class EntryCommand:
    """A command that opens the procedure at ``step`` (``/activer``: its service is a
    :class:`bot.procedures.reply.CommandService`), with the same effect as
    each of ``payloads`` after ``/start`` (a printed link). Its menu text is ``menu`` (a
    catalogue's text, read when the menu is registered)."""

    command: str
    step: str
    menu: Callable[[], str]
    payloads: tuple[str, ...] = ()


@dataclass(frozen=True)
class Description:
    """What a procedure is, for every channel.

    ``service`` makes its service from the shared ports; ``prompt`` says what the person sees at
    the session's step (``full=False``: without a long text already in the conversation);
    ``staff_labels`` returns what staff read for each step (a catalogue of ``bot/texts``, read
    at call time so that a language chosen at start-up applies)."""

    name: str
    steps: tuple[StepSpec, ...]
    service: Callable[[ProcedurePorts], Any]
    prompt: Callable[[Any, ConversationSession, bool], list[Prompt]]
    staff_labels: Callable[[], Mapping[str, str]]
    commands: tuple[EntryCommand, ...] = ()
    # Outbox templates of the e-mails it sends: code e-mails, then notices.
    code_mails: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    _by_name: dict[str, StepSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {step.name: step for step in self.steps})

    def step(self, name: str) -> StepSpec | None:
        """The step called ``name``, if it is one of this procedure's."""
        return self._by_name.get(name)

    @property
    def step_names(self) -> tuple[str, ...]:
        """Its steps' names, in order."""
        return tuple(step.name for step in self.steps)

    @property
    def secret_steps(self) -> frozenset[str]:
        """Steps whose input is read as a secret (and deleted at once)."""
        return frozenset(step.name for step in self.steps if step.input.secret)

    @property
    def first_secret_step(self) -> str | None:
        """Where the person is told, once a procedure, that a secret message is deleted."""
        return next((step.name for step in self.steps if step.input.secret), None)

    @property
    def fresh_steps(self) -> frozenset[str]:
        """Steps a new procedure may replace without asking."""
        return frozenset(step.name for step in self.steps if step.fresh)


def menu_text(command: str) -> Callable[[], str]:
    """The menu text of ``command`` in the chat catalogue (``texts.COMMANDS``), read when the
    menu is registered."""

    def read() -> str:
        return dict(texts.COMMANDS).get(command, command)

    return read
