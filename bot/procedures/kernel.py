"""The kernel every procedure is built on: the ports it works through, its outcomes, and the
life of its session (open, move to a step, save, leave).

A procedure (:mod:`bot.procedures.activation`, :mod:`bot.procedures.recovery`,
:mod:`bot.procedures.my_account`) is a small service that owns one :class:`Steps` and composes
the parts of :mod:`bot.procedures.parts` (identifier prompt, checked secret, e-mail proof,
question pair); none inherits from another.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from bot.config.password_policy import PasswordPolicy, PasswordRule
from bot.directory.port import Directory, DirectoryRule
from bot.outbox.mail import Mailer
from bot.procedures.throttle import ThrottlePolicy, identifiant_key
from bot.region import HasUai, Region, normalise_uai
from bot.school import SchoolConfig
from bot.security import KeyedHasher, SecretHasher, is_pending_digest
from storage.accounts import Account, SqliteAccountDirectory
from storage.outbox import NewOutboxItem, OutboxRepository
from storage.records import RecordRepository
from storage.sessions import ConversationSession, SessionRepository
from storage.throttle import ThrottleRepository

if TYPE_CHECKING:
    from bot.outbox.worker import Outbox

Clock = Callable[[], datetime]
Check = Callable[[], Awaitable[bool]]


# The session's flow_data keys of the secret read at the current step and of the one read at the
# step before: their keyed digest, kept only until the step after (see :meth:`Steps.go`).
SECRET_HERE = "secret_here"
SECRET_BEFORE = "secret_before"
SECRET_PURPOSE = "typed-secret"
# The session's flow_data key of the establishment (UAI) of its account, once the account is
# known — proven, or named by a letter's QR code or link (issue 27): what the person reads then
# is that establishment's (:meth:`ProcedurePorts.school_for`).
ESTABLISHMENT = "uai"


def session_uai(session: ConversationSession) -> str | None:
    """The UAI of the session's establishment, once its account is known."""
    uai = json.loads(session.flow_data or "{}").get(ESTABLISHMENT)
    return uai if isinstance(uai, str) and uai else None


def note_establishment(session: ConversationSession, uai: str | None) -> None:
    """The session's account is known: keep its establishment (None: the region's)."""
    data = json.loads(session.flow_data or "{}")
    if uai:
        data[ESTABLISHMENT] = normalise_uai(uai)
    else:
        data.pop(ESTABLISHMENT, None)
    session.flow_data = json.dumps(data)


@dataclass(frozen=True)
class _Uai:
    """A UAI as an account-like subject of :meth:`Region.for_account`."""

    uai: str | None


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


class Outcome(StrEnum):
    """What a step did, for the handler to render."""

    OK = "ok"
    REFUSED = "refused"
    TOO_MANY_IDENTIFIANTS = "too_many_identifiants"
    INVALID = "invalid"
    SENT = "sent"
    # Written to the outbox, but its first attempt failed or is slow: it leaves shortly.
    QUEUED = "queued"
    TOO_SOON = "too_soon"
    RESEND_LIMIT = "resend_limit"
    WRONG = "wrong"
    THROTTLED = "throttled"
    # This chat's own tries at an unproven identifier's secret are in their delay
    # (``Result.retry_after``): told, the same whatever the identifier.
    WAIT = "wait"
    LOCKED = "locked"
    EXPIRED = "expired"
    OTHER_USER = "other_user"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    MISMATCH = "mismatch"
    ACTIVATED = "activated"
    TAKEN = "taken"
    CHANGED = "changed"
    SAME = "same"
    # The account is already active and linked to this very Telegram user.
    ALREADY_ACTIVE = "already_active"
    # An address whose domain looks like a typo: a correction is suggested before sending.
    SUSPECT = "suspect"
    # The directory's own password policy refused the new password (``Result.directory_rule``).
    DIRECTORY_REFUSED = "directory_refused"
    # A recovery address on a refused domain (RECOVERY_EMAIL_REFUSED_DOMAINS: the ENT's own).
    DOMAIN_REFUSED = "domain_refused"


@dataclass(frozen=True)
class Result:
    """An outcome with what the handler may need to render it."""

    outcome: Outcome
    retry_after: timedelta | None = None
    rules: tuple[PasswordRule, ...] = ()
    account: Account | None = None
    email: str | None = None
    directory_rule: DirectoryRule | None = None


