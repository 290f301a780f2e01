"""The local Bot API server over HTTP: Telegram's answers and error texts, and a real
python-telegram-bot Application talking to it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.sandbox.bot_api_server import Fault, LocalBotApi

TOKEN = "777:unit-test-token"


@pytest_asyncio.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    api = LocalBotApi(bot_token=TOKEN, bot_username="unit_bot")
    await api.start()
    yield api
    await api.stop()


async def call(
    server: LocalBotApi, method: str, token: str = TOKEN, **params: Any
) -> httpx.Response:
    data = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in params.items()}
    async with httpx.AsyncClient() as client:
        return await client.post(f"{server.root_url}/bot{token}/{method}", data=data)


async def test_get_me_and_unknown_token_and_method(server: LocalBotApi) -> None:
    me = (await call(server, "getMe")).json()
    assert me["ok"] and me["result"]["username"] == "unit_bot" and me["result"]["is_bot"]
    bad = await call(server, "getMe", token="1:nope")
    assert bad.status_code == 401 and bad.json()["description"] == "Unauthorized"
    missing = await call(server, "frobnicate")
    assert missing.status_code == 404 and missing.json()["description"] == "Not Found"


async def test_send_message_checks(server: LocalBotApi) -> None:
    server.user(5)
    cases = [
        ({"chat_id": 6, "text": "x"}, "Bad Request: chat not found"),
        ({"chat_id": 5, "text": " "}, "Bad Request: message text is empty"),
        ({"chat_id": 5, "text": "x" * 4097}, "Bad Request: message is too long"),
        ({"chat_id": 5, "text": "<b>x", "parse_mode": "HTML"}, "Bad Request: can't parse entities"),
        (
            {
                "chat_id": 5,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "d" * 65}]]},
            },
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            {
                "chat_id": 5,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "a", "url": "ftp://x"}]]},
            },
            "Bad Request: BUTTON_URL_INVALID",
        ),
    ]
    for params, description in cases:
        answer = (await call(server, "sendMessage", **params)).json()
        assert not answer["ok"] and answer["description"].startswith(description), params
    ok = (
        await call(
            server, "sendMessage", chat_id=5, text="<b>é</b>" + "x" * 4000, parse_mode="HTML"
        )
    ).json()
    assert ok["ok"] and ok["result"]["entities"][0]["type"] == "bold"


async def test_edit_delete_and_callback_errors(server: LocalBotApi) -> None:
    server.user(5)
    sent = (await call(server, "sendMessage", chat_id=5, text="a")).json()["result"]
    same = (
        await call(server, "editMessageText", chat_id=5, message_id=sent["message_id"], text="a")
    ).json()
    assert same["description"].startswith("Bad Request: message is not modified")
    gone = (await call(server, "editMessageText", chat_id=5, message_id=999, text="b")).json()
    assert gone["description"] == "Bad Request: message to edit not found"
    assert (await call(server, "deleteMessage", chat_id=5, message_id=sent["message_id"])).json()[
        "ok"
    ]
    again = (await call(server, "deleteMessage", chat_id=5, message_id=sent["message_id"])).json()
    assert again["description"] == "Bad Request: message to delete not found"
    old = (await call(server, "answerCallbackQuery", callback_query_id="42")).json()
    assert "query is too old" in old["description"]
    server.user(5).blocked = True
    blocked = await call(server, "sendMessage", chat_id=5, text="x")
    assert blocked.status_code == 403


async def test_commands_are_validated_and_kept(server: LocalBotApi) -> None:
    bad = await call(server, "setMyCommands", commands=[{"command": "Aide", "description": "x"}])
    assert bad.json()["description"] == "Bad Request: BOT_COMMAND_INVALID"
    await call(server, "setMyCommands", commands=[{"command": "aide", "description": "Aide"}])
    assert server.commands == [{"command": "aide", "description": "Aide"}]


async def test_a_real_application_round_trip(server: LocalBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Oui", callback_data="yes")]])
        await update.effective_chat.send_message("Question ?", reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("Noté")
        await update.callback_query.edit_message_text("Réponse : oui")

    app = ApplicationBuilder().token(TOKEN).base_url(server.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        user = server.user(9, first_name="Léa")
        await user.send_text("/start")
        question = await user.wait_for_message()
        assert question.text == "Question ?"
        await user.press("Oui")
        for _ in range(100):
            if question.edited:
                break
            await server._changed_wait(0.1)
        assert question.text == "Réponse : oui" and question.buttons == []
        assert user.callback_answers[0]["text"] == "Noté"
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_faults_per_chat_and_global_over_http(server: LocalBotApi) -> None:
    server.user(5)
    server.user(6)
    async with httpx.AsyncClient() as client:
        added = await client.post(
            f"{server.root_url}/test/faults",
            json={"kind": "retry_after", "chat_id": 5, "retry_after": 7, "times": 1},
        )
        assert added.json()["ok"] and added.json()["result"]["chat_id"] == 5
        bad = await client.post(f"{server.root_url}/test/faults", json={"kind": "nope"})
        assert bad.status_code == 400

        other = await call(server, "sendMessage", chat_id=6, text="x")
        assert other.json()["ok"], "another chat is not concerned"
        throttled = await call(server, "sendMessage", chat_id=5, text="x")
        assert throttled.status_code == 429
        assert throttled.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        }
        assert (await call(server, "sendMessage", chat_id=5, text="x")).json()["ok"], "once"

        await client.post(
            f"{server.root_url}/test/faults",
            json={"kind": "server_error", "status": 502, "times": None},
        )
        for chat_id in (5, 6):
            failed = await call(server, "sendMessage", chat_id=chat_id, text="x")
            assert failed.status_code == 502 and failed.json()["error_code"] == 502
        assert len((await client.get(f"{server.root_url}/test/faults")).json()["result"]) == 1
        await client.delete(f"{server.root_url}/test/faults")
        assert (await call(server, "sendMessage", chat_id=5, text="x")).json()["ok"]

    outcomes = [(e.chat_id, e.outcome, e.fault) for e in server.events_of(method="sendMessage")]
    assert outcomes == [
        (6, "ok", None),
        (5, "429", "retry_after"),
        (5, "ok", None),
        (5, "502", "server_error"),
        (6, "502", "server_error"),
        (5, "ok", None),
    ]


async def test_slow_answers_and_random_faults(server: LocalBotApi) -> None:
    server.user(5)
    server.inject(Fault("slow", chat_id=5, delay=0.2))
    answer = await call(server, "sendMessage", chat_id=5, text="late")
    assert answer.json()["ok"], "a slow answer still carries the call out"
    assert server.events[-1].fault == "slow"
    assert [m.text for m in server.users[5].messages] == ["late"]

    faults = server.inject_random(0.5, delay=0.01, seed=1)
    assert len(faults) == 3
    for _ in range(60):
        await call(server, "getMe")
    injected = [e.fault for e in server.events_of(method="getMe")]
    assert 10 < sum(1 for f in injected if f) < 50
    assert {"retry_after", "server_error"} <= set(injected)
    server.clear_faults()
    assert (await call(server, "getMe")).json()["ok"]
