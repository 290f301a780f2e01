"""« Mot de passe oublié » as plain service functions (no Telegram in here).

identifier → the user says how they chose to recover (e-mail or secret questions) → a code and
link by e-mail, or both answers → new password, confirmed. The bot answers the same way, doing
the same work, whether the identifier exists, is active, has an e-mail or questions: nothing
about the account is told before the code or both answers are proven, and nothing changes.
Wrong answers count in the activation's throttle (same keys); a code on its own key.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot import texts
from bot.directory.port import PasswordRejected
from bot.outbox import templates as outbox_templates
from bot.outbox.seeds import new_seed
from bot.procedures.description import Description, EntryCommand, StepSpec, menu_text
from bot.procedures.kernel import (
    Outcome,
    ProcedurePorts,
    Result,
    Steps,
    note_establishment,
    same_pending_password,
)
from bot.procedures.parts import replies
from bot.procedures.parts.checked_secret import CheckedSecret
from bot.procedures.parts.email_proof import CodeProof
from bot.procedures.parts.identifier import IdentifierPrompt
from bot.procedures.parts.mails import OwedMails
from bot.procedures.reply import Reply, Via, over, refused
from bot.procedures.throttle import chat_key
from bot.procedures.view import InputKind, Prompt, Row, rows_of
from bot.security import normalise_answer, normalise_identifiant
from bot.texts import ldap as ldap_texts
from storage.accounts import Account, AccountStatus
from storage.sessions import ConversationSession

logger = logging.getLogger(__name__)

FLOW_RECOVERY = "recovery"


class RecoveryStep(StrEnum):
    """Steps of the password recovery (unique across procedures)."""

    IDENTIFIANT = "mdp_identifiant"
    METHOD = "mdp_methode"
    CODE = "mdp_code"
    ANSWER1 = "mdp_reponse1"
    ANSWER2 = "mdp_reponse2"
    PASSWORD = "mdp_nouveau"
    PASSWORD_CONFIRM = "mdp_confirmation"


@dataclass
class RecoveryService:
    """Password recovery: identifier prompt, code proof or the account's two questions (checked
    secrets), new password."""

    ports: ProcedurePorts
    steps: Steps = field(init=False)
    identifier: IdentifierPrompt = field(init=False)
    secret: CheckedSecret = field(init=False)
    mails: OwedMails = field(init=False)
    code: CodeProof = field(init=False)

    def __post_init__(self) -> None:
        ports = self.ports
        self.steps = Steps(ports, FLOW_RECOVERY)
        self.identifier = IdentifierPrompt(ports)
        self.secret = CheckedSecret(ports)
        self.mails = OwedMails(ports)
        self.code = CodeProof(
            ports,
            self.steps,
            RecoveryStep.CODE,
            self.secret,
            code_key=self._code_key,
            on_verified=self._code_proven,
            on_expired=self._expire,
        )

    async def session_of(self, telegram_user_id: int) -> ConversationSession | None:
        """The user's recovery session, if one is open."""
        return await self.steps.session_of(telegram_user_id)

    async def cancel(self, telegram_user_id: int) -> bool:
        """Leave the procedure (any); True if there was one."""
        return await self.steps.cancel(telegram_user_id)

    async def start(self, telegram_user_id: int, chat_id: int) -> ConversationSession:
        """/motdepasse: ask the identifier."""
        return await self.begin(telegram_user_id, chat_id, RecoveryStep.IDENTIFIANT)

    async def begin(self, telegram_user_id: int, chat_id: int, step: str) -> ConversationSession:
        """A new recovery at ``step`` (replacing any open procedure)."""
        return await self.steps.begin(telegram_user_id, chat_id, step)

    async def verify_link(self, telegram_user_id: int, token: str) -> Result:
        """The deep link of the recovery e-mail."""
        return await self.code.verify_link(telegram_user_id, token)

    async def submit_recovery_identifiant(self, session: ConversationSession, text: str) -> Result:
        """Keep the identifier's reference, not the typed text; nothing is told yet."""
        identifiant = self.identifier.valid(text)
        if identifiant is None:
            return Result(Outcome.INVALID)
        await self.identifier.remember(session, identifiant)
        await self.steps.go(session, RecoveryStep.METHOD)
        return Result(Outcome.OK)

    async def _candidate(
        self, session: ConversationSession
    ) -> tuple[Account | None, Result | None]:
        """The active account behind the identifier, once the per-user cap allows the try."""
        if not await self.identifier.may_try(session):
            await self.ports.sessions.delete(session.telegram_user_id)
            return None, Result(Outcome.TOO_MANY_IDENTIFIANTS)
        # The same look-up whether the identifier named an account or not (no id is -1).
        candidate = session.candidate_account_id
        account = await self.ports.directory.get(-1 if candidate is None else candidate)
        if account is None or account.status != AccountStatus.ACTIVE:
            return None, None
        return account, None

    async def send_verification(
        self, session: ConversationSession, bot_username: str, *, resend: bool = False
    ) -> Result:
        """The e-mail again (« 🆘 Je bloque » → « renvoyer », which asks every procedure with a
        sent code for this): :meth:`choose_email_method`, its cooldown and its same answer
        whether an e-mail leaves or not. The support code called it on the recovery too, which
        had no such method (an AttributeError the fuzz test found)."""
        return await self.choose_email_method(session, bot_username)

    async def choose_email_method(self, session: ConversationSession, bot_username: str) -> Result:
        """Send a code and link if the account has a verified address; say the same either way.
        The e-mail leaves in the background, so the answer takes the same time."""
        ports = self.ports
        settings = ports.settings
        now = ports.clock()
        if session.step == RecoveryStep.CODE and session.code_sent_at is not None:
            if now < session.code_sent_at + settings.resend_cooldown:
                wait = session.code_sent_at + settings.resend_cooldown - now
                return Result(Outcome.TOO_SOON, retry_after=wait)
            if session.resend_count >= settings.max_resends:
                return Result(Outcome.RESEND_LIMIT)
            session.resend_count += 1
        account, refusal = await self._candidate(session)
        if refusal is not None:
            return refusal
        # The same work for all: a seed and its hashes, the limits' look-up (on a stand-in
        # address without one); the e-mail is only written to the outbox, sent by its worker.
        previous_hashes = (session.code_hash, session.token_hash)
        seed = new_seed()
        self.code.new_code_from_seed(session, seed)
        address = account.email if account and account.email and account.email_verified else None
        refusal = await self.mails.refusal(
            session.telegram_user_id,
            account.id if account else None,
            address or f"none:{normalise_identifiant(session.identifiant or '')}",
            now,
        )
        session.account_id = account.id if account else None
        session.code_sent_at = now
        previous_expiry = session.code_expires_at
        session.code_expires_at = now + settings.verification_ttl
        mail = self.mails.code_mail(
            outbox_templates.RECOVERY,
            address or "",
            account.prenom if account else "",
            seed,
            account.id if account else None,
            bot_username,
            session.code_expires_at,
            account.uai if account else None,
        )
        if account is None or address is None:
            self._no_code(session, seed)
            mail.decoy = True
        elif refusal is not None:
            # Too many e-mails to this address or account: the last code (if any) stays the
            # valid one, and nothing is told (the answer is the same).
            session.code_hash, session.token_hash = previous_hashes
            session.code_expires_at = previous_expiry or session.code_expires_at
            if session.code_hash is None:
                self._no_code(session, seed)
            mail.decoy = True
        # A decoy costs the same statement in the same transaction and writes nothing.
        await self.steps.go(session, RecoveryStep.CODE, outbox=[mail])
        ports.outbox.defer(mail, ports.outbox.settings.off_reply_delay)
        return Result(Outcome.SENT)

    async def choose_questions_method(self, session: ConversationSession) -> Result:
        """Ask the account's two questions; for an unknown identifier, two questions of the
        configured list drawn from its keyed hash (always the same ones), so nothing shows."""
        account, refusal = await self._candidate(session)
        if refusal is not None:
            return refusal
        session.account_id = account.id if account else None
        if account and account.secret_question1 and account.secret_question2:
            session.question1, session.question2 = (
                account.secret_question1,
                account.secret_question2,
            )
        else:
            session.question1, session.question2 = self._decoy_questions(
                self.ports.session_key(session)
            )
        session.flow_data = json.dumps({})
        await self.steps.go(session, RecoveryStep.ANSWER1)
        return Result(Outcome.OK)

    def _no_code(self, session: ConversationSession, seed: str) -> None:
        """No e-mail leaves: no code can be right, yet the code step has a hash of its own,
        fresh at each request as a real code's is, so that wrong codes are throttled on a key of
        their own exactly as for an account with an address (a shared key for every « no
        code » once made the replies differ, issue 29.5). The hash is of another purpose than
        a code's: no typed code ever matches it."""
        session.code_hash = self.ports.keyed.digest(seed, purpose="recovery-no-code")
        session.token_hash = None

    def _decoy_questions(self, key: str) -> tuple[str, str]:
        """Two questions drawn from the identifier's throttle key (always the same ones)."""
        # The region's list, whatever the account's establishment: the decoys must not tell
        # whether the identifier is of an establishment with its own list.
        questions = self.ports.school.secret_questions
        digest = int(self.ports.keyed.digest(key, purpose="decoy"), 16)
        first = digest % len(questions)
        second = (first + 1 + (digest // len(questions)) % (len(questions) - 1)) % len(questions)
        return questions[first], questions[second]

    async def submit_recovery_answer(self, session: ConversationSession, text: str) -> Result:
        """Check an answer against its argon2id hash (a dummy one if there is none); the
        verdict is told only after both answers, and wrong pairs count in the throttle."""
        ports = self.ports
        account = await ports.directory.get(session.account_id) if session.account_id else None
        first = session.step == RecoveryStep.ANSWER1
        stored = None
        if account is not None:
            stored = account.secret_answer1_hash if first else account.secret_answer2_hash
        answer = normalise_answer(text)
        data = json.loads(session.flow_data or "{}")
        if first:
            data["a1"] = await ports.hasher.verify(stored, answer)
            session.flow_data = json.dumps(data)
            await self.steps.go(session, RecoveryStep.ANSWER2)
            return Result(Outcome.OK)

        async def both_right() -> bool:
            second = await ports.hasher.verify(stored, answer)
            return bool(data.get("a1")) and second and account is not None

        # The pair is judged under the throttle, reserved before the second answer's check;
        # this chat's own tries first (their wait is told: the same for every identifier).
        result = await self.secret.judge(
            ports.session_key(session),
            both_right,
            ports.clock(),
            account_id=session.account_id,
            chat=chat_key(session.telegram_user_id),
        )
        data.pop("a1", None)  # the first verdict is spent (what else the session notes stays)
        session.flow_data = json.dumps(data)
        if result.outcome == Outcome.OK:
            note_establishment(session, account.uai if account else None)
            await self.steps.go(session, RecoveryStep.PASSWORD)
            return Result(Outcome.OK)
        await self.steps.go(session, RecoveryStep.METHOD)
        if result.outcome == Outcome.WAIT:
            return result
        return Result(Outcome.WRONG)

    async def submit_recovery_code(self, session: ConversationSession, text: str) -> Result:
        """A code typed in the chat."""
        return await self.code.submit_code(session, text)

    def _code_key(self, session: ConversationSession) -> tuple[str, int | None]:
        """A recovery code is throttled on its own key, not the identifier's: the code was sent
        to the account's verified address, which an attacker lacks, so the owner still gets in
        when someone locked the identifier by guessing (« locking as a weapon »). Each code gets
        the throttle's delays and lock; a new one needs a new e-mail, itself limited per
        address and per day."""
        # (a session saved before every code step had a hash: its own key, not a shared one)
        own = session.code_hash or f"none:{session.telegram_user_id}:{session.code_sent_at}"
        key = self.ports.keyed.digest(own, purpose="recovery-code")
        return key, None

    async def _code_proven(self, session: ConversationSession, now: datetime) -> Result:
        """The code typed or the link opened: on to the new password."""
        session.code_hash = session.token_hash = None
        ports = self.ports
        account = await ports.directory.get(session.account_id) if session.account_id else None
        note_establishment(session, account.uai if account else None)
        await self.steps.go(session, RecoveryStep.PASSWORD)
        return Result(Outcome.OK)

    async def _expire(self, session: ConversationSession) -> Result:
        session.code_hash = session.token_hash = None
        await self.steps.go(session, RecoveryStep.METHOD)
        return Result(Outcome.EXPIRED)

    async def submit_recovery_password(self, session: ConversationSession, password: str) -> Result:
        """The new password against the rule; only its hash is kept until the confirmation."""
        ports = self.ports
        account = await ports.directory.get(session.account_id) if session.account_id else None
        if account is None:
            await ports.sessions.delete(session.telegram_user_id)
            return Result(Outcome.INVALID)
        rules = ports.password_policy.check(
            password,
            identifiant=account.identifiant,
            first_name=account.prenom,
            last_name=account.nom,
            examples=texts.PASSWORD_EXAMPLES,
        )
        if rules:
            return Result(Outcome.REFUSED, rules=tuple(rules))
        # Its pending digest only (the one argon2id hash is the directory's, when it is set).
        session.new_password_hash = ports.keyed.pending(password, purpose="password")
        await self.steps.go(session, RecoveryStep.PASSWORD_CONFIRM)
        return Result(Outcome.OK)

    async def confirm_recovery_password(
        self, session: ConversationSession, password: str
    ) -> Result:
        """Second typing: the password changes, the lockout is cleared, an e-mail says so."""
        ports = self.ports
        if not await same_pending_password(ports, session.new_password_hash, password):
            session.new_password_hash = None
            await self.steps.go(session, RecoveryStep.PASSWORD)
            return Result(Outcome.MISMATCH)
        account = await ports.directory.get(session.account_id) if session.account_id else None
        if account is None or session.new_password_hash is None:
            await ports.sessions.delete(session.telegram_user_id)
            return Result(Outcome.INVALID)
        now = ports.clock()
        try:
            changed = await ports.directory.set_password(
                account.id, password, ports.actor(session), now
            )
        except PasswordRejected as refusal:
            # The directory's own policy (LDAP): the user chooses another password.
            session.new_password_hash = None
            await self.steps.go(session, RecoveryStep.PASSWORD)
            return Result(Outcome.DIRECTORY_REFUSED, directory_rule=refusal.rule)
        # The « mot de passe changé » notice is written with the end of the procedure.
        notices = []
        if changed and account.email and account.email_verified:
            notices.append(
                self.mails.notice_mail(
                    outbox_templates.PASSWORD_CHANGED,
                    account.email,
                    account.id,
                    account.uai,
                    prenom=account.prenom,
                )
            )
        await self.steps.end(session, outbox=notices)
        if not changed:
            return Result(Outcome.INVALID)
        await ports.throttle.unlock(ports.identifiant_key(account.identifiant))
        await ports.records.audit("recovery", account.id, ports.actor(session), now)
        return Result(Outcome.ACTIVATED, account=account)

    # --- what a channel asks: a text typed, a choice made ---------------------------------

    async def submit_text(self, session: ConversationSession, text: str, via: Via) -> Reply:
        """What was typed at the session's step, and what to say of it."""
        step = session.step
        if step == RecoveryStep.IDENTIFIANT:
            result = await self.submit_recovery_identifiant(session, text)
            if result.outcome == Outcome.INVALID:
                return refused(texts.IDENTIFIANT_INVALID, fitting=True)
            return Reply()
        if step == RecoveryStep.CODE:
            result = await self.submit_recovery_code(session, text)
            if result.outcome == Outcome.OK:
                return Reply(intro=texts.RECOVERY_VERIFIED)
            if result.outcome == Outcome.EXPIRED:
                return Reply(say=texts.RECOVERY_CODE_EXPIRED)
            if result.outcome == Outcome.INVALID:
                return replies.code_format(self.ports, resend_choices())
            return replies.code_wrong(result)
        if step in (RecoveryStep.ANSWER1, RecoveryStep.ANSWER2):
            result = await self.submit_recovery_answer(session, text)
            if result.outcome == Outcome.WRONG:
                return Reply(say=texts.RECOVERY_ANSWERS_WRONG)
            if result.outcome == Outcome.WAIT and result.retry_after is not None:
                return Reply(say=texts.recovery_answers_wait(result.retry_after))
            verified = session.step == RecoveryStep.PASSWORD
            return Reply(intro=texts.RECOVERY_VERIFIED if verified else "")
        if step == RecoveryStep.PASSWORD:
            result = await self.submit_recovery_password(session, text)
            if result.outcome == Outcome.REFUSED:
                return replies.password_refused(self.ports, result, rule_choices())
            if result.outcome == Outcome.INVALID:
                return over(texts.RECOVERY_FAILED)
            return Reply()
        if step == RecoveryStep.PASSWORD_CONFIRM:
            result = await self.confirm_recovery_password(session, text)
            if result.outcome == Outcome.MISMATCH:
                return refused(texts.PASSWORD_MISMATCH)
            if result.outcome == Outcome.ACTIVATED:
                return over(texts.RECOVERY_DONE)
            if result.outcome == Outcome.DIRECTORY_REFUSED and result.directory_rule:
                return refused(ldap_texts.directory_password_refused(result.directory_rule))
            return over(texts.RECOVERY_FAILED)
        return Reply()

    async def choose(self, session: ConversationSession, action: str, via: Via) -> Reply:
        """A choice of the session's prompt, and what to say of it."""
        if action == "pw:rule":
            return replies.full_rule(self.ports, after_provisional=False)
        if not action.startswith("mdp:"):
            return Reply()
        if action == "mdp:email":
            result = await self.choose_email_method(session, via.bot_username)
        else:
            result = await self.choose_questions_method(session)
        if result.outcome == Outcome.TOO_MANY_IDENTIFIANTS:
            return over(texts.TOO_MANY_IDENTIFIANTS)
        if result.outcome == Outcome.TOO_SOON and result.retry_after is not None:
            return refused(texts.resend_too_soon(result.retry_after))
        if result.outcome == Outcome.RESEND_LIMIT:
            return refused(texts.RESEND_LIMIT)
        return Reply()


# --- what the person sees -------------------------------------------------------------------


def method_choices() -> tuple[Row, ...]:
    """E-mail or secret questions."""
    return rows_of(
        (texts.BUTTON_RECOVER_BY_EMAIL, "mdp:email"),
        (texts.BUTTON_RECOVER_BY_QUESTIONS, "mdp:questions"),
    )


def resend_choices() -> tuple[Row, ...]:
    """While the code is awaited: send it again."""
    return rows_of((texts.BUTTON_EMAIL_RESEND, "mdp:email"))


def rule_choices() -> tuple[Row, ...]:
    """« Voir la règle complète » at the new password."""
    return rows_of((texts.BUTTON_FULL_PASSWORD_RULE, "pw:rule"))


def prompt(svc: RecoveryService, session: ConversationSession, full: bool = True) -> list[Prompt]:
    """The message that asks for what the current recovery step needs."""
    step = session.step
    if step == RecoveryStep.IDENTIFIANT:
        return [Prompt(texts.RECOVERY_ASK_IDENTIFIANT, (), InputKind.SECRET)]
    if step == RecoveryStep.METHOD:
        return [Prompt(texts.RECOVERY_CHOOSE_METHOD, method_choices(), InputKind.CHOICE)]
    if step == RecoveryStep.CODE:
        hours = round(svc.ports.settings.verification_ttl.total_seconds() / 3600)
        text = texts.recovery_code_sent(svc.ports.settings.code_length, hours)
        return [Prompt(text, resend_choices(), InputKind.EMAIL_LINK)]
    if step in (RecoveryStep.ANSWER1, RecoveryStep.ANSWER2):
        question = session.question1 if step == RecoveryStep.ANSWER1 else session.question2
        return [Prompt(texts.ask_answer(question or ""), (), InputKind.SECRET)]
    if step == RecoveryStep.PASSWORD:
        text = texts.recovery_password_rules(svc.ports.password_policy)
        return [Prompt(text, rule_choices(), InputKind.SECRET)]
    return [Prompt(texts.ASK_PASSWORD_CONFIRMATION, (), InputKind.SECRET)]


DESCRIPTION = Description(
    FLOW_RECOVERY,
    steps=(
        StepSpec(RecoveryStep.IDENTIFIANT, InputKind.SECRET, fresh=True),
        StepSpec(RecoveryStep.METHOD, InputKind.CHOICE, choices=("mdp",)),
        StepSpec(RecoveryStep.CODE, InputKind.EMAIL_LINK, choices=("mdp",)),
        StepSpec(RecoveryStep.ANSWER1, InputKind.SECRET, screen=True),
        StepSpec(RecoveryStep.ANSWER2, InputKind.SECRET, screen=True),
        StepSpec(RecoveryStep.PASSWORD, InputKind.SECRET, choices=("pw",), screen=True),
        StepSpec(RecoveryStep.PASSWORD_CONFIRM, InputKind.SECRET),
    ),
    service=RecoveryService,
    prompt=prompt,
    staff_labels=lambda: texts.STAFF_STEPS_RECOVERY,
    commands=(EntryCommand("motdepasse", RecoveryStep.IDENTIFIANT, menu_text("motdepasse")),),
    code_mails=(outbox_templates.RECOVERY,),
    notices=(outbox_templates.PASSWORD_CHANGED,),
)
