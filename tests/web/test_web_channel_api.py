"""The web channel's JSON API and no-JavaScript pages, through HTTP: the demo path, resuming
after sequence N, forged ids, and every bad input answered in French, never a traceback."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.texts import web as texts
from bot.web.server import ID_HEADER, ID_PURPOSE, WebChannel
from storage.db import Database

ENT = "https://lycees.ent-region.example.org"

Client = TestClient[web.Request, web.Application]


def own(client: Client) -> dict[str, str]:
    """The Origin a page of the channel's own origin sends."""
    return {"Origin": str(client.make_url("")).rstrip("/")}


async def open_conversation(client: Client) -> dict[str, Any]:
    response = await client.post("/web/api/conversations", json={}, headers=own(client))
    assert response.status == 200
    data: dict[str, Any] = await response.json()
    return data


async def send(client: Client, conversation: str, **payload: str) -> Any:
    return await client.post(
        "/web/api/input", json=payload, headers={**own(client), ID_HEADER: conversation}
    )


async def after(client: Client, conversation: str, seq: int) -> list[dict[str, Any]]:
    response = await client.get(f"/web/api/messages?after={seq}", headers={ID_HEADER: conversation})
    assert response.status == 200
    data = await response.json()
    assert data["fresh"] is False
    messages: list[dict[str, Any]] = data["messages"]
    return messages


async def test_demo_path_and_resume_after_n(client: Client, database: Database) -> None:
    opened = await open_conversation(client)
    conversation = opened["conversation"]
    assert len(conversation) >= 22  # 128 bits, URL-safe base64
    first = opened["messages"]
    assert [m["seq"] for m in first] == [1, 2]
    assert first[-1]["input"] == "text" and first[-1]["autocomplete"] == "username"
    assert (await send(client, conversation, kind="text", text="jdupont")).status == 200
    step = await after(client, conversation, 2)
    assert [m["from"] for m in step] == ["person", "bot"]
    assert step[-1]["input"] == "secret" and step[-1]["autocomplete"] == "new-password"
    secret = "Velo-Rouge-Soleil-42"
    assert (await send(client, conversation, kind="secret", text=secret)).status == 200
    confirm = await after(client, conversation, 4)
    assert confirm[0]["text"] == texts.SECRET_SENT
    nonce = confirm[-1]["nonce"]
    assert nonce
    # A resumed page reads everything after what it showed, nothing twice.
    assert [m["seq"] for m in await after(client, conversation, 3)] == [4, 5, 6]
    response = await send(client, conversation, kind="choice", action="confirm", nonce=nonce)
    assert response.status == 200
    done = await after(client, conversation, 6)
    assert done[-1]["text"] == texts.DEMO_DONE
    # The secret is nowhere in the database, the id itself neither.
    for table in ("web_conversations", "web_messages"):
        for row in await database.fetch_all(f"SELECT * FROM {table}"):
            assert all(secret not in str(value) for value in tuple(row))
            assert all(conversation not in str(value) for value in tuple(row))


async def test_a_stale_choice_is_refused_and_keeps_the_current_ones(client: Client) -> None:
    conversation = (await open_conversation(client))["conversation"]
    await send(client, conversation, kind="text", text="jdupont")
    await send(client, conversation, kind="secret", text="Velo-Rouge-Soleil-42")
    messages = await after(client, conversation, 0)
    old_nonce = messages[1]["nonce"]
    current_nonce = messages[-1]["nonce"]
    await send(client, conversation, kind="choice", action="help", nonce=old_nonce)
    stale = await after(client, conversation, len(messages))
    assert [m["text"] for m in stale] == [texts.STALE_CHOICE]
    response = await send(
        client, conversation, kind="choice", action="confirm", nonce=current_nonce
    )
    assert response.status == 200
    assert (await after(client, conversation, len(messages) + 1))[-1]["text"] == texts.DEMO_DONE


async def test_long_poll_wakes_on_a_new_message(client: Client) -> None:
    import asyncio

    conversation = (await open_conversation(client))["conversation"]
    waiting = asyncio.ensure_future(
        client.get("/web/api/messages?after=2&wait=1", headers={ID_HEADER: conversation})
    )
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await send(client, conversation, kind="text", text="jdupont")
    response = await asyncio.wait_for(waiting, 1.0)
    assert [m["seq"] for m in (await response.json())["messages"]] == [3, 4]


async def test_forged_or_missing_id_gets_a_fresh_conversation(client: Client) -> None:
    mine = (await open_conversation(client))["conversation"]
    await send(client, mine, kind="text", text="jdupont")
    for forged in ("", "A" * 22, mine[:-1] + ("A" if mine[-1] != "A" else "B"), "x" * 500):
        response = await client.get("/web/api/messages?after=0", headers={ID_HEADER: forged})
        assert response.status == 200
        data = await response.json()
        assert data["fresh"] is True and data["conversation"] not in (mine, forged)
        assert all(m["text"] != "jdupont" for m in data["messages"])
    response = await send(client, "A" * 22, kind="text", text="hello")
    assert (await response.json())["fresh"] is True


