"""argon2id operations an activation costs (issue 15): counted, never timed. The security needs
2 by e-mail (the provisional password's check, the new password's hash) and 4 by questions
(and each answer's hash); the confirmations compare short-lived keyed digests, which leave with
the session."""

from __future__ import annotations

import json

import pytest

from bot.config.password_policy import PasswordRule
from bot.procedures.activation import PROVISIONAL_DIGEST, ActivationService, Step
from bot.procedures.kernel import Outcome
from bot.procedures.recovery import RecoveryService, RecoveryStep
from bot.security import SecretHasher, is_pending_digest
from storage.accounts import AccountStatus

from conftest import ServiceFactory
from support import GOOD_PASSWORD
from test_activation_service import at_step


class Counted:
    """Counts the calls of a hasher's argon2id operations."""

    def __init__(self, hasher: SecretHasher, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original_hash, original_verify = hasher.hash, hasher.verify

        async def hash_(secret: str) -> str:
            self.calls += 1
            return await original_hash(secret)

        async def verify(stored: str | None, secret: str) -> bool:
            self.calls += 1
            return await original_verify(stored, secret)

        monkeypatch.setattr(hasher, "hash", hash_)
        monkeypatch.setattr(hasher, "verify", verify)


async def test_an_activation_by_email_costs_two_argon2_operations(
    service: ActivationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = Counted(service.ports.hasher, monkeypatch)
    session = await at_step(service, 1, Step.PASSWORD)  # the provisional password: 1
    assert counted.calls == 1
    digest = json.loads(session.flow_data)[PROVISIONAL_DIGEST]
    assert is_pending_digest(digest) and "Xq7-Tb4k-Wpz" not in digest
    result = await service.submit_password(session, "Xq7-Tb4k-Wpz")
    assert result.rules == (PasswordRule.SAME_AS_PROVISIONAL,)  # still refused, without argon2
    assert (await service.submit_password(session, GOOD_PASSWORD)).outcome == Outcome.OK
    assert is_pending_digest(session.new_password_hash)
    assert (await service.confirm_password(session, GOOD_PASSWORD)).outcome == Outcome.ACTIVATED
    assert counted.calls == 2  # the new password's hash, by the directory
    assert await service.session_of(1) is None  # the digests went with the session


async def test_an_activation_by_questions_costs_four_argon2_operations(
    service: ActivationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = Counted(service.ports.hasher, monkeypatch)
    session = await at_step(service, 1, Step.RECOVERY)
    await service.choose_questions(session)
    await service.choose_question(session, 0)
    await service.submit_answer(session, "Mon Éléphant")
    assert is_pending_digest(session.answer1_hash)
    assert (await service.submit_answer(session, "mon elephant")).outcome == Outcome.OK
    assert session.answer1_hash and session.answer1_hash.startswith("$argon2id$")
    await service.choose_question(session, 1)
    await service.submit_answer(session, "Tours")
    await service.submit_answer(session, "Tours")
    assert counted.calls == 3
    await service.submit_password(session, GOOD_PASSWORD)
    assert (await service.confirm_password(session, GOOD_PASSWORD)).outcome == Outcome.ACTIVATED
    assert counted.calls == 4
    account = await service.ports.directory.find("lea.martin")
    assert account and account.status == AccountStatus.ACTIVE
    assert account.secret_answer1_hash and account.secret_answer1_hash.startswith("$argon2id$")
    assert await service.ports.hasher.verify(account.secret_answer2_hash, "tours")


async def test_a_mismatched_confirmation_forgets_the_digest(service: ActivationService) -> None:
    session = await at_step(service, 1, Step.PASSWORD)
    await service.submit_password(session, GOOD_PASSWORD)
    assert (await service.confirm_password(session, GOOD_PASSWORD + "x")).outcome == (
        Outcome.MISMATCH
    )
    assert session.new_password_hash is None and session.step == Step.PASSWORD
    saved = await service.session_of(1)
    assert saved is not None and saved.new_password_hash is None


async def test_sessions_saved_by_an_earlier_version_still_confirm(
    service: ActivationService,
) -> None:
    """Before issue 15 the session kept argon2id hashes and no provisional digest."""
    session = await at_step(service, 1, Step.PASSWORD)
    session.flow_data = "{}"
    result = await service.submit_password(session, "Xq7-Tb4k-Wpz")
    assert result.rules == (PasswordRule.SAME_AS_PROVISIONAL,)  # checked by the directory then
    session.new_password_hash = await service.ports.hasher.hash(GOOD_PASSWORD)
    session.step = Step.PASSWORD_CONFIRM
    assert (await service.confirm_password(session, GOOD_PASSWORD)).outcome == Outcome.ACTIVATED


async def test_a_digest_is_salted_and_keyed(service: ActivationService) -> None:
    keyed = service.ports.keyed
    one, two = (keyed.pending("Tours", purpose="answer") for _ in range(2))
    assert one != two  # a fresh salt each time: nothing to compare across sessions
    assert keyed.matches_pending("Tours", one, purpose="answer")
    assert not keyed.matches_pending("Tours", one, purpose="password")
    assert not keyed.matches_pending("tours", one, purpose="answer")
    assert not keyed.matches_pending("Tours", None, purpose="answer")
    assert not keyed.matches_pending("Tours", "$argon2id$v=19$x", purpose="answer")


async def test_a_recovery_costs_one_argon2_operation_once_proven(
    make_service: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    activation: ActivationService = await make_service(ActivationService)
    session = await at_step(activation, 1, Step.PASSWORD)
    await activation.submit_password(session, GOOD_PASSWORD)
    await activation.confirm_password(session, GOOD_PASSWORD)
    recovery: RecoveryService = await make_service(RecoveryService)
    counted = Counted(recovery.ports.hasher, monkeypatch)
    session = await recovery.start(1, 1)
    account = await recovery.ports.directory.find("lea.martin")
    assert account is not None
    session.account_id = account.id  # proven (by the e-mail or the answers)
    await recovery.steps.go(session, RecoveryStep.PASSWORD)
    new = GOOD_PASSWORD + "-2"
    assert (await recovery.submit_recovery_password(session, new)).outcome == Outcome.OK
    assert is_pending_digest(session.new_password_hash)
    assert (await recovery.confirm_recovery_password(session, new)).outcome == Outcome.ACTIVATED
    assert counted.calls == 1  # the new password's hash, by the directory
