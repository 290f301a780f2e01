"""The local Bot API server's copies, caption edits and topic names, with Telegram's answers
and error texts (copyMessage, editMessageCaption, editMessageText on a media, editForumTopic)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio

from bot.sandbox.bot_api_server import LocalBotApi

TOKEN = "777:unit-test-token"


@pytest_asyncio.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    api = LocalBotApi(bot_token=TOKEN, bot_username="unit_bot")
    await api.start()
    yield api
    await api.stop()


async def call(server: LocalBotApi, method: str, **params: Any) -> httpx.Response:
    data = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in params.items()}
    async with httpx.AsyncClient() as client:
        return await client.post(f"{server.root_url}/bot{TOKEN}/{method}", data=data)


async def test_copy_message_returns_a_message_id_and_replaces_or_keeps_the_caption(
    server: LocalBotApi,
) -> None:
    user = server.user(5)
    group = server.group(-100, is_forum=True)
    photo = await user.send_photo(caption="original")
    text = await user.send_text("bonjour")
    copied = await call(server, "copyMessage", chat_id=-100, from_chat_id=5, message_id=photo)
    assert copied.json()["ok"] and set(copied.json()["result"]) == {"message_id"}
    kept = group.bot_posts()[-1]
    assert kept.kind == "photo" and kept.text == "original" and kept.author is None
    await call(
        server,
        "copyMessage",
        chat_id=-100,
        from_chat_id=5,
        message_id=photo,
        caption="<b>Demande #1</b> original",
        parse_mode="HTML",
    )
    replaced = group.bot_posts()[-1]
    assert replaced.text == "Demande #1 original" and replaced.entities[0]["type"] == "bold"
    await call(server, "copyMessage", chat_id=-100, from_chat_id=5, message_id=text, caption="x")
    assert group.bot_posts()[-1].text == "bonjour"  # a text has no caption to replace

    missing = await call(server, "copyMessage", chat_id=-100, from_chat_id=5, message_id=999)
    assert missing.status_code == 400
    assert missing.json()["description"] == "Bad Request: message to copy not found"
    thread = await call(
        server, "copyMessage", chat_id=-100, from_chat_id=5, message_id=photo, message_thread_id=7
    )
    assert thread.json()["description"] == "Bad Request: message thread not found"


async def test_caption_and_text_edits_check_the_kind_of_message(server: LocalBotApi) -> None:
    user = server.user(5)
    photo = await user.send_photo()
    copied = await call(server, "copyMessage", chat_id=5, from_chat_id=5, message_id=photo)
    copy_id = copied.json()["result"]["message_id"]
    sent = await call(server, "sendMessage", chat_id=5, text="bonjour")
    text_id = sent.json()["result"]["message_id"]
    no_text = await call(server, "editMessageText", chat_id=5, message_id=copy_id, text="x")
    assert no_text.json()["description"] == "Bad Request: there is no text in the message to edit"
    no_caption = await call(
        server, "editMessageCaption", chat_id=5, message_id=text_id, caption="x"
    )
    assert (
        no_caption.json()["description"]
        == "Bad Request: there is no caption in the message to edit"
    )
    edited = await call(server, "editMessageCaption", chat_id=5, message_id=copy_id, caption="y")
    assert edited.json()["result"]["caption"] == "y"
    again = await call(server, "editMessageCaption", chat_id=5, message_id=copy_id, caption="y")
    assert again.json()["description"].startswith("Bad Request: message is not modified")
    mine = await call(server, "editMessageCaption", chat_id=5, message_id=photo, caption="z")
    assert mine.json()["description"] == "Bad Request: message can't be edited"


async def test_edit_forum_topic(server: LocalBotApi) -> None:
    group = server.group(-100, is_forum=True)
    created = await call(server, "createForumTopic", chat_id=-100, name="Léa · #1")
    thread = created.json()["result"]["message_thread_id"]
    renamed = await call(
        server, "editForumTopic", chat_id=-100, message_thread_id=thread, name="Léa M. · #1"
    )
    assert renamed.json() == {"ok": True, "result": True}
    assert group.topics[thread]["name"] == "Léa M. · #1"
    same = await call(
        server, "editForumTopic", chat_id=-100, message_thread_id=thread, name="Léa M. · #1"
    )
    assert same.json()["description"] == "Bad Request: TOPIC_NOT_MODIFIED"
    gone = await call(server, "editForumTopic", chat_id=-100, message_thread_id=999, name="x")
    assert gone.json()["description"] == "Bad Request: message thread not found"


async def test_edits_from_the_user_side_are_edited_message_updates(server: LocalBotApi) -> None:
    user = server.user(5)
    group = server.group(-100, is_forum=True)
    message_id = await user.send_text("bonjour")
    await user.edit(message_id, "bonjour à tous")
    author = server.user(6, first_name="Camille")
    posted = await group.post_media(author, "document", "formulaire")
    await group.edit(posted, "le formulaire")
    updates = (await call(server, "getUpdates")).json()["result"]
    edits = [u["edited_message"] for u in updates if "edited_message" in u]
    assert [e.get("text") or e.get("caption") for e in edits] == ["bonjour à tous", "le formulaire"]
    assert "edit_date" in edits[0] and edits[1]["from"]["first_name"] == "Camille"
    assert edits[1]["document"]["file_name"] == "document.pdf"
