"""Reminders by e-mail: one SMTP connection reused for a whole campaign, at
``BROADCAST_EMAIL_RATE_PER_SECOND``, each e-mail with a one-click unsubscribe link and the
``List-Unsubscribe`` / ``List-Unsubscribe-Post`` headers (RFC 8058).

The link carries the ledger row's number and an HMAC-SHA-256 of it and of its address with the
server key: nothing is stored for it, and it opts out only that address."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
from aiolimiter import AsyncLimiter

from bot.outbox.mail import MailDeliveryError, Mailer, OutgoingMail, SmtpConfig, SmtpSecurity
from bot.security import KeyedHasher

UNSUBSCRIBE_PURPOSE = "broadcast-unsubscribe"


def unsubscribe_token(keyed: KeyedHasher, delivery_id: int, address: str) -> str:
    """The token of row ``delivery_id``'s link (HMAC of the row and its address)."""
    return keyed.digest(f"{delivery_id}:{address.lower()}", purpose=UNSUBSCRIBE_PURPOSE)[:32]


def token_matches(keyed: KeyedHasher, delivery_id: int, address: str, token: str) -> bool:
    """Constant-time check of a link's token (as bytes: ``compare_digest`` raises on a str
    holding non-ASCII, and a link's token is whatever a visitor typed)."""
    expected = unsubscribe_token(keyed, delivery_id, address).encode()
    return hmac.compare_digest(expected, token.encode("utf-8", "replace"))


def unsubscribe_url(base_url: str, keyed: KeyedHasher, delivery_id: int, address: str) -> str:
    """The one-click link of one e-mail."""
    token = unsubscribe_token(keyed, delivery_id, address)
    return f"{base_url.rstrip('/')}/{delivery_id}/{token}"


@dataclass(frozen=True)
class ReminderMail:
    """One reminder e-mail and its unsubscribe link."""

    mail: OutgoingMail
    unsubscribe: str


class BulkMailer:
    """Sends reminder e-mails through one SMTP connection, opened on the first e-mail and kept
    (opened again after a failure), paced at ``rate`` e-mails a second."""

    def __init__(self, config: SmtpConfig, rate: float) -> None:
        self.config = config
        self._builder = Mailer(config)
        self._smtp: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()
        self._pace = AsyncLimiter(1, 1 / rate)

    async def _connection(self) -> aiosmtplib.SMTP:
        if self._smtp is None or not self._smtp.is_connected:
            config = self.config
            smtp = aiosmtplib.SMTP(
                hostname=config.host,
                port=config.port,
                use_tls=config.security == SmtpSecurity.TLS,
                start_tls=config.security == SmtpSecurity.STARTTLS,
                timeout=config.timeout,
            )
            await smtp.connect()
            if config.username and config.password:
                await smtp.login(config.username, config.password)
            self._smtp = smtp
        return self._smtp

    def message(self, reminder: ReminderMail) -> EmailMessage:
        """The MIME message of one reminder; ``ValueError`` if a header cannot hold a value (a
        line break in the subject)."""
        message = self._builder.build(reminder.mail)
        message["List-Unsubscribe"] = f"<{reminder.unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Precedence"] = "bulk"
        return message

    async def send(self, reminder: ReminderMail | EmailMessage) -> None:
        """Send one reminder (or its :meth:`message`); :class:`MailDeliveryError` (no address
        in it) on failure."""
        message = reminder if isinstance(reminder, EmailMessage) else self.message(reminder)
        await self._pace.acquire()
        async with self._lock:
            try:
                smtp = await self._connection()
                await smtp.send_message(message)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                await self.close()
                if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
                    raise MailDeliveryError("refused", kind="SMTPRecipientsRefused") from None
                raise MailDeliveryError("SMTP failed", kind=type(error).__name__) from None

    async def close(self) -> None:
        """Close the connection (QUIT), if open."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await smtp.quit()
