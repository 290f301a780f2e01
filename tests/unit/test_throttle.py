"""Throttling rules, without Telegram or a database."""

from datetime import UTC, datetime, timedelta

from bot.procedures.throttle import ThrottlePolicy
from storage.throttle import ThrottleCounters

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
POLICY = ThrottlePolicy()


def counters(consecutive: int, ago: timedelta = timedelta(0), **kw: object) -> ThrottleCounters:
    return ThrottleCounters(
        consecutive_failures=consecutive,
        last_failure_at=NOW - ago,
        **kw,  # type: ignore[arg-type]
    )


def test_four_failures_do_not_delay() -> None:
    assert POLICY.retry_after(counters(4), NOW) is None


def test_fifth_failure_refuses_every_attempt_for_one_minute() -> None:
    assert POLICY.retry_after(counters(5), NOW) == timedelta(minutes=1)
    assert POLICY.retry_after(counters(5, timedelta(seconds=59)), NOW) == timedelta(seconds=1)
    assert POLICY.retry_after(counters(5, timedelta(minutes=1)), NOW) is None


def test_delay_doubles_after_each_further_failure() -> None:
    assert [POLICY.delay_after(n) for n in (5, 6, 7, 8)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
    ]


def test_delay_is_capped() -> None:
    assert POLICY.delay_after(10_000) == POLICY.max_delay


def test_twenty_fifth_failure_in_the_window_locks() -> None:
    assert not POLICY.locks_after_failure(ThrottleCounters(failures_in_window=23))
    assert POLICY.locks_after_failure(ThrottleCounters(failures_in_window=24))


def test_a_lock_refuses_until_staff_unlock() -> None:
    locked = ThrottleCounters(locked_at=NOW - timedelta(days=30))
    assert POLICY.retry_after(locked, NOW) is not None


def test_identifiers_per_user_are_capped_but_known_ones_stay_allowed() -> None:
    tried = {f"k{i}" for i in range(5)}
    assert POLICY.may_try_identifiant(tried, "k0")
    assert not POLICY.may_try_identifiant(tried, "new")
    assert POLICY.may_try_identifiant(set(), "new")
