"""The outbox's « in flight » mark (issue 29.1): a Telegram post of the outbox is marked in its
row when its request leaves — not while it waits in the limiter's queue — cleared when an
answer proves nothing was done, and an item found marked is « incertain », never sent again."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import NetworkError, RetryAfter, TimedOut
from test_outbox_worker import FakeBot, Mailer, Topics, telegram_item

from bot.outbox import MailSender, Outbox, OutboxSettings
from bot.outbox.senders import TelegramSender
from bot.outbox.templates import RELAY_COPY, STAFF_NOTICE
from bot.school import SchoolConfig
from bot.security import KeyedHasher
from bot.telegram_api.limiter import BACKGROUND, RateLimitArgs, RetryPolicy, TelegramLimiter
from storage.db import Database
from storage.outbox import NewOutboxItem, OutboxKind, OutboxRepository, OutboxStatus

from support import MutableClock

FAST = OutboxSettings(retry_first=0.01, retry_max=0.05, stop_grace=0.2)
NO_WAIT = RetryPolicy(network_backoff=(0.01, 0.01, 0.01), retry_after_margin=0.0)


class Marks:
    """An :class:`~bot.telegram_api.limiter.InFlightMark` that notes what it is told."""

    def __init__(self, log: list[str], tag: str = "") -> None:
        self.log = log
        self.tag = tag

    async def mark(self) -> None:
        self.log.append(f"mark{self.tag}")

    async def clear(self) -> None:
        self.log.append(f"clear{self.tag}")


def with_mark(mark: Marks) -> RateLimitArgs:
    return {**BACKGROUND, "mark": mark}


async def test_a_call_waiting_in_the_limiters_queue_is_not_marked() -> None:
    limiter = TelegramLimiter(NO_WAIT, background_chat_rate=0)
    log: list[str] = []
    release = asyncio.Event()

    async def first() -> Any:
        log.append("leave1")
        await release.wait()
        return {"ok": 1}

    async def second() -> Any:
        log.append("leave2")
        return {"ok": 2}

    data = {"chat_id": 7}
    one = asyncio.create_task(
        limiter.process_request(first, (), {}, "sendMessage", data, with_mark(Marks(log, "1")))
    )
    two = asyncio.create_task(
        limiter.process_request(second, (), {}, "sendMessage", data, with_mark(Marks(log, "2")))
    )
    await asyncio.sleep(0.05)  # the second waits behind the first, in its chat's queue
    assert log == ["mark1", "leave1"]
    release.set()
    await asyncio.gather(one, two)
    assert log == ["mark1", "leave1", "mark2", "leave2"]


async def test_an_answer_that_proves_nothing_was_done_clears_the_mark() -> None:
    limiter = TelegramLimiter(NO_WAIT)
    log: list[str] = []
    errors: list[Exception] = [RetryAfter(timedelta(seconds=0.01)), NetworkError("Bad Gateway")]

    async def call() -> Any:
        log.append("leave")
        if errors:
            raise errors.pop(0)
        return {"ok": True}

    await limiter.process_request(
        call, (), {}, "sendMessage", {"chat_id": 7}, with_mark(Marks(log))
    )
    # 429, then 502, then delivered: each try marked as it leaves, cleared by each refusal.
    assert log == ["mark", "leave", "clear", "mark", "leave", "clear", "mark", "leave"]

    log.clear()

    async def timed_out() -> Any:
        log.append("leave")
        raise TimedOut()

    with pytest.raises(TimedOut):
        await limiter.process_request(
            timed_out, (), {}, "sendMessage", {"chat_id": 7}, with_mark(Marks(log))
        )
    assert log == ["mark", "leave"]  # may have gone: the mark stays, no second try


def notice(clock: MutableClock, chat_id: int = 5) -> NewOutboxItem:
    return NewOutboxItem(
        kind=OutboxKind.TELEGRAM_MESSAGE,
        template=STAFF_NOTICE,
        params={"chat_id": chat_id, "text": "Avis à l'équipe"},
        created_at=clock(),
        expires_at=clock() + timedelta(days=1),
    )


def telegram_outbox(
    database: Database,
    school: SchoolConfig,
    keyed: KeyedHasher,
    clock: MutableClock,
) -> Outbox:
    mail = MailSender(Mailer(), school, keyed)  # type: ignore[arg-type]
    return Outbox(OutboxRepository(database), mail, clock, FAST)


async def test_an_item_left_in_flight_by_a_killed_process_is_uncertain_and_never_sent(
    database: Database, school: SchoolConfig, keyed: KeyedHasher, clock: MutableClock
) -> None:
    box = telegram_outbox(database, school, keyed, clock)
    left, waiting = notice(clock), notice(clock)
    await box.repository.add([left, waiting])
    assert left.id is not None and waiting.id is not None
    # The earlier process marked the first one's request as out, then was killed.
    await box.repository.mark_in_flight(left.id, clock())
    assert (await box.repository.stats(clock(), clock())).in_flight == 1
    bot = FakeBot()
    box.start(TelegramSender(bot))  # type: ignore[arg-type]
    try:
        assert not await box.attempt(left.id, 5)
        assert await box.attempt(waiting.id, 5)
    finally:
        await box.stop()
    assert bot.sent == ["Avis à l'équipe"]  # the waiting one only
    gone = await box.repository.get(left.id)
    assert gone is not None and gone.status == OutboxStatus.GIVEN_UP
    assert gone.last_error == "Incertain:Interrompu"
    stats = await box.repository.stats(clock(), clock() - timedelta(days=1))
    assert stats.uncertain == 1 and stats.given_up == 1 and stats.in_flight == 0
    sent = await box.repository.get(waiting.id)
    assert sent is not None and sent.status == OutboxStatus.SENT and sent.in_flight_at is None


async def test_a_refused_post_is_tried_again_and_a_timed_out_one_never(
    database: Database, school: SchoolConfig, keyed: KeyedHasher, clock: MutableClock
) -> None:
    box = telegram_outbox(database, school, keyed, clock)
    refused, timed_out = notice(clock, 5), notice(clock, 6)
    await box.repository.add([refused, timed_out])
    assert refused.id is not None and timed_out.id is not None
    bot = FakeBot(NetworkError("Bad Gateway"), TimedOut())
    box.telegram = TelegramSender(bot)  # type: ignore[arg-type]  # attempts made by hand
    assert not await box.attempt(refused.id, 5)
    row = await box.repository.get(refused.id)
    assert row is not None and row.in_flight_at is None  # a 502: nothing was done
    assert not await box.attempt(timed_out.id, 5)
    assert await box.attempt(refused.id, 5)
    assert not await box.attempt(timed_out.id, 5)
    # The 502 and the timeout, then the refused one again; the one that timed out never again.
    assert len(bot.sent) == 3
    row = await box.repository.get(timed_out.id)
    assert row is not None and row.status == OutboxStatus.GIVEN_UP
    assert row.last_error == "Incertain:TimedOut"


async def test_a_relay_card_once_recorded_no_longer_holds_back_its_copy() -> None:
    bot, topics, log = FakeBot(), Topics(), []
    sender = TelegramSender(bot, topics)  # type: ignore[arg-type]
    item = telegram_item(
        RELAY_COPY, chat_id=5, text="Carte", relay_id=7, copy={"from_chat_id": 1, "message_id": 2}
    )
    await sender.send(item, Marks(log))  # type: ignore[arg-type]
    # The card's row (posted_before) is written before the mark is cleared: a kill after it
    # sends the copy at the next start, without a second card; a kill during the copy does not.
    assert log == ["mark", "clear", "mark"]
    assert topics.before == {7: 1} and topics.copies == {7: 100}
