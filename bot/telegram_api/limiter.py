"""One limiter for every Bot API call of the bot, and the start-up retries.

python-telegram-bot routes every call but ``getUpdates`` through the application's
:class:`~telegram.ext.BaseRateLimiter`. Its own ``AIORateLimiter`` stops *every* chat while one
chat waits out a 429 (PTB issues #3765, #3772); :class:`TelegramLimiter` does not:

- a 429 (:class:`~telegram.error.RetryAfter`) pauses only the chat it concerns; the call is
  retried once the pause is over, and later calls to that chat queue behind it (one FIFO lock a
  chat), while other chats go on at once;
- 5xx answers and network failures (:class:`~telegram.error.NetworkError`, timeouts included)
  are retried a few times with a short backoff; Telegram's refusals (``BadRequest``,
  ``Forbidden``, ``InvalidToken``…) never are; the tries of one call are bounded. A retry refused
  because the try that seemed to fail had landed (« message to delete not found », « message is
  not modified », « query is too old ») counts as done;
- but a call that creates something (``sendMessage``, ``copyMessage``, ``createForumTopic``…)
  whose outcome is unknown — a timeout or a connection lost after the request left
  (:func:`outcome_unknown`): Telegram may have done it — is never sent again when it is
  background traffic (``at_most_once``, the default of :data:`BACKGROUND`): the caller gets the
  error and counts the message « incertain ». Only an answer that proves nothing was done (429,
  5xx, a connection refused or never made) is retried. Replies to the update in hand keep the
  retry: the person is waiting for that one answer, a lost one leaves them facing silence while a
  rare duplicate repeats the same prompt (same step, same buttons); and there is one reply per
  action, not hundreds of sends at once;
- two priorities: replies (the default) are never slowed but by their own chat's 429;
  background traffic (outbox, broadcasts: ``rate_limit_args=BACKGROUND``) goes through a global
  budget and a per-chat pace (``aiolimiter``'s leaky buckets) and a 429 on it slows the whole
  background lane, so that it never delays a reply;
- a caller that must know whether such a request left (the outbox, whose row is what makes its
  sends at most once across a ``kill -9``) passes a ``mark`` (:class:`InFlightMark`): it is
  awaited just before each try leaves — after the pacing, the queue and the chat's pauses, so
  that a call still waiting there is not counted as sent — and told when an answer proved that
  the try did nothing (:func:`leaving_once`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Protocol, TypedDict, TypeVar

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter

from bot import texts

logger = logging.getLogger(__name__)

Priority = Literal["reply", "background"]
Result = bool | dict[str, Any] | list[dict[str, Any]]
T = TypeVar("T")


class InFlightMark(Protocol):
    """Where a send that must never be repeated notes that its request is out (the outbox's
    row), so that a process killed during it knows, at the next start, that it may have gone."""

    async def mark(self) -> None:
        """The request is about to leave; if this raises, it does not leave."""
        ...

    async def clear(self) -> None:
        """An answer proved that the request did nothing (429, 5xx, a refusal)."""
        ...


class RateLimitArgs(TypedDict, total=False):
    """What a caller may pass as ``rate_limit_args`` to a bot method. ``at_most_once``: a
    send whose outcome is unknown is not retried (default: True for background calls);
    ``mark``: told when each try leaves and when an answer proved it did nothing."""

    priority: Priority
    at_most_once: bool
    mark: InFlightMark


#: Background calls that may leave at once after a quiet spell (then: at the steady rate).
BACKGROUND_BURST = 2

#: ``rate_limit_args`` of every message that is not the answer to the update in hand (a send
#: whose outcome is unknown is never sent again: see :func:`outcome_unknown`).
BACKGROUND: RateLimitArgs = {"priority": "background", "at_most_once": True}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long one call is tried again."""

    max_tries: int = 5
    """Tries of one call, whatever the errors (the first one included)."""
    network_backoff: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
    """Pauses before each retry after a 5xx, a network error or a timeout (their number bounds
    those retries)."""
    retry_after_margin: float = 0.1
    """Added to Telegram's ``retry_after``."""
    max_retry_after: float = 60.0
    """A longer 429 is given back to the caller at once (nobody waits minutes for a reply)."""


