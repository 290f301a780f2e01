"""The bot's HTTP client for the Bot API: aiohttp behind python-telegram-bot's ``BaseRequest``.

python-telegram-bot talks HTTP through a :class:`~telegram.request.BaseRequest`; its default,
``HTTPXRequest``, costs the event loop more than everything else the bot does: httpcore scans
its whole connection pool on every request (encode/httpcore#1035; issue 15 measured a quarter
of the loop's time there, and half in httpx/httpcore in all). :class:`AiohttpRequest` does the
same job with aiohttp's client, already a dependency (the webhook, the sandbox): its connector
hands out an idle connection without scanning the others. ``TELEGRAM_HTTP_CLIENT=httpx``
brings PTB's default back (see ``docs/performance.md`` for the measures).

What stays as with ``HTTPXRequest``: the per-call timeouts python-telegram-bot passes (read,
connect, pool; aiohttp has no write timeout, so a write is bounded by the read one), the
``HTTPS_PROXY``/``NO_PROXY`` environment (``trust_env``, as httpx does), certifi's CA bundle,
form-encoded parameters and multipart uploads, and the errors: a timeout is ``TimedOut`` (a
pool timeout says so), any other failure ``NetworkError``.
"""

from __future__ import annotations

import logging
import re
import ssl

import aiohttp
from telegram import Bot
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

logger = logging.getLogger(__name__)

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _ssl_context() -> ssl.SSLContext:
    """Verify Telegram's certificate against certifi's bundle, as httpx does (the system's
    store when certifi is absent)."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - httpx (PTB's dependency) brings certifi
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


class AiohttpRequest(BaseRequest):
    """One pool of ``connection_pool_size`` keep-alive connections to the Bot API.

    ``read_timeout``, ``connect_timeout`` and ``pool_timeout`` are the defaults of the calls
    that do not give theirs (seconds, None: no limit); ``media_read_timeout`` replaces the read
    timeout of a call that uploads a file."""

    __slots__ = (
        "_connect_timeout",
        "_media_read_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
    )

    def __init__(
        self,
        connection_pool_size: int = 32,
        *,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_read_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_read_timeout = media_read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (python-telegram-bot adds it to ``getUpdates``' own)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (on the running loop); again after :meth:`shutdown`."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size, limit_per_host=0, ssl=_ssl_context()
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                trust_env=True,
                timeout=aiohttp.ClientTimeout(total=None),
                headers={"User-Agent": self.USER_AGENT},
                auto_decompress=True,
            )

    async def shutdown(self) -> None:
        """Close the session and its connections (nothing if already closed)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one call; return its HTTP status and body (python-telegram-bot parses it)."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = bool(request_data and request_data.contains_files)
        default_read = self._media_read_timeout if files else self._read_timeout
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=_given(pool_timeout, self._pool_timeout),  # waiting for a connection
            sock_connect=_given(connect_timeout, self._connect_timeout),
            sock_read=_given(read_timeout, default_read),
        )
        body: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] | None = None
        if request_data is not None and files:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, upload in request_data.multipart_data.items():
                filename, content, *mimetype = upload
                form.add_field(
                    name,
                    content,
                    filename=filename,
                    content_type=mimetype[0] if mimetype else None,
                )
            body = form
        elif request_data is not None and request_data.json_parameters:
            body = request_data.url_encoded_parameters().encode("ascii")
            headers = _FORM
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            if isinstance(error, aiohttp.ConnectionTimeoutError):
                raise TimedOut(
                    "Pool or connect timeout: no connection to the Bot API in time; the call "
                    "was not sent (TELEGRAM_CONNECTION_POOL_SIZE, TELEGRAM_TIMEOUT_SECONDS)."
                ) from error
            raise TimedOut from error
        except aiohttp.ClientError as error:
            text = _without_token(error)
            raise NetworkError(f"aiohttp.{type(error).__name__}: {text}") from error


async def close_http_clients(bot: Bot) -> None:
    """Close the bot's aiohttp sessions when its ``initialize`` failed (python-telegram-bot
    then never calls ``shutdown``, and aiohttp would warn of an unclosed session)."""
    requests = getattr(bot, "_request", ())  # PTB keeps (getUpdates' request, the other one)
    for request in requests:
        if isinstance(request, AiohttpRequest):
            await request.shutdown()


# The token in a Bot API URL (``…/bot<id>:<secret>/method``): some aiohttp errors quote the URL.
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")


def _without_token(error: BaseException) -> str:
    """The error's text with any bot token blanked (it may be logged)."""
    return _TOKEN.sub("<jeton>", str(error))


def _given(value: object, default: float | None) -> float | None:
    """A call's own timeout, or the default when python-telegram-bot passes DEFAULT_NONE."""
    if value is BaseRequest.DEFAULT_NONE or not isinstance(value, int | float | None):
        return default
    return float(value) if value is not None else None
