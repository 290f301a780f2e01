"""The failure of one delivery attempt, shared by every sender — the outbox's own
(:mod:`bot.outbox.senders`) and the LDAP directory's writer — without python-telegram-bot."""

from __future__ import annotations


class DeliveryError(Exception):
    """One attempt failed. ``kind`` names the cause without any secret or address;
    ``permanent`` means that retrying cannot help; ``retry_after`` is a wait asked for."""

    def __init__(
        self, kind: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(kind)
        self.kind = kind
        self.permanent = permanent
        self.retry_after = retry_after
