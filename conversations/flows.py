"""The procedures of the bot and the one router that carries their steps.

Every procedure (activation, forgotten password, « Mon compte » changes) registers itself here
with one line; the router (:mod:`conversations.router`) sends each update to the handlers of the
step saved for the user, with the commands and fallbacks all procedures share.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
)
from telegram.ext import filters as f

from conversations import activation, my_account, recovery, support
from conversations.common import (
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
from storage.sessions import ConversationSession


def procedures() -> list[Procedure]:
    """The registry's lines: one a procedure."""
    return [activation.procedure(), recovery.procedure(), my_account.procedure()]


async def _load_session(
    application: Application[Any, Any, Any, Any, Any, Any], telegram_user_id: int
) -> ConversationSession | None:
    return await services(application).activation.ports.sessions.get(telegram_user_id)


def build_router(extra: Sequence[Procedure] = ()) -> StepRouter:
    """Every procedure's steps; commands and fallbacks shared by all. Two procedures that
    declare the same step (or name) are refused here, at start-up."""
    registry = ProcedureRegistry([*procedures(), *extra])
    private = f.ChatType.PRIVATE
    commands: list[BaseHandler[Any, Any, Any]] = [
        *support.user_handlers(),
        CommandHandler("start", activation.on_start_with_payload, filters=private, has_args=1),
        CommandHandler("start", activation.on_start, filters=private),
        CommandHandler("activer", activation.on_activer, filters=private),
        CommandHandler("motdepasse", recovery.start_recovery, filters=private),
    ]
    return StepRouter(
        registry,
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
