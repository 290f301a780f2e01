"""The e-mails a procedure owes, as outbox items (no code nor token in them, only a seed), and
the limits on code e-mails per mailbox, per person and per account, counted from the outbox."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.outbox.templates import MAIL_UAI
from bot.procedures.kernel import Outcome, ProcedurePorts, Result
from storage.outbox import NewOutboxItem, OutboxKind

# A notice e-mail (« mot de passe changé », old address told) is retried for a week.
NOTICE_KEPT_FOR = timedelta(days=7)

# Providers whose mailboxes ignore dots in the local part, and the one domain each set of
# names stands for (``v.i.c.t.i.m@googlemail.com`` reaches ``victim@gmail.com``).
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def counting_mailbox(address: str) -> str:
    """The mailbox an address reaches, for counting only (the e-mail goes to the address as
    typed): case folded, the sub-address (``+tag``, RFC 5233) removed, and the dots of the
    local part removed where the provider is known to ignore them (Gmail). So ``Victim+1@``,
    ``victim+2@``… count as one mailbox and cannot multiply its daily cap."""
    text = unicodedata.normalize("NFC", address.strip()).casefold()
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    local = local.split("+", 1)[0] or local
    domain = domain.rstrip(".")
    if domain in _DOTLESS_DOMAINS:
        local = local.replace(".", "") or local
        domain = _DOTLESS_DOMAINS[domain]
    return f"{local}@{domain}"


@dataclass
class OwedMails:
    """Builds code and notice e-mails for the outbox and says when a code e-mail is too many."""

    ports: ProcedurePorts

    def address_key(self, address: str) -> str:
        """Keyed hash of the mailbox an address reaches (:func:`counting_mailbox`), to count the
        e-mails sent to it. An address without sub-address nor dots to drop keeps the key it
        had before mailboxes were counted (the same digest of its case-folded form)."""
        return self.ports.keyed.digest(counting_mailbox(address), purpose="mail-address")

    async def refusal(
        self, telegram_user_id: int, account_id: int | None, address: str, now: datetime
    ) -> Result | None:
        """TOO_SOON or RESEND_LIMIT if a code e-mail asked for by this Telegram user, to this
        mailbox or account would exceed the limits (across procedures and restarts); None if
        allowed. The request counts for the person whatever the rest of the verdict (see
        :meth:`storage.outbox.OutboxRepository.request_code_mail`)."""
        settings = self.ports.settings
        if not await self.ports.outbox.repository.request_code_mail(
            telegram_user_id,
            now,
            since=now - settings.mail_window,
            limit=settings.max_mails_per_person,
        ):
            return Result(Outcome.RESEND_LIMIT)
        by_account, by_address, last_at = await self.ports.outbox.repository.code_mails_since(
            now - settings.mail_window,
            account_id=account_id,
            address_key=self.address_key(address),
        )
        if last_at is not None and now < last_at + settings.mail_address_cooldown:
            wait = last_at + settings.mail_address_cooldown - now
            return Result(Outcome.TOO_SOON, retry_after=wait)
        if (
            by_address >= settings.max_mails_per_address
            or by_account >= settings.max_mails_per_account
        ):
            return Result(Outcome.RESEND_LIMIT)
        return None

    def code_mail(
        self,
        template: str,
        to: str,
        prenom: str,
        seed: str,
        account_id: int | None,
        bot_username: str,
        expires_at: datetime,
        uai: str | None = None,
    ) -> NewOutboxItem:
        """The outbox item of a code e-mail: the code and link are derived from ``seed`` when
        it leaves; ``uai``: the account's establishment, whose words the e-mail uses."""
        settings = self.ports.settings
        params: dict[str, object] = {
            "to": to,
            "prenom": prenom,
            "code_length": settings.code_length,
            "hours": round(settings.verification_ttl.total_seconds() / 3600),
            "bot_username": bot_username,
        }
        if uai:
            params[MAIL_UAI] = uai
        return NewOutboxItem(
            kind=OutboxKind.CODE_MAIL,
            template=template,
            params=params,
            seed=seed,
            account_id=account_id,
            address_key=self.address_key(to),
            created_at=self.ports.clock(),
            expires_at=expires_at,
        )

    def notice_mail(
        self, template: str, to: str, account_id: int, uai: str | None = None, **params: str
    ) -> NewOutboxItem:
        """The outbox item of a notice e-mail (kept for a week if the server stays down), in
        the words of the account's establishment (``uai``)."""
        now = self.ports.clock()
        values = {"to": to, **params}
        if uai:
            values[MAIL_UAI] = uai
        return NewOutboxItem(
            kind=OutboxKind.NOTICE_MAIL,
            template=template,
            params=values,
            account_id=account_id,
            address_key=self.address_key(to),
            created_at=now,
            expires_at=now + NOTICE_KEPT_FOR,
        )
