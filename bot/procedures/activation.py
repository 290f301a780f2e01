"""The activation procedure as plain, typed service functions (no Telegram in here).

Each public method takes the user's session and what they typed or chose, applies the rules of
the two guides (provisional credentials → CGU → verified e-mail or two secret questions → new
password, confirmed → active account), saves the new step to the database and only then returns
an outcome for the handler to render.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from bot import texts
from bot.directory.port import Directory, DirectoryRule, PasswordRejected
from bot.outbox import senders as outbox_templates
from bot.outbox.mail import Mailer, validate_email_address
from bot.outbox.seeds import code_from_seed, new_seed, token_from_seed
from bot.outbox.senders import MailSender
from bot.outbox.worker import Outbox
from bot.procedures.password_policy import PasswordPolicy, PasswordRule
from bot.procedures.throttle import ThrottlePolicy, guarded_check, identifiant_key
from bot.school import SchoolConfig
from bot.security import (
    KeyedHasher,
    SecretHasher,
    generate_numeric_code,
    generate_token,
    normalise_answer,
)
from storage.accounts import (
    Account,
    AccountStatus,
    ActivationRecord,
    SqliteAccountDirectory,
)
from storage.outbox import NewOutboxItem, OutboxKind, OutboxRepository
from storage.records import RecordRepository
from storage.sessions import ConversationSession, SessionRepository
from storage.throttle import ThrottleRepository

FLOW_ACTIVATION = "activation"
# ``/start activer`` (the link printed on staff letters) goes straight to the identifier.
START_PAYLOAD_ACTIVATE = "activer"

Clock = Callable[[], datetime]
Check = Callable[[], Awaitable[bool]]

# A notice e-mail (« mot de passe changé », old address told) is retried for a week.
NOTICE_KEPT_FOR = timedelta(days=7)


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


class Step(StrEnum):
    """Steps of the activation; also the states of its ConversationHandler."""

    PROFILE = "profil"
    IDENTIFIANT = "identifiant"
    PROVISIONAL = "mot_de_passe_provisoire"
    CGU = "cgu"
    RECOVERY = "choix_secours"
    EMAIL = "email"
    EMAIL_CONFIRM = "email_confirmation"
    CODE = "code"
    QUESTION1 = "question1"
    ANSWER1 = "reponse1"
    QUESTION2 = "question2"
    ANSWER2 = "reponse2"
    PASSWORD = "mot_de_passe"
    PASSWORD_CONFIRM = "confirmation"


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
    # The directory's own password policy refused the new password (``Result.directory_rule``).
    DIRECTORY_REFUSED = "directory_refused"


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
    """The knobs of the procedure (from :class:`bot.settings.Settings`)."""

    code_length: int = 8
    verification_ttl: timedelta = timedelta(hours=48)
    resend_cooldown: timedelta = timedelta(seconds=60)
    max_resends: int = 5
    min_answer_length: int = 3
    max_answer_length: int = 100
    max_identifiant_length: int = 100
    # Code e-mails, counted from the outbox whatever the procedure: one address gets at most
    # one every ``mail_address_cooldown`` and ``max_mails_per_address`` per ``mail_window``,
    # one account ``max_mails_per_account``. The answer waits at most ``mail_reply_wait``
    # for the first attempt.
    mail_address_cooldown: timedelta = timedelta(seconds=60)
    max_mails_per_address: int = 10
    max_mails_per_account: int = 10
    mail_window: timedelta = timedelta(hours=24)
    mail_reply_wait: float = 3.0
    # Told (in Telegram, through the outbox) when an identifier reaches the staff-only lock.
    staff_telegram_ids: tuple[int, ...] = ()


@dataclass
class ActivationService:
    """The activation rules, over the directory, the repositories, the hashers and the mailer.

    ``directory`` holds the accounts and checks their passwords (clear secrets go in, never a
    hash comes out); ``accounts`` writes what only the bot knows about them (Telegram link, CGU
    acceptance, secret answers), in SQLite whatever the directory."""

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
    # Where e-mails go (in the transaction of the step that causes them); one over the same
    # database and mailer is made if none is given.
    outbox: Outbox | None = None

    flow: ClassVar[str] = FLOW_ACTIVATION
    mail_template: ClassVar[str] = outbox_templates.VERIFICATION
    # Steps of the e-mail and question machinery; a procedure that reuses it (see
    # :mod:`bot.procedures.my_account`) names its own steps (steps are unique across procedures).
    email_step: ClassVar[str] = Step.EMAIL
    email_confirm_step: ClassVar[str] = Step.EMAIL_CONFIRM
    code_step: ClassVar[str] = Step.CODE
    question_steps: ClassVar[tuple[str, str, str, str]] = (
        Step.QUESTION1,
        Step.ANSWER1,
        Step.QUESTION2,
        Step.ANSWER2,
    )

    def __post_init__(self) -> None:
        if self.outbox is None:
            self.outbox = Outbox(
                OutboxRepository(self.sessions.db),
                MailSender(self.mailer, self.school, self.keyed),
                self.clock,
            )

    # --- sessions ------------------------------------------------------------------------

    async def session_of(self, telegram_user_id: int) -> ConversationSession | None:
        """The user's activation session, if one is open."""
        session = await self.sessions.get(telegram_user_id)
        return session if session and session.flow == self.flow else None

    async def begin(
        self, telegram_user_id: int, chat_id: int, step: str, profil: str | None = None
    ) -> ConversationSession:
        """Open a new session at ``step`` (replacing any earlier one, of any procedure)."""
        now = self.clock()
        session = ConversationSession(
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            flow=self.flow,
            step=step,
            started_at=now,
            updated_at=now,
            profil=profil,
        )
        await self._go(session, step)
        return session

    async def choose_profile(self, session: ConversationSession, profil: str) -> None:
        """The user said who they are; ask the identifier."""
        session.profil = profil
        await self._go(session, Step.IDENTIFIANT)

    async def cancel(self, telegram_user_id: int) -> bool:
        """Leave the procedure; True if there was one."""
        existed = await self.sessions.get(telegram_user_id) is not None
        await self.sessions.delete(telegram_user_id)
        return existed

    async def _go(
        self, session: ConversationSession, step: str, *, outbox: list[NewOutboxItem] | None = None
    ) -> None:
        """Move to ``step`` (buttons of earlier prompts stop working) and save, with the outbox
        items the step causes in the same transaction."""
        session.step = step
        session.prompt_nonce = secrets.token_hex(3)
        await self._save(session, outbox=outbox)

    async def _save(
        self, session: ConversationSession, *, outbox: list[NewOutboxItem] | None = None
    ) -> None:
        session.updated_at = self.clock()
        await self.sessions.save(session, outbox=outbox or ())

    def _key(self, identifiant: str) -> str:
        return identifiant_key(self.keyed, identifiant)

    def _session_key(self, session: ConversationSession) -> str:
        """The throttle key of the session's identifier (sessions of earlier versions kept the
        proven identifier only)."""
        return session.identifiant_key or self._key(session.identifiant or "")

    async def _remember_identifiant(self, session: ConversationSession, identifiant: str) -> None:
        """Keep what an identifier prompt needs, never the typed text (a password typed there by
        mistake must not stay): the throttle key, and the id of the account it names, looked up
        now with the same work whether there is one or not."""
        account = await self.directory.find(identifiant)
        session.identifiant = None
        session.account_id = None
        session.identifiant_key = self._key(identifiant)
        session.candidate_account_id = account.id if account else None

    def _forget_identifiant(self, session: ConversationSession) -> None:
        session.identifiant = None
        session.account_id = None
        session.identifiant_key = None
        session.candidate_account_id = None

    # --- step 1: provisional credentials -------------------------------------------------

    def valid_identifiant(self, text: str) -> str | None:
        """The identifier typed, if it has the shape of one (one word, not too long)."""
        identifiant = text.strip()
        if (
            not identifiant
            or len(identifiant) > self.settings.max_identifiant_length
            or any(ch.isspace() for ch in identifiant)
        ):
            return None
        return identifiant

    async def submit_identifiant(self, session: ConversationSession, text: str) -> Result:
        """Keep the identifier's reference (not checked yet: nothing is said about it before
        the password)."""
        identifiant = self.valid_identifiant(text)
        if identifiant is None:
            return Result(Outcome.INVALID)
        await self._remember_identifiant(session, identifiant)
        await self._go(session, Step.PROVISIONAL)
        return Result(Outcome.OK)

    async def submit_provisional(self, session: ConversationSession, password: str) -> Result:
        """Check identifier + provisional password, with the same answer and the same work
        whether the identifier is unknown, wrong, locked, throttled or already active."""
        now = self.clock()
        key = self._session_key(session)
        tried = await self.throttle.identifiants_tried(
            session.telegram_user_id, now - self.throttle_policy.window
        )
        if not self.throttle_policy.may_try_identifiant(tried, key):
            self._forget_identifiant(session)
            await self._go(session, Step.IDENTIFIANT)
            return Result(Outcome.TOO_MANY_IDENTIFIANTS)
        await self.throttle.record_identifiant_attempt(session.telegram_user_id, key, now)
        candidate = session.candidate_account_id
        # The attempt is reserved before the check (see
        # bot.procedures.throttle.guarded_check): a burst of guesses sent at once cannot all be
        # evaluated.
        attempt = await guarded_check(
            self.throttle,
            self.throttle_policy,
            key,
            now,
            lambda: self.directory.check_provisional(candidate, password),
        )
        if attempt.newly_locked:
            await self._tell_staff_locked(candidate)
        account = await self.directory.get(candidate) if attempt.accepted and candidate else None
        if account is not None:
            session.account_id = account.id
            session.identifiant = account.identifiant
            await self._go(session, Step.CGU)
            await self.records.audit(
                "activation_started", account.id, f"telegram:{session.telegram_user_id}", now
            )
            return Result(Outcome.OK, account=account)
        self._forget_identifiant(session)
        await self._go(session, Step.IDENTIFIANT)
        return Result(Outcome.REFUSED)

    # --- step 2: CGU ----------------------------------------------------------------------

    async def accept_cgu(self, session: ConversationSession) -> Result:
        """Record the acceptance (version = SHA-256 of the text, UTC time, Telegram user)."""
        if session.account_id is None:
            return await self._restart_credentials(session)
        now = self.clock()
        session.cgu_version = self.school.cgu_version
        session.cgu_accepted_at = now
        await self.records.record_cgu_acceptance(
            session.account_id, session.cgu_version, now, session.telegram_user_id
        )
        await self._go(session, Step.RECOVERY)
        return Result(Outcome.OK)

    async def show_cgu_again(self, session: ConversationSession) -> None:
        """After a refusal: the CGU are shown again (new buttons)."""
        await self._go(session, Step.CGU)

    # --- step 3: e-mail -------------------------------------------------------------------

    async def choose_email(self, session: ConversationSession) -> None:
        """The user prefers a personal e-mail address."""
        await self._go(session, Step.EMAIL)

    async def choose_questions(self, session: ConversationSession) -> None:
        """The user prefers two secret questions (any pending code stops working)."""
        session.email = None
        session.code_hash = session.token_hash = None
        session.code_expires_at = None
        session.question1 = session.answer1_hash = None
        session.question2 = session.answer2_hash = None
        await self._go(session, Step.QUESTION1)

    async def submit_email(self, session: ConversationSession, text: str) -> Result:
        """Check the address's syntax (email-validator); ask the user to confirm it."""
        address = validate_email_address(text.strip())
        if address is None:
            return Result(Outcome.INVALID)
        session.email = address
        await self._go(session, self.email_confirm_step)
        return Result(Outcome.OK, email=address)

    async def send_verification(
        self, session: ConversationSession, bot_username: str, *, resend: bool = False
    ) -> Result:
        """Send a new code and link (revoking the previous ones) to the pending address.

        A resend to the same address waits for the cooldown; a first send to a corrected address
        goes at once. Every e-mail after the first of the procedure counts in ``max_resends``, so
        nobody can make the bot send a stream of e-mails by changing the address back and forth."""
        now = self.clock()
        if session.email is None or session.account_id is None:
            return await self._restart_credentials(session)
        previously_sent_at = session.code_sent_at
        if resend:
            if self._expired(session, now):
                return await self._expire(session)
            if previously_sent_at and now < previously_sent_at + self.settings.resend_cooldown:
                wait = previously_sent_at + self.settings.resend_cooldown - now
                return Result(Outcome.TOO_SOON, retry_after=wait)
        if previously_sent_at is not None and session.resend_count >= self.settings.max_resends:
            return Result(Outcome.RESEND_LIMIT)
        refusal = await self._mail_refusal(session.account_id, session.email, now)
        if refusal is not None:
            return refusal
        account = await self.directory.get(session.account_id)
        seed = self._new_code_from_seed(session, new_seed())
        session.code_sent_at = now
        if previously_sent_at is not None:
            session.resend_count += 1
        if not resend or session.code_expires_at is None:
            session.code_expires_at = now + self.settings.verification_ttl
        mail = self._code_mail(
            self.mail_template,
            session.email,
            account.prenom if account and account.prenom else "",
            seed,
            session.account_id,
            bot_username,
            session.code_expires_at,
        )
        await self._go(session, self.code_step, outbox=[mail])
        sent = await self._outbox().wait_sent(mail, self.settings.mail_reply_wait)
        # Not sent yet (SMTP down or slow): the outbox retries; the code is valid already.
        return Result(Outcome.SENT if sent else Outcome.QUEUED, email=session.email)

    # --- e-mails through the outbox ---------------------------------------------------------

    def _outbox(self) -> Outbox:
        assert self.outbox is not None
        return self.outbox

    def _address_key(self, address: str) -> str:
        """Keyed hash of an address, to count the e-mails sent to it."""
        return self.keyed.digest(address.strip().casefold(), purpose="mail-address")

    async def _mail_refusal(
        self, account_id: int | None, address: str, now: datetime
    ) -> Result | None:
        """TOO_SOON or RESEND_LIMIT if a code e-mail to this address or account would exceed
        the limits (counted from the outbox, across procedures and restarts); None if allowed."""
        by_account, by_address, last_at = await self._outbox().repository.code_mails_since(
            now - self.settings.mail_window,
            account_id=account_id,
            address_key=self._address_key(address),
        )
        if last_at is not None and now < last_at + self.settings.mail_address_cooldown:
            return Result(
                Outcome.TOO_SOON, retry_after=last_at + self.settings.mail_address_cooldown - now
            )
        if (
            by_address >= self.settings.max_mails_per_address
            or by_account >= self.settings.max_mails_per_account
        ):
            return Result(Outcome.RESEND_LIMIT)
        return None

    def _code_mail(
        self,
        template: str,
        to: str,
        prenom: str,
        seed: str,
        account_id: int | None,
        bot_username: str,
        expires_at: datetime,
    ) -> NewOutboxItem:
        """The outbox item of a code e-mail: no code nor token in it, only the seed."""
        return NewOutboxItem(
            kind=OutboxKind.CODE_MAIL,
            template=template,
            params={
                "to": to,
                "prenom": prenom,
                "code_length": self.settings.code_length,
                "hours": round(self.settings.verification_ttl.total_seconds() / 3600),
                "bot_username": bot_username,
            },
            seed=seed,
            account_id=account_id,
            address_key=self._address_key(to),
            created_at=self.clock(),
            expires_at=expires_at,
        )

    def _notice_mail(self, template: str, to: str, account_id: int, **params: str) -> NewOutboxItem:
        """The outbox item of a notice e-mail (kept for a week if the server stays down)."""
        now = self.clock()
        return NewOutboxItem(
            kind=OutboxKind.NOTICE_MAIL,
            template=template,
            params={"to": to, **params},
            account_id=account_id,
            address_key=self._address_key(to),
            created_at=now,
            expires_at=now + NOTICE_KEPT_FOR,
        )

    async def change_email(self, session: ConversationSession) -> None:
        """Type another address (the pending code stops working)."""
        session.code_hash = session.token_hash = None
        await self._go(session, self.email_step)

    def _new_code(self, session: ConversationSession) -> tuple[str, str]:
        """A new code and link token; only their keyed hashes are kept (the old ones die)."""
        code = generate_numeric_code(self.settings.code_length)
        token = generate_token()
        session.code_hash = self.keyed.digest(code, purpose="code")
        session.token_hash = self.keyed.digest(token, purpose="token")
        return code, token

    def _new_code_from_seed(self, session: ConversationSession, seed: str) -> str:
        """A new code and link token derived from ``seed`` with the server key (the outbox
        keeps the seed until the e-mail leaves); only their keyed hashes are kept; the old
        ones die. Returns the seed."""
        code = code_from_seed(self.keyed, seed, self.settings.code_length)
        token = token_from_seed(self.keyed, seed)
        session.code_hash = self.keyed.digest(code, purpose="code")
        session.token_hash = self.keyed.digest(token, purpose="token")
        return seed

    def _expired(self, session: ConversationSession, now: datetime) -> bool:
        return session.code_expires_at is not None and now >= session.code_expires_at

    async def _expire(self, session: ConversationSession) -> Result:
        """48 hours passed: start again from the provisional password, as the guides say."""
        await self._restart_credentials(session, keep_identifiant=True)
        return Result(Outcome.EXPIRED)

    async def _restart_credentials(
        self, session: ConversationSession, *, keep_identifiant: bool = False
    ) -> Result:
        identifiant = session.identifiant if keep_identifiant else None
        key = session.identifiant_key if keep_identifiant else None
        candidate = (session.candidate_account_id or session.account_id) if identifiant else None
        fresh = ConversationSession(
            telegram_user_id=session.telegram_user_id,
            chat_id=session.chat_id,
            flow=FLOW_ACTIVATION,
            step=Step.IDENTIFIANT,
            started_at=self.clock(),
            updated_at=self.clock(),
            profil=session.profil,
            identifiant=identifiant,
            identifiant_key=key or (self._key(identifiant) if identifiant else None),
            candidate_account_id=candidate,
        )
        for name in vars(fresh):
            setattr(session, name, getattr(fresh, name))
        await self._go(session, Step.PROVISIONAL if identifiant else Step.IDENTIFIANT)
        return Result(Outcome.EXPIRED)

    async def submit_code(self, session: ConversationSession, text: str) -> Result:
        """Check a code typed in the chat (wrong codes count in the identifier's throttle)."""
        now = self.clock()
        code = "".join(text.split())
        if not code.isdigit() or len(code) != self.settings.code_length:
            return Result(Outcome.INVALID)
        if self._expired(session, now):
            return await self._expire(session)
        result = await self._check_code(session, code, now)
        if result.outcome == Outcome.OK:
            return await self._email_verified(session, now)
        return result

    async def _check_code(self, session: ConversationSession, code: str, now: datetime) -> Result:
        """OK, WRONG, THROTTLED or LOCKED; wrong codes count even while attempts are refused."""
        code_hash = session.code_hash

        async def check() -> bool:
            return code_hash is not None and self.keyed.matches(code, code_hash, purpose="code")

        return await self._judge_attempt(
            self._session_key(session), check, now, account_id=session.account_id
        )

    async def _judge_attempt(
        self, key: str, check: Check, now: datetime, *, account_id: int | None
    ) -> Result:
        """The throttle's verdict on a guess of a secret bound to the identifier of throttle key
        ``key``: OK, WRONG, THROTTLED or LOCKED. The attempt is reserved before ``check`` runs
        (:func:`bot.procedures.throttle.guarded_check`); wrong guesses count even while refused.
        Staff are told when this guess locks ``account_id``'s identifier."""
        attempt = await guarded_check(self.throttle, self.throttle_policy, key, now, check)
        if attempt.newly_locked:
            await self._tell_staff_locked(account_id)
        if attempt.accepted:
            return Result(Outcome.OK)
        if attempt.locked:
            return Result(Outcome.LOCKED)
        if attempt.retry_after is not None:
            return Result(Outcome.THROTTLED, retry_after=attempt.retry_after)
        return Result(Outcome.WRONG)

    async def _tell_staff_locked(self, account_id: int | None) -> None:
        """An identifier just reached the staff-only lock: tell staff in Telegram (the
        identifier if it names an account; never what was typed)."""
        account = await self.directory.get(account_id) if account_id is not None else None
        text = texts.staff_account_locked(
            account.identifiant if account else None, self.throttle_policy.failures_before_lock
        )
        if self.outbox is not None:
            await self.outbox.tell_staff(self.settings.staff_telegram_ids, text)

    async def flow_of_link(self, token: str) -> str | None:
        """The procedure whose session sent the link ``token`` (None if no session did)."""
        session = await self.sessions.find_by_token_hash(self.keyed.digest(token, purpose="token"))
        return session.flow if session else None

    async def verify_link(self, telegram_user_id: int, token: str) -> Result:
        """The deep link ``/start <token>`` from the e-mail."""
        now = self.clock()
        session = await self.sessions.find_by_token_hash(self.keyed.digest(token, purpose="token"))
        if session is None or session.flow != self.flow or session.step != self.code_step:
            return Result(Outcome.INVALID)
        if session.telegram_user_id != telegram_user_id:
            return Result(Outcome.OTHER_USER)
        if self._expired(session, now):
            return await self._expire(session)
        return await self._email_verified(session, now)

    async def _email_verified(self, session: ConversationSession, now: datetime) -> Result:
        session.email_verified_at = now
        session.code_hash = session.token_hash = None
        await self._go(session, Step.PASSWORD)
        await self.records.audit(
            "email_verified", session.account_id, f"telegram:{session.telegram_user_id}", now
        )
        return Result(Outcome.OK, email=session.email)

    # --- step 3 bis: secret questions ----------------------------------------------------

    def available_questions(self, session: ConversationSession) -> list[tuple[int, str]]:
        """(index, question) the user may still choose."""
        return [
            (index, question)
            for index, question in enumerate(self.school.secret_questions)
            if question != session.question1
        ]

    async def choose_question(self, session: ConversationSession, index: int) -> Result:
        """Pick question 1 or 2 by its index in the configured list."""
        allowed = dict(self.available_questions(session))
        if index not in allowed:
            return Result(Outcome.INVALID)
        question1, answer1, _, answer2 = self.question_steps
        if session.step == question1:
            session.question1 = allowed[index]
            await self._go(session, answer1)
        else:
            session.question2 = allowed[index]
            await self._go(session, answer2)
        return Result(Outcome.OK)

    async def submit_answer(self, session: ConversationSession, text: str) -> Result:
        """Normalise (case, accents, spaces) and argon2id-hash the answer."""
        answer = normalise_answer(text)
        if len(answer) < self.settings.min_answer_length:
            return Result(Outcome.TOO_SHORT)
        if len(answer) > self.settings.max_answer_length:
            return Result(Outcome.TOO_LONG)
        hashed = await self.hasher.hash(answer)
        _, answer1, question2, _ = self.question_steps
        if session.step == answer1:
            session.answer1_hash = hashed
            await self._go(session, question2)
            return Result(Outcome.OK)
        session.answer2_hash = hashed
        return await self._questions_chosen(session)

    async def _questions_chosen(self, session: ConversationSession) -> Result:
        """Both answers are hashed: on to the password."""
        await self._go(session, Step.PASSWORD)
        await self.records.audit(
            "questions_set",
            session.account_id,
            f"telegram:{session.telegram_user_id}",
            self.clock(),
        )
        return Result(Outcome.OK)

    # --- step 4: password ----------------------------------------------------------------

    async def submit_password(self, session: ConversationSession, password: str) -> Result:
        """Check the rule, then keep only the argon2id hash until the confirmation."""
        account = await self.directory.get(session.account_id) if session.account_id else None
        if account is None:
            return await self._restart_credentials(session)
        rules = list(
            self.password_policy.check(
                password,
                identifiant=account.identifiant,
                first_name=account.prenom,
                last_name=account.nom,
            )
        )
        if not rules and await self.directory.check_provisional(account.id, password):
            rules.append(PasswordRule.SAME_AS_PROVISIONAL)
        if rules:
            return Result(Outcome.REFUSED, rules=tuple(rules))
        session.new_password_hash = await self.hasher.hash(password)
        await self._go(session, Step.PASSWORD_CONFIRM)
        return Result(Outcome.OK)

    async def confirm_password(self, session: ConversationSession, password: str) -> Result:
        """Second typing: activate the account if both match (exactly one chat wins)."""
        if not await self.hasher.verify(session.new_password_hash, password):
            session.new_password_hash = None
            await self._go(session, Step.PASSWORD)
            return Result(Outcome.MISMATCH)
        if session.account_id is None or session.new_password_hash is None:
            return await self._restart_credentials(session)
        if session.cgu_version is None or session.cgu_accepted_at is None:
            await self._go(session, Step.CGU)
            return Result(Outcome.INVALID)
        now = self.clock()
        record = ActivationRecord(
            email=session.email if session.email_verified_at else None,
            email_verified_at=session.email_verified_at,
            secret_question1=session.question1 if session.answer2_hash else None,
            secret_answer1_hash=session.answer1_hash if session.answer2_hash else None,
            secret_question2=session.question2 if session.answer2_hash else None,
            secret_answer2_hash=session.answer2_hash,
            telegram_user_id=session.telegram_user_id,
            cgu_version=session.cgu_version,
            cgu_accepted_at=session.cgu_accepted_at,
            activated_at=now,
        )
        if record.email is None and record.secret_answer2_hash is None:
            await self._go(session, Step.RECOVERY)
            return Result(Outcome.INVALID)
        try:
            won = await self.directory.activate(session.account_id, password, record)
        except PasswordRejected as refusal:
            # The directory's own policy (LDAP): the user chooses another password.
            session.new_password_hash = None
            await self._go(session, Step.PASSWORD)
            return Result(Outcome.DIRECTORY_REFUSED, directory_rule=refusal.rule)
        account = await self.directory.get(session.account_id)
        await self.sessions.delete(session.telegram_user_id)
        if not won:
            if (
                account is not None
                and account.status == AccountStatus.ACTIVE
                and account.telegram_user_id == session.telegram_user_id
            ):
                # This user's own activation, committed before a crash kept its answer from
                # being sent: they type the confirmation again and are told it is done.
                email = account.email if account.email_verified else None
                return Result(Outcome.ACTIVATED, account=account, email=email)
            return Result(Outcome.TAKEN, account=account)
        return Result(Outcome.ACTIVATED, account=account, email=record.email)
