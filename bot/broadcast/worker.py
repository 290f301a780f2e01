"""The broadcast worker: sends the recorded campaigns, row by row of their ledger, through the
bot's one Telegram limiter (background lane, so replies never wait behind it). Owned by the
application: :meth:`BroadcastWorker.start` in start-up, :meth:`BroadcastWorker.stop` on shutdown.

Each row is marked ``in_flight`` before its send and given its outcome after; one found
``in_flight`` at start-up (the bot died meanwhile) becomes ``uncertain`` and is never sent again.
So does a send whose outcome is unknown (a timeout, a connection lost after the request left:
Telegram may have delivered it); only an answer that proves it was not sent (429, 5xx, a
connection never made) is tried again.

A database error (a write refused for a while: disk full, file system read-only, a lock held
too long) never stops the worker: it is logged and the round is tried again after
``poll_seconds``; the outcome of a send that could not be written is kept in memory and written
at the next round (never sent again meanwhile: its row stays ``in_flight``, and becomes
``uncertain`` if the bot stops before the database is back).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.broadcast.email import BulkMailer, ReminderMail, unsubscribe_url
from bot.broadcast.message import render, render_html
from bot.config.quiet import QuietHours
from bot.outbox.mail import MailDeliveryError, OutgoingMail
from bot.security import KeyedHasher
from bot.telegram_api.limiter import (
    BACKGROUND,
    BACKGROUND_BURST,
    outcome_unknown,
    retry_after_seconds,
)
from bot.texts import broadcast as texts
from storage.broadcasts import (
    AutoKind,
    AutoReminder,
    BroadcastRepository,
    Campaign,
    CampaignState,
    Channel,
    Delivery,
    DeliveryStatus,
    Progress,
)

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
OPT_OUT_PREFIX = "rappels"
OPT_OUT_DATA = f"{OPT_OUT_PREFIX}:stop"
RESUME_DATA = f"{OPT_OUT_PREFIX}:reprendre:0"


@dataclass(frozen=True)
class BroadcastSettings:
    """The worker's rhythm. ``rate_per_second`` is also the background lane of the limiter."""

    rate_per_second: float = 25.0
    poll_seconds: float = 1.0
    heartbeat_seconds: float = 5.0
    max_attempts: int = 3
    retry_first: float = 2.0
    concurrency: int = 4
    batch: int = 100
    stop_grace: float = 5.0
    quiet: QuietHours | None = None
    # Automatic reminders (None: off) and how often the bot looks for due ones.
    link_expiring_within: timedelta | None = timedelta(hours=24)
    unfinished_for: timedelta | None = timedelta(days=3)
    auto_scan_seconds: float = 60.0
    # A /diffusion progress message is edited at most this often.
    progress_seconds: float = 3.0


@dataclass(frozen=True)
class EmailChannel:
    """What e-mail reminders need: the SMTP connection, the key and base of the links."""

    mailer: BulkMailer
    keyed: KeyedHasher
    base_url: str


def opt_out_button(campaign_id: int) -> InlineKeyboardButton:
    """The « Ne plus recevoir de rappels » button of every reminder."""
    data = f"{OPT_OUT_DATA}.{campaign_id}:0"
    return InlineKeyboardButton(texts.OPT_OUT_BUTTON, callback_data=data)


def opt_out_keyboard(campaign_id: int) -> InlineKeyboardMarkup:
    """A staff reminder's keyboard: the way out only."""
    return InlineKeyboardMarkup([[opt_out_button(campaign_id)]])


def auto_keyboard(reminder: AutoReminder) -> InlineKeyboardMarkup:
    """An automatic reminder's keyboard: the action (the procedure's own button, with the
    nonce of its saved prompt, or « Reprendre »), then the way out."""
    if reminder.kind == AutoKind.LINK_EXPIRING:
        action = InlineKeyboardButton(
            texts.BUTTON_RESEND, callback_data=f"em:resend:{reminder.prompt_nonce}"
        )
    else:
        action = InlineKeyboardButton(texts.BUTTON_RESUME, callback_data=RESUME_DATA)
    return InlineKeyboardMarkup([[action], [opt_out_button(0)]])


