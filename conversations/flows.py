"""The one ConversationHandler of the bot: the states of every procedure (activation, forgotten
password, « Mon compte » changes) side by side, with the commands and fallbacks they share.

One handler, because a user is in one procedure at a time (one session row a user) and a link
from an e-mail must reach whichever procedure sent it.
"""

from __future__ import annotations

import warnings

from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as f
from telegram.warnings import PTBUserWarning

from bot.activation import FLOW_ACTIVATION
from bot.my_account import FLOW_MY_ACCOUNT
from bot.recovery import FLOW_RECOVERY
from conversations import activation, my_account, recovery
from conversations.common import (
    on_cancel,
    on_help,
    on_stale_button,
    on_unexpected,
    register_flow,
)

CONVERSATION_NAME = "parcours"


def build_conversation_handler() -> ConversationHandler:
    """Every procedure's states; entry points and fallbacks shared by all."""
    # Buttons are checked against the nonce of the session's current prompt, so tracking
    # callback queries per message (per_message=True) is not needed: silence PTB's reminder.
    warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
    register_flow(FLOW_ACTIVATION, activation.show_current)
    register_flow(FLOW_RECOVERY, recovery.show_current)
    register_flow(FLOW_MY_ACCOUNT, my_account.show_current)
    private = f.ChatType.PRIVATE
    commands = [
        CommandHandler("start", activation.on_start_with_payload, filters=private, has_args=1),
        CommandHandler("start", activation.on_start, filters=private),
        CommandHandler("activer", activation.on_activer, filters=private),
        CommandHandler("motdepasse", recovery.start_recovery, filters=private),
    ]
    return ConversationHandler(
        name=CONVERSATION_NAME,
        persistent=True,
        entry_points=[*commands, *my_account.entry_points()],
        states={**activation.states(), **recovery.states(), **my_account.states()},
        fallbacks=[
            *commands,
            CommandHandler("aide", on_help, filters=private),
            CommandHandler("annuler", on_cancel, filters=private),
            CallbackQueryHandler(activation.on_resume_or_restart, pattern=r"^(resume|restart):go:"),
            CallbackQueryHandler(on_stale_button),
            MessageHandler(private, on_unexpected),
        ],
        allow_reentry=True,
    )
