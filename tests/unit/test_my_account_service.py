"""The « Mon compte » rules without Telegram: real SQLite file, cheap argon2id, a recording
mailer."""

from __future__ import annotations

import pytest

from bot.procedures.activation import ActivationService, Step
from bot.procedures.kernel import Outcome
from bot.procedures.my_account import Change, MyAccountService, MyAccountStep
from storage.accounts import Account
from storage.sessions import ConversationSession

from conftest import ServiceFactory
from service_factory import RecordingMailer
from support import GOOD_PASSWORD, MutableClock
from test_activation_service import at_step


@pytest.fixture
async def svc(make_service: ServiceFactory) -> MyAccountService:
    """The « Mon compte » service over a real database with the test accounts."""
    svc: MyAccountService = await make_service(MyAccountService)
    return svc


async def activate(svc: MyAccountService, user: int, who: str = "lea.martin") -> Account:
    """Activate ``who`` for Telegram user ``user`` with lea@example.org."""
    passwords = {"lea.martin": "Xq7-Tb4k-Wpz", "paul.durand": "Rm2-Hv8n-Zcw"}
    base = ActivationService(svc.ports)
    session = await at_step(base, user, Step.PASSWORD, who, passwords[who])
    await base.submit_password(session, GOOD_PASSWORD)
    result = await base.confirm_password(session, GOOD_PASSWORD)
    assert result.outcome == Outcome.ACTIVATED and result.account
    return result.account


def mailer(svc: MyAccountService) -> RecordingMailer:
    return svc.ports.mailer  # type: ignore[return-value]


async def email_of(svc: MyAccountService, account: Account) -> str | None:
    stored = await svc.ports.directory.get(account.id)
    assert stored is not None
    return stored.email


async def at_code(
    svc: MyAccountService, user: int, account: Account, address: str
) -> ConversationSession:
    """A change of e-mail waiting for the code sent to ``address``."""
    session = await svc.start_change(user, user, account.id, Change.EMAIL)
    assert session is not None
    assert (await svc.submit_current_password(session, GOOD_PASSWORD)).outcome == Outcome.OK
    assert (await svc.submit_email(session, address)).outcome == Outcome.OK
    assert (await svc.send_verification(session, "b")).outcome == Outcome.SENT
    assert session.step == MyAccountStep.CODE
    return session


async def test_only_an_account_linked_to_this_user_can_be_changed(svc: MyAccountService) -> None:
    lea = await activate(svc, 1)
    assert await svc.start_change(2, 2, lea.id, Change.EMAIL) is None
    assert await svc.start_change(1, 1, 999_999, Change.QUESTIONS) is None
    paul = await svc.ports.directory.find("paul.durand")  # not activated
    assert paul and await svc.start_change(1, 1, paul.id, Change.EMAIL) is None
    assert await svc.ports.sessions.get(2) is None


async def test_current_password_is_throttled_with_the_identifier(
    svc: MyAccountService, clock: MutableClock
) -> None:
    lea = await activate(svc, 1)
    session = await svc.start_change(1, 1, lea.id, Change.EMAIL)
    assert session is not None
    outcomes = [(await svc.submit_current_password(session, "wrong")).outcome for _ in range(5)]
    assert outcomes[:4] == [Outcome.WRONG] * 4 and outcomes[4] == Outcome.THROTTLED
    refused = await svc.submit_current_password(session, GOOD_PASSWORD)
    assert refused.outcome == Outcome.THROTTLED and session.step == MyAccountStep.PASSWORD
    clock.advance(seconds=61)
    assert (await svc.submit_current_password(session, GOOD_PASSWORD)).outcome == Outcome.OK
    assert session.step == MyAccountStep.EMAIL


async def test_new_email_replaces_the_old_one_only_once_proven(svc: MyAccountService) -> None:
    lea = await activate(svc, 1)
    session = await svc.start_change(1, 1, lea.id, Change.EMAIL)
    assert session is not None
    await svc.submit_current_password(session, GOOD_PASSWORD)
    assert (await svc.submit_email(session, "LEA@example.org")).outcome == Outcome.SAME
    assert (await svc.submit_email(session, "pas une adresse")).outcome == Outcome.INVALID
    assert (await svc.submit_email(session, "lea.new@example.org")).outcome == Outcome.OK
    assert (await svc.send_verification(session, "b")).outcome == Outcome.SENT
    sent = mailer(svc).sent[-1]
    assert sent.to == "lea.new@example.org" and "nouvelle adresse" in sent.subject
    assert "nouvelle adresse" in sent.html and "Vous activez" not in sent.html
    assert (await svc.submit_code(session, "00000000")).outcome == Outcome.WRONG
    assert await email_of(svc, lea) == "lea@example.org"
    result = await svc.submit_code(session, mailer(svc).last_code())
    assert result.outcome == Outcome.CHANGED and result.email == "lea.new@example.org"
    assert await email_of(svc, lea) == "lea.new@example.org"
    assert svc.ports.outbox is not None
    await svc.ports.outbox.drain()  # the notice leaves through the outbox, after the answer
    notice = mailer(svc).sent[-1]
    assert notice.to == "lea@example.org" and "l*****w@example.org" in notice.text
    assert await svc.ports.sessions.get(1) is None


