"""The durable outbox: what the bot owes users outside the answer to an update (verification
and notice e-mails, deletions of messages holding a secret). See :mod:`bot.outbox.worker`."""

from __future__ import annotations

from bot.outbox.senders import DeliveryError, MailSender, TelegramSender
from bot.outbox.worker import Outbox, OutboxSettings

__all__ = ["DeliveryError", "MailSender", "Outbox", "OutboxSettings", "TelegramSender"]
