"""The throttle reserves an attempt before the secret is checked (real SQLite file): a burst of
guesses sent at once is evaluated at most ``failures_before_delay`` times."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.procedures.activation import ActivationService, Step
from bot.procedures.kernel import Outcome
from bot.procedures.my_account import Change, MyAccountService
from bot.procedures.recovery import RecoveryService, RecoveryStep
from bot.procedures.throttle import ThrottlePolicy
from storage.db import Database, to_db_time
from storage.throttle import ThrottleRepository

from conftest import ServiceFactory
from support import MutableClock
from test_activation_service import at_step
from test_my_account_service import activate

BURST = 40


async def test_reserve_gives_the_verdict_of_the_policy(
    database: Database, clock: MutableClock
) -> None:
    """The SQL gate and ThrottlePolicy.retry_after agree, around every delay of the ladder."""
    policy = ThrottlePolicy()
    throttle = ThrottleRepository(database)
    now = clock()
    cases = 0
    for consecutive in range(0, policy.failures_before_delay + 14):
        delay = policy.delay_after(consecutive)
        for ago in {timedelta(0), delay - timedelta(seconds=1), delay, delay * 2}:
            if ago < timedelta(0):
                continue
            key = f"k{cases}"
            cases += 1
            async with database.transaction() as connection:
                await connection.execute(
                    "INSERT INTO throttle (key, consecutive_failures, last_failure_at) "
                    "VALUES (?, ?, ?)",
                    (key, consecutive, to_db_time(now - ago)),
                )
            before = await throttle.counters(key, now - policy.window)
            allowed = policy.retry_after(before, now) is None
            granted = await throttle.reserve(key, now, policy.cutoffs(now)) is not None
            assert granted == allowed, (consecutive, ago)
    assert cases > 40


async def test_a_locked_key_is_never_reserved(database: Database, clock: MutableClock) -> None:
    policy = ThrottlePolicy()
    throttle = ThrottleRepository(database)
    async with database.transaction() as connection:
        await connection.execute(
            "INSERT INTO throttle (key, consecutive_failures, locked_at) VALUES ('k', 0, ?)",
            (to_db_time(clock()),),
        )
    clock.advance(days=30)
    assert await throttle.reserve("k", clock(), policy.cutoffs(clock())) is None


async def test_a_right_guess_turns_its_reservation_into_a_success(
    service: ActivationService,
) -> None:
    for user in (1, 2, 3):
        session = await at_step(service, user, Step.PROVISIONAL)
        assert (await service.submit_provisional(session, "wrong")).outcome == Outcome.REFUSED
    session = await at_step(service, 4, Step.PROVISIONAL)
    assert (await service.submit_provisional(session, "Xq7-Tb4k-Wpz")).outcome == Outcome.OK
    key = service.ports.identifiant_key("lea.martin")
    window = service.ports.clock() - service.ports.throttle_policy.window
    counters = await service.ports.throttle.counters(key, window)
    assert counters.consecutive_failures == 0
    assert counters.failures_in_window == 3, "the right guess is not counted as a failure"


async def test_a_burst_of_wrong_guesses_is_evaluated_at_most_five_times_then_locks(
    service: ActivationService,
) -> None:
    """40 Telegram users guess the same identifier's provisional password at once."""
    sessions = [await at_step(service, user, Step.PROVISIONAL) for user in range(1, BURST + 1)]
    outcomes = await asyncio.gather(
        *(
            service.submit_provisional(session, f"wrong-{index}")
            for index, session in enumerate(sessions)
        )
    )
    assert [result.outcome for result in outcomes] == [Outcome.REFUSED] * BURST
    key = service.ports.identifiant_key("lea.martin")
    window = service.ports.clock() - service.ports.throttle_policy.window
    checked, refused = await service.ports.throttle.failure_counts(key, window)
    assert checked <= service.ports.throttle_policy.failures_before_delay
    assert checked + refused == BURST, "every wrong guess counts, even while refused"
    counters = await service.ports.throttle.counters(key, window)
    assert counters.locked_at is not None, "25 failures lock the identifier"
    session = await at_step(service, BURST + 1, Step.PROVISIONAL)
    assert (await service.submit_provisional(session, "Xq7-Tb4k-Wpz")).outcome == Outcome.REFUSED


async def test_a_burst_of_wrong_codes_is_evaluated_at_most_five_times(
    service: ActivationService,
) -> None:
    session = await at_step(service, 1, Step.CODE)
    outcomes = await asyncio.gather(
        *(service.submit_code(session, f"{index:08d}") for index in range(BURST))
    )
    assert Outcome.OK not in {result.outcome for result in outcomes}
    key = service.ports.identifiant_key("lea.martin")
    window = service.ports.clock() - service.ports.throttle_policy.window
    checked, refused = await service.ports.throttle.failure_counts(key, window)
    assert checked <= service.ports.throttle_policy.failures_before_delay
    assert checked + refused == BURST


async def test_a_burst_of_current_passwords_is_evaluated_at_most_five_times(
    make_service: ServiceFactory, clock: MutableClock
) -> None:
    svc: MyAccountService = await make_service(MyAccountService)
    lea = await activate(svc, 1)
    session = await svc.start_change(1, 1, lea.id, Change.EMAIL)
    assert session is not None
    outcomes = await asyncio.gather(
        *(svc.submit_current_password(session, f"Faux-{index}") for index in range(BURST))
    )
    assert Outcome.OK not in {result.outcome for result in outcomes}
    window = clock() - svc.ports.throttle_policy.window
    checked, refused = await svc.ports.throttle.failure_counts(
        svc.ports.identifiant_key("lea.martin"), window
    )
    assert checked <= svc.ports.throttle_policy.failures_before_delay
    assert checked + refused == BURST


async def test_a_burst_of_secret_answers_is_evaluated_at_most_five_times(
    make_service: ServiceFactory, clock: MutableClock
) -> None:
    svc: RecoveryService = await make_service(RecoveryService)
    sessions = []
    for user in range(1, BURST + 1):
        session = await svc.start(user, user)
        await svc.submit_recovery_identifiant(session, "lea.martin")
        await svc.choose_questions_method(session)
        await svc.submit_recovery_answer(session, "premiere reponse")
        assert session.step == RecoveryStep.ANSWER2
        sessions.append(session)
    outcomes = await asyncio.gather(
        *(svc.submit_recovery_answer(session, "seconde reponse") for session in sessions)
    )
    assert {result.outcome for result in outcomes} == {Outcome.WRONG}
    window = clock() - svc.ports.throttle_policy.window
    checked, refused = await svc.ports.throttle.failure_counts(
        svc.ports.identifiant_key("lea.martin"), window
    )
    assert checked <= svc.ports.throttle_policy.failures_before_delay
    assert checked + refused == BURST