async def test_link_is_for_this_user_and_expiry_changes_nothing(
    svc: MyAccountService, clock: MutableClock
) -> None:
    lea = await activate(svc, 1)
    session = await at_code(svc, 1, lea, "lea.new@example.org")
    token = mailer(svc).last_token()
    assert (await svc.verify_link(2, token)).outcome == Outcome.OTHER_USER
    activation = ActivationService(svc.ports)
    assert (await activation.verify_link(1, token)).outcome == Outcome.INVALID
    clock.advance(hours=48)
    assert (await svc.verify_link(1, token)).outcome == Outcome.EXPIRED
    session = await svc.session_of(1)
    assert session and session.step == MyAccountStep.EMAIL_CONFIRM and session.code_hash is None
    assert await email_of(svc, lea) == "lea@example.org"
    assert (await svc.send_verification(session, "b")).outcome == Outcome.SENT
    assert (await svc.verify_link(1, mailer(svc).last_token())).outcome == Outcome.CHANGED


async def test_changing_the_address_back_and_forth_is_capped(
    svc: MyAccountService, clock: MutableClock
) -> None:
    lea = await activate(svc, 1)
    session = await at_code(svc, 1, lea, "a@example.org")
    sent = len(mailer(svc).sent)
    for n in range(svc.ports.settings.max_resends):
        await svc.change_email(session)
        assert session.step == MyAccountStep.EMAIL
        await svc.submit_email(session, f"b{n}@example.org")
        assert (await svc.send_verification(session, "b")).outcome == Outcome.SENT
    await svc.change_email(session)
    await svc.submit_email(session, "a@example.org")
    assert (await svc.send_verification(session, "b")).outcome == Outcome.RESEND_LIMIT
    clock.advance(minutes=10)
    assert (await svc.send_verification(session, "b", resend=True)).outcome == Outcome.RESEND_LIMIT
    assert len(mailer(svc).sent) == sent + svc.ports.settings.max_resends


async def test_unlinked_meanwhile_nothing_changes(svc: MyAccountService) -> None:
    lea = await activate(svc, 1)
    session = await at_code(svc, 1, lea, "lea.new@example.org")
    assert await svc.ports.accounts.unlink_account(lea.id, 1, svc.ports.clock())
    assert not await svc.ports.accounts.unlink_account(lea.id, 1, svc.ports.clock())
    result = await svc.submit_code(session, mailer(svc).last_code())
    assert result.outcome == Outcome.REFUSED
    assert await email_of(svc, lea) == "lea@example.org"
    assert await svc.ports.sessions.get(1) is None


async def test_a_notice_that_cannot_leave_does_not_undo_the_change(
    svc: MyAccountService,
) -> None:
    lea = await activate(svc, 1)
    session = await at_code(svc, 1, lea, "lea.new@example.org")
    code = mailer(svc).last_code()
    mailer(svc).fail = True
    assert (await svc.submit_code(session, code)).outcome == Outcome.CHANGED
    assert await email_of(svc, lea) == "lea.new@example.org"


async def test_questions_are_replaced_together_and_the_email_stays(svc: MyAccountService) -> None:
    lea = await activate(svc, 1)
    session = await svc.start_change(1, 1, lea.id, Change.QUESTIONS)
    assert session is not None
    await svc.submit_current_password(session, GOOD_PASSWORD)
    assert session.step == MyAccountStep.QUESTION1
    assert (await svc.choose_question(session, 2)).outcome == Outcome.OK
    assert session.step == MyAccountStep.ANSWER1
    assert (await svc.submit_answer(session, "ab")).outcome == Outcome.TOO_SHORT
    assert (await svc.submit_answer(session, "  Le Chat BOTTÉ ")).outcome == Outcome.OK
    assert session.step == MyAccountStep.ANSWER1_CONFIRM
    assert (await svc.submit_answer(session, "le chat botté")).outcome == Outcome.OK
    assert session.step == MyAccountStep.QUESTION2
    assert (await svc.choose_question(session, 2)).outcome == Outcome.INVALID
    await svc.choose_question(session, 0)
    stored = await svc.ports.directory.get(lea.id)
    assert stored and stored.secret_question1 is None, "stored before the second answer"
    assert (await svc.submit_answer(session, "Paris")).outcome == Outcome.OK
    stored = await svc.ports.directory.get(lea.id)
    assert stored and stored.secret_question1 is None, "stored before the confirmation"
    result = await svc.submit_answer(session, "Paris")
    assert result.outcome == Outcome.CHANGED
    stored = await svc.ports.directory.get(lea.id)
    assert stored is not None
    questions = svc.ports.school.secret_questions
    assert (stored.secret_question1, stored.secret_question2) == (questions[2], questions[0])
    assert await svc.ports.hasher.verify(stored.secret_answer1_hash, "le chat botte")
    assert await svc.ports.hasher.verify(stored.secret_answer2_hash, "paris")
    assert stored.email == "lea@example.org" and stored.email_verified
    assert await svc.ports.sessions.get(1) is None
