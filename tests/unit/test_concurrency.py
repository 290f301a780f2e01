"""Per-chat ordering with concurrency across chats."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update

from bot.concurrency import PerChatUpdateProcessor


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
