"""The typed context every handler receives (python-telegram-bot's ``contexttypesbot.py``
pattern): the bot's services and its procedures, instead of look-ups in ``bot_data``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from telegram.ext import CallbackContext, ExtBot

if TYPE_CHECKING:
    from bot.app import BotServices
    from conversations.router import ProcedureRegistry

SERVICES_KEY = "services"
REGISTRY_KEY = "procedures"


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """``CallbackContext`` with the application's services and procedures, typed."""

    @property
    def services(self) -> BotServices:
        """The services opened at start-up (see :class:`bot.app.BotServices`)."""
        return cast("BotServices", self.application.bot_data[SERVICES_KEY])

    @property
    def procedures(self) -> ProcedureRegistry:
        """The registry of procedures (see :mod:`conversations.flows`)."""
        return cast("ProcedureRegistry", self.application.bot_data[REGISTRY_KEY])
