"""The Telegram limiter's rules, on plain coroutines standing for Bot API calls."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.telegram_api.limiter import (
    BACKGROUND,
    RateLimitArgs,
    RetryPolicy,
    StartupRetry,
    TelegramLimiter,
    outcome_unknown,
    retry_startup,
)

FAST = RetryPolicy(network_backoff=(0.01, 0.01, 0.01), retry_after_margin=0.0)
Call = Callable[[], Coroutine[Any, Any, Any]]


def failing(
    *errors: Exception,
    log: list[str] | None = None,
    tag: str = "",
    tried: asyncio.Event | None = None,
) -> Call:
    """A call that raises ``errors`` in turn, then succeeds; each try noted in ``log``, the
    first one signalled on ``tried``."""
    pending = list(errors)

    async def call() -> Any:
        if log is not None:
            log.append(tag)
        if tried is not None:
            tried.set()
        await asyncio.sleep(0)
        if pending:
            raise pending.pop(0)
        return {"ok": tag}

    return call


async def send(
    limiter: TelegramLimiter,
    call: Call,
    chat_id: int | None = 1,
    endpoint: str = "sendMessage",
    args: RateLimitArgs | None = None,
) -> Any:
    data = {} if chat_id is None else {"chat_id": chat_id}
    return await limiter.process_request(call, (), {}, endpoint, data, args)


def pause(seconds: float) -> RetryAfter:
    return RetryAfter(timedelta(seconds=seconds))


@pytest.mark.parametrize("error", [BadRequest("Bad Request: chat not found"), Forbidden("no")])
async def test_refusals_are_never_retried(error: Exception) -> None:
    log: list[str] = []
    with pytest.raises(type(error)):
        await send(TelegramLimiter(FAST), failing(error, log=log))
    assert len(log) == 1


async def test_5xx_and_timeouts_are_retried_a_bounded_number_of_times() -> None:
    limiter = TelegramLimiter(FAST)
    log: list[str] = []
    assert await send(limiter, failing(TimedOut(), NetworkError("Bad Gateway"), log=log))
    assert len(log) == 3
    log.clear()
    with pytest.raises(NetworkError):
        await send(limiter, failing(*[NetworkError("Internal Server Error")] * 9, log=log))
    assert len(log) == 1 + len(FAST.network_backoff)
    log.clear()
    with pytest.raises(RetryAfter):
        await send(limiter, failing(*[pause(0.01)] * 9, log=log))
    assert len(log) == FAST.max_tries


async def test_a_429_longer_than_the_policy_allows_is_given_back_at_once() -> None:
    log: list[str] = []
    with pytest.raises(RetryAfter):
        await send(TelegramLimiter(FAST), failing(pause(3600), log=log))
    assert log == [""]


async def test_a_429_pauses_only_its_chat_and_later_calls_of_that_chat_queue_behind() -> None:
    limiter = TelegramLimiter(FAST)
    log: list[str] = []
    tried = asyncio.Event()
    throttled = asyncio.create_task(
        send(limiter, failing(pause(0.3), log=log, tag="A1", tried=tried), 1)
    )
    await tried.wait()
    later = asyncio.create_task(send(limiter, failing(log=log, tag="A2"), 1))
    await send(limiter, failing(log=log, tag="B"), 2)
    assert log == ["A1", "B"], "the other chat went on at once"
    assert limiter.paused_chats() == 1
    await asyncio.gather(throttled, later)
    assert log == ["A1", "B", "A1", "A2"], "the retry first, then the later call, in order"


async def test_background_traffic_never_delays_a_reply() -> None:
    limiter = TelegramLimiter(FAST, background_rate=5, background_concurrency=2)
    log: list[str] = []
    background = [
        asyncio.create_task(send(limiter, failing(log=log, tag=f"bg{n}"), 100 + n, args=BACKGROUND))
        for n in range(12)
    ]
    await asyncio.sleep(0.05)
    await send(limiter, failing(log=log, tag="reply"), 1)
    assert len([t for t in background if not t.done()]) > 0, "the budget holds background back"
    await asyncio.gather(*background)
    assert log.index("reply") < log.index("bg11")


async def test_a_429_on_background_slows_the_background_lane_not_replies() -> None:
    limiter = TelegramLimiter(FAST, background_rate=0)
    log: list[str] = []
    tried = asyncio.Event()
    first = asyncio.create_task(
        send(limiter, failing(pause(0.3), log=log, tag="bg1", tried=tried), 10, args=BACKGROUND)
    )
    await tried.wait()
    await asyncio.sleep(0.01)  # the 429 is taken into account
    second = asyncio.create_task(send(limiter, failing(log=log, tag="bg2"), 11, args=BACKGROUND))
    await send(limiter, failing(log=log, tag="reply"), 12)
    await asyncio.gather(first, second)
    assert log.index("reply") < log.index("bg2"), "the other background chat waited"


@pytest.mark.parametrize(
    ("endpoint", "refusal"),
    [
        ("deleteMessage", "Bad Request: message to delete not found"),
        ("editMessageText", "Bad Request: message is not modified: specified new message …"),
        ("answerCallbackQuery", "Bad Request: query is too old and response timeout expired"),
    ],
)
async def test_a_retry_refused_because_the_timed_out_try_had_landed_counts_as_done(
    endpoint: str, refusal: str
) -> None:
    limiter = TelegramLimiter(FAST)
    done = BadRequest(refusal)
    assert await send(limiter, failing(TimedOut(), done), endpoint=endpoint) is True
    with pytest.raises(BadRequest):  # without a failed try before, it is a real refusal
        await send(limiter, failing(done), endpoint=endpoint)
    with pytest.raises(BadRequest):  # another method's refusal is one
        await send(limiter, failing(TimedOut(), done), endpoint="sendMessage")


async def test_start_up_retries_transient_errors_only() -> None:
    quick = StartupRetry(first=0.01, longest=0.02)
    log: list[str] = []
    assert await retry_startup("getMe", failing(NetworkError("x"), TimedOut(), log=log), quick)
    assert len(log) == 3
    log.clear()
    with pytest.raises(InvalidToken):
        await retry_startup("getMe", failing(InvalidToken(), log=log), quick)
    assert len(log) == 1
    bounded = StartupRetry(first=0.01, longest=0.01, max_attempts=3)
    log.clear()
    with pytest.raises(NetworkError):
        await retry_startup("getMe", failing(*[NetworkError("x")] * 5, log=log), bounded)
    assert len(log) == 3


def raised_from(error: Exception, cause: BaseException) -> Exception:
    """``error`` as PTB raises it from the HTTP client's own ``cause``."""
    error.__cause__ = cause
    return error


