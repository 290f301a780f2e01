"""Routing by the step saved in the database: the registry of procedures and the one handler
that sends each update of a private chat to the handlers of the user's saved step.

python-telegram-bot's ``ConversationHandler`` keeps each chat's state in memory and moves it
only when a handler returns; when sending the answer fails after the step was saved, its state
and the database disagree and the next input reaches the wrong step. Here the saved step is the
only truth: every update reads the user's session first, then tries, in order, the entry points
(commands, entry buttons), the handlers of that step, and the shared fallbacks — or, with no
open procedure, the handlers for a chat outside any procedure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, BaseHandler, CallbackContext, ExtBot

from bot.procedures.description import Description, DuplicateStepError
from bot.procedures.registry import Registry
from bot.services import SERVICES_KEY
from bot.telegram_api.limiter import RateLimitArgs
from storage.sessions import ConversationSession

if TYPE_CHECKING:
    from bot.services import BotServices

# The key of the registry in the application's ``bot_data``.
REGISTRY_KEY = "procedures"


class BotContext(
    CallbackContext[ExtBot[RateLimitArgs], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
):
    """``CallbackContext`` with the application's services and procedures, typed (python-
    telegram-bot's ``contexttypesbot.py`` pattern), instead of look-ups in ``bot_data``. It
    lives beside the registry it returns; handlers import it from :mod:`conversations.context`."""

    @property
    def services(self) -> BotServices:
        """The services opened at start-up (see :class:`bot.services.BotServices`)."""
        return cast("BotServices", self.application.bot_data[SERVICES_KEY])

    @property
    def procedures(self) -> ProcedureRegistry:
        """The registry of procedures (see :mod:`conversations.flows`)."""
        return cast("ProcedureRegistry", self.application.bot_data[REGISTRY_KEY])


State = str | int | None
StepShower = Callable[[Update, BotContext, ConversationSession, str, bool], Awaitable[str | int]]
LinkHandler = Callable[[Update, BotContext, str], Awaitable[State]]
Overlay = Callable[[Update, Any, ConversationSession | None], Awaitable[bool]]
SessionLoader = Callable[
    [Application[Any, Any, Any, Any, Any, Any], int], Awaitable[ConversationSession | None]
]


@dataclass(frozen=True)
class Procedure:
    """What a procedure registers in Telegram: its description (name, steps and their input,
    staff labels, fresh steps, entry commands: :mod:`bot.procedures.description`), the
    handlers of its steps, how to show its current step again, its own entry points (besides
    its commands and those shared by all), and how it handles the link of its e-mail
    (``/start <token>``)."""

    description: Description
    states: Mapping[str, Sequence[BaseHandler[Any, Any, Any]]]
    show_current: StepShower
    entry_points: Sequence[BaseHandler[Any, Any, Any]] = ()
    on_link: LinkHandler | None = None

    @property
    def name(self) -> str:
        """The session's ``flow``."""
        return self.description.name

    @property
    def fresh_steps(self) -> frozenset[str]:
        """Steps at which nothing the user did would be lost: a command starting another
        procedure replaces this one without asking « Reprendre / Tout recommencer »."""
        return self.description.fresh_steps

    @property
    def secret_steps(self) -> frozenset[str]:
        """Steps whose handlers read what is typed as a secret (and delete it at once): a
        secret of the step before typed again there is theirs to delete."""
        return self.description.secret_steps


class ProcedureRegistry:
    """The procedures of the bot in Telegram, over their registry (:class:`Registry`: names
    and steps unique across all of them)."""

    def __init__(self, procedures: Sequence[Procedure]) -> None:
        self.registry = Registry([procedure.description for procedure in procedures])
        self.registry.check_labels()
        self._by_name: dict[str, Procedure] = {}
        for procedure in procedures:
            unknown = set(procedure.states) - set(procedure.description.step_names)
            if unknown:
                raise DuplicateStepError(
                    f"steps {sorted(unknown)} have handlers but are not steps of {procedure.name!r}"
                )
            self._by_name[procedure.name] = procedure

    def __iter__(self) -> Iterator[Procedure]:
        return iter(self._by_name.values())

    def get(self, name: str) -> Procedure | None:
        """The procedure called ``name``, if registered."""
        return self._by_name.get(name)

    def handlers_of(self, session: ConversationSession) -> Sequence[BaseHandler[Any, Any, Any]]:
        """The handlers of the session's saved step (none if the step is unknown)."""
        procedure = self._by_name.get(session.flow)
        if procedure is None:
            return ()
        return procedure.states.get(session.step, ())

    def entry_points(self) -> list[BaseHandler[Any, Any, Any]]:
        """Every procedure's own entry points, in registration order."""
        return [handler for procedure in self for handler in procedure.entry_points]

    def staff_label(self, step: str) -> str | None:
        """What staff read for ``step``, if a procedure labels it."""
        return self.registry.staff_label(step)


class StepRouter(BaseHandler[Update, Any, Any]):
    """One handler for every update of a private chat (and every button press): the user's
    saved session decides which handlers are tried."""

    def __init__(
        self,
        registry: ProcedureRegistry,
        load_session: SessionLoader,
        *,
        commands: Sequence[BaseHandler[Any, Any, Any]],
        fallbacks: Sequence[BaseHandler[Any, Any, Any]],
        outside: Sequence[BaseHandler[Any, Any, Any]],
        overlay: Overlay | None = None,
        screen: Overlay | None = None,
    ) -> None:
        super().__init__(self._never_called)
        self.registry = registry
        self._load_session = load_session
        self._entry_points = [*commands, *registry.entry_points()]
        self._fallbacks = list(fallbacks)
        self._outside = list(outside)
        # Tried before the saved step (the help mode of « 🆘 Je bloque »): True if it handled.
        self._overlay = overlay
        # Tried first of all: the secret of the step before, typed again, is deleted and
        # answered here, whatever would read it (the help mode, a step that takes no secret).
        self._screen = screen

    @staticmethod
    async def _never_called(update: object, context: object) -> None:  # pragma: no cover
        raise AssertionError("StepRouter dispatches to its handlers")

    def check_update(self, update: object) -> bool:
        """Private chats and button presses with a user."""
        if not isinstance(update, Update) or update.effective_user is None:
            return False
        if update.callback_query is not None:
            return True
        chat = update.effective_chat
        return chat is not None and chat.type == ChatType.PRIVATE

    def candidates(self, session: ConversationSession | None) -> list[BaseHandler[Any, Any, Any]]:
        """The handlers to try for a user with ``session``, in order."""
        if session is None:
            return [*self._entry_points, *self._outside]
        return [*self._entry_points, *self.registry.handlers_of(session), *self._fallbacks]

    async def handle_update(
        self,
        update: Update,
        application: Application[Any, Any, Any, Any, Any, Any],
        check_result: object,
        context: Any,
    ) -> object:
        """Read the saved session, then run the first handler that takes the update."""
        assert update.effective_user is not None
        session = await self._load_session(application, update.effective_user.id)
        if self._screen is not None and await self._screen(update, context, session):
            return None
        if self._overlay is not None and await self._overlay(update, context, session):
            return None
        for handler in self.candidates(session):
            check = handler.check_update(update)
            if check is not None and check is not False:
                return await handler.handle_update(update, application, check, context)
        return None
