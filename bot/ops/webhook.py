"""Webhook mode (``WEBHOOK_URL``): Telegram POSTs each update to the bot, behind the school's
reverse proxy, instead of the bot polling. An aiohttp server (already a dependency; PTB's own
webhook server needs tornado) listens on ``WEBHOOK_LISTEN:WEBHOOK_PORT`` at the URL's path,
refuses a request without the right ``X-Telegram-Bot-Api-Secret-Token`` (403) or whose body is
not an update (400), with one log line a minute per kind of refusal however many come, and
hands the update to the application's queue; ``setWebhook`` is called at start with
``allowed_updates`` and never drops pending updates, and the webhook is kept at stop (updates wait
at Telegram)."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, Update

from bot.config.refusal import StartupRefused
from bot.ops.logs import AggregatedWarning
from bot.services import AnyApplication
from bot.settings import Settings
from bot.telegram_api.limiter import StartupRetry, retry_startup
from bot.texts import ops as ops_texts

logger = logging.getLogger(__name__)

WEBHOOK_KEY = "ops_webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What the handlers use (Telegram's default would add nothing the bot reads).
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")


@dataclass
class WebhookReceiver:
    """The HTTP endpoint Telegram delivers to."""

    application: AnyApplication
    path: str
    secret: str
    _runner: web.AppRunner | None = field(default=None, init=False)
    port: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._refused_token = AggregatedWarning(logger, ops_texts.WEBHOOK_REFUSED_TOKEN)
        self._refused_body = AggregatedWarning(logger, ops_texts.WEBHOOK_REFUSED_BODY)

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self._refused_token.note()
            return web.Response(status=403)
        update = parse_update(await request.read(), self.application.bot)
        if update is None:
            self._refused_body.note()
            return web.Response(status=400)
        await self.application.update_queue.put(update)
        return web.Response(status=200)

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port`` (0: a free port, read back in :attr:`port`)."""
        app = web.Application()
        app.router.add_post(self.path, self._receive)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else port

    async def stop(self) -> None:
        """Stop listening (requests in flight are answered first)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def parse_update(body: bytes, bot: Bot) -> Update | None:
    """The update a request's body holds, or None for anything else (not JSON, not an object,
    no integer ``update_id``, nesting deeper than the parser's recursion limit, fields of the
    wrong type): a 400, never a traceback."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return None
    try:
        return Update.de_json(data, bot)
    except Exception:  # whatever the object holds, it is not an update: refused, not raised
        return None


def webhook_path(url: str) -> str:
    """The path Telegram POSTs to (that of the public URL; the proxy keeps it)."""
    return urlsplit(url).path or "/"


async def start_webhook(
    application: AnyApplication,
    settings: Settings,
    retry: StartupRetry | None,
    describe: Callable[[str, str, float, int], str],
) -> None:
    """Listen, then ``setWebhook`` (retried like the other start-up calls)."""
    assert settings.webhook_url and settings.webhook_secret_token is not None
    secret = settings.webhook_secret_token.get_secret_value()
    receiver = WebhookReceiver(application, webhook_path(settings.webhook_url), secret)
    host, port = settings.webhook_listen, settings.webhook_port
    try:
        await receiver.start(host, port)
    except OSError as error:  # the port is taken: one French sentence, not a traceback
        await receiver.stop()
        what = ops_texts.LISTEN_WEBHOOK
        raise StartupRefused(
            ops_texts.cannot_listen(what, host, port, "WEBHOOK_PORT", error.errno)
        ) from None
    application.bot_data[WEBHOOK_KEY] = receiver
    url = settings.webhook_url

    async def register() -> bool:
        return await application.bot.set_webhook(
            url=url,
            allowed_updates=list(ALLOWED_UPDATES),
            secret_token=secret,
            drop_pending_updates=False,
        )

    await retry_startup("setWebhook", register, retry, describe)


async def stop_webhook(application: AnyApplication) -> None:
    """Stop the endpoint if it runs; the webhook stays set at Telegram."""
    receiver: WebhookReceiver | None = application.bot_data.pop(WEBHOOK_KEY, None)
    if receiver is not None:
        await receiver.stop()
