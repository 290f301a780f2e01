"""Quiet hours: reminders wait for the morning (many users are minors). ``QUIET_HOURS`` is
``HH:MM-HH:MM`` in the school's time zone (the window may span midnight); empty: none."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_WINDOW = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


class QuietHoursError(ValueError):
    """``QUIET_HOURS`` is not ``HH:MM-HH:MM``."""


@dataclass(frozen=True)
class QuietHours:
    """A daily window, local time of ``zone``, during which no reminder leaves."""

    start: time
    end: time
    zone: ZoneInfo

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` (aware) falls in the window."""
        local = moment.astimezone(self.zone).time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends(self, moment: datetime) -> datetime:
        """When the window that holds ``moment`` ends (``moment`` itself if outside it)."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(self.zone)
        end = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.zone)
        return end


def parse_quiet_hours(text: str, zone: str) -> QuietHours | None:
    """``"20:00-08:00"`` as :class:`QuietHours`; None for an empty text or an empty window."""
    if not text.strip():
        return None
    match = _WINDOW.match(text)
    if match is None:
        raise QuietHoursError(text)
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if (h1, m1) == (h2, m2):
        return None
    return QuietHours(time(h1, m1), time(h2, m2), ZoneInfo(zone))
