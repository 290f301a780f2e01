"""The alert rate limit (issue 16): at most one alert per kind per 10 minutes, by the clock."""

from __future__ import annotations

from bot.ops.alerts import AlertLimiter

from support import MutableClock


def test_one_alert_per_kind_per_ten_minutes() -> None:
    clock = MutableClock()
    limiter = AlertLimiter(clock)
    assert limiter.allow("RuntimeError")
    assert not limiter.allow("RuntimeError")
    assert limiter.allow("KeyError")  # another kind has its own window
    clock.advance(minutes=9, seconds=59)
    assert not limiter.allow("RuntimeError")
    clock.advance(seconds=1)
    assert limiter.allow("RuntimeError")
    assert not limiter.allow("RuntimeError")
