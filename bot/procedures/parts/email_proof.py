"""Proof by e-mail: a code to type or a link to open, sent to an address, valid 48 hours.

:class:`CodeProof` is the code and link (derived from a seed with the server key, only their
keyed hashes kept; typed codes throttled); :class:`EmailProof` adds the address typed, shown
back, sent to and resent to, with the resend rules. A procedure says what happens once the
address is proven, when the code expired and when nothing is pending, through callbacks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.outbox.mail import validate_email_address
from bot.outbox.seeds import code_from_seed, new_seed, token_from_seed
from bot.procedures.kernel import Outcome, ProcedurePorts, Result, Steps
from bot.procedures.parts.address_typo import suggested_address
from bot.procedures.parts.checked_secret import CheckedSecret
from bot.procedures.parts.mails import OwedMails
from storage.sessions import ConversationSession

SessionStep = Callable[[ConversationSession], Awaitable[Result]]
Verified = Callable[[ConversationSession, datetime], Awaitable[Result]]
# The throttle key of a typed code and the account whose lock staff are told of.
CodeKey = Callable[[ConversationSession], tuple[str, int | None]]


async def flow_of_link(ports: ProcedurePorts, token: str) -> str | None:
    """The procedure whose session sent the link ``token`` (None if no session did)."""
    digest = ports.keyed.digest(token, purpose="token")
    session = await ports.sessions.find_by_token_hash(digest)
    return session.flow if session else None


@dataclass
class CodeProof:
    """A code and a link, sent at ``code_step`` of the procedure of ``steps``."""

    ports: ProcedurePorts
    steps: Steps
    code_step: str
    secret: CheckedSecret
    code_key: CodeKey
    on_verified: Verified
    on_expired: SessionStep

    def new_code_from_seed(self, session: ConversationSession, seed: str) -> None:
        """A new code and link token derived from ``seed`` with the server key (the outbox
        keeps the seed until the e-mail leaves); only their keyed hashes are kept, the old ones
        die."""
        keyed = self.ports.keyed
        code = code_from_seed(keyed, seed, self.ports.settings.code_length)
        token = token_from_seed(keyed, seed)
        session.code_hash = keyed.digest(code, purpose="code")
        session.token_hash = keyed.digest(token, purpose="token")

    @staticmethod
    def expired(session: ConversationSession, now: datetime) -> bool:
        """Whether the pending code's 48 hours are over."""
        return session.code_expires_at is not None and now >= session.code_expires_at

    async def submit_code(self, session: ConversationSession, text: str) -> Result:
        """A code typed in the chat: INVALID (not a code's shape), the expiry's or the proof's
        outcome, or WRONG, THROTTLED, LOCKED."""
        now = self.ports.clock()
        code = "".join(text.split())
        if not code.isdigit() or len(code) != self.ports.settings.code_length:
            return Result(Outcome.INVALID)
        if self.expired(session, now):
            return await self.on_expired(session)
        code_hash = session.code_hash
        keyed = self.ports.keyed

        async def check() -> bool:
            return code_hash is not None and keyed.matches(code, code_hash, purpose="code")

        key, account_id = self.code_key(session)
        result = await self.secret.judge(key, check, now, account_id=account_id)
        if result.outcome == Outcome.OK:
            return await self.on_verified(session, now)
        return result

    async def verify_link(self, telegram_user_id: int, token: str) -> Result:
        """The deep link ``/start <token>`` from the e-mail."""
        now = self.ports.clock()
        digest = self.ports.keyed.digest(token, purpose="token")
        session = await self.ports.sessions.find_by_token_hash(digest)
        if session is None or session.flow != self.steps.flow or session.step != self.code_step:
            return Result(Outcome.INVALID)
        if session.telegram_user_id != telegram_user_id:
            return Result(Outcome.OTHER_USER)
        if self.expired(session, now):
            return await self.on_expired(session)
        return await self.on_verified(session, now)