class BroadcastWorker:
    """Sends the campaigns; keeps the set of users who blocked the bot."""

    def __init__(
        self,
        repository: BroadcastRepository,
        clock: Clock,
        settings: BroadcastSettings | None = None,
        email: EmailChannel | None = None,
    ) -> None:
        self.repository = repository
        self.clock = clock
        self.settings = settings or BroadcastSettings()
        self.bot: Bot | None = None
        self.blocked: set[int] = set()
        self._wake = asyncio.Event()
        self._auto_wake = asyncio.Event()
        self._auto_done = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._retry_at: dict[int, float] = {}
        # The (campaign, channel) of each row waiting for a retry: it holds only its own.
        self._retry_of: dict[int, tuple[int, Channel]] = {}
        # Outcomes of sends the database refused to record: written again at the next round.
        self._unwritten: dict[tuple[str, int], Callable[[], Awaitable[object]]] = {}
        self._failures: collections.Counter[int] = collections.Counter()
        self._sent_times: collections.deque[float] = collections.deque()
        self._slots = {
            Channel.TELEGRAM: asyncio.Semaphore(self.settings.concurrency),
            Channel.EMAIL: asyncio.Semaphore(1),  # one SMTP connection
        }
        self.email = email
        self._rate_limit: dict[str, Any] = {}
        # The lane's pace, taken before a row is marked in flight: the row then waits in the
        # limiter for next to nothing, so a kill leaves few rows « incertain » that never left.
        self._pace = AsyncLimiter(
            BACKGROUND_BURST, BACKGROUND_BURST / self.settings.rate_per_second
        )

    # --- life cycle ---------------------------------------------------------------------------

    def start(self, bot: Bot) -> None:
        """Start sending (rows in flight when an earlier run died become ``uncertain``)."""
        self.bot = bot
        self._stopping = False
        has_limiter = isinstance(bot, ExtBot) and bot.rate_limiter is not None
        self._rate_limit = {"rate_limit_args": BACKGROUND} if has_limiter else {}
        if not self._tasks:
            loop = asyncio.get_running_loop()
            self._tasks = [
                loop.create_task(self._run(), name="broadcast"),
                loop.create_task(self._beat_forever(), name="broadcast-heartbeat"),
                loop.create_task(self._auto_forever(), name="broadcast-auto"),
                loop.create_task(self._progress_forever(), name="broadcast-progress"),
            ]

    async def stop(self) -> None:
        """Stop: no new send starts; those in flight get ``stop_grace`` seconds, then are
        cancelled (their rows are found ``in_flight``, hence ``uncertain``, at the next start)."""
        self._stopping = True
        self._wake.set()
        if not self._tasks:
            return
        runner, beater, auto, progress = self._tasks
        beater.cancel()
        progress.cancel()
        self._auto_wake.set()
        for task in (runner, auto):
            try:
                await asyncio.wait_for(task, self.settings.stop_grace)
            except (asyncio.CancelledError, TimeoutError):
                pass
            except Exception:  # never raised at stop: logged (the loops catch their own)
                logger.exception("broadcast: %s stopped on an error", task.get_name())
        for task in (beater, progress):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._unwritten:
            try:
                await self._write_unwritten()
            except sqlite3.Error as error:
                logger.warning(
                    "broadcast: %d outcome(s) still not written at stop (%s): counted "
                    "uncertain at the next start, never sent again",
                    len(self._unwritten),
                    type(error).__name__,
                )
        if self.email is not None:
            await self.email.mailer.close()

    def wake(self) -> None:
        """Look for work now (a campaign was just recorded in this process)."""
        self._wake.set()

    async def scan_now(self, timeout: float = 10) -> None:
        """Look for due automatic reminders now and wait for that round (tools and tests)."""
        self._auto_done.clear()
        self._auto_wake.set()
        await asyncio.wait_for(self._auto_done.wait(), timeout)

    @property
    def rate_per_s(self) -> float:
        """Messages sent a second, over the last 10 seconds."""
        now = asyncio.get_running_loop().time()
        while self._sent_times and self._sent_times[0] < now - 10:
            self._sent_times.popleft()
        return round(len(self._sent_times) / 10, 1)

    # --- what users do ------------------------------------------------------------------------

    async def seen(self, telegram_user_id: int) -> None:
        """The user wrote to the bot: they no longer block it."""
        if telegram_user_id in self.blocked:
            self.blocked.discard(telegram_user_id)
            await self.repository.unblock(telegram_user_id)

    async def blocked_by(self, telegram_user_id: int) -> None:
        """The user blocked the bot (``my_chat_member`` or a 403)."""
        self.blocked.add(telegram_user_id)
        await self.repository.block(telegram_user_id, self.clock())

    async def opt_out(self, telegram_user_id: int) -> None:
        """« Ne plus recevoir de rappels »."""
        await self.repository.opt_out(Channel.TELEGRAM, str(telegram_user_id), self.clock())

    # --- the worker ---------------------------------------------------------------------------

    async def _beat_forever(self) -> None:
        while True:
            try:
                await self.repository.beat(self.clock(), os.getpid(), self.rate_per_s)
            except sqlite3.Error as error:  # the heartbeat never stops the bot
                logger.warning("broadcast: heartbeat not written (%s)", type(error).__name__)
            except Exception:
                logger.exception("broadcast: heartbeat failed")
            await asyncio.sleep(self.settings.heartbeat_seconds)

    async def _recover(self) -> None:
        """Rows in flight when an earlier run died become ``uncertain``; the blocked users."""
        recovered = await self.repository.recover_in_flight(self.clock())
        if recovered:
            logger.warning("broadcast: %d send(s) interrupted, counted as uncertain", recovered)
        self.blocked = await self.repository.blocked_ids()

    async def _run(self) -> None:
        recovered = False
        while not self._stopping:
            self._wake.clear()
            wait: float | None = self.settings.poll_seconds
            try:
                if not recovered:  # nothing is sent before the last run's rows are settled
                    await self._recover()
                    recovered = True
                await self._write_unwritten()
                wait = await self._send_campaigns()
            except sqlite3.Error as error:  # transient (read-only, full, locked): again soon
                logger.warning(
                    "broadcast: the database failed (%s); trying again in %g s",
                    type(error).__name__,
                    self.settings.poll_seconds,
                )
            except Exception:  # the worker never dies; it looks again shortly
                logger.exception("broadcast: sending failed")
            if wait is None or wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)

    async def _write(self, key: tuple[str, int], write: Callable[[], Awaitable[object]]) -> None:
        """Record an outcome; one the database refuses is kept and written at the next round
        (its row stays in flight meanwhile: never sent twice)."""
        try:
            await write()
        except sqlite3.Error as error:
            self._unwritten[key] = write
            logger.warning(
                "broadcast: outcome of %s %d not written (%s), kept to write again",
                key[0],
                key[1],
                type(error).__name__,
            )
        else:
            self._unwritten.pop(key, None)

    async def _write_unwritten(self) -> None:
        """Write the outcomes the database refused earlier; raises if it still refuses."""
        for key, write in list(self._unwritten.items()):
            await write()
            self._unwritten.pop(key, None)
            logger.info("broadcast: outcome of %s %d written after all", key[0], key[1])

    async def _done(self, row_id: int, status: DeliveryStatus, error: str | None = None) -> None:
        """The outcome of a delivery's send (see :meth:`_write`)."""
        now = self.clock()
        await self._write(
            ("row", row_id), lambda: self.repository.mark_done(row_id, status, now, error)
        )

    async def _reminder_done(
        self, reminder_id: int, status: DeliveryStatus, error: str | None = None
    ) -> None:
        """The outcome of an automatic reminder's send (see :meth:`_write`)."""
        now = self.clock()
        await self._write(
            ("reminder", reminder_id),
            lambda: self.repository.mark_auto(reminder_id, status, now, error),
        )

    def _settle(self, what: str, results: list[object]) -> bool:
        """Log the sends of a batch that failed on an error of their own (their rows stay
        pending: tried again); whether the database was among the causes."""
        database = False
        for result in results:
            if isinstance(result, sqlite3.Error):
                database = True
                logger.warning(
                    "broadcast: %s not sent, the database failed (%s)", what, type(result).__name__
                )
            elif isinstance(result, Exception):
                logger.error(
                    "broadcast: %s not sent: %s",
                    what,
                    type(result).__name__,
                    exc_info=(type(result), result, result.__traceback__),
                )
        return database

    async def _sendable_campaigns(self) -> list[Campaign]:
        """The campaigns that may be sent now, oldest first (quiet hours hold all but those
        sent « maintenant »)."""
        quiet = self.settings.quiet
        held = quiet is not None and quiet.contains(self.clock())
        return [c for c in await self.repository.open_campaigns() if c.send_now or not held]

    async def _send_campaigns(self) -> float:
        """A batch of the oldest campaign that has something to send now; one with nothing to
        send now (rows waiting for a retry, or for their outcome to be written) never holds
        the next ones. How long to wait before the next round (0: at once; at most
        ``poll_seconds``, so that a campaign the command line records is seen)."""
        waits: list[float] = [self.settings.poll_seconds]
        for campaign in await self._sendable_campaigns():
            if self._stopping:
                break
            wait = await self._send_some(campaign)
            if wait == 0:
                return 0
            if wait is not None:
                waits.append(wait)
        return min(waits)

    async def _send_some(self, campaign: Campaign) -> float | None:
        """Send a batch of ``campaign`` on each channel at once (each at its own pace); how
        long to wait before the next one (0: at once)."""
        if campaign.state == CampaignState.EN_ATTENTE:
            await self.repository.mark_started(campaign.id, self.clock())
            logger.info("broadcast: campaign %d started", campaign.id)
        waits = await asyncio.gather(
            *(self._send_channel(campaign, channel) for channel in Channel)
        )
        if all(wait is None for wait in waits):  # nothing left on any channel
            if await self.repository.finish_if_done(campaign.id, self.clock()):
                logger.info("broadcast: campaign %d finished", campaign.id)
                return 0
            # Rows still in flight: outcomes not written yet (see _write). Not a busy loop.
            return self.settings.poll_seconds
        pending = [wait for wait in waits if wait is not None]
        return min(pending)

    async def _send_channel(self, campaign: Campaign, channel: Channel) -> float | None:
        """One batch of one channel; None if nothing is left on it, else the wait."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        waiting = [row for row, due in self._retry_at.items() if due > now]
        rows = await self.repository.pending(
            campaign.id, self.settings.batch, exclude=waiting, channel=channel
        )
        if not rows:
            mine = (campaign.id, channel)
            due = [self._retry_at[row] for row in waiting if self._retry_of.get(row) == mine]
            return max(0.0, min(due) - now) if due else None
        slots = self._slots[channel]
        batch: list[asyncio.Task[None]] = []
        quiet = self.settings.quiet
        for index, row in enumerate(rows):
            if self._stopping:
                break
            if not campaign.send_now and quiet is not None and quiet.contains(self.clock()):
                break  # the quiet hours began
            if index % 20 == 19 and not await self.repository.sending(campaign.id):
                break  # cancelled or paused meanwhile
            await slots.acquire()
            task = loop.create_task(self._deliver(campaign, row))
            task.add_done_callback(lambda _: slots.release())
            batch.append(task)
        results = await asyncio.gather(*batch, return_exceptions=True)
        if self._settle("a reminder", list(results)):
            return self.settings.poll_seconds  # the database failed: not at once
        return 0

    async def _deliver(self, campaign: Campaign, row: Delivery) -> None:
        """Send one row; whatever goes wrong, the row gets an outcome and the campaign goes on:
        a row that cannot be built fails with its reason, an unexpected error during its send
        makes it « incertain » (only the database's own errors are raised: the row is then
        settled at a later round)."""
        try:
            if row.channel == Channel.EMAIL:
                await self._deliver_mail(campaign, row)
            else:
                await self._deliver_telegram(campaign, row)
        except (sqlite3.Error, asyncio.CancelledError):
            raise
        except _Unbuildable as error:
            cause = error.__cause__ or error
            reason = f"{type(cause).__name__}: {cause}"[:200]
            logger.error("broadcast: row %d cannot be built, failed: %s", row.id, reason)
            await self._done(row.id, DeliveryStatus.FAILED, reason)
        except Exception as error:  # a bug during the send: it may have left
            logger.exception("broadcast: row %d, unexpected error during its send", row.id)
            await self._uncertain(row, type(error).__name__)

    async def _deliver_telegram(self, campaign: Campaign, row: Delivery) -> None:
        try:
            user_id = int(row.recipient)
            text = render_html(campaign.message, row.prenom, row.etablissement)
        except Exception as error:
            raise _Unbuildable from error
        if user_id in self.blocked:
            await self.repository.mark_done(row.id, DeliveryStatus.BLOCKED, self.clock(), "bloque")
            return
        if await self.repository.opted_out(Channel.TELEGRAM, row.recipient):
            await self.repository.mark_done(
                row.id, DeliveryStatus.FAILED, self.clock(), "desinscrit"
            )
            return
        await self._pace.acquire()
        if not await self.repository.mark_in_flight(row.id):
            return
        assert self.bot is not None
        try:
            await self.bot.send_message(
                chat_id=user_id,
                text=text,
                reply_markup=opt_out_keyboard(campaign.id),
                **self._rate_limit,
            )
        except Forbidden:
            await self._done(row.id, DeliveryStatus.BLOCKED, "Forbidden")
            await self.blocked_by(user_id)
            return
        except RetryAfter as error:  # the limiter's own retries were not enough: later
            self._retry_later(row, retry_after_seconds(error))
            await self._done(row.id, DeliveryStatus.PENDING, "429")
            return
        except BadRequest as error:  # « chat not found »…: retrying cannot help
            await self._done(row.id, DeliveryStatus.FAILED, error.message[:200])
            return
        except (TelegramError, OSError) as error:
            if _maybe_sent(error):  # as after a kill: never sent again
                await self._uncertain(row, type(error).__name__)
            else:  # Telegram said it did not send it (5xx), or nothing left: again later
                await self._failed(row, type(error).__name__)
            return
        self._retry_at.pop(row.id, None)
        self._retry_of.pop(row.id, None)
        self._failures.pop(row.id, None)
        self._sent_times.append(asyncio.get_running_loop().time())
        await self._done(row.id, DeliveryStatus.SENT)

    async def _deliver_mail(self, campaign: Campaign, row: Delivery) -> None:
        if await self.repository.opted_out(Channel.EMAIL, row.recipient):
            await self.repository.mark_done(
                row.id, DeliveryStatus.FAILED, self.clock(), "desinscrit"
            )
            return
        email = self.email
        if email is None:
            await self.repository.mark_done(
                row.id, DeliveryStatus.FAILED, self.clock(), "canal e-mail non configure"
            )
            return
        try:  # built before it is marked in flight: bad data fails this row alone
            link = unsubscribe_url(email.base_url, email.keyed, row.id, row.recipient)
            text = render(campaign.message, row.prenom, row.etablissement)
            mail = OutgoingMail(
                to=row.recipient,
                subject=campaign.subject or texts.email_subject(row.etablissement),
                text=texts.email_text(text, link),
                html=texts.email_html(text, link),
            )
            message = email.mailer.message(ReminderMail(mail, link))
        except Exception as error:
            raise _Unbuildable from error
        if not await self.repository.mark_in_flight(row.id):
            return
        try:
            await email.mailer.send(message)
        except MailDeliveryError as error:
            if error.kind == "SMTPRecipientsRefused":
                await self._done(row.id, DeliveryStatus.FAILED, error.kind)
            else:
                await self._failed(row, error.kind)
            return
        self._retry_at.pop(row.id, None)
        self._retry_of.pop(row.id, None)
        self._failures.pop(row.id, None)
        await self._done(row.id, DeliveryStatus.SENT)

    async def _progress_forever(self) -> None:
        """Edit the progress message of each /diffusion campaign, then its final report."""
        while True:
            try:
                for progress in await self.repository.progress_to_show(self.clock()):
                    await self._show_progress(progress)
            except Exception:  # never stops the bot
                logger.exception("broadcast: progress message failed")
            await asyncio.sleep(self.settings.progress_seconds)

    async def _show_progress(self, progress: Progress) -> None:
        stats = progress.stats
        final = stats.state in (CampaignState.TERMINEE, CampaignState.ANNULEE)
        markup: InlineKeyboardMarkup | None = None
        if final:
            text = texts.diff_report(
                stats.id, stats.state, stats.sent, stats.blocked, stats.failed, stats.uncertain
            )
        else:
            done = stats.recipients - stats.pending
            eta = stats.pending / stats.rate_per_s if stats.rate_per_s else None
            text = texts.diff_progress(
                stats.id, done, stats.recipients, stats.rate_per_s, eta, progress.paused
            )
            toggle = (
                (texts.BUTTON_RESUME_CAMPAIGN, "resume")
                if progress.paused
                else (texts.BUTTON_PAUSE, "pause")
            )
            cancel = (texts.BUTTON_CANCEL_CAMPAIGN, "cancel")
            markup = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(label, callback_data=f"diff:{arg}.{stats.id}:0")]
                    for label, arg in (toggle, cancel)
                ]
            )
        assert self.bot is not None
        try:
            await self.bot.edit_message_text(
                text,
                chat_id=progress.chat_id,
                message_id=progress.message_id,
                reply_markup=markup,
                **self._rate_limit,
            )
        except BadRequest as error:
            if "not modified" not in error.message.lower():
                logger.warning("broadcast: progress message not edited: %s", error.message)
                final = True  # gone: stop trying
        if final:
            await self.repository.mark_reported(stats.id)

    async def _auto_forever(self) -> None:
        """Schedule the due automatic reminders from the database and send them, every
        ``auto_scan_seconds`` (quiet hours hold them)."""
        while not self._stopping:
            self._auto_wake.clear()
            try:
                await self._auto_round()
            except Exception:  # the worker never dies; it looks again later
                logger.exception("broadcast: automatic reminders failed")
            self._auto_done.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._auto_wake.wait(), self.settings.auto_scan_seconds)

    async def _auto_round(self) -> None:
        settings = self.settings
        if settings.link_expiring_within is None and settings.unfinished_for is None:
            return
        now = self.clock()
        await self.repository.schedule_auto(
            now,
            link_expiring_within=settings.link_expiring_within,
            unfinished_for=settings.unfinished_for,
        )
        if settings.quiet is not None and settings.quiet.contains(now):
            return
        slots = self._slots[Channel.TELEGRAM]
        tasks = []
        for reminder in await self.repository.pending_auto(now):
            if self._stopping:
                break
            await slots.acquire()
            task = asyncio.get_running_loop().create_task(self._send_auto(reminder))
            task.add_done_callback(lambda _: slots.release())
            tasks.append(task)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        self._settle("an automatic reminder", list(results))

    async def _send_auto(self, reminder: AutoReminder) -> None:
        repository, now = self.repository, self.clock()
        if reminder.prompt_nonce is None:
            await repository.mark_auto(reminder.id, DeliveryStatus.FAILED, now, "obsolete")
            return
        if reminder.telegram_user_id in self.blocked:
            await repository.mark_auto(reminder.id, DeliveryStatus.BLOCKED, now, "bloque")
            return
        if await repository.opted_out(Channel.TELEGRAM, str(reminder.telegram_user_id)):
            await repository.mark_auto(reminder.id, DeliveryStatus.FAILED, now, "desinscrit")
            return
        if not await repository.mark_auto(reminder.id, DeliveryStatus.IN_FLIGHT, now):
            return
        text = (
            texts.AUTO_LINK_EXPIRING
            if reminder.kind == AutoKind.LINK_EXPIRING
            else texts.AUTO_UNFINISHED
        )
        assert self.bot is not None
        try:
            await self.bot.send_message(
                chat_id=reminder.chat_id,
                text=text,
                reply_markup=auto_keyboard(reminder),
                **self._rate_limit,
            )
        except Forbidden:
            await self._reminder_done(reminder.id, DeliveryStatus.BLOCKED, "403")
            await self.blocked_by(reminder.telegram_user_id)
            return
        except BadRequest as error:
            await self._reminder_done(reminder.id, DeliveryStatus.FAILED, error.message[:200])
            return
        except (TelegramError, OSError) as error:
            if _maybe_sent(error):  # never sent again
                status = DeliveryStatus.UNCERTAIN
                logger.warning("broadcast: automatic reminder %d uncertain", reminder.id)
            else:  # tried again at the next round
                status = DeliveryStatus.PENDING
            await self._reminder_done(reminder.id, status, type(error).__name__)
            return
        await self._reminder_done(reminder.id, DeliveryStatus.SENT)
        logger.info("broadcast: automatic reminder %s sent", reminder.kind.value)

    def _retry_later(self, row: Delivery, delay: float) -> None:
        self._retry_at[row.id] = asyncio.get_running_loop().time() + delay
        self._retry_of[row.id] = (row.campaign_id, row.channel)

    async def _uncertain(self, row: Delivery, reason: str) -> None:
        """Telegram may have delivered it (a timeout, a connection lost after the request
        left): « incertain », never sent again, exactly as a send cut by a kill."""
        self._retry_at.pop(row.id, None)
        self._retry_of.pop(row.id, None)
        self._failures.pop(row.id, None)
        await self._done(row.id, DeliveryStatus.UNCERTAIN, reason)
        logger.warning("broadcast: row %d uncertain (%s): not sent again", row.id, reason)

    async def _failed(self, row: Delivery, reason: str) -> None:
        self._failures[row.id] += 1
        failures = self._failures[row.id]
        if failures >= self.settings.max_attempts:
            self._retry_at.pop(row.id, None)
            self._retry_of.pop(row.id, None)
            self._failures.pop(row.id, None)
            await self._done(row.id, DeliveryStatus.FAILED, reason)
            logger.warning("broadcast: row %d failed: %s", row.id, reason)
            return
        delay = self.settings.retry_first * 2 ** (failures - 1)
        self._retry_later(row, delay)
        await self._done(row.id, DeliveryStatus.PENDING, reason)


class _Unbuildable(Exception):
    """A row's message cannot be built from its data (its cause says why)."""


def _maybe_sent(error: BaseException) -> bool:
    """Whether a failed send may have reached the person (see
    :func:`bot.telegram_api.limiter.outcome_unknown`); an ``OSError`` from below the Bot API
    client cannot tell either."""
    if isinstance(error, TelegramError):
        return outcome_unknown(error)
    return isinstance(error, OSError)
