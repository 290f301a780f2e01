"""The application factory: the same :class:`telegram.ext.Application` for production, the
sandbox and the tests."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot import texts
from bot.broadcast.email import BulkMailer
from bot.broadcast.unsubscribe import UnsubscribeServer
from bot.broadcast.worker import BroadcastSettings, BroadcastWorker, EmailChannel
from bot.directory.factory import open_directory
from bot.directory.port import DirectoryUnavailable
from bot.ops.alerts import alert_staff, install_alerts
from bot.ops.health import add_update_tracker, start_health, stop_health
from bot.ops.webhook import start_webhook, stop_webhook
from bot.outbox import MailSender, Outbox, OutboxSettings, TelegramSender
from bot.outbox.mail import Mailer
from bot.procedures.activation import ActivationService
from bot.procedures.kernel import ActivationSettings, Clock, ProcedurePorts, utc_now
from bot.procedures.linked_accounts import AccountService
from bot.procedures.my_account import MyAccountService
from bot.procedures.recovery import RecoveryService
from bot.procedures.throttle import throttle_policy
from bot.school import SchoolConfig, load_school_config
from bot.security import KeyedHasher, SecretHasher, load_or_create_server_secret
from bot.settings import Settings
from bot.staff.service import StaffService
from bot.support.reminders import ReminderSettings, UnansweredReminders
from bot.support.service import SupportService
from bot.support.topics import TopicDirectory
from bot.telegram_api.concurrency import PerChatUpdateProcessor
from bot.telegram_api.http import AiohttpRequest, close_http_clients
from bot.telegram_api.limiter import StartupRetry, TelegramLimiter, retry_startup
from bot.texts import ldap as ldap_texts
from bot.texts import ops as ops_texts
from conversations import common
from conversations.account import account_handlers, add_account_handlers
from conversations.broadcast import add_broadcast_handlers
from conversations.context import REGISTRY_KEY, SERVICES_KEY, BotContext
from conversations.flows import build_router
from conversations.router import Procedure
from conversations.staff import staff_handlers
from conversations.support import staff_group_handlers
from storage.accounts import SqliteAccountDirectory
from storage.broadcasts import BroadcastRepository
from storage.db import Database
from storage.maintenance import PurgeReport, purge
from storage.menus import MenuRepository
from storage.outbox import OutboxRepository
from storage.records import RecordRepository
from storage.sessions import SessionRepository
from storage.staff import StaffRepository
from storage.support import SupportRepository
from storage.throttle import ThrottleRepository

logger = logging.getLogger(__name__)


def activation_settings(settings: Settings) -> ActivationSettings:
    """The knobs of the activation procedure from the settings."""
    return ActivationSettings(
        code_length=settings.verification_code_length,
        verification_ttl=timedelta(hours=settings.verification_ttl_hours),
        resend_cooldown=timedelta(seconds=settings.resend_cooldown_seconds),
        max_resends=settings.max_resends,
        mail_address_cooldown=timedelta(seconds=settings.mail_address_cooldown_seconds),
        max_mails_per_address=settings.max_mails_per_address_per_day,
        max_mails_per_account=settings.max_mails_per_account_per_day,
        mail_reply_wait=settings.outbox_reply_wait_seconds,
        staff_telegram_ids=tuple(settings.staff_telegram_ids),
    )


def broadcast_settings(settings: Settings) -> BroadcastSettings:
    """The broadcast worker's rhythm from the settings."""
    return BroadcastSettings(
        rate_per_second=settings.broadcast_rate_per_second,
        poll_seconds=settings.broadcast_poll_seconds,
        heartbeat_seconds=settings.broadcast_heartbeat_seconds,
        max_attempts=settings.broadcast_max_attempts,
        retry_first=settings.broadcast_retry_first_seconds,
        quiet=settings.quiet_hours_window,
        link_expiring_within=timedelta(hours=settings.reminder_link_expiring_hours)
        if settings.reminder_link_expiring
        else None,
        unfinished_for=timedelta(days=settings.reminder_after_days)
        if settings.reminder_unfinished
        else None,
        auto_scan_seconds=settings.reminder_scan_seconds,
    )


def outbox_settings(settings: Settings) -> OutboxSettings:
    """The outbox worker's retry rhythm from the settings."""
    return OutboxSettings(
        retry_first=settings.outbox_retry_first_seconds,
        retry_max=settings.outbox_retry_max_seconds,
    )


class BotApplication(Application):
    """python-telegram-bot's Application without its persistence bookkeeping: with no
    persistence (the bot keeps everything in SQLite), PTB still adds every update's user and
    chat ids to two sets that only a persistence flush empties — they grew by one entry a
    user, forever (issue 15)."""

    def _mark_for_persistence_update(
        self, *, update: object | None = None, job: Any = None
    ) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)


