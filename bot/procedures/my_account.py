"""« Mon compte »: change the recovery e-mail, replace the secret questions (no Telegram here).

Both start from /moncompte for one account linked to this Telegram user, and first ask the
account's current ENT password (argon2id verify, counted in the activation's throttle: same key,
the identifier). Being linked only proves that an activation was once completed in this Telegram
account, not that whoever holds the phone today is the account's owner: the password does, as on
the « Mon compte » page of an ENT.

- New e-mail: typed, shown back, then proven with the activation's own machinery (8-digit code
  or deep link, HMAC only, 48 hours, resend rate-limited, wrong codes throttled). The old address
  stays until then; once proven, it is replaced and a notice goes to the old one.
- Secret questions: two different questions picked with the activation's picker, answers
  normalised and argon2id-hashed, both replaced in one transaction.

An account keeps every means it has: changing the e-mail never removes the questions and the
other way round (a user who chose questions at activation can add an e-mail), and the forgotten
password procedure lets the user pick either.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot import texts
from bot.outbox import templates as outbox_templates
from bot.outbox.mail import mask_email, validate_email_address
from bot.procedures.description import Description, StepSpec
from bot.procedures.kernel import Outcome, ProcedurePorts, Result, Steps, note_establishment
from bot.procedures.parts import replies
from bot.procedures.parts.address_typo import confirm_address_prompt
from bot.procedures.parts.checked_secret import CheckedSecret
from bot.procedures.parts.email_proof import CodeProof, EmailProof
from bot.procedures.parts.mails import OwedMails
from bot.procedures.parts.question_pair import QuestionPair, QuestionSteps
from bot.procedures.reply import Reply, Via, over, refused
from bot.procedures.view import InputKind, Prompt, Row, rows_of, small_int
from storage.accounts import Account, AccountStatus
from storage.sessions import ConversationSession

logger = logging.getLogger(__name__)

FLOW_MY_ACCOUNT = "moncompte"


class MyAccountStep(StrEnum):
    """Steps of the « Mon compte » changes (unique across procedures)."""

    PASSWORD = "mc_mot_de_passe"
    EMAIL = "mc_email"
    EMAIL_CONFIRM = "mc_email_confirmation"
    CODE = "mc_code"
    QUESTION1 = "mc_question1"
    ANSWER1 = "mc_reponse1"
    ANSWER1_CONFIRM = "mc_reponse1_confirmation"
    QUESTION2 = "mc_question2"
    ANSWER2 = "mc_reponse2"
    ANSWER2_CONFIRM = "mc_reponse2_confirmation"


ANSWER_STEPS = frozenset(
    {
        MyAccountStep.ANSWER1,
        MyAccountStep.ANSWER1_CONFIRM,
        MyAccountStep.ANSWER2,
        MyAccountStep.ANSWER2_CONFIRM,
    }
)


class Change(StrEnum):
    """What the user asked to change."""

    EMAIL = "email"
    QUESTIONS = "questions"


@dataclass
class MyAccountService:
    """Changes to a linked account: the current password as a checked secret, then an e-mail
    proof or a question pair."""

    ports: ProcedurePorts
    steps: Steps = field(init=False)
    secret: CheckedSecret = field(init=False)
    mails: OwedMails = field(init=False)
    code: CodeProof = field(init=False)
    email: EmailProof = field(init=False)
    questions: QuestionPair = field(init=False)

    def __post_init__(self) -> None:
        ports = self.ports
        self.steps = Steps(ports, FLOW_MY_ACCOUNT)
        self.secret = CheckedSecret(ports)
        self.mails = OwedMails(ports)
        self.code = CodeProof(
            ports,
            self.steps,
            MyAccountStep.CODE,
            self.secret,
            code_key=lambda session: (ports.session_key(session), session.account_id),
            on_verified=self._email_verified,
            on_expired=self._expire,
        )
        self.email = EmailProof(
            ports,
            self.steps,
            MyAccountStep.EMAIL,
            MyAccountStep.EMAIL_CONFIRM,
            outbox_templates.EMAIL_CHANGE,
            self.code,
            self.mails,
            on_nothing_pending=self._ask_address_again,
            confirm_always=True,
        )
        self.questions = QuestionPair(
            ports,
            self.steps,
            QuestionSteps(
                MyAccountStep.QUESTION1,
                MyAccountStep.ANSWER1,
                MyAccountStep.ANSWER1_CONFIRM,
                MyAccountStep.QUESTION2,
                MyAccountStep.ANSWER2,
                MyAccountStep.ANSWER2_CONFIRM,
            ),
            on_chosen=self._questions_chosen,
        )

    async def session_of(self, telegram_user_id: int) -> ConversationSession | None:
        """The user's « Mon compte » session, if one is open."""
        return await self.steps.session_of(telegram_user_id)

    async def cancel(self, telegram_user_id: int) -> bool:
        """Leave the procedure (any); True if there was one."""
        return await self.steps.cancel(telegram_user_id)

    async def linked_account(self, telegram_user_id: int, account_id: int) -> Account | None:
        """The account, if it is active and linked to this Telegram user (button data is never
        trusted: it may be stale or forged)."""
        account = await self.ports.directory.get(account_id)
        if (
            account is None
            or account.status != AccountStatus.ACTIVE
            or account.telegram_user_id != telegram_user_id
        ):
            return None
        return account

    async def _account(self, session: ConversationSession) -> Account | None:
        if session.account_id is None:
            return None
        return await self.linked_account(session.telegram_user_id, session.account_id)

    async def _not_linked(self, session: ConversationSession) -> Result:
        """The account was unlinked meanwhile: the procedure ends, nothing changed."""
        await self.ports.sessions.delete(session.telegram_user_id)
        return Result(Outcome.REFUSED)

    def change_of(self, session: ConversationSession) -> Change:
        """What this session is about."""
        data = json.loads(session.flow_data or "{}")
        return Change.QUESTIONS if data.get("change") == Change.QUESTIONS else Change.EMAIL

    async def start_change(
        self, telegram_user_id: int, chat_id: int, account_id: int, change: Change
    ) -> ConversationSession | None:
        """A button of /moncompte: ask the current password first; None if the account is not
        linked to this user (nothing starts, any open procedure goes on)."""
        account = await self.linked_account(telegram_user_id, account_id)
        if account is None:
            return None
        session = self.steps.new_session(telegram_user_id, chat_id, MyAccountStep.PASSWORD)
        session.identifiant = account.identifiant
        session.account_id = account.id
        session.flow_data = json.dumps({"change": change.value})
        # The change is of this account: its establishment's content (a parent's other
        # account, in another establishment, has its own).
        note_establishment(session, account.uai)
        await self.steps.go(session, MyAccountStep.PASSWORD)
        return session

    # --- proof of identity ---------------------------------------------------------------

    async def submit_current_password(self, session: ConversationSession, password: str) -> Result:
        """The account's current ENT password: OK (on to the change), WRONG, THROTTLED, LOCKED,
        or REFUSED if the account is no longer linked."""
        ports = self.ports
        account = await self._account(session)
        if account is None:
            return await self._not_linked(session)
        result = await self.secret.judge(
            ports.identifiant_key(account.identifiant),
            lambda: ports.directory.check_password(account.id, password),
            ports.clock(),
            account_id=account.id,
        )
        if result.outcome != Outcome.OK:
            return result
        if self.change_of(session) == Change.QUESTIONS:
            await self.questions.start(session)
        else:
            await self.steps.go(session, MyAccountStep.EMAIL)
        return result

    # --- new e-mail ------------------------------------------------------------------------

    async def submit_email(self, session: ConversationSession, text: str) -> Result:
        """The new address: INVALID, SAME (it is already the account's), or OK (shown back)."""
        account = await self._account(session)
        if account is None:
            return await self._not_linked(session)
        address = validate_email_address(text.strip())
        if address is not None and account.email and address.casefold() == account.email.casefold():
            return Result(Outcome.SAME, email=address)
        return await self.email.submit_email(session, text)

    async def send_verification(
        self, session: ConversationSession, bot_username: str, *, resend: bool = False
    ) -> Result:
        """Send the code and link to the new address (cooldown and cap as in activation)."""
        account = await self._account(session)
        if account is None:
            return await self._not_linked(session)
        now = self.ports.clock()
        result = await self.email.send_verification(session, bot_username, resend=resend)
        if result.outcome in (Outcome.SENT, Outcome.QUEUED) and not resend and session.email:
            await self.ports.records.audit(
                "email_change_requested",
                account.id,
                self.ports.actor(session),
                now,
                f"nouvelle={mask_email(session.email)}",
            )
        return result

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
        """The deep link of the e-mail sent to the new address."""
        return await self.code.verify_link(telegram_user_id, token)

    async def _ask_address_again(self, session: ConversationSession) -> Result:
        """No pending address: ask it again (the password was already proven)."""
        session.code_hash = session.token_hash = None
        await self.steps.go(session, MyAccountStep.EMAIL)
        return Result(Outcome.INVALID)

    async def _expire(self, session: ConversationSession) -> Result:
        """48 hours passed: the address did not change; a new code may be sent."""
        session.code_hash = session.token_hash = None
        session.code_sent_at = None
        await self.steps.go(session, MyAccountStep.EMAIL_CONFIRM)
        return Result(Outcome.EXPIRED)

    async def _email_verified(self, session: ConversationSession, now: datetime) -> Result:
        """The code was typed or the link opened: the new address replaces the old one, which
        is told. CHANGED, or REFUSED if the account is no longer linked."""
        account = await self._account(session)
        new = session.email
        if account is None or new is None:
            return await self._not_linked(session)
        replaced = await self.ports.directory.replace_email(
            account.id,
            session.telegram_user_id,
            new,
            now,
            f"moncompte; nouvelle={mask_email(new)}",
        )
        # The old address is told, through the outbox, with the end of the procedure.
        old = account.email if account.email_verified else None
        notices = []
        if replaced and old and old.casefold() != new.casefold():
            notices.append(
                self.mails.notice_mail(
                    outbox_templates.EMAIL_CHANGED,
                    old,
                    account.id,
                    account.uai,
                    prenom=account.prenom,
                    masked_new=mask_email(new),
                )
            )
        await self.steps.end(session, outbox=notices)
        if not replaced:
            return Result(Outcome.REFUSED)
        return Result(Outcome.CHANGED, account=account, email=new)

    # --- new secret questions --------------------------------------------------------------

    def available_questions(self, session: ConversationSession) -> list[tuple[int, str]]:
        """(index, question) the user may still choose."""
        return self.questions.available_questions(session)

    async def choose_question(self, session: ConversationSession, index: int) -> Result:
        """Pick question 1 or 2."""
        return await self.questions.choose_question(session, index)

    async def submit_answer(self, session: ConversationSession, text: str) -> Result:
        """An answer to a new secret question."""
        return await self.questions.submit_answer(session, text)

    async def _questions_chosen(self, session: ConversationSession) -> Result:
        """Both answers are hashed: the stored questions are replaced at once."""
        account = await self._account(session)
        if (
            account is None
            or session.question1 is None
            or session.question2 is None
            or session.answer1_hash is None
            or session.answer2_hash is None
        ):
            return await self._not_linked(session)
        replaced = await self.ports.accounts.replace_secret_questions(
            account.id,
            session.telegram_user_id,
            (session.question1, session.question2),
            (session.answer1_hash, session.answer2_hash),
            self.ports.clock(),
        )
        await self.ports.sessions.delete(session.telegram_user_id)
        return Result(Outcome.CHANGED if replaced else Outcome.REFUSED, account=account)

    def hours(self) -> int:
        """Validity of a code, in hours."""
        return round(self.ports.settings.verification_ttl / timedelta(hours=1))

    # --- what a channel asks: a text typed, a choice made ---------------------------------

    async def submit_text(self, session: ConversationSession, text: str, via: Via) -> Reply:
        """What was typed at the session's step, and what to say of it."""
        step = session.step
        if step == MyAccountStep.PASSWORD:
            result = await self.submit_current_password(session, text)
            if result.outcome == Outcome.OK:
                return Reply(intro=texts.MY_VERIFIED)
            return await self._refusal(session, result, texts.MY_PASSWORD_WRONG)
        if step == MyAccountStep.CODE:
            result = await self.submit_code(session, text)
            if result.outcome == Outcome.CHANGED and result.email:
                return over(texts.my_email_changed(mask_email(result.email)))
            if result.outcome == Outcome.EXPIRED:
                return Reply(intro=texts.MY_EMAIL_EXPIRED)
            if result.outcome == Outcome.INVALID:
                return replies.code_format(self.ports, code_choices())
            return await self._refusal(session, result, texts.CODE_WRONG)
        if step in ANSWER_STEPS:
            result = await self.submit_answer(session, text)
            answer = replies.answer_refused(result)
            if answer is not None:
                return answer
            if result.outcome == Outcome.CHANGED:
                return over(texts.MY_QUESTIONS_CHANGED)
            if result.outcome == Outcome.REFUSED:
                return over(texts.ACCOUNT_NOT_LINKED)
        return Reply()

    async def _refusal(self, session: ConversationSession, result: Result, wrong: str) -> Reply:
        """A wrong password or code, and what the throttle says."""
        if result.outcome == Outcome.REFUSED:
            return over(texts.ACCOUNT_NOT_LINKED)
        if result.outcome == Outcome.LOCKED:
            await self.cancel(session.telegram_user_id)
            return over(texts.MY_ACCOUNT_LOCKED)
        if result.outcome == Outcome.THROTTLED and result.retry_after is not None:
            return refused(texts.wait_before_retry(result.retry_after))
        return refused(wrong)

    async def choose(self, session: ConversationSession, action: str, via: Via) -> Reply:
        """A choice of the session's prompt (a question), and what to say of it."""
        prefix, _, arg = action.partition(":")
        if prefix == "mcq":
            number = small_int(arg)
            await self.choose_question(session, -1 if number is None else number)
        return Reply()