def refused_connection() -> Exception:
    import aiohttp

    key = aiohttp.client_reqrep.ConnectionKey("x", 1, False, True, None, None, None)
    cause = aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    return raised_from(NetworkError("aiohttp.ClientConnectorError"), cause)


def late_answer() -> Exception:
    import aiohttp

    return raised_from(TimedOut(), aiohttp.SocketTimeoutError("read"))


def reset_after_sending() -> Exception:
    import aiohttp

    return raised_from(
        NetworkError("aiohttp.ServerDisconnectedError"), aiohttp.ServerDisconnectedError()
    )


def pool_timeout() -> Exception:
    import httpx

    return raised_from(TimedOut("Pool timeout"), httpx.PoolTimeout("pool"))


@pytest.mark.parametrize("error", [late_answer, reset_after_sending, lambda: TimedOut()])
async def test_a_background_send_whose_outcome_is_unknown_is_never_sent_again(
    error: Callable[[], Exception],
) -> None:
    log: list[str] = []
    raised = error()
    with pytest.raises(type(raised)):
        await send(TelegramLimiter(FAST), failing(raised, log=log), args=BACKGROUND)
    assert log == [""]
    assert outcome_unknown(raised)


@pytest.mark.parametrize(
    "error", [refused_connection, pool_timeout, lambda: NetworkError("Bad Gateway")]
)
async def test_a_background_send_proven_not_sent_is_retried(
    error: Callable[[], Exception],
) -> None:
    log: list[str] = []
    raised = error()
    assert not outcome_unknown(raised)
    assert await send(TelegramLimiter(FAST), failing(raised, log=log), args=BACKGROUND)
    assert log == ["", ""]


@pytest.mark.parametrize(
    ("endpoint", "args", "tries"),
    [
        ("deleteMessage", BACKGROUND, 2),  # idempotent: a second try does no harm
        ("editMessageText", BACKGROUND, 2),
        ("sendChatAction", BACKGROUND, 2),
        ("sendMessage", None, 2),  # a reply: the person waits for it (see the module)
        ("sendMessage", {"priority": "background", "at_most_once": False}, 2),
        ("copyMessage", BACKGROUND, 1),
        ("sendPhoto", BACKGROUND, 1),
        ("sendMessage", {"at_most_once": True}, 1),
        ("createForumTopic", None, 1),  # never twice, whoever asks
    ],
)
async def test_which_calls_are_at_most_once(
    endpoint: str, args: RateLimitArgs | None, tries: int
) -> None:
    log: list[str] = []
    call = failing(late_answer(), log=log)
    if tries == 1:
        with pytest.raises(TimedOut):
            await send(TelegramLimiter(FAST), call, endpoint=endpoint, args=args)
    else:
        await send(TelegramLimiter(FAST), call, endpoint=endpoint, args=args)
    assert len(log) == tries
