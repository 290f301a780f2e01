"""« Mot de passe oublié » (/motdepasse, or the button of /start) in Telegram.

Every step is read by the handlers every procedure shares (:mod:`conversations.steps`); the
rules and what is said live in :class:`bot.procedures.recovery.RecoveryService`. Only the link
of its e-mail is its own.
"""

from __future__ import annotations

from telegram import Update

from bot import texts
from bot.procedures.description import Description
from bot.procedures.recovery import DESCRIPTION
from conversations.common import State, recovery_service, verify_link_then_show
from conversations.context import BotContext
from conversations.router import Procedure
from conversations.steps import telegram_procedure


async def on_link(update: Update, context: BotContext, token: str) -> State | None:
    """The link of the recovery e-mail: the code is proven, on to the new password."""
    return await verify_link_then_show(
        update, context, recovery_service(context), token, texts.RECOVERY_VERIFIED
    )


def procedure(description: Description = DESCRIPTION) -> Procedure:
    """« Mot de passe oublié » in Telegram: its description, and the link of its e-mail."""
    return telegram_procedure(description, on_link=on_link)
