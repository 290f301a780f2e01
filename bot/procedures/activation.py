"""The activation procedure as plain, typed service functions (no Telegram in here).

Each public method takes the user's session and what they typed or chose, applies the rules of
the two guides (provisional credentials → CGU → verified e-mail or two secret questions → new
password, confirmed → active account), saves the new step to the database and only then returns
an outcome for the handler to render. Composed of the parts of :mod:`bot.procedures.parts`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot import texts
from bot.config.password_policy import PasswordRule
from bot.directory.port import PasswordRejected
from bot.outbox import templates as outbox_templates
from bot.outbox.mail import mask_email
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
from bot.procedures.parts.address_typo import confirm_address_prompt
from bot.procedures.parts.checked_secret import CheckedSecret
from bot.procedures.parts.email_proof import CodeProof, EmailProof, flow_of_link
from bot.procedures.parts.identifier import IdentifierPrompt
from bot.procedures.parts.mails import OwedMails
from bot.procedures.parts.question_pair import QuestionPair, QuestionSteps
from bot.procedures.recovery import FLOW_RECOVERY, RecoveryStep
from bot.procedures.reply import Reply, Via, over, refused
from bot.procedures.throttle import chat_key, guarded_check
from bot.procedures.view import InputKind, LinkChoice, Prompt, Row, rows_of, small_int
from bot.region import UAI, HasUai, normalise_uai
from bot.texts import ldap as ldap_texts
from storage.accounts import AccountStatus, ActivationRecord
from storage.sessions import ConversationSession

FLOW_ACTIVATION = "activation"
# ``/start activer`` (the link printed on staff letters) goes straight to the identifier.
START_PAYLOAD_ACTIVATE = "activer"
# ``/start activer_<UAI>``: the link printed on a region's letters also names the establishment,
# so that the person sees their school's name, then its CGU, before the account is known.
START_PAYLOAD_ESTABLISHMENT = START_PAYLOAD_ACTIVATE + "_"


def establishment_of_payload(payload: str) -> str | None:
    """The UAI a ``/start activer_<UAI>`` payload names (None: not such a payload)."""
    if not payload.startswith(START_PAYLOAD_ESTABLISHMENT):
        return None
    uai = normalise_uai(payload.removeprefix(START_PAYLOAD_ESTABLISHMENT))
    return uai if UAI.fullmatch(uai) else None


# ``/start c_<token>`` (a letter's QR code): the letter's account, straight to its provisional
# password. The token only says which letter it is (it is printed next to the password).
START_PAYLOAD_LETTER = "c_"
# The session's flow_data key of the provisional password's pending digest (see
# :meth:`bot.security.KeyedHasher.pending`): the new password is compared with it without a
# second argon2id check; it goes with the session.
PROVISIONAL_DIGEST = "provisional_digest"


def new_letter_token() -> str:
    """A letter's random token, as its QR code's payload carries it (Telegram allows 64
    characters of [A-Za-z0-9_-])."""
    return START_PAYLOAD_LETTER + secrets.token_urlsafe(18)


# Profiles offered on /start whose people sign in elsewhere (key → the school file's text).
EXTERNAL_PROFILES = {
    "personnel_en": "personnel_education_nationale",
    "personnel_agri": "personnel_enseignement_agricole",
}


class Step(StrEnum):
    """Steps of the activation."""

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
    ANSWER1_CONFIRM = "reponse1_confirmation"
    QUESTION2 = "question2"
    ANSWER2 = "reponse2"
    ANSWER2_CONFIRM = "reponse2_confirmation"
    PASSWORD = "mot_de_passe"
    PASSWORD_CONFIRM = "confirmation"


ANSWER_STEPS = frozenset({Step.ANSWER1, Step.ANSWER1_CONFIRM, Step.ANSWER2, Step.ANSWER2_CONFIRM})


@dataclass
class ActivationService:
    """The activation rules: identifier prompt, checked provisional password, CGU, e-mail proof
    or question pair, new password."""

    ports: ProcedurePorts
    steps: Steps = field(init=False)
    identifier: IdentifierPrompt = field(init=False)
    secret: CheckedSecret = field(init=False)
    code: CodeProof = field(init=False)
    email: EmailProof = field(init=False)
    questions: QuestionPair = field(init=False)

    def __post_init__(self) -> None:
        ports = self.ports
        self.steps = Steps(ports, FLOW_ACTIVATION)
        self.identifier = IdentifierPrompt(ports)
        self.secret = CheckedSecret(ports)
        self.code = CodeProof(
            ports,
            self.steps,
            Step.CODE,
            self.secret,
            code_key=lambda session: (ports.session_key(session), session.account_id),
            on_verified=self._email_verified,
            on_expired=self._expire,
        )
        self.email = EmailProof(
            ports,
            self.steps,
            Step.EMAIL,
            Step.EMAIL_CONFIRM,
            outbox_templates.VERIFICATION,
            self.code,
            OwedMails(ports),
            on_nothing_pending=self._restart_credentials,
        )
        self.questions = QuestionPair(
            ports,
            self.steps,
            QuestionSteps(
                Step.QUESTION1,
                Step.ANSWER1,
                Step.ANSWER1_CONFIRM,
                Step.QUESTION2,
                Step.ANSWER2,
                Step.ANSWER2_CONFIRM,
            ),
            on_chosen=self._questions_chosen,
        )

    # --- sessions ------------------------------------------------------------------------

    async def session_of(self, telegram_user_id: int) -> ConversationSession | None:
        """The user's activation session, if one is open."""
        return await self.steps.session_of(telegram_user_id)

    async def begin(
        self, telegram_user_id: int, chat_id: int, step: str, profil: str | None = None
    ) -> ConversationSession:
        """Open a new activation at ``step`` (replacing any earlier procedure)."""
        return await self.steps.begin(telegram_user_id, chat_id, step, profil)

    async def cancel(self, telegram_user_id: int) -> bool:
        """Leave the procedure (any); True if there was one."""
        return await self.steps.cancel(telegram_user_id)

    async def choose_profile(self, session: ConversationSession, profil: str) -> None:
        """The user said who they are; ask the identifier."""
        session.profil = profil
        await self.steps.go(session, Step.IDENTIFIANT)

    async def begin_in_establishment(
        self, telegram_user_id: int, chat_id: int, uai: str
    ) -> ConversationSession:
        """``/start activer_<UAI>``: a new activation at the identifier, with that
        establishment's content until the account is known (then the account's own; an
        establishment the region does not have: the region's)."""
        session = self.steps.new_session(telegram_user_id, chat_id, Step.IDENTIFIANT)
        region = self.ports.region
        if region is not None and region.by_uai(uai) is not None:
            note_establishment(session, uai)
        await self.steps.go(session, Step.IDENTIFIANT)
        return session

    async def begin_from_letter(
        self, telegram_user_id: int, chat_id: int, token: str
    ) -> tuple[ConversationSession, Result]:
        """A letter's QR code (``/start c_<token>``): a new activation at the provisional
        password of the letter's account (OK, with the account); a token of no letter, an
        earlier letter's or an activated account's: at the identifier (INVALID)."""
        ports = self.ports
        account_id = await ports.accounts.account_of_letter(
            ports.keyed.digest(token, purpose="letter")
        )
        account = await ports.directory.get(account_id) if account_id is not None else None
        if account is None or account.status != AccountStatus.TO_ACTIVATE:
            return await self.steps.begin(telegram_user_id, chat_id, Step.IDENTIFIANT), Result(
                Outcome.INVALID
            )
        session = self.steps.new_session(telegram_user_id, chat_id, Step.PROVISIONAL)
        session.identifiant_key = ports.identifiant_key(account.identifiant)
        session.candidate_account_id = account.id
        # The letter names the account: its establishment's content from now on.
        note_establishment(session, account.uai)
        await self.steps.go(session, Step.PROVISIONAL)
        return session, Result(Outcome.OK, account=account)

    async def flow_of_link(self, token: str) -> str | None:
        """The procedure whose session sent the link ``token`` (None if no session did)."""
        return await flow_of_link(self.ports, token)

    # --- step 1: provisional credentials -------------------------------------------------

    async def submit_identifiant(self, session: ConversationSession, text: str) -> Result:
        """Keep the identifier's reference (not checked yet: nothing is said about it before
        the password)."""
        identifiant = self.identifier.valid(text)
        if identifiant is None:
            return Result(Outcome.INVALID)
        await self.identifier.remember(session, identifiant)
        await self.steps.go(session, Step.PROVISIONAL)
        return Result(Outcome.OK)

    async def submit_provisional(self, session: ConversationSession, password: str) -> Result:
        """Check identifier + provisional password, with the same answer and the same work
        whether the identifier is unknown, wrong, locked, throttled or already active. Only
        the chat's own wait is told (WAIT, after ``failures_before_delay`` failures in a
        row from this chat, whatever the identifiers): it is the same for every identifier."""
        ports = self.ports
        if not await self.identifier.may_try(session):
            self.identifier.forget(session)
            await self.steps.go(session, Step.IDENTIFIANT)
            return Result(Outcome.TOO_MANY_IDENTIFIANTS)
        now = ports.clock()
        candidate = session.candidate_account_id
        # The attempt is reserved before the check (bot.procedures.throttle.guarded_check): a
        # burst of guesses sent at once cannot all be evaluated.
        attempt = await guarded_check(
            ports.throttle,
            ports.throttle_policy,
            ports.session_key(session),
            now,
            lambda: ports.directory.check_provisional(candidate, password),
            chat=chat_key(session.telegram_user_id),
        )
        if attempt.chat_wait is not None:
            await self.steps.go(session, Step.PROVISIONAL)
            return Result(Outcome.WAIT, retry_after=attempt.chat_wait)
        if attempt.newly_locked:
            await self.secret.tell_staff_locked(candidate)
        account = await ports.directory.get(candidate) if attempt.accepted and candidate else None
        if account is not None:
            session.account_id = account.id
            session.identifiant = account.identifiant
            data = json.loads(session.flow_data or "{}")
            data[PROVISIONAL_DIGEST] = ports.keyed.pending(password, purpose="provisional")
            session.flow_data = json.dumps(data)
            note_establishment(session, account.uai)
            await self.steps.go(session, Step.CGU)
            await ports.records.audit("activation_started", account.id, ports.actor(session), now)
            return Result(Outcome.OK, account=account)
        # Refused, whatever the reason: the same look-up for all (no id is -1). An account
        # already active and linked to this very Telegram user is theirs: they are told so.
        known = await ports.directory.get(-1 if candidate is None else candidate)
        if (
            known is not None
            and known.status == AccountStatus.ACTIVE
            and known.telegram_user_id == session.telegram_user_id
        ):
            await ports.sessions.delete(session.telegram_user_id)
            return Result(Outcome.ALREADY_ACTIVE, account=known)
        # The identifier's reference is kept: only the password is asked again.
        await self.steps.go(session, Step.PROVISIONAL)
        return Result(Outcome.REFUSED)

    async def change_identifiant(self, session: ConversationSession) -> None:
        """« Changer d'identifiant » at the provisional password: ask the identifier again."""
        self.identifier.forget(session)
        await self.steps.go(session, Step.IDENTIFIANT)

    # --- step 2: CGU ----------------------------------------------------------------------

    async def accept_cgu(self, session: ConversationSession) -> Result:
        """Record the acceptance (version = SHA-256 of the text, UTC time, Telegram user)."""
        if session.account_id is None:
            return await self._restart_credentials(session)
        now = self.ports.clock()
        session.cgu_version = self.ports.school_for(session).cgu_version
        session.cgu_accepted_at = now
        await self.ports.records.record_cgu_acceptance(
            session.account_id, session.cgu_version, now, session.telegram_user_id
        )
        await self.steps.go(session, Step.RECOVERY)
        return Result(Outcome.OK)

    async def show_cgu_again(self, session: ConversationSession) -> None:
        """After a refusal: the CGU are shown again (new buttons)."""
        await self.steps.go(session, Step.CGU)

    # --- step 3: e-mail or secret questions ------------------------------------------------

    async def choose_email(self, session: ConversationSession) -> None:
        """The user prefers a personal e-mail address."""
        await self.steps.go(session, Step.EMAIL)

    async def choose_questions(self, session: ConversationSession) -> None:
        """The user prefers two secret questions (any pending code stops working)."""
        session.email = None
        session.code_hash = session.token_hash = None
        session.code_expires_at = None
        await self.questions.start(session)

    async def submit_email(self, session: ConversationSession, text: str) -> Result:
        """The address typed (see :meth:`EmailProof.submit_email`)."""
        return await self.email.submit_email(session, text)

    async def send_verification(
        self, session: ConversationSession, bot_username: str, *, resend: bool = False
    ) -> Result:
        """Send the code and link (see :meth:`EmailProof.send_verification`)."""
        return await self.email.send_verification(session, bot_username, resend=resend)

    async def change_email(self, session: ConversationSession) -> None:
        """Type another address."""
        await self.email.change_email(session)

    async def use_suggested_address(self, session: ConversationSession) -> None:
        """Take the corrected address suggested for a typo."""
        await self.email.use_suggested_address(session)

    async def submit_code(self, session: ConversationSession, text: str) -> Result:
        """A code typed in the chat (wrong codes count in the identifier's throttle)."""
        return await self.code.submit_code(session, text)

    async def verify_link(self, telegram_user_id: int, token: str) -> Result:
        """The deep link ``/start <token>`` from the e-mail."""
        return await self.code.verify_link(telegram_user_id, token)

    def available_questions(self, session: ConversationSession) -> list[tuple[int, str]]:
        """(index, question) the user may still choose."""
        return self.questions.available_questions(session)

    async def choose_question(self, session: ConversationSession, index: int) -> Result:
        """Pick question 1 or 2."""
        return await self.questions.choose_question(session, index)

    async def submit_answer(self, session: ConversationSession, text: str) -> Result:
        """An answer to a secret question."""
        return await self.questions.submit_answer(session, text)

    async def _email_verified(self, session: ConversationSession, now: datetime) -> Result:
        session.email_verified_at = now
        session.code_hash = session.token_hash = None
        await self.steps.go(session, Step.PASSWORD)
        await self.ports.records.audit(
            "email_verified", session.account_id, self.ports.actor(session), now
        )
        return Result(Outcome.OK, email=session.email)

    async def _questions_chosen(self, session: ConversationSession) -> Result:
        """Both answers are hashed: on to the password."""
        await self.steps.go(session, Step.PASSWORD)
        await self.ports.records.audit(
            "questions_set", session.account_id, self.ports.actor(session), self.ports.clock()
        )
        return Result(Outcome.OK)

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
        fresh = self.steps.new_session(session.telegram_user_id, session.chat_id, Step.IDENTIFIANT)
        fresh.profil = session.profil
        fresh.identifiant = identifiant
        fresh.identifiant_key = key or (
            self.ports.identifiant_key(identifiant) if identifiant else None
        )
        fresh.candidate_account_id = candidate
        for name in vars(fresh):
            setattr(session, name, getattr(fresh, name))
        await self.steps.go(session, Step.PROVISIONAL if identifiant else Step.IDENTIFIANT)
        return Result(Outcome.EXPIRED)

    # --- step 4: password ----------------------------------------------------------------

    async def submit_password(self, session: ConversationSession, password: str) -> Result:
        """Check the rule (« not the provisional password » against its pending digest), then
        keep only the password's pending digest until the confirmation: the one argon2id hash
        of the new password is the directory's, at activation."""
        ports = self.ports
        account = await ports.directory.get(session.account_id) if session.account_id else None
        if account is None:
            return await self._restart_credentials(session)
        rules = list(
            ports.password_policy.check(
                password,
                identifiant=account.identifiant,
                first_name=account.prenom,
                last_name=account.nom,
                examples=texts.PASSWORD_EXAMPLES,
            )
        )
        if not rules and await self._same_as_provisional(session, account.id, password):
            rules.append(PasswordRule.SAME_AS_PROVISIONAL)
        if rules:
            return Result(Outcome.REFUSED, rules=tuple(rules))
        session.new_password_hash = ports.keyed.pending(password, purpose="password")
        await self.steps.go(session, Step.PASSWORD_CONFIRM)
        return Result(Outcome.OK)

    async def _same_as_provisional(
        self, session: ConversationSession, account_id: int, password: str
    ) -> bool:
        digest = json.loads(session.flow_data or "{}").get(PROVISIONAL_DIGEST)
        if isinstance(digest, str):
            return self.ports.keyed.matches_pending(password, digest, purpose="provisional")
        # A session saved before the digest was kept: the directory checks.
        return await self.ports.directory.check_provisional(account_id, password)

    async def confirm_password(self, session: ConversationSession, password: str) -> Result:
        """Second typing: activate the account if both match (exactly one chat wins)."""
        ports = self.ports
        if not await same_pending_password(ports, session.new_password_hash, password):
            session.new_password_hash = None
            await self.steps.go(session, Step.PASSWORD)
            return Result(Outcome.MISMATCH)
        if session.account_id is None or session.new_password_hash is None:
            return await self._restart_credentials(session)
        if session.cgu_version is None or session.cgu_accepted_at is None:
            await self.steps.go(session, Step.CGU)
            return Result(Outcome.INVALID)
        with_questions = session.answer2_hash is not None
        record = ActivationRecord(
            email=session.email if session.email_verified_at else None,
            email_verified_at=session.email_verified_at,
            secret_question1=session.question1 if with_questions else None,
            secret_answer1_hash=session.answer1_hash if with_questions else None,
            secret_question2=session.question2 if with_questions else None,
            secret_answer2_hash=session.answer2_hash,
            telegram_user_id=session.telegram_user_id,
            cgu_version=session.cgu_version,
            cgu_accepted_at=session.cgu_accepted_at,
            activated_at=ports.clock(),
        )
        if record.email is None and record.secret_answer2_hash is None:
            await self.steps.go(session, Step.RECOVERY)
            return Result(Outcome.INVALID)
        try:
            won = await ports.directory.activate(session.account_id, password, record)
        except PasswordRejected as refusal:
            # The directory's own policy (LDAP): the user chooses another password.
            session.new_password_hash = None
            await self.steps.go(session, Step.PASSWORD)
            return Result(Outcome.DIRECTORY_REFUSED, directory_rule=refusal.rule)
        account = await ports.directory.get(session.account_id)
        await ports.sessions.delete(session.telegram_user_id)
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

    # --- what a channel asks: a text typed, a choice made ---------------------------------

    async def submit_text(self, session: ConversationSession, text: str, via: Via) -> Reply:
        """What was typed at the session's step, and what to say of it."""
        step = session.step
        if step == Step.IDENTIFIANT:
            result = await self.submit_identifiant(session, text)
            if result.outcome == Outcome.INVALID:
                return refused(texts.IDENTIFIANT_INVALID, fitting=True)
            return Reply()
        if step == Step.PROVISIONAL:
            return await self._provisional(session, text)
        if step == Step.CODE:
            result = await self.submit_code(session, text)
            if result.outcome == Outcome.OK:
                return Reply(intro=texts.EMAIL_VERIFIED)
            if result.outcome == Outcome.EXPIRED:
                return Reply(intro=texts.VERIFICATION_EXPIRED)
            if result.outcome == Outcome.INVALID:
                return replies.code_format(self.ports, code_choices())
            return replies.code_wrong(result)
        if step in ANSWER_STEPS:
            result = await self.submit_answer(session, text)
            answer = replies.answer_refused(result)
            if answer is not None:
                return answer
            return Reply(intro=texts.QUESTIONS_DONE if session.step == Step.PASSWORD else "")
        if step == Step.PASSWORD:
            result = await self.submit_password(session, text)
            if result.outcome == Outcome.REFUSED:
                return replies.password_refused(self.ports, result, rule_choices())
            return Reply()
        if step == Step.PASSWORD_CONFIRM:
            return await self._confirmation(session, text)
        return Reply()

    async def _provisional(self, session: ConversationSession, password: str) -> Reply:
        result = await self.submit_provisional(session, password)
        if result.outcome == Outcome.TOO_MANY_IDENTIFIANTS:
            await self.cancel(session.telegram_user_id)
            return over(texts.TOO_MANY_IDENTIFIANTS)
        if result.outcome in (Outcome.REFUSED, Outcome.WAIT):
            text = (
                texts.chat_must_wait(result.retry_after)
                if result.outcome == Outcome.WAIT and result.retry_after is not None
                else texts.credentials_refused(self.ports.settings.educonnect_url)
            )
            return refused(text, change_identifiant_choices())
        if result.outcome == Outcome.ALREADY_ACTIVE and result.account:
            text = texts.already_active(
                self.ports.school_for(result.account), result.account.identifiant
            )
            return over(text, ent_choice(self, result.account))
        return Reply()

    async def _confirmation(self, session: ConversationSession, password: str) -> Reply:
        result = await self.confirm_password(session, password)
        if result.outcome == Outcome.MISMATCH:
            return refused(texts.PASSWORD_MISMATCH)
        if result.outcome == Outcome.ACTIVATED and result.account:
            masked = mask_email(result.email) if result.email else None
            text = texts.activated(
                self.ports.school_for(result.account), result.account.identifiant, masked
            )
            return over(text, ent_choice(self, result.account))
        if result.outcome == Outcome.TAKEN:
            return over(texts.ALREADY_ACTIVATED_ELSEWHERE)
        if result.outcome == Outcome.DIRECTORY_REFUSED and result.directory_rule:
            return refused(ldap_texts.directory_password_refused(result.directory_rule))
        return Reply()

    async def choose(self, session: ConversationSession, action: str, via: Via) -> Reply:
        """A choice of the session's prompt, and what to say of it."""
        prefix, _, arg = action.partition(":")
        if prefix == "p":
            return await self._profile(session, arg)
        if prefix == "id" and arg == "change":
            await self.change_identifiant(session)
        elif prefix == "pw":
            return replies.full_rule(self.ports)
        elif prefix == "cgu" and arg == "ok":
            await self.accept_cgu(session)
        elif prefix == "cgu" and arg == "again":
            await self.show_cgu_again(session)
        elif prefix == "cgu":
            return refused(texts.CGU_REFUSED, rows_of((texts.BUTTON_CGU_READ_AGAIN, "cgu:again")))
        elif prefix == "rec" and arg == "email":
            await self.choose_email(session)
        elif prefix == "rec":
            await self.choose_questions(session)
        elif prefix == "q":
            number = small_int(arg)
            await self.choose_question(session, -1 if number is None else number)
        return Reply()

    async def _profile(self, session: ConversationSession, profil: str) -> Reply:
        if profil in EXTERNAL_PROFILES:
            await self.cancel(session.telegram_user_id)
            school = self.ports.school_for(session)
            instructions = school.connexion_externe.get(
                EXTERNAL_PROFILES[profil], texts.EXTERNAL_PROFILE_DEFAULT
            )
            return over(texts.external_profile(school, instructions), ent_choice(self, session))
        if profil == "forgot":
            return Reply(begin=(FLOW_RECOVERY, RecoveryStep.IDENTIFIANT))
        if profil in texts.BUTTON_PROFILES:
            await self.choose_profile(session, profil)
        return Reply()


