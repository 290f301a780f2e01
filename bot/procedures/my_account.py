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
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from bot.outbox import senders as outbox_templates
from bot.outbox.mail import mask_email, validate_email_address
from bot.procedures.activation import ActivationService, Outcome, Result
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
    QUESTION2 = "mc_question2"
    ANSWER2 = "mc_reponse2"


class Change(StrEnum):
    """What the user asked to change."""

    EMAIL = "email"
    QUESTIONS = "questions"


@dataclass
class MyAccountService(ActivationService):
    """Changes to a linked account, over the activation's repositories, hashers and throttle."""

    flow: ClassVar[str] = FLOW_MY_ACCOUNT
    email_step: ClassVar[str] = MyAccountStep.EMAIL
    email_confirm_step: ClassVar[str] = MyAccountStep.EMAIL_CONFIRM
    code_step: ClassVar[str] = MyAccountStep.CODE
    mail_template: ClassVar[str] = outbox_templates.EMAIL_CHANGE
    question_steps: ClassVar[tuple[str, str, str, str]] = (
        MyAccountStep.QUESTION1,
        MyAccountStep.ANSWER1,
        MyAccountStep.QUESTION2,
        MyAccountStep.ANSWER2,
    )

    @staticmethod
    def _actor(session: ConversationSession) -> str:
        return f"telegram:{session.telegram_user_id}"

    async def linked_account(self, telegram_user_id: int, account_id: int) -> Account | None:
        """The account, if it is active and linked to this Telegram user (button data is never
        trusted: it may be stale or forged)."""
        account = await self.directory.get(account_id)
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
        await self.sessions.delete(session.telegram_user_id)
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
        now = self.clock()
        session = ConversationSession(
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            flow=self.flow,
            step=MyAccountStep.PASSWORD,
            started_at=now,
            updated_at=now,
            identifiant=account.identifiant,
            account_id=account.id,
            flow_data=json.dumps({"change": change.value}),
        )
        await self._go(session, MyAccountStep.PASSWORD)
        return session

    # --- proof of identity ---------------------------------------------------------------

    async def submit_current_password(self, session: ConversationSession, password: str) -> Result:
        """The account's current ENT password: OK (on to the change), WRONG, THROTTLED, LOCKED,
        or REFUSED if the account is no longer linked."""
        account = await self._account(session)
        if account is None:
            return await self._not_linked(session)
        result = await self._judge_attempt(
            self._key(account.identifiant),
            lambda: self.directory.check_password(account.id, password),
            self.clock(),
            account_id=account.id,
        )
        if result.outcome != Outcome.OK:
            return result
        if self.change_of(session) == Change.QUESTIONS:
            session.question1 = session.answer1_hash = None
            session.question2 = session.answer2_hash = None
            await self._go(session, MyAccountStep.QUESTION1)
        else:
            await self._go(session, MyAccountStep.EMAIL)
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
        return await super().submit_email(session, text)

    async def send_verification(
        self, session: ConversationSession, bot_username: str, *, resend: bool = False
    ) -> Result:
        """Send the code and link to the new address (cooldown and cap as in activation)."""
        account = await self._account(session)
        if account is None:
            return await self._not_linked(session)
        now = self.clock()
        result = await super().send_verification(session, bot_username, resend=resend)
        if result.outcome in (Outcome.SENT, Outcome.QUEUED) and not resend and session.email:
            await self.records.audit(
                "email_change_requested",
                account.id,
                self._actor(session),
                now,
                f"nouvelle={mask_email(session.email)}",
            )
        return result

    async def _restart_credentials(
        self, session: ConversationSession, *, keep_identifiant: bool = False
    ) -> Result:
        """No pending address: ask it again (the password was already proven)."""
        session.code_hash = session.token_hash = None
        await self._go(session, MyAccountStep.EMAIL)
        return Result(Outcome.INVALID)

    async def _expire(self, session: ConversationSession) -> Result:
        """48 hours passed: the address did not change; a new code may be sent."""
        session.code_hash = session.token_hash = None
        session.code_sent_at = None
        await self._go(session, MyAccountStep.EMAIL_CONFIRM)
        return Result(Outcome.EXPIRED)

    async def _email_verified(self, session: ConversationSession, now: datetime) -> Result:
        """The code was typed or the link opened: the new address replaces the old one, which
        is told. CHANGED, or REFUSED if the account is no longer linked."""
        account = await self._account(session)
        new = session.email
        if account is None or new is None:
            return await self._not_linked(session)
        replaced = await self.directory.replace_email(
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
                self._notice_mail(
                    outbox_templates.EMAIL_CHANGED,
                    old,
                    account.id,
                    prenom=account.prenom,
                    masked_new=mask_email(new),
                )
            )
        await self.sessions.delete(session.telegram_user_id, outbox=notices)
        for notice in notices:
            self._outbox().kick(notice)
        if not replaced:
            return Result(Outcome.REFUSED)
        return Result(Outcome.CHANGED, account=account, email=new)

    # --- new secret questions --------------------------------------------------------------

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
        replaced = await self.accounts.replace_secret_questions(
            account.id,
            session.telegram_user_id,
            (session.question1, session.question2),
            (session.answer1_hash, session.answer2_hash),
            self.clock(),
        )
        await self.sessions.delete(session.telegram_user_id)
        return Result(Outcome.CHANGED if replaced else Outcome.REFUSED, account=account)

    def hours(self) -> int:
        """Validity of a code, in hours."""
        return round(self.settings.verification_ttl / timedelta(hours=1))
