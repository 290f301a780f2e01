"""The opening hours of the school's team, from the school file's ``[horaires]``: plain typed
functions, no Telegram, no database.

Hours are wall-clock ranges of the school's time zone (``Europe/Paris`` by default), one list a
weekday, with closed dates; durations are real elapsed time (computed in UTC), so a range that
spans a change of daylight saving time counts the hour that the clocks skipped or repeated.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
DEFAULT_ZONE = "Europe/Paris"
# How far ahead an opening is looked for (a year of closures and more).
HORIZON_DAYS = 400
# A closed period longer than this is refused (a typo in a year).
MAX_CLOSED_DAYS = 366
MINUTES_A_DAY = 24 * 60

_RANGE = re.compile(r"^\s*(\d{1,2})\s*[:h]\s*(\d{2})\s*-\s*(\d{1,2})\s*[:h]\s*(\d{2})\s*$")


class OpeningHoursError(ValueError):
    """``[horaires]`` has a wrong value (the message is French, for the school's staff)."""


@dataclass(frozen=True)
class OpeningHours:
    """Weekly ranges (minutes since local midnight, Monday first; an end may be 24:00) and
    closed dates, in ``zone``."""

    zone: ZoneInfo
    week: tuple[tuple[tuple[int, int], ...], ...]
    closed: frozenset[date] = frozenset()

    def ranges_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open ranges of a local ``day`` as UTC moments (none on a closed date)."""
        if day in self.closed:
            return []
        ranges = []
        for start, end in self.week[day.weekday()]:
            opens, closes = self._moment(day, start), self._moment(day, end)
            if opens < closes:
                ranges.append((opens, closes))
        return ranges

    def _moment(self, day: date, minutes: int) -> datetime:
        """``day`` at ``minutes`` past local midnight (24:00 is the next midnight), in UTC."""
        day += timedelta(days=minutes // MINUTES_A_DAY)
        minutes %= MINUTES_A_DAY
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)
        return local.astimezone(UTC)

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the school's time zone."""
        return moment.astimezone(self.zone)


def is_open(hours: OpeningHours, moment: datetime) -> bool:
    """Whether the team is there at ``moment`` (aware)."""
    day = hours.local(moment).date()
    return any(opens <= moment < closes for opens, closes in hours.ranges_on(day))


def add_working_minutes(hours: OpeningHours, start: datetime, minutes: float) -> datetime | None:
    """The moment ``minutes`` of opening time have passed since ``start`` (UTC); with 0, the
    next opening (``start`` itself when open). None when the team never opens again within
    :data:`HORIZON_DAYS`."""
    remaining = timedelta(minutes=max(0.0, minutes))
    start = start.astimezone(UTC)
    day = hours.local(start).date()
    for _ in range(HORIZON_DAYS):
        for opens, closes in hours.ranges_on(day):
            if closes <= start:
                continue
            begin = max(opens, start)
            if begin + remaining <= closes:
                return begin + remaining
            remaining -= closes - begin
        day += timedelta(days=1)
    return None


def next_opening(hours: OpeningHours, moment: datetime) -> datetime | None:
    """``moment`` if the team is there, else when it comes back (UTC); None if never."""
    return add_working_minutes(hours, moment, 0)


def working_time_between(hours: OpeningHours, start: datetime, end: datetime) -> timedelta:
    """The opening time between ``start`` and ``end`` (zero if ``end`` is not later)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    if end <= start:
        return total
    day = hours.local(start).date()
    last = hours.local(end).date()
    while day <= last:
        for opens, closes in hours.ranges_on(day):
            begin, stop = max(opens, start), min(closes, end)
            if begin < stop:
                total += stop - begin
        day += timedelta(days=1)
    return total


# --- the school file ---------------------------------------------------------------------


def parse_opening_hours(data: Mapping[str, object]) -> OpeningHours:
    """``[horaires]`` of the school file: ``lundi`` … ``dimanche`` (lists of ``"08:00-12:00"``;
    a day left out is closed), ``fuseau`` (default Europe/Paris), ``fermetures`` (dates, or
    ``"AAAA-MM-JJ/AAAA-MM-JJ"`` periods). Raises :class:`OpeningHoursError` (French)."""
    known = {*WEEKDAYS, "fuseau", "fermetures"}
    for key in data:
        if key not in known:
            raise OpeningHoursError(
                f"[horaires] : « {key} » inconnu (attendu : {', '.join(WEEKDAYS)}, fuseau, "
                "fermetures)"
            )
    zone_name = str(data.get("fuseau") or DEFAULT_ZONE)
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise OpeningHoursError(
            f"[horaires] : fuseau « {zone_name} » inconnu (par exemple « {DEFAULT_ZONE} »)"
        ) from None
    week = tuple(_day_ranges(day, data.get(day, [])) for day in WEEKDAYS)
    if not any(week):
        raise OpeningHoursError(
            '[horaires] : aucune plage d\'ouverture (par exemple lundi = ["08:00-12:00"])'
        )
    return OpeningHours(zone, week, _closed_dates(data.get("fermetures", [])))


def _day_ranges(day: str, value: object) -> tuple[tuple[int, int], ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise OpeningHoursError(f'[horaires] {day} : une liste de plages, comme ["08:00-12:00"]')
    ranges = sorted(_range(day, item) for item in items)
    for (_, end), (start, _) in itertools.pairwise(ranges):
        if start < end:
            raise OpeningHoursError(f"[horaires] {day} : des plages se chevauchent")
    return tuple(ranges)


def _range(day: str, item: object) -> tuple[int, int]:
    match = _RANGE.match(str(item)) if isinstance(item, str) else None
    if match is None:
        raise OpeningHoursError(
            f"[horaires] {day} : « {item} » n'est pas une plage comme « 08:00-12:00 »"
        )
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > MINUTES_A_DAY or start >= end:
        raise OpeningHoursError(
            f"[horaires] {day} : « {item} » : l'heure de fin doit suivre celle du début, "
            "entre 00:00 et 24:00"
        )
    return start, end


def _closed_dates(value: object) -> frozenset[date]:
    if not isinstance(value, list):
        raise OpeningHoursError("[horaires] fermetures : une liste de dates, comme [2026-12-25]")
    days: set[date] = set()
    for item in value:
        first, last = _period(item)
        if last < first or (last - first).days >= MAX_CLOSED_DAYS:
            raise OpeningHoursError(
                f"[horaires] fermetures : « {item} » : la fin doit suivre le début, moins d'un an"
            )
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return frozenset(days)


def _period(item: object) -> tuple[date, date]:
    if isinstance(item, date) and not isinstance(item, datetime):
        return item, item
    text = str(item)
    try:
        if "/" in text:
            first, last = text.split("/", 1)
            return date.fromisoformat(first.strip()), date.fromisoformat(last.strip())
        return date.fromisoformat(text.strip()), date.fromisoformat(text.strip())
    except ValueError:
        raise OpeningHoursError(
            f"[horaires] fermetures : « {item} » n'est ni une date AAAA-MM-JJ ni une période "
            "AAAA-MM-JJ/AAAA-MM-JJ"
        ) from None


def back_at(hours: OpeningHours | None, moment: datetime) -> datetime | None:
    """None while the team is there (or keeps no hours); else when it is back, in the
    school's time zone (None too if it never is)."""
    if hours is None or is_open(hours, moment):
        return None
    opens = next_opening(hours, moment)
    return hours.local(opens) if opens is not None else None