# --- what the person sees -------------------------------------------------------------------


def ent_choice(
    svc: ActivationService, subject: HasUai | ConversationSession | None = None
) -> tuple[Row, ...]:
    """A choice that opens the ENT (the establishment's of ``subject``, once known)."""
    return ((LinkChoice(texts.BUTTON_OPEN_ENT, svc.ports.school_for(subject).ent_url),),)


def change_identifiant_choices() -> tuple[Row, ...]:
    """The way back from the provisional password to the identifier."""
    return rows_of((texts.BUTTON_CHANGE_IDENTIFIANT, "id:change"))


def rule_choices() -> tuple[Row, ...]:
    """« Voir la règle complète » at the new password."""
    return rows_of((texts.BUTTON_FULL_PASSWORD_RULE, "pw:rule"))


def code_choices() -> tuple[Row, ...]:
    """The choices while the code of the e-mail is awaited."""
    return rows_of(
        (texts.BUTTON_EMAIL_RESEND, "em:resend"),
        (texts.BUTTON_EMAIL_CHANGE, "em:change"),
        (texts.BUTTON_SWITCH_TO_QUESTIONS, "em:questions"),
    )


def email_sent_text(svc: ActivationService, session: ConversationSession) -> str:
    """The code's e-mail is sent: where, how long the code is, how long it lasts."""
    hours = round(svc.ports.settings.verification_ttl.total_seconds() / 3600)
    return texts.email_sent(session.email or "", svc.ports.settings.code_length, hours)


