"""The identifier prompt: what is kept of the text typed (never the text itself) and the cap on
different identifiers one Telegram user may try."""

from __future__ import annotations

from dataclasses import dataclass

from bot.procedures.kernel import ProcedurePorts
from storage.sessions import ConversationSession


@dataclass
class IdentifierPrompt:
    """Shape check, reference kept, cap per Telegram user."""

    ports: ProcedurePorts

    def valid(self, text: str) -> str | None:
        """The identifier typed, if it has the shape of one (one word, not too long)."""
        identifiant = text.strip()
        if (
            not identifiant
            or len(identifiant) > self.ports.settings.max_identifiant_length
            or any(ch.isspace() for ch in identifiant)
        ):
            return None
        return identifiant

    async def remember(self, session: ConversationSession, identifiant: str) -> None:
        """Keep what an identifier prompt needs, never the typed text (a password typed there by
        mistake must not stay): the throttle key, and the id of the account it names, looked up
        now with the same work whether there is one or not."""
        account = await self.ports.directory.find(identifiant)
        session.identifiant = None
        session.account_id = None
        session.identifiant_key = self.ports.identifiant_key(identifiant)
        session.candidate_account_id = account.id if account else None

    @staticmethod
    def forget(session: ConversationSession) -> None:
        """Drop the identifier's reference (back to the identifier prompt)."""
        session.identifiant = None
        session.account_id = None
        session.identifiant_key = None
        session.candidate_account_id = None

    async def may_try(self, session: ConversationSession) -> bool:
        """Whether this Telegram user may try the session's identifier now (at most
        ``max_identifiants_per_user`` different ones in the throttle's window); the try is
        recorded when allowed."""
        ports = self.ports
        now = ports.clock()
        key = ports.session_key(session)
        tried = await ports.throttle.identifiants_tried(
            session.telegram_user_id, now - ports.throttle_policy.window
        )
        if not ports.throttle_policy.may_try_identifiant(tried, key):
            return False
        await ports.throttle.record_identifiant_attempt(session.telegram_user_id, key, now)
        return True