def retry_after_seconds(error: RetryAfter) -> float:
    """Telegram's ``retry_after`` in seconds (PTB gives an int or a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB 22 warns while ints turn into timedeltas
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class _Chat:
    """The state of one chat: its FIFO lock and the end of its 429 pause."""

    __slots__ = ("lock", "resume_at", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.resume_at = 0.0
        self.users = 0


class TelegramLimiter(BaseRateLimiter[RateLimitArgs]):
    """The bot's rate limiter: per-chat 429 pauses, bounded retries, a background lane.

    ``background_rate`` messages a second overall (Telegram allows about 30 in all, leaving room
    for replies) and ``background_chat_rate`` a second per chat (Telegram: about 1);
    ``background_concurrency`` background calls at most in flight, so that they never hold the
    HTTP connections the replies need."""

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        background_rate: float = 20.0,
        background_chat_rate: float = 1.0,
        background_concurrency: int = 4,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self._chats: dict[int | str, _Chat] = {}
        self._background_chat_rate = background_chat_rate
        # A bucket of BACKGROUND_BURST calls, not of a second's worth: a full second's burst
        # on top of the steady rate would exceed Telegram's 30 a second (and get 429s).
        self._background = (
            AsyncLimiter(BACKGROUND_BURST, BACKGROUND_BURST / background_rate)
            if background_rate
            else None
        )
        self._background_chats: dict[int | str, AsyncLimiter] = {}
        self._background_slots = asyncio.Semaphore(background_concurrency)
        self._background_resume_at = 0.0

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Forget the chats' pauses."""
        self._chats.clear()
        self._background_chats.clear()

    def paused_chats(self) -> int:
        """Chats waiting out a 429 now (for logs and benches)."""
        now = self._clock()
        return sum(1 for chat in self._chats.values() if chat.resume_at > now)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: RateLimitArgs | None,
    ) -> Result:
        """Send one call: paced if it is background traffic, in its chat's order, retried."""
        given = rate_limit_args or {}
        priority: Priority = given.get("priority", "reply")
        once = creates(endpoint) and (
            endpoint in ALWAYS_ONCE or given.get("at_most_once", priority == "background")
        )
        key = _chat_key(data)
        mark = given.get("mark")

        def call() -> Coroutine[Any, Any, Result]:
            return leaving_once(mark, lambda: callback(*args, **kwargs))

        if priority != "background":
            return await self._in_chat(key, endpoint, call, False, once)
        async with self._background_slots:
            await self._sleep_until(self._background_resume_at)
            if key is not None and self._background_chat_rate:
                await self._background_chat(key).acquire()
            if self._background is not None:
                await self._background.acquire()
            return await self._in_chat(key, endpoint, call, True, once)

    async def _in_chat(
        self,
        key: int | str | None,
        endpoint: str,
        call: Callable[[], Awaitable[Result]],
        background: bool,
        once: bool = False,
    ) -> Result:
        if key is None:
            return await self._tries(None, endpoint, call, background, once)
        if len(self._chats) > 1024:  # chats left paused with nobody waiting: forget them
            now = self._clock()
            for other, state in list(self._chats.items()):
                if state.users == 0 and state.resume_at <= now:
                    del self._chats[other]
        chat = self._chats.setdefault(key, _Chat())
        chat.users += 1
        try:
            async with chat.lock:  # asyncio.Lock is FIFO: the chat's calls keep their order
                return await self._tries(chat, endpoint, call, background, once)
        finally:
            chat.users -= 1
            if chat.users == 0 and chat.resume_at <= self._clock():
                self._chats.pop(key, None)

    async def _tries(
        self,
        chat: _Chat | None,
        endpoint: str,
        call: Callable[[], Awaitable[Result]],
        background: bool,
        once: bool = False,
    ) -> Result:
        policy = self.policy
        tries = 0
        network_failures = 0
        while True:
            tries += 1
            if chat is not None:
                await self._sleep_until(chat.resume_at)
            try:
                return await call()
            except RetryAfter as error:
                delay = retry_after_seconds(error) + policy.retry_after_margin
                if tries >= policy.max_tries or delay > policy.max_retry_after:
                    logger.warning("%s: 429 not retried (try %d, %.1f s)", endpoint, tries, delay)
                    raise
                logger.info("%s: 429, retried in %.1f s (only this chat waits)", endpoint, delay)
                resume_at = self._clock() + delay
                if background:
                    self._background_resume_at = max(self._background_resume_at, resume_at)
                if chat is not None:
                    chat.resume_at = max(chat.resume_at, resume_at)
                else:
                    await self._sleep_until(resume_at)
            except BadRequest as error:
                if network_failures and _already_done(endpoint, error):
                    logger.info("%s: done by the earlier try that seemed to fail", endpoint)
                    return True
                raise
            except NetworkError as error:  # 5xx, connection errors and TimedOut
                if once and outcome_unknown(error):
                    logger.warning(
                        "%s: %s, outcome unknown: not sent again (try %d)",
                        endpoint,
                        type(error).__name__,
                        tries,
                    )
                    raise
                if tries >= policy.max_tries or network_failures >= len(policy.network_backoff):
                    logger.log(
                        _level(endpoint, logging.WARNING),
                        "%s: %s, given up after %d tries",
                        endpoint,
                        type(error).__name__,
                        tries,
                    )
                    raise
                delay = policy.network_backoff[network_failures]
                network_failures += 1
                logger.log(
                    _level(endpoint, logging.INFO),
                    "%s: %s, retried in %.2f s",
                    endpoint,
                    type(error).__name__,
                    delay,
                )
                await asyncio.sleep(delay)

    def _background_chat(self, key: int | str) -> AsyncLimiter:
        if len(self._background_chats) > 512:  # forget the idle ones, as PTB's limiter does
            for other, limiter in list(self._background_chats.items()):
                if other != key and limiter.has_capacity(limiter.max_rate):
                    del self._background_chats[other]
        if key not in self._background_chats:
            self._background_chats[key] = AsyncLimiter(self._background_chat_rate, 1)
        return self._background_chats[key]

    async def _sleep_until(self, moment: float) -> None:
        delay = moment - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)


