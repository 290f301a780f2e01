"""The application factory: the same :class:`telegram.ext.Application` for production, the
sandbox and the tests."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Sequence
from typing import Any, TypeAlias

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    ExtBot,
    JobQueue,
    MessageHandler,
    filters,
)

from bot import texts
from bot.directory.port import DirectoryUnavailable
from bot.ops.alerts import alert_staff, install_alerts
from bot.ops.health import add_update_tracker, start_health, stop_health
from bot.ops.webhook import start_webhook, stop_webhook
from bot.outbox.mail import Mailer
from bot.procedures.kernel import Clock, utc_now
from bot.procedures.registry import Registry
from bot.school import SchoolConfig, load_school_config
from bot.services import SERVICES_KEY as SERVICES_KEY
from bot.services import BotServices as BotServices
from bot.services import services_of as services_of
from bot.services import staff_chat_ids_of, staff_ids_of
from bot.settings import Settings
from bot.telegram_api.concurrency import PerChatUpdateProcessor
from bot.telegram_api.http import AiohttpRequest, close_http_clients
from bot.telegram_api.limiter import RateLimitArgs, StartupRetry, TelegramLimiter, retry_startup
from bot.texts import ldap as ldap_texts
from bot.texts import ops as ops_texts
from conversations import common
from conversations.account import account_handlers, add_account_handlers
from conversations.broadcast import add_broadcast_handlers
from conversations.context import REGISTRY_KEY, BotApp, BotContext
from conversations.flows import build_router
from conversations.router import Procedure
from conversations.staff import staff_handlers
from conversations.support import staff_group_handlers

logger = logging.getLogger(__name__)


class BotApplication(BotApp):
    """python-telegram-bot's Application without its persistence bookkeeping: with no
    persistence (the bot keeps everything in SQLite), PTB still adds every update's user and
    chat ids to two sets that only a persistence flush empties — they grew by one entry a
    user, forever (issue 15)."""

    def _mark_for_persistence_update(
        self, *, update: object | None = None, job: Any = None
    ) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)


# Commands of the Telegram adapter itself, whatever the procedures.
SHARED_COMMANDS = frozenset({"start", "aide", "moncompte", "annuler"})


def menu(registry: Registry) -> list[tuple[str, str]]:
    """The command menu: the shared commands and every procedure's entry commands, in the
    catalogue's order (``texts.COMMANDS``), then those it does not list."""
    own = {entry.command: entry.menu() for entry, _ in registry.commands()}
    listed = [(name, own.get(name, text)) for name, text in texts.COMMANDS]
    chosen = [(name, text) for name, text in listed if name in SHARED_COMMANDS or name in own]
    return chosen + [(name, text) for name, text in own.items() if name not in dict(listed)]


def build_application(
    settings: Settings,
    *,
    school: SchoolConfig | None = None,
    clock: Clock = utc_now,
    mailer: Mailer | None = None,
    extra_procedures: Sequence[Procedure] = (),
    registry: Registry | None = None,
) -> BotApp:
    """Build the bot: handlers (routed by the step saved in SQLite), per-chat ordering.
    ``registry``: the procedures (by default the bot's own, :mod:`bot.procedures.registry`),
    each read by the handlers all procedures share unless it has its own;
    ``extra_procedures``: Telegram procedures registered after them (a duplicate step is
    refused)."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    school = school or load_school_config(settings.school_config_path())
    registry = registry or Registry()
    registry = registry.with_lines(
        *(p.description for p in extra_procedures if registry.get(p.name) is None)
    )
    services = BotServices(
        settings=settings, school=school, clock=clock, mailer=mailer, registry=registry
    )
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


# The builder of a BotApp (its type once the context type is BotContext).
BotAppBuilder: TypeAlias = ApplicationBuilder[
    ExtBot[RateLimitArgs],
    BotContext,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]


def with_http_client(builder: BotAppBuilder, settings: Settings) -> BotAppBuilder:
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


def add_handlers(application: BotApp, extra_procedures: Sequence[Procedure] = ()) -> None:
    """All handlers, in order: groups first, then « Mon compte » and staff, then the router
    of the procedures (which also answers a chat outside any procedure)."""
    private = filters.ChatType.PRIVATE
    settings = application.bot_data[SERVICES_KEY].settings
    application.add_handlers(
        staff_group_handlers(staff_chat_ids_of(settings), list(staff_ids_of(settings))),
        group=-3,
    )
    application.add_handler(
        MessageHandler(~private & filters.COMMAND, common.on_group_message), group=-1
    )
    add_account_handlers(application)
    for handler in account_handlers():
        application.add_handler(handler)
    staff_ids = staff_ids_of(settings)
    application.add_handlers(staff_handlers(staff_ids))
    add_broadcast_handlers(application)
    router = build_router(application.bot_data[SERVICES_KEY].registry, extra_procedures)
    application.bot_data[REGISTRY_KEY] = router.registry
    application.add_handler(router)
    application.add_error_handler(_on_error)


async def start_bot(
    application: BotApp,
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
    services = services_of(application)
    await services.open()
    commands = [BotCommand(name, text) for name, text in menu(services.registry)]
    try:
        await application.bot.set_my_commands(commands)
    except TelegramError as error:
        logger.warning("setMyCommands failed; the bot goes on without a menu: %s", error)
    await services.start(application.bot)
    await start_health(application, services.settings.ops_host, services.settings.ops_port)
    await application.start()
    if services.settings.webhook_url:
        await start_webhook(application, services.settings, startup_retry, describe)
        logger.info(ops_texts.bot_receiving(application.bot.username, webhook=True))
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
        logger.info(ops_texts.bot_receiving(application.bot.username, webhook=False))
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


async def stop_bot(application: BotApp) -> None:
    """Stop receiving updates, let running handlers finish, stop the services' workers and
    close them (:meth:`BotServices.close`), then shut the bot down."""
    await stop_webhook(application)
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await stop_health(application)
    await services_of(application).close()  # the workers stop before their bot
    await application.shutdown()


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
