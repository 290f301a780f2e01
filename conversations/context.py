"""The typed context every handler receives: :class:`BotContext` (defined beside the registry
of procedures it returns, in :mod:`conversations.router`) and the keys of ``bot_data``."""

from __future__ import annotations

from bot.services import SERVICES_KEY as SERVICES_KEY
from conversations.router import REGISTRY_KEY as REGISTRY_KEY
from conversations.router import BotContext as BotContext