# --- what the person sees -------------------------------------------------------------------


def code_choices() -> tuple[Row, ...]:
    """While the code of the new address is awaited."""
    return rows_of(
        (texts.BUTTON_EMAIL_RESEND, "mce:resend"), (texts.BUTTON_MY_EMAIL_OTHER, "mce:change")
    )


def email_sent_text(svc: MyAccountService, session: ConversationSession) -> str:
    """The code's e-mail is sent to the new address."""
    return texts.my_email_sent(session.email or "", svc.ports.settings.code_length, svc.hours())


def prompt(svc: MyAccountService, session: ConversationSession, full: bool = True) -> list[Prompt]:
    """The message that asks for what the current step needs."""
    step = session.step
    if step == MyAccountStep.PASSWORD:
        questions = svc.change_of(session) == Change.QUESTIONS
        text = texts.my_ask_password(session.identifiant or "", questions)
        return [Prompt(text, (), InputKind.SECRET)]
    if step == MyAccountStep.EMAIL:
        return [Prompt(texts.MY_ASK_EMAIL, (), InputKind.TEXT)]
    if step == MyAccountStep.EMAIL_CONFIRM:
        return [
            confirm_address_prompt(
                session.email or "", "mce", texts.BUTTON_MY_EMAIL_SEND, texts.BUTTON_MY_EMAIL_OTHER
            )
        ]
    if step == MyAccountStep.CODE:
        return [Prompt(email_sent_text(svc, session), code_choices(), InputKind.EMAIL_LINK)]
    if step in (MyAccountStep.QUESTION1, MyAccountStep.QUESTION2):
        rows = rows_of(*((q, f"mcq:{index}") for index, q in svc.available_questions(session)))
        first = step == MyAccountStep.QUESTION1
        title = texts.CHOOSE_QUESTION_1 if first else texts.CHOOSE_QUESTION_2
        return [Prompt(title, rows, InputKind.CHOICE)]
    if step in (MyAccountStep.ANSWER1_CONFIRM, MyAccountStep.ANSWER2_CONFIRM):
        first = step == MyAccountStep.ANSWER1_CONFIRM
        again = (session.question1 if first else session.question2) or ""
        return [Prompt(texts.ask_answer_again(again), (), InputKind.SECRET)]
    question = session.question1 if step == MyAccountStep.ANSWER1 else session.question2
    return [Prompt(texts.ask_answer(question or ""), (), InputKind.SECRET)]


