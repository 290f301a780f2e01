"""The activation rules without Telegram: real SQLite file, cheap argon2id, a recording mailer."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from bot.config.password_policy import PasswordRule
from bot.outbox import OutboxSettings
from bot.procedures.activation import ActivationService, Step
from bot.procedures.kernel import Outcome
from storage.accounts import AccountStatus
from storage.db import Database
from storage.sessions import ConversationSession

from service_factory import RecordingMailer
from support import GOOD_PASSWORD, MutableClock


async def at_step(
    svc: ActivationService,
    user: int,
    step: Step,
    who: str = "lea.martin",
    password: str = "Xq7-Tb4k-Wpz",
) -> ConversationSession:
    """Walk a session to ``step`` along the e-mail path."""
    session = await svc.begin(user, user, Step.IDENTIFIANT)
    if step == Step.IDENTIFIANT:
        return session
    await svc.submit_identifiant(session, who)
    if step == Step.PROVISIONAL:
        return session
    assert (await svc.submit_provisional(session, password)).outcome == Outcome.OK
    if step == Step.CGU:
        return session
    await svc.accept_cgu(session)
    if step == Step.RECOVERY:
        return session
    await svc.choose_email(session)
    # One address per user: an address gets one code e-mail a minute, whoever asks.
    await svc.submit_email(session, "lea@example.org" if user == 1 else f"lea{user}@example.org")
    if step == Step.EMAIL_CONFIRM:
        return session
    assert (await svc.send_verification(session, "test_bot")).outcome == Outcome.SENT
    if step == Step.CODE:
        return session
    mailer: RecordingMailer = svc.ports.mailer  # type: ignore[assignment]
    assert (await svc.submit_code(session, mailer.last_code())).outcome == Outcome.OK
    assert session.step == Step.PASSWORD
    return session


async def test_refusals_look_the_same_whatever_the_reason(service: ActivationService) -> None:
    outcomes = []
    for user, (identifiant, password) in enumerate(
        [("inconnu.x", "whatever"), ("lea.martin", "wrong"), ("LEA.MARTIN", "wrong")], start=1
    ):
        session = await at_step(service, user, Step.PROVISIONAL, identifiant, password)
        nonce = session.prompt_nonce
        outcomes.append((await service.submit_provisional(session, password)).outcome)
        # The identifier is kept (only the password is asked again), with a new prompt.
        assert session.step == Step.PROVISIONAL and session.prompt_nonce != nonce
        assert session.identifiant_key is not None
    assert outcomes == [Outcome.REFUSED] * 3


async def test_a_wrong_provisional_password_keeps_the_identifier(
    service: ActivationService,
) -> None:
    session = await at_step(service, 1, Step.PROVISIONAL)
    assert (await service.submit_provisional(session, "wrong")).outcome == Outcome.REFUSED
    assert (await service.submit_provisional(session, "Xq7-Tb4k-Wpz")).outcome == Outcome.OK
    assert session.step == Step.CGU


async def test_change_identifiant_forgets_the_reference(service: ActivationService) -> None:
    session = await at_step(service, 1, Step.PROVISIONAL, "inconnu.x")
    await service.submit_provisional(session, "wrong")
    await service.change_identifiant(session)
    assert session.step == Step.IDENTIFIANT and session.identifiant_key is None
    await service.submit_identifiant(session, "lea.martin")
    assert (await service.submit_provisional(session, "Xq7-Tb4k-Wpz")).outcome == Outcome.OK


async def test_identifier_is_case_insensitive(service: ActivationService) -> None:
    session = await at_step(service, 1, Step.PROVISIONAL, "  Lea.Martin ")
    assert (await service.submit_provisional(session, "Xq7-Tb4k-Wpz")).outcome == Outcome.OK
    assert session.step == Step.CGU and session.identifiant == "lea.martin"


async def test_throttle_refuses_even_the_right_password_then_lets_it_through(
    service: ActivationService, clock: MutableClock
) -> None:
    for _ in range(5):
        session = await at_step(service, 1, Step.PROVISIONAL)
        await service.submit_provisional(session, "wrong")
    # Another chat is refused like any wrong guess (the identifier's own delay is not told).
    session = await at_step(service, 2, Step.PROVISIONAL)
    assert (await service.submit_provisional(session, "Xq7-Tb4k-Wpz")).outcome == Outcome.REFUSED
    # This chat is told its own wait (issue 22.10): the same whatever the identifier.
    session = await at_step(service, 1, Step.PROVISIONAL)
    told = await service.submit_provisional(session, "Xq7-Tb4k-Wpz")
    assert told.outcome == Outcome.WAIT and told.retry_after == timedelta(minutes=1)
    clock.advance(seconds=61)
    session = await at_step(service, 1, Step.PROVISIONAL)
    assert (await service.submit_provisional(session, "Xq7-Tb4k-Wpz")).outcome == Outcome.OK


async def test_twenty_five_failures_lock_until_staff_unlock(
    service: ActivationService, clock: MutableClock
) -> None:
    # Wrong guesses count even while refused, so hammering reaches the lock within minutes
    # (from several chats: one chat is held by its own delay first, issue 22.10).
    for attempt in range(25):
        session = await at_step(service, 100 + attempt // 5, Step.PROVISIONAL)
        await service.submit_provisional(session, "wrong")
        clock.advance(seconds=10)
    clock.advance(days=30)
    session = await at_step(service, 1, Step.PROVISIONAL)
    assert (await service.submit_provisional(session, "Xq7-Tb4k-Wpz")).outcome == Outcome.REFUSED
    await service.ports.throttle.unlock(service.ports.identifiant_key("lea.martin"))
    session = await at_step(service, 1, Step.PROVISIONAL)
    assert (await service.submit_provisional(session, "Xq7-Tb4k-Wpz")).outcome == Outcome.OK


async def test_one_user_may_try_only_five_identifiers_a_day(service: ActivationService) -> None:
    for n in range(5):
        session = await at_step(service, 7, Step.PROVISIONAL, f"x{n}")
        assert (await service.submit_provisional(session, "p")).outcome == Outcome.REFUSED
    session = await at_step(service, 7, Step.PROVISIONAL)
    result = await service.submit_provisional(session, "Xq7-Tb4k-Wpz")
    assert result.outcome == Outcome.TOO_MANY_IDENTIFIANTS


async def test_code_is_single_use_and_a_new_one_revokes_the_old(
    service: ActivationService, clock: MutableClock
) -> None:
    mailer: RecordingMailer = service.ports.mailer  # type: ignore[assignment]
    session = await at_step(service, 1, Step.CODE)
    old_code, old_token = mailer.last_code(), mailer.last_token()
    clock.advance(seconds=61)
    assert (await service.send_verification(session, "b", resend=True)).outcome == Outcome.SENT
    assert (await service.submit_code(session, old_code)).outcome == Outcome.WRONG
    assert (await service.verify_link(1, old_token)).outcome == Outcome.INVALID
    new_token = mailer.last_token()
    assert (await service.verify_link(2, new_token)).outcome == Outcome.OTHER_USER
    assert (await service.verify_link(1, new_token)).outcome == Outcome.OK
    assert (await service.verify_link(1, new_token)).outcome == Outcome.INVALID


async def test_resend_is_rate_limited(service: ActivationService, clock: MutableClock) -> None:
    session = await at_step(service, 1, Step.CODE)
    result = await service.send_verification(session, "b", resend=True)
    assert result.outcome == Outcome.TOO_SOON and result.retry_after
    for _ in range(5):
        clock.advance(seconds=61)
        assert (await service.send_verification(session, "b", resend=True)).outcome == Outcome.SENT
    clock.advance(seconds=61)
    result = await service.send_verification(session, "b", resend=True)
    assert result.outcome == Outcome.RESEND_LIMIT


async def test_a_corrected_address_goes_at_once_but_every_mail_counts(
    service: ActivationService,
) -> None:
    mailer: RecordingMailer = service.ports.mailer  # type: ignore[assignment]
    session = await at_step(service, 1, Step.CODE)
    for n in range(service.ports.settings.max_resends):
        await service.change_email(session)
        await service.submit_email(session, f"lea{n}@example.org")
        assert (await service.send_verification(session, "b")).outcome == Outcome.SENT
    await service.change_email(session)
    await service.submit_email(session, "lea@example.org")
    assert (await service.send_verification(session, "b")).outcome == Outcome.RESEND_LIMIT
    assert len(mailer.sent) == 1 + service.ports.settings.max_resends


async def test_a_failed_send_is_queued_then_sent_by_the_outbox(
    service: ActivationService,
) -> None:
    """The first attempt fails: the code is valid at once, the user is told the e-mail will
    leave shortly, and the outbox sends it when the server is back (the same code)."""
    mailer: RecordingMailer = service.ports.mailer  # type: ignore[assignment]
    outbox = service.ports.outbox
    assert outbox is not None
    outbox.settings = OutboxSettings(retry_first=0.01, retry_max=0.05)
    session = await at_step(service, 1, Step.EMAIL_CONFIRM)
    mailer.fail = True
    assert (await service.send_verification(session, "b")).outcome == Outcome.QUEUED
    assert session.step == Step.CODE and session.code_hash is not None
    assert mailer.sent == []
    outbox.start()
    try:
        await asyncio.sleep(0.1)
        mailer.fail = False
        await asyncio.wait_for(mailer.arrived.wait(), 5)
    finally:
        await outbox.stop()
    assert len(mailer.sent) == 1
    assert (await service.submit_code(session, mailer.last_code())).outcome == Outcome.OK


async def test_expired_code_restarts_from_the_provisional_password(
    service: ActivationService, clock: MutableClock
) -> None:
    mailer: RecordingMailer = service.ports.mailer  # type: ignore[assignment]
    session = await at_step(service, 1, Step.CODE)
    clock.advance(hours=48)
    assert (await service.submit_code(session, mailer.last_code())).outcome == Outcome.EXPIRED
    assert session.step == Step.PROVISIONAL
    assert session.account_id is None and session.cgu_version is None
    assert session.identifiant == "lea.martin"


async def test_wrong_codes_count_in_the_identifier_throttle(service: ActivationService) -> None:
    session = await at_step(service, 1, Step.CODE)
    outcomes = [(await service.submit_code(session, "00000000")).outcome for _ in range(6)]
    assert outcomes[:4] == [Outcome.WRONG] * 4
    assert outcomes[5] == Outcome.THROTTLED


async def test_the_outbox_never_holds_the_code_or_the_token(
    service: ActivationService, database: Database
) -> None:
    mailer: RecordingMailer = service.ports.mailer  # type: ignore[assignment]
    session = await at_step(service, 1, Step.EMAIL_CONFIRM)
    mailer.fail = True
    assert (await service.send_verification(session, "b")).outcome == Outcome.QUEUED
    mailer.fail = False
    outbox = service.ports.outbox
    assert outbox is not None
    (pending,) = await outbox.repository.pending()
    rendered = outbox.mail.render(pending)
    code = re.search(r"\b(\d{8})\b", rendered.text)
    token = re.search(r"start=([A-Za-z0-9_-]+)", rendered.text)
    assert code and token
    async with database.connection.execute("SELECT * FROM outbox") as cursor:
        dump = repr([tuple(row) for row in await cursor.fetchall()])
    assert code.group(1) not in dump and token.group(1) not in dump
    assert await outbox.attempt(pending.id, 5)
    async with database.connection.execute("SELECT seed, params FROM outbox") as cursor:
        assert [tuple(row) for row in await cursor.fetchall()] == [(None, "{}")]


async def test_password_rules_and_confirmation(service: ActivationService) -> None:
    session = await at_step(service, 1, Step.PASSWORD)
    result = await service.submit_password(session, "court")
    assert PasswordRule.TOO_SHORT in result.rules
    result = await service.submit_password(session, "Xq7-Tb4k-Wpz")
    assert PasswordRule.SAME_AS_PROVISIONAL in result.rules
    result = await service.submit_password(session, "Martin-Velo-99")
    assert result.rules == (PasswordRule.CONTAINS_LAST_NAME,)
    assert (await service.submit_password(session, GOOD_PASSWORD)).outcome == Outcome.OK
    assert (await service.confirm_password(session, GOOD_PASSWORD + "x")).outcome == (
        Outcome.MISMATCH
    )
    assert session.step == Step.PASSWORD and session.new_password_hash is None
    await service.submit_password(session, GOOD_PASSWORD)
    result = await service.confirm_password(session, GOOD_PASSWORD)
    assert result.outcome == Outcome.ACTIVATED
    assert result.account and result.account.status == AccountStatus.ACTIVE
    assert result.account.telegram_user_id == 1
    assert await service.session_of(1) is None


async def test_secret_questions_path(service: ActivationService) -> None:
    session = await at_step(service, 1, Step.RECOVERY)
    await service.choose_questions(session)
    assert (await service.choose_question(session, 0)).outcome == Outcome.OK
    assert (await service.submit_answer(session, "ab")).outcome == Outcome.TOO_SHORT
    assert (await service.submit_answer(session, "  Éléphant ROSE ")).outcome == Outcome.OK
    assert session.step == Step.ANSWER1_CONFIRM
    # Typed twice: a typo is caught now, not when the answer is needed to recover.
    assert (await service.submit_answer(session, "Elephant rise")).outcome == Outcome.MISMATCH
    assert session.step == Step.ANSWER1 and session.answer1_hash is None
    await service.submit_answer(session, "  Éléphant ROSE ")
    assert (await service.submit_answer(session, "éléphant rose")).outcome == Outcome.OK
    assert session.step == Step.QUESTION2
    assert (await service.choose_question(session, 0)).outcome == Outcome.INVALID
    assert (await service.choose_question(session, 1)).outcome == Outcome.OK
    await service.submit_answer(session, "Paris")
    await service.submit_answer(session, "Paris")
    assert session.step == Step.PASSWORD
    assert await service.ports.hasher.verify(session.answer1_hash, "elephant rose")
    await service.submit_password(session, GOOD_PASSWORD)
    assert (await service.confirm_password(session, GOOD_PASSWORD)).outcome == Outcome.ACTIVATED


async def test_no_bypass_of_cgu_or_recovery(service: ActivationService) -> None:
    session = await at_step(service, 1, Step.CGU)
    session.new_password_hash = await service.ports.hasher.hash(GOOD_PASSWORD)
    session.step = Step.PASSWORD_CONFIRM
    result = await service.confirm_password(session, GOOD_PASSWORD)
    assert result.outcome == Outcome.INVALID and session.step == Step.CGU
    await service.accept_cgu(session)
    session.new_password_hash = await service.ports.hasher.hash(GOOD_PASSWORD)
    result = await service.confirm_password(session, GOOD_PASSWORD)
    assert result.outcome == Outcome.INVALID and session.step == Step.RECOVERY
    account = await service.ports.directory.find("lea.martin")
    assert account and account.status == AccountStatus.TO_ACTIVATE


async def test_two_sessions_racing_for_one_account_exactly_one_wins(
    service: ActivationService,
) -> None:
    first = await at_step(service, 1, Step.PASSWORD)
    second = await at_step(service, 2, Step.PASSWORD)
    for session in (first, second):
        await service.submit_password(session, GOOD_PASSWORD)
    results = await asyncio.gather(
        service.confirm_password(first, GOOD_PASSWORD),
        service.confirm_password(second, GOOD_PASSWORD),
    )
    assert sorted(r.outcome for r in results) == [Outcome.ACTIVATED, Outcome.TAKEN]


async def test_active_account_cannot_be_activated_again(service: ActivationService) -> None:
    session = await at_step(service, 1, Step.PASSWORD)
    await service.submit_password(session, GOOD_PASSWORD)
    await service.confirm_password(session, GOOD_PASSWORD)
    session = await at_step(service, 2, Step.PROVISIONAL)
    assert (await service.submit_provisional(session, "Xq7-Tb4k-Wpz")).outcome == Outcome.REFUSED


def test_clock_fixture_is_utc(clock: MutableClock) -> None:
    assert clock().tzinfo is UTC and clock() <= datetime.now(UTC) + timedelta(seconds=1)


async def test_an_address_is_sent_at_once_unless_it_looks_like_a_typo(
    service: ActivationService,
) -> None:
    session = await at_step(service, 1, Step.RECOVERY)
    await service.choose_email(session)
    result = await service.submit_email(session, "lea@example.org")
    assert result.outcome == Outcome.OK and session.step == Step.EMAIL  # to be sent now
    result = await service.submit_email(session, "lea@gmial.com")
    assert result.outcome == Outcome.SUSPECT and session.step == Step.EMAIL_CONFIRM
    await service.use_suggested_address(session)
    assert session.email == "lea@gmail.com"
    assert (await service.send_verification(session, "test_bot")).outcome == Outcome.SENT
    assert session.step == Step.CODE
