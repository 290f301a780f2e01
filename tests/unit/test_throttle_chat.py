"""The chat's own throttle in :func:`guarded_check` (issue 22.10), over a real SQLite file: it
is reached first, decides without looking at the identifier (so its wait may be told), ends
with the identifier's own delay, never locks, and a check that could not run counts for
nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.directory.port import DirectoryUnavailable
from bot.procedures.throttle import ThrottlePolicy, chat_key, guarded_check
from storage.db import Database
from storage.throttle import ThrottleRepository

from support import MutableClock

POLICY = ThrottlePolicy()
CHAT = chat_key(42)


class Check:
    """A secret's check that says ``right`` and counts its calls."""

    def __init__(self, right: bool = False) -> None:
        self.right = right
        self.calls = 0

    async def __call__(self) -> bool:
        self.calls += 1
        return self.right


async def test_after_five_failures_the_chat_waits_whatever_the_identifier(
    database: Database, clock: MutableClock
) -> None:
    throttle = ThrottleRepository(database)
    for n in range(5):  # five identifiers, one failure each: none is in its own delay
        attempt = await guarded_check(throttle, POLICY, f"id{n}", clock(), Check(), chat=CHAT)
        assert not attempt.accepted and attempt.chat_wait is None
    for key in ("id0", "never-tried"):
        check = Check(right=True)
        attempt = await guarded_check(throttle, POLICY, key, clock(), check, chat=CHAT)
        assert attempt.chat_wait == timedelta(minutes=1) and not attempt.accepted
        assert check.calls == 0, "nothing about the identifier is looked at"
    # the identifiers' own counters did not move while the chat waited
    counters = await throttle.counters("never-tried", clock() - POLICY.window)
    assert counters.consecutive_failures == 0
    clock.advance(seconds=61)
    attempt = await guarded_check(throttle, POLICY, "id0", clock(), Check(right=True), chat=CHAT)
    assert attempt.accepted
    # a success starts the chat's count again
    assert (await throttle.counters(CHAT, clock() - POLICY.window)).consecutive_failures == 0


async def test_alone_on_one_identifier_both_delays_end_together(
    database: Database, clock: MutableClock
) -> None:
    throttle = ThrottleRepository(database)

    async def told_wait() -> timedelta:
        """The right secret now: the chat's wait is told, and it is the identifier's too."""
        attempt = await guarded_check(throttle, POLICY, "id", clock(), Check(True), chat=CHAT)
        assert attempt.chat_wait is not None and not attempt.accepted
        chat = await throttle.counters(CHAT, clock() - POLICY.window)
        own = await throttle.counters("id", clock() - POLICY.window)
        assert POLICY.retry_after(chat, clock()) == POLICY.retry_after(own, clock())
        return attempt.chat_wait

    for _ in range(5):
        await guarded_check(throttle, POLICY, "id", clock(), Check(), chat=CHAT)
    clock.advance(seconds=(await told_wait()).total_seconds())
    attempt = await guarded_check(throttle, POLICY, "id", clock(), Check(), chat=CHAT)
    assert attempt.chat_wait is None and not attempt.accepted  # checked, wrong: both double
    wait = await told_wait()
    assert wait == timedelta(minutes=2)
    clock.advance(seconds=wait.total_seconds())
    attempt = await guarded_check(throttle, POLICY, "id", clock(), Check(right=True), chat=CHAT)
    assert attempt.accepted


async def test_the_chat_is_never_locked(database: Database, clock: MutableClock) -> None:
    throttle = ThrottleRepository(database)
    for n in range(POLICY.failures_before_lock + 5):
        await guarded_check(throttle, POLICY, f"id{n}", clock(), Check(), chat=CHAT)
        clock.advance(hours=1)
    counters = await throttle.counters(CHAT, clock() - POLICY.window)
    assert counters.locked_at is None


async def test_a_check_that_could_not_run_counts_for_nothing(
    database: Database, clock: MutableClock
) -> None:
    throttle = ThrottleRepository(database)

    async def unreachable() -> bool:
        raise DirectoryUnavailable("down")

    for _ in range(10):
        with pytest.raises(DirectoryUnavailable):
            await guarded_check(throttle, POLICY, "id", clock(), unreachable, chat=CHAT)
    for key in (CHAT, "id"):
        counters = await throttle.counters(key, clock() - POLICY.window)
        assert counters.consecutive_failures == 0 and counters.failures_in_window == 0