@dataclass(frozen=True)
class ActivationSettings:
    """The knobs of the procedures (from :class:`bot.settings.Settings`)."""

    code_length: int = 8
    verification_ttl: timedelta = timedelta(hours=48)
    resend_cooldown: timedelta = timedelta(seconds=60)
    max_resends: int = 5
    min_answer_length: int = 3
    max_answer_length: int = 100
    max_identifiant_length: int = 100
    # Code e-mails, counted from the database whatever the procedure: one mailbox gets at most
    # one every ``mail_address_cooldown`` and ``max_mails_per_address`` per ``mail_window``,
    # one account ``max_mails_per_account``, and one Telegram user asks for at most
    # ``max_mails_per_person``. The answer waits at most ``mail_reply_wait`` for the first
    # attempt.
    mail_address_cooldown: timedelta = timedelta(seconds=60)
    max_mails_per_address: int = 10
    max_mails_per_account: int = 10
    max_mails_per_person: int = 10
    mail_window: timedelta = timedelta(hours=24)
    mail_reply_wait: float = 3.0
    # Told (in Telegram, through the outbox) when an identifier reaches the staff-only lock.
    staff_telegram_ids: tuple[int, ...] = ()
    # Recovery addresses refused on these domains (and their subdomains), casefolded.
    refused_email_domains: tuple[str, ...] = ()
    # Where EduConnect is, said in every refusal of provisional credentials ("": not said).
    educonnect_url: str = ""


@dataclass
class ProcedurePorts:
    """What every procedure works through, shared by all of them.

    ``directory`` holds the accounts and checks their passwords (clear secrets go in, never a
    hash comes out); ``accounts`` writes what only the bot knows about them (Telegram link, CGU
    acceptance, secret answers), in SQLite whatever the directory. ``outbox`` takes the e-mails
    and Telegram messages owed, in the transaction of the step that causes them; one over the
    same database and mailer is made if none is given."""

    directory: Directory
    accounts: SqliteAccountDirectory
    sessions: SessionRepository
    throttle: ThrottleRepository
    records: RecordRepository
    hasher: SecretHasher
    keyed: KeyedHasher
    mailer: Mailer
    school: SchoolConfig
    password_policy: PasswordPolicy
    throttle_policy: ThrottlePolicy
    settings: ActivationSettings = field(default_factory=ActivationSettings)
    clock: Clock = utc_now
    outbox: Outbox = field(default=None)  # type: ignore[assignment]  # made in __post_init__
    # The establishments (issue 27); None: one school, ``school`` for everyone.
    region: Region | None = None

    def school_for(self, subject: HasUai | ConversationSession | None) -> SchoolConfig:
        """What a person reads that comes from the school — CGU, ENT address, contacts, quick
        answers, hours, name — for an account or a session: the establishment's once the
        account is known, the region's defaults before. The one place that chooses."""
        if self.region is None or subject is None:
            return self.school
        if isinstance(subject, ConversationSession):
            subject = _Uai(session_uai(subject))
        return self.region.for_account(subject)

    async def school_of_user(self, telegram_user_id: int) -> SchoolConfig:
        """The content for a person outside a step (help, « 🆘 Je bloque »): their open
        session's establishment if its account is known, else the one establishment of their
        linked accounts; the region's defaults if none, or several (a parent: each account's
        own content is shown with that account)."""
        if self.region is None:
            return self.school
        session = await self.sessions.get(telegram_user_id)
        if session is not None and session_uai(session):
            return self.school_for(session)
        uais = {account.uai for account in await self.directory.linked_to(telegram_user_id)}
        if len(uais) == 1:
            return self.region.for_account(_Uai(uais.pop()))
        return self.school

    def __post_init__(self) -> None:
        if self.outbox is None:
            # (imported here: the staff tools use the procedures' names without the outbox's
            # senders, which load python-telegram-bot)
            from bot.outbox import MailSender, Outbox

            self.outbox = Outbox(
                OutboxRepository(self.sessions.db),
                MailSender(self.mailer, self.school, self.keyed, self.region),
                self.clock,
            )

    def identifiant_key(self, identifiant: str) -> str:
        """The throttle key of an identifier as typed (keyed hash of its normal form)."""
        return identifiant_key(self.keyed, identifiant)

    def session_key(self, session: ConversationSession) -> str:
        """The throttle key of the session's identifier (sessions of earlier versions kept the
        proven identifier only)."""
        return session.identifiant_key or self.identifiant_key(session.identifiant or "")

    @staticmethod
    def actor(session: ConversationSession) -> str:
        """Who acts, for the audit trail."""
        return f"telegram:{session.telegram_user_id}"


