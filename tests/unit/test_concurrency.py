"""Per-chat ordering with concurrency across chats."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update

from bot.telegram_api.concurrency import PerChatUpdateProcessor


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    message = Message(update_id, None, chat, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_one_chat_in_order_other_chats_concurrently() -> None:
    processor = PerChatUpdateProcessor(16)
    log: list[tuple[int, str]] = []
    slow_started = asyncio.Event()

    async def work(tag: int, chat: int, delay: float) -> None:
        log.append((chat, f"start {tag}"))
        if delay:
            slow_started.set()
        await asyncio.sleep(delay)
        log.append((chat, f"end {tag}"))

    tasks = [
        asyncio.create_task(processor.process_update(update(1, 10), work(1, 10, 0.2))),
        asyncio.create_task(processor.process_update(update(2, 10), work(2, 10, 0))),
        asyncio.create_task(processor.process_update(update(3, 20), work(3, 20, 0))),
    ]
    await asyncio.gather(*tasks)
    chat10 = [event for chat, event in log if chat == 10]
    assert chat10 == ["start 1", "end 1", "start 2", "end 2"]
    # chat 20 did not wait for chat 10's slow update
    assert log.index((20, "end 3")) < log.index((10, "end 1"))
    assert processor._locks == {}


async def test_a_flood_from_one_chat_holds_one_slot_only() -> None:
    # The measure: 4 slots, 8 updates of 0.2 s from one chat, then another chat.
    processor = PerChatUpdateProcessor(4)
    log: list[str] = []

    async def work(tag: str, delay: float) -> None:
        await asyncio.sleep(delay)
        log.append(tag)

    flood = [
        asyncio.create_task(processor.process_update(update(n, 10), work(f"flood {n}", 0.05)))
        for n in range(8)
    ]
    await asyncio.sleep(0)
    assert processor.queued(10) == 8
    await processor.process_update(update(99, 20), work("other", 0))
    assert log == ["other"], "the other chat did not wait behind the flood"
    await asyncio.gather(*flood)
    assert log[1:] == [f"flood {n}" for n in range(8)], "the flood is handled in order, whole"
    assert processor.current_concurrent_updates == 0