@dataclass
class BotServices:
    """Everything the handlers use, opened once in the application's event loop."""

    settings: Settings
    school: SchoolConfig
    clock: Clock = utc_now
    mailer: Mailer | None = None
    database: Database | None = None
    ports: ProcedurePorts = field(init=False)
    activation: ActivationService = field(init=False)
    recovery: RecoveryService = field(init=False)
    account: AccountService = field(init=False)
    staff: StaffService = field(init=False)
    my_account: MyAccountService = field(init=False)
    support: SupportService = field(init=False)
    topics: TopicDirectory = field(init=False)
    reminders: UnansweredReminders = field(init=False)
    outbox: Outbox = field(init=False)
    broadcast: BroadcastWorker = field(init=False)
    unsubscribe: UnsubscribeServer | None = field(default=None, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _purger: asyncio.Task[None] | None = field(default=None, init=False)

    async def open(self) -> None:
        """Open the database (migrating it) and build the services; idempotent."""
        async with self._lock:
            if self.database is not None:
                return
            self.database = await Database.open(self.settings.database_path)
            key = load_or_create_server_secret(self.settings.server_secret_file)
            hasher = SecretHasher(
                self.settings.argon2,
                threads=self.settings.argon2_threads,
                nice=self.settings.argon2_nice,
            )
            mailer = self.mailer or Mailer(self.settings.smtp)
            self.outbox = Outbox(
                OutboxRepository(self.database),
                MailSender(mailer, self.school, KeyedHasher(key)),
                self.clock,
                outbox_settings(self.settings),
            )
            broadcasts = BroadcastRepository(self.database)
            email = None
            if self.settings.broadcast_unsubscribe_url:
                email = EmailChannel(
                    BulkMailer(self.settings.smtp, self.settings.broadcast_email_rate_per_second),
                    KeyedHasher(key),
                    self.settings.broadcast_unsubscribe_url,
                )
                self.unsubscribe = UnsubscribeServer(broadcasts, KeyedHasher(key), self.clock)
            self.broadcast = BroadcastWorker(
                broadcasts, self.clock, broadcast_settings(self.settings), email
            )
            self.ports = ProcedurePorts(
                directory=open_directory(self.settings, self.database, hasher, self.outbox),
                accounts=SqliteAccountDirectory(self.database),
                sessions=SessionRepository(self.database),
                throttle=ThrottleRepository(self.database),
                records=RecordRepository(self.database),
                hasher=hasher,
                keyed=KeyedHasher(key),
                mailer=mailer,
                school=self.school,
                password_policy=self.settings.password_policy,
                throttle_policy=throttle_policy(self.settings),
                settings=activation_settings(self.settings),
                clock=self.clock,
                outbox=self.outbox,
            )
            self.activation = ActivationService(self.ports)
            self.recovery = RecoveryService(self.ports)
            self.my_account = MyAccountService(self.ports)
            self.account = AccountService(self.ports, MenuRepository(self.database))
            self.staff = StaffService(
                repository=StaffRepository(self.database),
                throttle=self.ports.throttle,
                records=self.ports.records,
                hasher=hasher,
                keyed=self.ports.keyed,
                throttle_policy=self.ports.throttle_policy,
                clock=self.clock,
                directory=self.ports.directory,
            )
            self.support = SupportService(
                SupportRepository(self.database),
                self.outbox,
                self.ports.directory,
                self.staff,
                self.school,
                self.clock,
                chat_id=self.settings.support_chat_id,
                max_per_minute=self.settings.support_max_messages_per_minute,
                topics=self.settings.support_forum_topics,
                show_staff_names=self.settings.support_show_staff_names,
                ports=self.ports,
            )
            self.topics = TopicDirectory(self.support.repository, self.clock)
            self.reminders = UnansweredReminders(
                self.support.repository,
                self.outbox,
                self.school.horaires,
                self.clock,
                ReminderSettings(
                    chat_id=self.settings.support_chat_id,
                    topics=self.settings.support_forum_topics,
                    after=timedelta(minutes=self.settings.support_remind_after_minutes),
                    scan_seconds=self.settings.support_remind_scan_seconds,
                ),
            )

    async def purge(self) -> PurgeReport:
        """Forget what is no longer needed (see :mod:`storage.maintenance`)."""
        await self.open()
        assert self.database is not None
        now = self.clock()
        report = await purge(
            self.database,
            now,
            abandoned_before=now - timedelta(days=self.settings.abandoned_session_days),
            attempts_before=now - throttle_policy(self.settings).window,
        )
        assert self.outbox is not None
        done = await self.outbox.repository.purge(
            now - timedelta(days=self.settings.abandoned_session_days)
        )
        campaigns = await self.broadcast.repository.purge(
            now - timedelta(days=self.settings.abandoned_session_days)
        )
        tickets = await self.support.repository.purge(
            now - timedelta(days=self.settings.support_retention_days),
            screenings_before=now - timedelta(days=1),
        )
        logger.info(
            "purge: %s; outbox items forgotten: %s; campaigns forgotten: %s; tickets: %s",
            report,
            done,
            campaigns,
            tickets,
        )
        return report

    async def purge_forever(self) -> None:
        """Purge now, then every ``PURGE_INTERVAL_MINUTES``."""
        while True:
            try:
                await self.purge()
            except Exception:  # a failed purge must never stop the bot
                logger.exception("purge failed")
            await asyncio.sleep(self.settings.purge_interval_minutes * 60)

    async def close(self) -> None:
        """Stop the outbox worker, close the database."""
        if self.database is not None:
            await self.reminders.stop()
            await self.broadcast.stop()
            await self.outbox.stop()
        if self.unsubscribe is not None:
            await self.unsubscribe.stop()
        if self._purger is not None:
            # Wait for it before closing the database: a purge cancelled mid-transaction must
            # roll back on an open connection, or it would swallow the cancellation and live on.
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger
            self._purger = None
        if self.database is not None:
            close_directory = getattr(self.ports.directory, "close", None)
            if close_directory is not None:
                close_directory()
            await self.database.close()
            self.database = None


def build_application(
    settings: Settings,
    *,
    school: SchoolConfig | None = None,
    clock: Clock = utc_now,
    mailer: Mailer | None = None,
    extra_procedures: Sequence[Procedure] = (),
) -> Application:
    """Build the bot: handlers (routed by the step saved in SQLite), per-chat ordering.
    ``extra_procedures`` are registered after the bot's own (a duplicate step is refused)."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    school = school or load_school_config(settings.school_config_path())
    services = BotServices(settings=settings, school=school, clock=clock, mailer=mailer)
    root = settings.telegram_api_url.rstrip("/")
    builder = (
        ApplicationBuilder()
        .application_class(BotApplication)
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .context_types(ContextTypes(context=BotContext))
        .concurrent_updates(PerChatUpdateProcessor(settings.concurrent_updates))
        .rate_limiter(TelegramLimiter(background_rate=settings.broadcast_rate_per_second))
    )
    application = with_http_client(builder, settings).build()
    application.bot_data[SERVICES_KEY] = services
    add_update_tracker(application, clock)
    install_alerts(application, clock)
    add_handlers(application, extra_procedures)
    return application


def with_http_client(builder: ApplicationBuilder, settings: Settings) -> ApplicationBuilder:
    """The Bot API client of ``TELEGRAM_HTTP_CLIENT``, with the pool size and the timeouts of
    the settings (``getUpdates``: one connection and python-telegram-bot's own timeouts)."""
    timeout = settings.telegram_timeout_seconds
    if settings.telegram_http_client == "httpx":
        return (
            builder.read_timeout(timeout)
            .write_timeout(timeout)
            .connection_pool_size(settings.telegram_connection_pool_size)
            .pool_timeout(timeout)
        )
    return builder.request(
        AiohttpRequest(
            settings.telegram_connection_pool_size,
            read_timeout=timeout,
            connect_timeout=5.0,
            pool_timeout=timeout,
            media_read_timeout=max(20.0, timeout),
        )
    ).get_updates_request(
        AiohttpRequest(1, read_timeout=5.0, connect_timeout=5.0, pool_timeout=1.0)
    )


def add_handlers(application: Application, extra_procedures: Sequence[Procedure] = ()) -> None:
    """All handlers, in order: groups first, then « Mon compte » and staff, then the router
    of the procedures (which also answers a chat outside any procedure)."""
    private = filters.ChatType.PRIVATE
    settings = application.bot_data[SERVICES_KEY].settings
    application.add_handlers(
        staff_group_handlers(settings.support_chat_id, list(settings.staff_telegram_ids)),
        group=-3,
    )
    application.add_handler(
        MessageHandler(~private & filters.COMMAND, common.on_group_message), group=-1
    )
    add_account_handlers(application)
    for handler in account_handlers():
        application.add_handler(handler)
    staff_ids = application.bot_data[SERVICES_KEY].settings.staff_telegram_ids
    application.add_handlers(staff_handlers(staff_ids))
    add_broadcast_handlers(application)
    router = build_router(extra_procedures)
    application.bot_data[REGISTRY_KEY] = router.registry
    application.add_handler(router)
    application.add_error_handler(_on_error)


def services_of(application: Application) -> BotServices:
    """The services of an application built by :func:`build_application`."""
    return application.bot_data[SERVICES_KEY]


async def start_bot(
    application: Application,
    *,
    poll_interval: float = 0.0,
    poll_timeout: int = 10,
    startup_retry: StartupRetry | None = None,
    freeze_gc: bool = False,
) -> None:
    """Initialise (opening the database), register the commands menu and start long polling;
    ``getMe`` and ``deleteWebhook`` are retried with backoff (``startup_retry``) while
    Telegram cannot be reached, instead of the process dying. ``freeze_gc``: the bot owns the
    process (``run_bot.py``), so what start-up built is frozen (:func:`freeze_startup_objects`);
    tests and the sandbox, which start many bots in one process, leave it off."""
    api_url = services_of(application).settings.telegram_api_url

    def describe(step: str, error: str, wait: float, attempt: int) -> str:
        return ops_texts.startup_retry(step, error, wait, attempt, api_url)

    try:
        await retry_startup("getMe", application.initialize, startup_retry, describe)
    except BaseException:  # a refused token, a stop during the retries: no session left open
        await close_http_clients(application.bot)
        raise
    await services_of(application).open()
    commands = [BotCommand(name, description) for name, description in texts.COMMANDS]
    try:
        await application.bot.set_my_commands(commands)
    except TelegramError as error:
        logger.warning("setMyCommands failed; the bot goes on without a menu: %s", error)
    services = services_of(application)
    services._purger = asyncio.get_running_loop().create_task(services.purge_forever())
    services.outbox.start(TelegramSender(application.bot, services.topics))
    services.broadcast.start(application.bot)
    services.reminders.start()
    if services.unsubscribe is not None:
        await services.unsubscribe.start(
            services.settings.broadcast_unsubscribe_host,
            services.settings.broadcast_unsubscribe_port,
        )
    await start_health(application, services.settings.ops_host, services.settings.ops_port)
    await application.start()
    if services.settings.webhook_url:
        await start_webhook(application, services.settings, startup_retry, describe)
        logger.info("bot @%s receives updates by webhook", application.bot.username)
    else:
        assert application.updater is not None
        updater = application.updater
        await retry_startup(
            "deleteWebhook",
            lambda: updater.start_polling(
                poll_interval=poll_interval, timeout=poll_timeout, drop_pending_updates=False
            ),
            startup_retry,
            describe,
        )
        logger.info("bot @%s is polling for updates", application.bot.username)
    if freeze_gc:
        freeze_startup_objects()


def freeze_startup_objects() -> None:
    """Leave what start-up built (modules, handlers, settings, texts: a few hundred thousand
    objects that live as long as the process) out of the garbage collector's full scans.

    A full collection walked them all and held the event loop up to ~100 ms under load (issue
    15: the worst stall was a collection); :func:`gc.freeze` moves them to the permanent
    generation, so a full collection only walks what came after. The cost: a frozen object
    that later becomes part of a garbage cycle is never freed (freed by its reference count,
    it is); start-up's objects live as long as the process, so at most a few stay, once."""
    gc.collect()
    gc.freeze()


async def stop_bot(application: Application) -> None:
    """Stop polling, let running handlers finish, close the database."""
    await stop_webhook(application)
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    if services_of(application).database is not None:  # the outbox stops before its bot
        await services_of(application).reminders.stop()
        await services_of(application).broadcast.stop()
        await services_of(application).outbox.stop()
    await stop_health(application)
    await application.shutdown()
    await services_of(application).close()


async def _on_error(update: object, context: BotContext) -> None:
    """Log the error (never the update's content, which may hold a secret) and tell the user."""
    error = context.error
    if isinstance(error, DirectoryUnavailable):
        # Nothing was checked nor counted, the step is kept: the user tries again later.
        logger.warning("directory unavailable: %s", error)
        if isinstance(update, Update) and update.effective_chat is not None:
            with contextlib.suppress(TelegramError):
                await update.effective_chat.send_message(ldap_texts.DIRECTORY_UNAVAILABLE)
        return
    logger.error(
        "error while handling an update: %s",
        type(error).__name__,
        exc_info=(type(error), error, error.__traceback__) if error else None,
    )
    if error is not None:
        await alert_staff(context.application, error, update)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(texts.TECHNICAL_ERROR)
        except TelegramError:
            logger.warning("the user could not be told about the error")
