"""Quiet hours: a window across midnight, one within a day, the change of hour, bad values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config.quiet import QuietHoursError, parse_quiet_hours

PARIS = "Europe/Paris"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_window_across_midnight() -> None:
    quiet = parse_quiet_hours("20:00-08:00", PARIS)
    assert quiet is not None
    # 1 December: Paris is UTC+1.
    assert not quiet.contains(utc("2026-12-01T18:59:00"))  # 19:59 in Paris
    assert quiet.contains(utc("2026-12-01T19:00:00"))  # 20:00
    assert quiet.contains(utc("2026-12-01T23:30:00"))  # 00:30
    assert not quiet.contains(utc("2026-12-02T07:00:00"))  # 08:00
    assert quiet.ends(utc("2026-12-01T19:30:00")) == utc("2026-12-02T07:00:00")
    assert quiet.ends(utc("2026-12-02T05:00:00")) == utc("2026-12-02T07:00:00")
    assert quiet.ends(utc("2026-12-02T10:00:00")) == utc("2026-12-02T10:00:00")
    # 1 July: UTC+2.
    assert quiet.contains(utc("2026-07-01T05:59:00"))  # 07:59
    assert not quiet.contains(utc("2026-07-01T06:00:00"))


def test_window_within_a_day_and_off() -> None:
    lunch = parse_quiet_hours(" 12:00 - 13:30 ", PARIS)
    assert lunch is not None
    assert lunch.contains(utc("2026-12-01T11:15:00"))
    assert not lunch.contains(utc("2026-12-01T12:30:00"))
    assert parse_quiet_hours("", PARIS) is None
    assert parse_quiet_hours("08:00-08:00", PARIS) is None


@pytest.mark.parametrize("text", ["20h-8h", "25:00-08:00", "20:00", "20:00-08:60"])
def test_bad_values_refused(text: str) -> None:
    with pytest.raises(QuietHoursError):
        parse_quiet_hours(text, PARIS)


def test_settings_refuse_bad_quiet_hours() -> None:
    from pydantic import ValidationError

    from bot.settings import Settings

    with pytest.raises(ValidationError):
        Settings(_env_file=None, quiet_hours="20h-8h")  # type: ignore[call-arg]
    assert Settings(_env_file=None, quiet_hours="").quiet_hours_window is None  # type: ignore[call-arg]
