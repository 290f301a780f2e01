"""``LOG_FORMAT=json``: one JSON object a line for log collectors (time in UTC, level, logger,
message, and the exception's type and traceback if any). The messages are the same as in
text: they never hold a secret, and no personal data beyond a Telegram user id."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bot.texts import ops as ops_texts


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON (the standard library's ``json``: no extra
    dependency for a dozen lines)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class AggregatedWarning:
    """One log line for a burst of the same event, instead of one a request: the first
    occurrence is logged at once, the ones that follow within ``interval`` seconds are only
    counted and summed up in the next line (``… (et N autre(s) en S s)``). A client that
    floods an endpoint with refused requests then costs a line a minute, not thousands a second.
    """

    def __init__(
        self,
        logger: logging.Logger,
        message: str,
        *,
        interval: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.message = message
        self.interval = interval
        self.monotonic = monotonic
        self._last: float | None = None
        self._held = 0

    def note(self) -> None:
        """One more occurrence: logged now, or counted for the next line."""
        now = self.monotonic()
        if self._last is not None and now - self._last < self.interval:
            self._held += 1
            return
        if self._held:
            elapsed = round(now - self._last) if self._last is not None else 0
            self.logger.warning(ops_texts.log_burst(self.message, self._held, elapsed))
        else:
            self.logger.warning("%s", self.message)
        self._last = now
        self._held = 0
