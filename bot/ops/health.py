"""``GET /healthz`` on the operations port (``OPS_HOST``/``OPS_PORT``, off unless set): 200 and JSON
when the database can be written, the Bot API answers (``getMe``, its outcome reused for a few
seconds) and the directory is reachable, 503 naming what fails otherwise; also the time since the
last update and the outbox backlog. No personal data: counts, times and error types only."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import TypeHandler

from bot.config.refusal import StartupRefused
from bot.directory.port import DirectoryUnavailable
from bot.ops.logs import AggregatedWarning
from bot.procedures.kernel import Clock
from bot.services import AnyApplication, services_of
from bot.texts import ops as ops_texts
from storage.ops import probe_writable

logger = logging.getLogger(__name__)

HEALTH_KEY = "ops_health"
TRACKER_KEY = "ops_last_update"
# Each check answers within this or counts as failed (a health probe must answer quickly).
CHECK_TIMEOUT_SECONDS = 3.0
# The Bot API check (getMe) is reused this long: a probe polled every second, or a client
# flooding the port, must not turn into as many calls to Telegram.
BOT_API_CACHE_SECONDS = 5.0
# Handlers' group of the tracker: before every other handler, never stopping them.
TRACKER_GROUP = -100


@dataclass
class UpdateTracker:
    """When the bot last received an update (by the services' clock)."""

    clock: Clock
    last: datetime | None = None

    async def seen(self, update: object, context: object) -> None:
        """Handler callback: note the time, nothing else (never the update's content)."""
        self.last = self.clock()


def add_update_tracker(application: AnyApplication, clock: Clock) -> UpdateTracker:
    """Note every update's arrival in a handler that never stops the others."""
    tracker = UpdateTracker(clock)
    application.add_handler(TypeHandler(Update, tracker.seen), group=TRACKER_GROUP)
    application.bot_data[TRACKER_KEY] = tracker
    return tracker


@dataclass
class Check:
    """One check's outcome: ok, or the type of what went wrong."""

    ok: bool
    error: str | None = None


async def _check(probe: Callable[[], Awaitable[Any]]) -> Check:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return Check(False, "TimeoutError")
    except (sqlite3.Error, TelegramError, DirectoryUnavailable, OSError) as error:
        return Check(False, type(error).__name__)
    return Check(True)


@dataclass
class HealthServer:
    """The operations HTTP port of one running application."""

    application: AnyApplication
    monotonic: Callable[[], float] = time.monotonic
    _runner: web.AppRunner | None = field(default=None, init=False)
    port: int = field(default=0, init=False)
    _bot_api: tuple[float, Check] | None = field(default=None, init=False)
    _bot_api_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    # One grouped warning per set of failing checks (at most 7 sets of 3 checks).
    _failing_logs: dict[str, AggregatedWarning] = field(default_factory=dict, init=False)

    async def bot_api_check(self) -> Check:
        """``getMe``, or its outcome of less than :data:`BOT_API_CACHE_SECONDS` ago (requests
        arriving together share one call)."""
        async with self._bot_api_lock:
            cached = self._bot_api
            if cached is not None and self.monotonic() - cached[0] < BOT_API_CACHE_SECONDS:
                return cached[1]
            check = await _check(self.application.bot.get_me)
            self._bot_api = (self.monotonic(), check)
            return check

    async def report(self) -> tuple[bool, dict[str, Any]]:
        """Run the checks; (healthy, JSON body)."""
        services = services_of(self.application)
        assert services.database is not None
        database = services.database
        directory = services.ports.directory
        ping = getattr(directory, "ping", None)
        checks = {
            "database": await _check(lambda: probe_writable(database)),
            "bot_api": await self.bot_api_check(),
            "directory": await _check(ping) if ping is not None else Check(True),
        }
        now = services.clock()
        stats = await services.outbox.repository.stats(now, now - timedelta(days=1))
        tracker: UpdateTracker | None = self.application.bot_data.get(TRACKER_KEY)
        last = tracker.last if tracker is not None else None
        failing = [name for name, check in checks.items() if not check.ok]
        body: dict[str, Any] = {
            "status": "ok" if not failing else "failing",
            "failing": failing,
            "checks": {
                name: {"ok": check.ok, "error": check.error} for name, check in checks.items()
            },
            "last_update_seconds_ago": (now - last).total_seconds() if last else None,
            "outbox": {
                "pending": stats.pending,
                "oldest_pending_seconds_ago": (now - stats.oldest_pending_at).total_seconds()
                if stats.oldest_pending_at
                else None,
                "given_up": stats.given_up,
                "last_error": stats.last_error,
            },
        }
        return not failing, body

    async def _healthz(self, request: web.Request) -> web.Response:
        healthy, body = await self.report()
        if not healthy:  # a probe every second while Telegram is down: a line a minute
            failing = ", ".join(body["failing"])
            if failing not in self._failing_logs:
                self._failing_logs[failing] = AggregatedWarning(
                    logger, f"health: failing {failing}"
                )
            self._failing_logs[failing].note()
        return web.json_response(body, status=200 if healthy else 503)

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port`` (0: a free port, read back in :attr:`port`)."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        logger.info("health: http://%s:%s/healthz", host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def start_health(application: AnyApplication, host: str, port: int | None) -> None:
    """Start the operations port if ``OPS_PORT`` is set."""
    if port is None:
        return
    server = HealthServer(application)
    try:
        await server.start(host, port)
    except OSError as error:  # the port is taken: one French sentence, not a traceback
        await server.stop()
        raise StartupRefused(
            ops_texts.cannot_listen(ops_texts.LISTEN_OPS, host, port, "OPS_PORT", error.errno)
        ) from None
    application.bot_data[HEALTH_KEY] = server


async def stop_health(application: AnyApplication) -> None:
    """Stop the operations port if it runs."""
    server: HealthServer | None = application.bot_data.pop(HEALTH_KEY, None)
    if server is not None:
        await server.stop()
