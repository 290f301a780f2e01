"""The durable outbox: what the bot owes users outside the answer to an update (verification
and notice e-mails, deletions of messages holding a secret). See :mod:`bot.outbox.worker`.

The names below are imported on first use (PEP 562): :mod:`bot.outbox.mail`, which the
settings need, then comes without python-telegram-bot (a staff command such as ``accounts
export`` never loads it)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.outbox.delivery import DeliveryError
    from bot.outbox.senders import MailSender, TelegramSender
    from bot.outbox.worker import Outbox, OutboxSettings

__all__ = ["DeliveryError", "MailSender", "Outbox", "OutboxSettings", "TelegramSender"]
_MODULES = {
    "DeliveryError": "bot.outbox.delivery",
    "MailSender": "bot.outbox.senders",
    "TelegramSender": "bot.outbox.senders",
    "Outbox": "bot.outbox.worker",
    "OutboxSettings": "bot.outbox.worker",
}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return getattr(importlib.import_module(_MODULES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
