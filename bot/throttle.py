"""Throttling rules for guessable secrets (provisional passwords, e-mail codes).

Plain functions over the counters kept in the database, tested without Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.security import KeyedHasher, normalise_identifiant
from storage.throttle import ThrottleCounters


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
        return min(self.first_delay * (2**doublings), self.max_delay)

    def retry_after(self, counters: ThrottleCounters, now: datetime) -> timedelta | None:
        """None if an attempt is allowed now; else how long to wait (``max_delay`` if locked)."""
        if counters.locked_at is not None:
            return self.max_delay
        if counters.last_failure_at is None:
            return None
        free_at = counters.last_failure_at + self.delay_after(counters.consecutive_failures)
        return None if now >= free_at else free_at - now

    def locks_after_failure(self, counters: ThrottleCounters) -> bool:
        """Whether one more failure reaches the staff-only lock."""
        return counters.failures_in_window + 1 >= self.failures_before_lock

    def may_try_identifiant(self, tried: set[str], key: str) -> bool:
        """Whether a user who tried ``tried`` identifiers in the window may try ``key``."""
        return key in tried or len(tried) < self.max_identifiants_per_user
