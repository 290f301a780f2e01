"""Unhandled errors reach the staff: a short note to ``ALERT_CHAT_ID`` through the outbox —
the exception's type, the user's procedure and step, never the update's content — at most one
per kind of error per 10 minutes, counted in SQLite (``ops_alerts``) so that a restart does not
alert again; in memory only if the database cannot be written."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram import Update

from bot.procedures.kernel import Clock
from bot.services import AnyApplication, services_of
from bot.texts import ops as ops_texts
from storage.db import Database
from storage.ops import claim_alert

logger = logging.getLogger(__name__)

ALERTS_KEY = "ops_alerts"
ALERT_WINDOW = timedelta(minutes=10)


@dataclass
class AlertLimiter:
    """At most one alert per kind in ``window`` (by the services' clock)."""

    clock: Clock
    window: timedelta = ALERT_WINDOW
    _last: dict[str, datetime] = field(default_factory=dict)

    def allow(self, kind: str) -> bool:
        """Whether an alert of ``kind`` may go now (and, if so, note it)."""
        now = self.clock()
        last = self._last.get(kind)
        if last is not None and now - last < self.window:
            return False
        self._last[kind] = now
        return True

    async def claim(self, kind: str, database: Database | None) -> bool:
        """Whether an alert of ``kind`` may go now, by the database's record of the last one
        (which survives a restart); by memory if there is no database or it fails (an alert
        about a failing database must still go)."""
        if database is not None:
            try:
                allowed = await claim_alert(database, kind, self.clock(), self.window)
            except sqlite3.Error as error:
                logger.warning("alerts: the limit could not be read (%s)", type(error).__name__)
            else:
                if allowed:  # the fallback's memory follows the database
                    self._last[kind] = self.clock()
                return allowed
        return self.allow(kind)


def install_alerts(application: AnyApplication, clock: Clock) -> None:
    """The limiter of this application's alerts."""
    application.bot_data[ALERTS_KEY] = AlertLimiter(clock)


async def alert_staff(application: AnyApplication, error: BaseException, update: object) -> None:
    """Queue a note to ``ALERT_CHAT_ID`` if set and this kind was not told in 10 minutes.
    Never raises: an alert that fails is logged, the error handler goes on."""
    services = services_of(application)
    chat_id = services.settings.alert_chat_id
    limiter: AlertLimiter | None = application.bot_data.get(ALERTS_KEY)
    if chat_id is None or limiter is None or services.database is None:
        return
    kind = type(error).__name__
    if not await limiter.claim(kind, services.database):
        return
    try:
        flow = step = None
        if isinstance(update, Update) and update.effective_user is not None:
            session = await services.ports.sessions.get(update.effective_user.id)
            if session is not None:
                flow, step = session.flow, session.step
        await services.outbox.tell_staff([chat_id], ops_texts.alert(kind, flow, step))
    except Exception:  # the alert must never hide the error it reports
        logger.exception("the alert could not be queued")
