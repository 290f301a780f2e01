"""The typed context every handler receives: :class:`BotContext` (defined beside the registry
of procedures it returns, in :mod:`conversations.router`) and the keys of ``bot_data``."""

from __future__ import annotations

from typing import Any, TypeAlias

from telegram.ext import Application, ContextTypes, ExtBot, JobQueue

from bot.services import SERVICES_KEY as SERVICES_KEY
from bot.telegram_api.limiter import RateLimitArgs
from conversations.router import REGISTRY_KEY as REGISTRY_KEY
from conversations.router import BotContext as BotContext

# The bot's application as built by bot.app.build_application: its bot has the limiter's
# arguments, its handlers get a BotContext.
BotApp: TypeAlias = Application[
    ExtBot[RateLimitArgs],
    BotContext,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]