def prompt(svc: ActivationService, session: ConversationSession, full: bool = True) -> list[Prompt]:
    """The message(s) that ask for what the current step needs (``full=False``: without the
    long CGU text, which is already in the chat)."""
    step = session.step
    if step == Step.PROFILE:
        rows = rows_of(
            *((label, f"p:{key}") for key, label in texts.BUTTON_PROFILES.items()),
            (texts.BUTTON_FORGOTTEN_PASSWORD, "p:forgot"),
        )
        return [Prompt(texts.welcome(svc.ports.school_for(session)), rows, InputKind.CHOICE)]
    if step == Step.IDENTIFIANT:
        return [Prompt(texts.ASK_IDENTIFIANT, (), InputKind.SECRET)]
    if step == Step.PROVISIONAL:
        return [Prompt(texts.ASK_PROVISIONAL, change_identifiant_choices(), InputKind.SECRET)]
    if step == Step.CGU and not full:
        rows = rows_of(
            (texts.BUTTON_CGU_ACCEPT, "cgu:ok"),
            (texts.BUTTON_CGU_REFUSE, "cgu:no"),
            (texts.BUTTON_CGU_READ_AGAIN, "cgu:again"),
        )
        return [Prompt(texts.CGU_QUESTION_AGAIN, rows, InputKind.CHOICE)]
    if step == Step.CGU:
        messages = [Prompt(texts.CGU_INTRO)]
        messages += [Prompt(chunk) for chunk in texts.cgu_chunks(svc.ports.school_for(session))]
        rows = rows_of((texts.BUTTON_CGU_ACCEPT, "cgu:ok"), (texts.BUTTON_CGU_REFUSE, "cgu:no"))
        return [*messages, Prompt(texts.CGU_QUESTION, rows, InputKind.CHOICE)]
    if step == Step.RECOVERY:
        rows = rows_of(
            (texts.BUTTON_RECOVERY_EMAIL, "rec:email"),
            (texts.BUTTON_RECOVERY_QUESTIONS, "rec:questions"),
        )
        return [Prompt(texts.CHOOSE_RECOVERY, rows, InputKind.CHOICE)]
    if step == Step.EMAIL:
        rows = rows_of((texts.BUTTON_SWITCH_TO_QUESTIONS, "em:questions"))
        return [Prompt(texts.ASK_EMAIL, rows, InputKind.TEXT)]
    if step == Step.EMAIL_CONFIRM:
        return [
            confirm_address_prompt(
                session.email or "", "em", texts.BUTTON_EMAIL_CONFIRM, texts.BUTTON_EMAIL_CHANGE
            )
        ]
    if step == Step.CODE:
        return [Prompt(email_sent_text(svc, session), code_choices(), InputKind.EMAIL_LINK)]
    if step in (Step.QUESTION1, Step.QUESTION2):
        rows = rows_of(*((q, f"q:{index}") for index, q in svc.available_questions(session)))
        title = texts.CHOOSE_QUESTION_1 if step == Step.QUESTION1 else texts.CHOOSE_QUESTION_2
        return [Prompt(title, rows, InputKind.CHOICE)]
    if step in (Step.ANSWER1, Step.ANSWER2):
        question = session.question1 if step == Step.ANSWER1 else session.question2
        return [Prompt(texts.ask_answer(question or ""), (), InputKind.SECRET)]
    if step in (Step.ANSWER1_CONFIRM, Step.ANSWER2_CONFIRM):
        question = session.question1 if step == Step.ANSWER1_CONFIRM else session.question2
        return [Prompt(texts.ask_answer_again(question or ""), (), InputKind.SECRET)]
    if step == Step.PASSWORD:
        text = texts.password_rules(svc.ports.password_policy)
        return [Prompt(text, rule_choices(), InputKind.SECRET)]
    if step == Step.PASSWORD_CONFIRM:
        return [Prompt(texts.ASK_PASSWORD_CONFIRMATION, (), InputKind.SECRET)]
    return [Prompt(texts.OUTSIDE_FLOW)]


