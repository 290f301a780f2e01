"""The support figures of ``/stats``: open tickets, and the median time to the first staff
answer over a recent window (in opening time when the school keeps hours)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config.hours import OpeningHours, working_time_between
from storage.db import Scope
from storage.support import SupportRepository

# The tickets /stats looks at for the first-response time.
FIGURES_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class SupportFigures:
    """What staff read of support in ``/stats``."""

    open_tickets: int
    answered: int
    median_first_response: timedelta | None
    window: timedelta
    opening_hours: bool


def first_response_time(
    hours: OpeningHours | None, opened_at: datetime, answered_at: datetime
) -> timedelta:
    """How long staff took to answer a ticket (opening time only, with hours)."""
    if hours is None:
        return max(timedelta(0), answered_at - opened_at)
    return working_time_between(hours, opened_at, answered_at)


def median(durations: list[timedelta]) -> timedelta | None:
    """The median duration, or None for none."""
    if not durations:
        return None
    return timedelta(seconds=statistics.median(d.total_seconds() for d in durations))


async def support_figures(
    repository: SupportRepository,
    hours: OpeningHours | None,
    now: datetime,
    window: timedelta = FIGURES_WINDOW,
    scope: Scope = None,
) -> SupportFigures:
    """The figures at ``now`` (of ``scope``'s establishments' tickets): tickets opened within
    ``window`` count for the median."""
    pairs = await repository.first_responses(now - window, scope)
    times = [first_response_time(hours, opened, answered) for opened, answered in pairs]
    return SupportFigures(
        open_tickets=await repository.open_count(scope),
        answered=len(times),
        median_first_response=median(times),
        window=window,
        opening_hours=hours is not None,
    )
