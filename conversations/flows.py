"""The procedures of the bot and the one router that carries their steps.

Every procedure (activation, forgotten password, « Mon compte » changes) registers itself here
with one line; the router (:mod:`conversations.router`) sends each update to the handlers of the
step saved for the user, with the commands and fallbacks all procedures share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
)
from telegram.ext import filters as f

from bot.procedures.activation import FLOW_ACTIVATION
from bot.procedures.description import Description
from bot.procedures.my_account import FLOW_MY_ACCOUNT
from bot.procedures.recovery import FLOW_RECOVERY
from bot.procedures.registry import Registry
from conversations import activation, my_account, recovery, support
from conversations.common import (
    entry_handler,
    on_cancel,
    on_cancel_outside,
    on_help,
    on_help_outside,
    on_outside_flow,
    on_secret_check,
    on_secret_typed_again,
    on_stale_button,
    on_unexpected,
    services,
)
from conversations.router import Procedure, ProcedureRegistry, StepRouter
from conversations.steps import telegram_procedure
from storage.sessions import ConversationSession

# The procedures with parts of their own in Telegram, by name (the others need no line here).
ADAPTED: dict[str, Callable[[Description], Procedure]] = {
    FLOW_ACTIVATION: activation.procedure,
    FLOW_RECOVERY: recovery.procedure,
    FLOW_MY_ACCOUNT: my_account.procedure,
}


def procedures(
    registry: Registry | None = None, given: Sequence[Procedure] = ()
) -> list[Procedure]:
    """The registry's procedures (the bot's own by default) as Telegram procedures: one of
    ``given`` (added to the registry if it is not in it), else the one with its own parts
    (:data:`ADAPTED`), else the handlers every procedure shares (:mod:`conversations.steps`)."""
    registry = registry or Registry()
    named = {procedure.name: procedure for procedure in given}
    registry = registry.with_lines(*(p.description for p in given if not registry.get(p.name)))
    found: list[Procedure] = []
    for description in registry:
        procedure = named.get(description.name)
        adapt = ADAPTED.get(description.name)
        if procedure is None:
            procedure = adapt(description) if adapt else telegram_procedure(description)
        found.append(procedure)
    return found


async def _load_session(
    application: Application[Any, Any, Any, Any, Any, Any], telegram_user_id: int
) -> ConversationSession | None:
    return await services(application).activation.ports.sessions.get(telegram_user_id)


def build_router(registry: Registry | None = None, extra: Sequence[Procedure] = ()) -> StepRouter:
    """Every procedure's steps, its entry commands; commands and fallbacks shared by all. Two
    procedures that declare the same step (or name) are refused here, at start-up."""
    telegram = ProcedureRegistry(procedures(registry, extra))
    private = f.ChatType.PRIVATE
    commands: list[BaseHandler[Any, Any, Any]] = [
        *support.user_handlers(),
        CommandHandler("start", activation.on_start_with_payload, filters=private, has_args=1),
        CommandHandler("start", activation.on_start, filters=private),
        *(
            CommandHandler(entry.command, entry_handler(entry, description.name), filters=private)
            for entry, description in telegram.registry.commands()
        ),
    ]
    return StepRouter(
        telegram,
        _load_session,
        commands=commands,
        fallbacks=[
            CommandHandler("aide", on_help, filters=private),
            CommandHandler("annuler", on_cancel, filters=private),
            CallbackQueryHandler(
                activation.on_resume_or_restart, pattern=r"^(resume|restart):[a-z]+:"
            ),
            CallbackQueryHandler(on_secret_check, pattern=r"^sec:[a-z]+:"),
            CallbackQueryHandler(on_stale_button),
            MessageHandler(private, on_unexpected),
        ],
        overlay=support.overlay,
        screen=on_secret_typed_again,
        outside=[
            CommandHandler("aide", on_help_outside, filters=private),
            CommandHandler("annuler", on_cancel_outside, filters=private),
            CallbackQueryHandler(on_outside_flow),
            MessageHandler(private, on_outside_flow),
        ],
    )
