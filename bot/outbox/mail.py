"""Outgoing e-mail (aiosmtplib) and e-mail address helpers (email-validator)."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field
from email.message import EmailMessage

import aiosmtplib
from email_validator import EmailNotValidError, validate_email

from bot.config.smtp import SmtpConfig as SmtpConfig
from bot.config.smtp import SmtpSecurity as SmtpSecurity


@dataclass(frozen=True)
class OutgoingMail:
    """One e-mail: a text part and an HTML part; an answer to an incoming e-mail also has its
    threading headers and is marked auto-replied (RFC 3834)."""

    to: str
    subject: str
    text: str = field(repr=False)
    html: str = field(repr=False)
    in_reply_to: str | None = None
    references: str | None = None
    auto_replied: bool = False


class MailDeliveryError(Exception):
    """The e-mail could not be handed to the SMTP server; ``kind`` names the cause (an
    exception class name: never an address nor a secret)."""

    def __init__(self, message: str, kind: str = "MailDeliveryError") -> None:
        super().__init__(message)
        self.kind = kind


class Mailer:
    """Sends e-mails through the configured SMTP server."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def build(self, mail: OutgoingMail) -> EmailMessage:
        """The MIME message: multipart/alternative, UTF-8, marked as automatic."""
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
        _, sender_address = email.utils.parseaddr(self.config.sender)
        domain = sender_address.rpartition("@")[2] or "localhost"
        message["Message-ID"] = email.utils.make_msgid(domain=domain)
        message["Auto-Submitted"] = "auto-replied" if mail.auto_replied else "auto-generated"
        if self.config.reply_to:
            message["Reply-To"] = self.config.reply_to
        if mail.in_reply_to:
            message["In-Reply-To"] = mail.in_reply_to
        if mail.references:
            message["References"] = mail.references
        message.set_content(mail.text, charset="utf-8")
        message.add_alternative(mail.html, subtype="html", charset="utf-8")
        return message

    async def send(self, mail: OutgoingMail) -> None:
        """Send ``mail``; raise :class:`MailDeliveryError` (without secrets) on failure."""
        config = self.config
        try:
            await aiosmtplib.send(
                self.build(mail),
                hostname=config.host,
                port=config.port,
                username=config.username,
                password=config.password,
                use_tls=config.security == SmtpSecurity.TLS,
                start_tls=config.security == SmtpSecurity.STARTTLS,
                timeout=config.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise MailDeliveryError(
                f"SMTP delivery to {config.host}:{config.port} failed: {type(error).__name__}",
                kind=type(error).__name__,
            ) from None


def validate_email_address(address: str) -> str | None:
    """The normalised address (domain lower-cased), or None if it is not a valid address.
    No network look-up is made."""
    if not address or len(address) > 254 or any(ch.isspace() for ch in address):
        return None
    try:
        result = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return None
    return result.normalized


def mask_email(address: str) -> str:
    """Keep the first and last characters of the local part: ``l********n@example.org``."""
    local, at, domain = address.partition("@")
    if not at:
        return "***"
    hidden = max(1, len(local) - 2)
    return f"{local[0]}{'*' * hidden}{local[-1] if len(local) > 2 else ''}@{domain}"