async def leaving_once(mark: InFlightMark | None, send: Callable[[], Awaitable[T]]) -> T:
    """``send()``, with ``mark`` told just before it leaves and when an answer proves it did
    nothing; a timeout or a lost connection (:func:`outcome_unknown`) or a cancellation while
    it is out leave the mark in place: it may have been carried out."""
    if mark is None:
        return await send()
    await mark.mark()
    try:
        return await send()
    except TelegramError as error:
        if not outcome_unknown(error):
            await mark.clear()
        raise


def _chat_key(data: dict[str, Any]) -> int | str | None:
    chat_id = data.get("chat_id")
    if chat_id is None:
        return None
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)  # an @username


# Refusals of a retry that mean the try reported as failed (a timeout, a lost answer) did reach
# Telegram: the message is deleted, the edit made, the query answered. These methods answer
# ``True`` on success (edits: ``Message | True``), so the call is done.
_DONE_BY_AN_EARLIER_TRY = {
    "deleteMessage": ("message to delete not found",),
    "deleteMessages": ("message to delete not found",),
    "editMessageText": ("message is not modified",),
    "editMessageReplyMarkup": ("message is not modified",),
    "editMessageCaption": ("message is not modified",),
    "answerCallbackQuery": ("query is too old", "query id is invalid"),
}


#: Calls that create something and are at most once whoever makes them: a second forum topic is
#: what the support's intent row is there to avoid (never a reply to a person's message).
ALWAYS_ONCE = frozenset({"createForumTopic"})


def creates(endpoint: str) -> bool:
    """Whether a second try of ``endpoint`` after a first that landed would do it twice (a
    second message, topic, link); deletions, edits and reads would not."""
    if endpoint == "sendChatAction":
        return False
    return endpoint.startswith(("send", "copyMessage", "forwardMessage", "create"))


def outcome_unknown(error: BaseException) -> bool:
    """Whether Telegram may have carried out the call that raised ``error``: a timeout or a
    connection lost once the request had left. False for an answer (429, 5xx, a refusal) and for
    a connection that was never made (refused, DNS, connect or pool timeout): nothing left."""
    if not isinstance(error, NetworkError) or isinstance(error, BadRequest):
        return False
    cause = error.__cause__
    if cause is None or isinstance(cause, TelegramError):
        # PTB raised it from an HTTP answer (a 5xx; its cause, if any, the unreadable body).
        return isinstance(error, TimedOut)
    return not isinstance(cause, _NOT_CONNECTED)


def _not_connected() -> tuple[type[BaseException], ...]:
    """The HTTP clients' errors raised before a request could leave (aiohttp, httpx)."""
    import aiohttp
    import httpx

    return (
        aiohttp.ClientConnectorError,
        aiohttp.ConnectionTimeoutError,
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.PoolTimeout,
    )


_NOT_CONNECTED = _not_connected()


def _already_done(endpoint: str, error: BadRequest) -> bool:
    """A retry refused because an earlier try, reported as failed, had done the work."""
    message = error.message.lower()
    return any(reason in message for reason in _DONE_BY_AN_EARLIER_TRY.get(endpoint, ()))


# --- start-up ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartupRetry:
    """Backoff of the start-up calls (``getMe``, ``deleteWebhook``): doubled from ``first``
    up to ``longest``; ``max_attempts`` None means until it works (or the process is stopped)."""

    first: float = 1.0
    longest: float = 30.0
    max_attempts: int | None = None


# Start-up calls: retry_startup writes one line per attempt, so their inner tries stay in DEBUG.
STARTUP_ENDPOINTS = frozenset({"getMe", "deleteWebhook", "setWebhook"})


def _level(endpoint: str, level: int) -> int:
    return logging.DEBUG if endpoint in STARTUP_ENDPOINTS else level


async def retry_startup(
    step: str,
    action: Callable[[], Awaitable[T]],
    retry: StartupRetry | None = None,
    message: Callable[[str, str, float, int], str] | None = None,
) -> T:
    """Run ``action`` until it works, waiting more each time, with a French log line a failure.

    Only transient failures are retried (network, 5xx, timeouts, 429); a wrong token or another
    refusal from Telegram is raised at once. The log names the step and the error's type, never
    the token (which PTB puts in its URLs); ``message`` words that line (step, error type,
    wait, attempt), by default ``texts.startup_retry``."""
    retry = retry or StartupRetry()
    delay = retry.first
    attempt = 0
    while True:
        attempt += 1
        try:
            return await action()
        except (NetworkError, RetryAfter) as error:
            if isinstance(error, BadRequest) or (
                retry.max_attempts is not None and attempt >= retry.max_attempts
            ):
                raise
            wait = delay
            if isinstance(error, RetryAfter):
                wait = max(delay, retry_after_seconds(error))
            describe = message or texts.startup_retry
            logger.warning(describe(step, type(error).__name__, wait, attempt))
            await asyncio.sleep(wait)
            delay = min(delay * 2, retry.longest)
