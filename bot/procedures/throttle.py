"""Throttling rules for guessable secrets (provisional passwords, e-mail codes, secret answers,
current passwords).

Plain functions over the counters kept in the database, tested without Telegram, and
:func:`guarded_check`, which reserves an attempt before the secret is checked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.directory.port import DirectoryUnavailable
from bot.security import KeyedHasher, normalise_identifiant
from storage.throttle import ThrottleCounters, ThrottleRepository

if TYPE_CHECKING:
    from bot.settings import Settings


def chat_key(telegram_user_id: int) -> str:
    """The throttle key of one Telegram user's tries at secrets of identifiers not proven yet
    (provisional passwords): its delays apply to this chat whatever the identifier typed, so
    they may be told (see :func:`guarded_check`). No HMAC key makes it, none can collide."""
    return f"chat:{telegram_user_id}"


def identifiant_key(keyed: KeyedHasher, identifiant: str) -> str:
    """The throttle key of an identifier, known or not: a keyed hash of its normalised form
    (activation, recovery, « Mon compte » and the staff tools share it)."""
    return keyed.digest(normalise_identifiant(identifiant), purpose="identifiant")


@dataclass(frozen=True)
class ThrottlePolicy:
    """After ``failures_before_delay`` consecutive failures, every attempt is refused for
    ``first_delay``, doubling after each further failure (up to ``max_delay``); after
    ``failures_before_lock`` failures within ``window``, the identifier is locked until staff
    unlock it. One Telegram user may try at most ``max_identifiants_per_user`` identifiers a window.
    """

    failures_before_delay: int = 5
    first_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=24)
    failures_before_lock: int = 25
    window: timedelta = timedelta(hours=24)
    max_identifiants_per_user: int = 5

    def delay_after(self, consecutive_failures: int) -> timedelta:
        """How long attempts are refused after this many consecutive failures."""
        if consecutive_failures < self.failures_before_delay:
            return timedelta(0)
        doublings = consecutive_failures - self.failures_before_delay
        if doublings > 40:
            return self.max_delay
        return min(self.first_delay * (1 << doublings), self.max_delay)  # 2**doublings

    def retry_after(self, counters: ThrottleCounters, now: datetime) -> timedelta | None:
        """None if an attempt is allowed now; else how long to wait (``max_delay`` if locked)."""
        if counters.locked_at is not None:
            return self.max_delay
        if counters.last_failure_at is None:
            return None
        free_at = counters.last_failure_at + self.delay_after(counters.consecutive_failures)
        return None if now >= free_at else free_at - now

    def cutoffs(self, now: datetime) -> list[datetime]:
        """``now`` minus the delay after 0, 1, 2… consecutive failures, up to the first that
        reaches ``max_delay`` (which holds for more): the ladder :meth:`ThrottleRepository.reserve`
        checks in SQL, so that SQL and :meth:`retry_after` give the same verdict."""
        ladder = []
        for count in range(self.failures_before_delay + 42):
            delay = self.delay_after(count)
            ladder.append(now - delay)
            if delay >= self.max_delay:
                break
        return ladder

    def locks_after_failure(self, counters: ThrottleCounters) -> bool:
        """Whether one more failure reaches the staff-only lock."""
        return counters.failures_in_window + 1 >= self.failures_before_lock

    def may_try_identifiant(self, tried: set[str], key: str) -> bool:
        """Whether a user who tried ``tried`` identifiers in the window may try ``key``."""
        return key in tried or len(tried) < self.max_identifiants_per_user


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    """The throttling rules from the settings (here, not in :mod:`bot.app`: the staff
    commands need them without the bot)."""
    return ThrottlePolicy(
        failures_before_delay=settings.failures_before_delay,
        first_delay=timedelta(seconds=settings.first_delay_seconds),
        max_delay=timedelta(seconds=settings.max_delay_seconds),
        failures_before_lock=settings.failures_before_lock,
        max_identifiants_per_user=settings.max_identifiants_per_user,
    )


@dataclass(frozen=True)
class Attempt:
    """The throttle's verdict on one guess: accepted, or why not."""

    accepted: bool
    locked: bool = False
    retry_after: timedelta | None = None
    # This very guess reached the staff-only lock (staff are told once).
    newly_locked: bool = False
    # The chat's own tries are in their delay: nothing was checked, the same for any
    # identifier, so this wait may be told.
    chat_wait: timedelta | None = None


async def guarded_check(
    repository: ThrottleRepository,
    policy: ThrottlePolicy,
    key: str,
    now: datetime,
    check: Callable[[], Awaitable[bool]],
    *,
    chat: str | None = None,
) -> Attempt:
    """Check a guess of a secret bound to ``key`` under the throttle.

    With ``chat`` (:func:`chat_key`), the chat's own tries are throttled first, with the same
    delays and no lock: after ``failures_before_delay`` failures in a row from this chat, the
    guess is refused before anything about ``key`` is looked at (``chat_wait``), which is why
    that wait may be told. A chat trying one identifier reaches its delay with the identifier's
    own, and both end at the same moment: the right secret typed after the wait is checked.

    The attempt is reserved first (counted as a pending failure in one SQL statement, if the
    key is neither locked nor in its delay), then ``check`` runs — always, so that a refused
    attempt costs the same work — and a right guess turns the reservation back into a success.
    A right guess without a reservation is refused and not counted; a wrong one counts anyway,
    so that hammering reaches the staff-only lock. No database lock is held during ``check``.
    A check that could not run (:class:`DirectoryUnavailable`) releases its reservation: it
    counts for nothing.
    """
    window_start = now - policy.window
    chat_failure: int | None = None
    if chat is not None:
        chat_failure = await repository.reserve(chat, now, policy.cutoffs(now))
        if chat_failure is None:
            counters = await repository.counters(chat, window_start)
            wait = policy.retry_after(counters, now) or policy.first_delay
            return Attempt(accepted=False, retry_after=wait, chat_wait=wait)
    failure_id = await repository.reserve(key, now, policy.cutoffs(now))
    try:
        right = await check()
    except DirectoryUnavailable:
        if failure_id is not None:
            await repository.release(key, failure_id)
        if chat is not None and chat_failure is not None:
            await repository.release(chat, chat_failure)
        raise
    if chat is not None and chat_failure is not None:
        await repository.settle(
            chat,
            chat_failure,
            right and failure_id is not None,
            now,
            window_start=window_start,
            failures_before_lock=None,
        )
    newly_locked = False
    if failure_id is not None:
        newly_locked = await repository.settle(
            key,
            failure_id,
            right,
            now,
            window_start=window_start,
            failures_before_lock=policy.failures_before_lock,
        )
        if right:
            return Attempt(accepted=True)
    elif not right:
        newly_locked = await repository.count_failure(
            key, now, window_start=window_start, failures_before_lock=policy.failures_before_lock
        )
    after = await repository.counters(key, window_start)
    return Attempt(
        accepted=False,
        locked=after.locked_at is not None,
        retry_after=policy.retry_after(after, now),
        newly_locked=newly_locked,
    )