@dataclass
class EmailProof:
    """An address typed, confirmed, then proven by :class:`CodeProof`."""

    ports: ProcedurePorts
    steps: Steps
    email_step: str
    confirm_step: str
    template: str
    code: CodeProof
    mails: OwedMails
    on_nothing_pending: SessionStep
    # Show every address back before sending (« Mon compte »: the recovery address changes);
    # otherwise only one that looks like a typo is (activation: one action less).
    confirm_always: bool = False

    async def submit_email(self, session: ConversationSession, text: str) -> Result:
        """Check the address's syntax (email-validator). SUSPECT: its domain looks like a typo,
        the confirmation step suggests a correction; OK at the confirmation step: shown back;
        OK at the address step: to be sent now (:meth:`send_verification`)."""
        address = validate_email_address(text.strip())
        if address is None:
            return Result(Outcome.INVALID)
        domain = address.rpartition("@")[2].casefold()
        if any(
            domain == d or domain.endswith("." + d)
            for d in self.ports.settings.refused_email_domains
        ):
            return Result(Outcome.DOMAIN_REFUSED, email=address)
        session.email = address
        suggestion = suggested_address(address)
        if suggestion is not None or self.confirm_always:
            await self.steps.go(session, self.confirm_step)
            return Result(Outcome.SUSPECT if suggestion else Outcome.OK, email=address)
        return Result(Outcome.OK, email=address)

    async def use_suggested_address(self, session: ConversationSession) -> None:
        """« Oui, corriger »: the address suggested for the typo replaces the typed one."""
        if session.email is not None:
            session.email = suggested_address(session.email) or session.email

    async def change_email(self, session: ConversationSession) -> None:
        """Type another address (the pending code stops working)."""
        session.code_hash = session.token_hash = None
        await self.steps.go(session, self.email_step)

    async def send_verification(
        self, session: ConversationSession, bot_username: str, *, resend: bool = False
    ) -> Result:
        """Send a new code and link (revoking the previous ones) to the pending address.

        A resend to the same address waits for the cooldown; a first send to a corrected address
        goes at once. Every e-mail after the first of the procedure counts in ``max_resends``, so
        nobody can make the bot send a stream of e-mails by changing the address back and forth."""
        ports = self.ports
        settings = ports.settings
        now = ports.clock()
        if session.email is None or session.account_id is None:
            return await self.on_nothing_pending(session)
        previously_sent_at = session.code_sent_at
        if resend:
            if self.code.expired(session, now):
                return await self.code.on_expired(session)
            if previously_sent_at and now < previously_sent_at + settings.resend_cooldown:
                wait = previously_sent_at + settings.resend_cooldown - now
                return Result(Outcome.TOO_SOON, retry_after=wait)
        if previously_sent_at is not None and session.resend_count >= settings.max_resends:
            return Result(Outcome.RESEND_LIMIT)
        refusal = await self.mails.refusal(
            session.telegram_user_id, session.account_id, session.email, now
        )
        if refusal is not None:
            return refusal
        account = await ports.directory.get(session.account_id)
        seed = new_seed()
        self.code.new_code_from_seed(session, seed)
        session.code_sent_at = now
        if previously_sent_at is not None:
            session.resend_count += 1
        if not resend or session.code_expires_at is None:
            session.code_expires_at = now + settings.verification_ttl
        mail = self.mails.code_mail(
            self.template,
            session.email,
            account.prenom if account and account.prenom else "",
            seed,
            session.account_id,
            bot_username,
            session.code_expires_at,
            account.uai if account else None,
        )
        await self.steps.go(session, self.code.code_step, outbox=[mail])
        sent = await ports.outbox.wait_sent(mail, settings.mail_reply_wait)
        # Not sent yet (SMTP down or slow): the outbox retries; the code is valid already.
        return Result(Outcome.SENT if sent else Outcome.QUEUED, email=session.email)