async def test_bad_inputs_get_a_kind_french_answer(client: Client) -> None:
    conversation = (await open_conversation(client))["conversation"]
    headers = {**own(client), ID_HEADER: conversation}
    cases: list[tuple[Any, int, str]] = [
        (
            client.post(
                "/web/api/input",
                data="{not json",
                headers={**headers, "Content-Type": "application/json"},
            ),
            400,
            "malformed",
        ),
        (
            client.post(
                "/web/api/input",
                data="[1]",
                headers={**headers, "Content-Type": "application/json"},
            ),
            400,
            "malformed",
        ),
        (client.post("/web/api/input", data="kind=text", headers=headers), 400, "malformed"),
        (
            client.post("/web/api/input", json={"kind": "nope", "text": "x"}, headers=headers),
            400,
            "malformed",
        ),
        (
            client.post("/web/api/input", json={"kind": "text", "text": 3}, headers=headers),
            400,
            "malformed",
        ),
        (
            client.post("/web/api/input", json={"kind": "text", "text": "   "}, headers=headers),
            400,
            "empty",
        ),
        (
            client.post(
                "/web/api/input", json={"kind": "text", "text": "x" * 2001}, headers=headers
            ),
            413,
            "too_large",
        ),
        (
            client.post(
                "/web/api/input",
                data="x" * 20_000,
                headers={**headers, "Content-Type": "application/json"},
            ),
            413,
            "too_large",
        ),
        (client.get("/web/api/messages?after=abc", headers=headers), 400, "malformed"),
        (client.get("/web/api/nothing-here"), 405, "not_found"),
        (client.get("/web/nothing-here"), 404, "not_found"),
    ]
    for request, status, code in cases:
        response = await request
        assert response.status == status, code
        body = await response.json()
        assert body["error"] == code
        assert body["message"] == texts.ERRORS[code]
        assert "Traceback" not in await response.text()