@dataclass
class Steps:
    """The sessions of one procedure (``flow``): each step is saved before its answer is sent,
    with a new prompt nonce, so that buttons of earlier prompts stop working."""

    ports: ProcedurePorts
    flow: str

    async def session_of(self, telegram_user_id: int) -> ConversationSession | None:
        """The user's session of this procedure, if one is open."""
        session = await self.ports.sessions.get(telegram_user_id)
        return session if session and session.flow == self.flow else None

    def new_session(self, telegram_user_id: int, chat_id: int, step: str) -> ConversationSession:
        """A session of this procedure at ``step``, not saved yet."""
        now = self.ports.clock()
        return ConversationSession(
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            flow=self.flow,
            step=step,
            started_at=now,
            updated_at=now,
        )

    async def begin(
        self, telegram_user_id: int, chat_id: int, step: str, profil: str | None = None
    ) -> ConversationSession:
        """Open a new session at ``step`` (replacing any earlier one, of any procedure)."""
        session = self.new_session(telegram_user_id, chat_id, step)
        session.profil = profil
        await self.go(session, step)
        return session

    def note_secret(self, session: ConversationSession, text: str) -> None:
        """A secret was read at the session's step: its keyed digest goes with the session
        (saved with the step it causes), so that the step after knows the message that could
        be that secret typed again (the person got no answer): see :func:`secret_before`."""
        data = json.loads(session.flow_data or "{}")
        data[SECRET_HERE] = self.ports.keyed.digest(text.strip(), purpose=SECRET_PURPOSE)
        session.flow_data = json.dumps(data)

    async def go(
        self, session: ConversationSession, step: str, *, outbox: list[NewOutboxItem] | None = None
    ) -> None:
        """Move to ``step`` and save, with the outbox items the step causes in the same
        transaction. Moving on, the secret read at the step left (if any) becomes the
        « secret before » of the new one; the one before that is forgotten."""
        if step != session.step:
            data = json.loads(session.flow_data or "{}")
            data.pop(SECRET_BEFORE, None)
            read_here = data.pop(SECRET_HERE, None)
            if read_here is not None:
                data[SECRET_BEFORE] = read_here
            session.flow_data = json.dumps(data)
        session.step = step
        session.prompt_nonce = secrets.token_hex(3)
        await self.save(session, outbox=outbox)

    async def save(
        self, session: ConversationSession, *, outbox: list[NewOutboxItem] | None = None
    ) -> None:
        """Save the session as it is (same step, same nonce)."""
        session.updated_at = self.ports.clock()
        await self.ports.sessions.save(session, outbox=outbox or ())

    async def end(
        self, session: ConversationSession, *, outbox: list[NewOutboxItem] | None = None
    ) -> None:
        """The procedure is over: forget the session, writing what it owes in the same
        transaction, and wake the outbox for it."""
        items = outbox or []
        await self.ports.sessions.delete(session.telegram_user_id, outbox=items)
        for item in items:
            self.ports.outbox.kick(item)

    async def cancel(self, telegram_user_id: int) -> bool:
        """Leave the procedure the user is in (any); True if there was one."""
        existed = await self.ports.sessions.get(telegram_user_id) is not None
        await self.ports.sessions.delete(telegram_user_id)
        return existed


def secret_before(session: ConversationSession) -> str | None:
    """The keyed digest of the secret read at the step before the session's step, if one was:
    a message typed now that could be it is deleted, whatever step reads it."""
    digest = json.loads(session.flow_data or "{}").get(SECRET_BEFORE)
    return digest if isinstance(digest, str) else None


def is_secret_before(ports: ProcedurePorts, session: ConversationSession, text: str) -> bool:
    """Whether ``text`` is exactly the secret read at the step before (typed again)."""
    digest = secret_before(session)
    return digest is not None and ports.keyed.matches(text.strip(), digest, purpose=SECRET_PURPOSE)


async def same_pending_password(ports: ProcedurePorts, stored: str | None, typed: str) -> bool:
    """Whether the confirmation ``typed`` is the new password kept as ``stored``: its pending
    digest (no argon2id), or the argon2id hash a session of an earlier version kept."""
    if stored is None:
        return False
    if is_pending_digest(stored):
        return ports.keyed.matches_pending(typed, stored, purpose="password")
    return await ports.hasher.verify(stored, typed)


class ProcedureService(Protocol):
    """What the handlers may ask of any procedure's service."""

    ports: ProcedurePorts
    steps: Steps

    async def session_of(self, telegram_user_id: int) -> ConversationSession | None:
        """The user's session of this procedure, if one is open."""
        ...

    async def cancel(self, telegram_user_id: int) -> bool:
        """Leave the procedure; True if there was one."""
        ...

    async def verify_link(self, telegram_user_id: int, token: str) -> Result:
        """The deep link of this procedure's e-mail."""
        ...


class EmailProcedure(ProcedureService, Protocol):
    """A procedure with an address to type and prove (the e-mail buttons every such step
    shares)."""

    async def change_email(self, session: ConversationSession) -> None:
        """Type another address."""
        ...

    async def use_suggested_address(self, session: ConversationSession) -> None:
        """Take the corrected address suggested for a typo."""
        ...

    async def send_verification(
        self, session: ConversationSession, bot_username: str, *, resend: bool = False
    ) -> Result:
        """Send the code and link to the pending address."""
        ...