DESCRIPTION = Description(
    FLOW_ACTIVATION,
    steps=(
        StepSpec(Step.PROFILE, InputKind.CHOICE, fresh=True, choices=("p",)),
        StepSpec(Step.IDENTIFIANT, InputKind.SECRET, fresh=True),
        StepSpec(Step.PROVISIONAL, InputKind.SECRET, choices=("id",), screen=True),
        StepSpec(Step.CGU, InputKind.CHOICE, choices=("cgu",)),
        StepSpec(Step.RECOVERY, InputKind.CHOICE, choices=("rec",)),
        StepSpec(Step.EMAIL, InputKind.TEXT, choices=("em",)),
        StepSpec(Step.EMAIL_CONFIRM, InputKind.CHOICE, choices=("em",)),
        StepSpec(Step.CODE, InputKind.EMAIL_LINK, choices=("em",)),
        StepSpec(Step.QUESTION1, InputKind.CHOICE, choices=("q",)),
        StepSpec(Step.ANSWER1, InputKind.SECRET, screen=True),
        StepSpec(Step.ANSWER1_CONFIRM, InputKind.SECRET),
        StepSpec(Step.QUESTION2, InputKind.CHOICE, choices=("q",)),
        StepSpec(Step.ANSWER2, InputKind.SECRET, screen=True),
        StepSpec(Step.ANSWER2_CONFIRM, InputKind.SECRET),
        StepSpec(Step.PASSWORD, InputKind.SECRET, choices=("pw",), screen=True),
        StepSpec(Step.PASSWORD_CONFIRM, InputKind.SECRET),
    ),
    service=ActivationService,
    prompt=prompt,
    staff_labels=lambda: texts.STAFF_STEPS_ACTIVATION,
    commands=(
        EntryCommand(
            "activer", Step.IDENTIFIANT, menu_text("activer"), payloads=(START_PAYLOAD_ACTIVATE,)
        ),
    ),
    code_mails=(outbox_templates.VERIFICATION,),
)