async def test_disallowed_origin_is_refused(client: Client) -> None:
    conversation = (await open_conversation(client))["conversation"]
    for origin in ("https://evil.example", "null", None):
        headers = {ID_HEADER: conversation}
        if origin is not None:
            headers["Origin"] = origin
        response = await client.post(
            "/web/api/input", json={"kind": "text", "text": "x"}, headers=headers
        )
        assert response.status == 403
        assert (await response.json())["message"] == texts.ERRORS["origin"]
        response = await client.post("/web/api/conversations", json={}, headers=headers)
        assert response.status == 403
    # Behind the school's HTTPS proxy the request arrives in HTTP: the https origin of this
    # host is this origin too.
    https_self = str(client.make_url("")).rstrip("/").replace("http://", "https://")
    response = await client.post("/web/api/conversations", json={}, headers={"Origin": https_self})
    assert response.status == 200
    # The allowed ENT origin may post; its preflight is granted, another's not.
    response = await client.post("/web/api/conversations", json={}, headers={"Origin": ENT})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == ENT
    preflight = await client.options(
        "/web/api/input",
        headers={"Origin": ENT, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status == 204
    refused = await client.options(
        "/web/api/input",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert refused.status == 403
    assert "Access-Control-Allow-Origin" not in refused.headers


async def test_flood_from_one_conversation_is_slowed_kindly(client: Client) -> None:
    conversation = (await open_conversation(client))["conversation"]
    statuses = []
    for _ in range(40):
        response = await send(client, conversation, kind="text", text="jdupont")
        statuses.append(response.status)
    assert 429 in statuses
    response = await send(client, conversation, kind="text", text="jdupont")
    assert response.status == 429
    assert (await response.json())["message"] == texts.ERRORS["too_fast"]
    assert int(response.headers["Retry-After"]) >= 1


async def test_flood_of_opens_from_one_ip_is_slowed(client: Client, channel: WebChannel) -> None:
    allowed = channel.config.opens_per_ip_per_minute
    statuses = [
        (await client.post("/web/api/conversations", json={}, headers=own(client))).status
        for _ in range(allowed + 5)
    ]
    assert statuses[:allowed] == [200] * allowed and set(statuses[allowed:]) == {429}


async def test_an_idle_poll_leaves_nothing_behind(client: Client, channel: WebChannel) -> None:
    """Memory per idle conversation: once its poll returns, no event or counter is kept."""
    conversation = (await open_conversation(client))["conversation"]
    response = await client.get(
        "/web/api/messages?after=2&wait=1", headers={ID_HEADER: conversation}
    )
    assert (await response.json())["messages"] == []
    assert channel._events == {} and channel._waiting == {}


async def test_every_response_has_the_strict_headers_and_no_cookie(client: Client) -> None:
    for path in ("/web/panel", "/web/widget.js", "/web/sans-js", "/web/api/messages?after=0"):
        response = await client.get(path)
        assert response.status == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert f"frame-ancestors 'self' {ENT}" in csp
        assert "Set-Cookie" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    widget = await (await client.get("/web/widget.js")).text()
    assert json.dumps(texts.OPEN_BUTTON) in widget and "{{" not in widget
    panel = await (await client.get("/web/panel")).text()
    assert texts.MESSAGE_LABEL in panel and "{{" not in panel


async def test_no_javascript_path(client: Client) -> None:
    start = await client.post("/web/sans-js", headers=own(client), allow_redirects=False)
    assert start.status == 303
    page_url = start.headers["Location"].split("#")[0]
    page = await (await client.get(page_url)).text()
    assert "autocomplete='username'" in page and texts.DEMO_ASK_IDENTIFIER.split(" (")[0] in page
    posted = await client.post(
        page_url, data={"text": "jdupont", "nonce": ""}, headers=own(client), allow_redirects=False
    )
    assert posted.status == 303
    page = await (await client.get(page_url)).text()
    assert "type='password'" in page and "autocomplete='new-password'" in page
    secret = "Velo-Rouge-Soleil-42"
    await client.post(page_url, data={"secret": secret}, headers=own(client))
    page = await (await client.get(page_url)).text()
    assert secret not in page
    nonce = page.split("name='nonce' value='")[1].split("'")[0]
    await client.post(page_url, data={"action": "confirm", "nonce": nonce}, headers=own(client))
    assert texts.DEMO_DONE.replace("'", "&#x27;") in await (await client.get(page_url)).text()
    # A post from another site is refused (CSRF), in French.
    refused = await client.post(
        page_url, data={"text": "x"}, headers={"Origin": "https://evil.example"}
    )
    assert (
        refused.status == 403
        and texts.ERRORS["origin"].replace("'", "&#x27;") in await refused.text()
    )


async def test_unbound_channel_answers_kindly(client: Client, channel: WebChannel) -> None:
    channel.unbind()
    response = await client.post("/web/api/conversations", json={}, headers=own(client))
    assert response.status == 503
    assert (await response.json())["message"] == texts.ERRORS["unavailable"]


async def test_the_loader_is_small_and_fetches_nothing_by_itself(client: Client) -> None:
    """≤ 30 KB compressed (issue 24); no fetch, XHR or stylesheet before the button is pressed
    (the only request it makes is the panel's iframe, inside the click handler)."""
    import gzip

    source = await (await client.get("/web/widget.js")).read()
    assert len(gzip.compress(source, 9)) <= 30 * 1024
    text = source.decode()
    assert "fetch(" not in text and "XMLHttpRequest" not in text and "<link" not in text


class FailingEngine:
    """An engine that breaks on a secret (a bug, a directory down…)."""

    async def open(self, conversation: Any) -> list[Any]:
        from bot.web.demo import DemoEngine

        return await DemoEngine().open(conversation)

    async def text(self, conversation: Any, text: str) -> list[Any]:
        return await self.open(conversation)

    async def secret(self, conversation: Any, value: str) -> list[Any]:
        raise RuntimeError("directory down")

    async def choose(self, conversation: Any, action: str) -> list[Any]:
        return await self.open(conversation)


async def test_an_engine_failure_is_a_kind_500_and_logs_no_secret(
    client: Client, channel: WebChannel, caplog: pytest.LogCaptureFixture
) -> None:
    assert channel.bound is not None
    channel.bound.engine = FailingEngine()
    conversation = (await open_conversation(client))["conversation"]
    secret = "Velo-Rouge-Soleil-42"
    with caplog.at_level(logging.DEBUG):
        response = await send(client, conversation, kind="secret", text=secret)
    assert response.status == 500
    body = await response.text()
    assert json.loads(body)["message"] == texts.ERRORS["internal"]
    assert "Traceback" not in body and secret not in body
    assert "RuntimeError" in caplog.text  # the type, for the operator
    assert secret not in caplog.text and conversation not in caplog.text


async def test_deliver_reaches_a_waiting_page(client: Client, channel: WebChannel) -> None:
    """What step 2 sends without an input (a staff answer): the waiting poll shows it, and the
    current choices stay valid when it brings none."""
    import asyncio

    from bot.web.engine import InputKind, WebPrompt

    conversation = (await open_conversation(client))["conversation"]
    await send(client, conversation, kind="text", text="jdupont")
    await send(client, conversation, kind="secret", text="Velo-Rouge-Soleil-42")
    shown = await after(client, conversation, 0)
    nonce = shown[-1]["nonce"]
    waiting = asyncio.ensure_future(
        client.get(
            f"/web/api/messages?after={len(shown)}&wait=1", headers={ID_HEADER: conversation}
        )
    )
    await asyncio.sleep(0.1)
    bound = channel.bound
    assert bound is not None
    stored = await bound.repository.find(bound.keyed.digest(conversation, purpose=ID_PURPOSE))
    assert stored is not None
    row = stored.row
    assert await channel.deliver(
        f"web:{row}", [WebPrompt("L'équipe : bonjour", input=InputKind.NONE)]
    )
    assert not await channel.deliver("web:999999", [WebPrompt("x")])
    assert not await channel.deliver("telegram:1", [WebPrompt("x")])
    response = await asyncio.wait_for(waiting, 1.0)
    assert [m["text"] for m in (await response.json())["messages"]] == ["L'équipe : bonjour"]
    response = await send(client, conversation, kind="choice", action="confirm", nonce=nonce)
    assert (await after(client, conversation, len(shown) + 1))[-1]["text"] == texts.DEMO_DONE