DESCRIPTION = Description(
    FLOW_MY_ACCOUNT,
    steps=(
        StepSpec(MyAccountStep.PASSWORD, InputKind.SECRET, screen=True),
        StepSpec(MyAccountStep.EMAIL, InputKind.TEXT),
        StepSpec(MyAccountStep.EMAIL_CONFIRM, InputKind.CHOICE, choices=("mce",)),
        StepSpec(MyAccountStep.CODE, InputKind.EMAIL_LINK, choices=("mce",)),
        StepSpec(MyAccountStep.QUESTION1, InputKind.CHOICE, choices=("mcq",)),
        StepSpec(MyAccountStep.ANSWER1, InputKind.SECRET, screen=True),
        StepSpec(MyAccountStep.ANSWER1_CONFIRM, InputKind.SECRET),
        StepSpec(MyAccountStep.QUESTION2, InputKind.CHOICE, choices=("mcq",)),
        StepSpec(MyAccountStep.ANSWER2, InputKind.SECRET, screen=True),
        StepSpec(MyAccountStep.ANSWER2_CONFIRM, InputKind.SECRET),
    ),
    service=MyAccountService,
    prompt=prompt,
    staff_labels=lambda: texts.STAFF_STEPS_MY_ACCOUNT,
    code_mails=(outbox_templates.EMAIL_CHANGE,),
    notices=(outbox_templates.EMAIL_CHANGED,),
)
