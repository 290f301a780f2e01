"""Where and how the bot sends e-mails (from :class:`bot.settings.Settings`); used by
:mod:`bot.outbox.mail`, which re-exports it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class SmtpSecurity(StrEnum):
    """How the connection to the SMTP server is protected."""

    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send e-mails."""

    host: str
    port: int
    security: SmtpSecurity = SmtpSecurity.NONE
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "no-reply@example.org"
    timeout: float = 20
    # INBOUND_EMAIL: where replies go (the mailbox the bot reads); None: no Reply-To.
    reply_to: str | None = None
