"""The sandbox page's HTTP side: static files, the JSON API, the Server-Sent Events feed and the
reset, against the whole sandbox (real bot, local Bot API server, SMTP catcher) over HTTP."""

from __future__ import annotations

import asyncio
import json
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx

from bot import texts
from bot.sandbox.run import Sandbox, demo_accounts
from bot.sandbox.web import FIRST_DEMO_USER_ID, static_dir

from sandbox_client import SandboxClient

LEA = FIRST_DEMO_USER_ID


async def test_page_and_static_files_are_served_with_their_types(api: SandboxClient) -> None:
    page = await api.http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<html lang="fr">' in page.text and "Boîte mail" in page.text
    for name, kind in (("sandbox.js", "javascript"), ("sandbox.css", "text/css")):
        response = await api.http.get(f"/static/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
    assert (await api.http.get("/static/nope.js")).status_code == 404
    font = await api.http.get("/static/fonts/sandbox-emoji.woff")
    assert font.status_code == 200 and font.content[:4] == b"wOFF"


async def test_no_inline_script_nor_style_and_e_mails_apart(
    sandbox: Sandbox, api: SandboxClient
) -> None:
    """The page's policy allows neither inline script nor inline style; an e-mail's HTML (its
    inline styles) is its own document, under a policy of its own: no script, nothing fetched."""
    policy = (await api.http.get("/")).headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "script-src" not in policy or "script-src 'self'" in policy
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "Vu"
    message.set_content("Bonjour")
    message.add_alternative('<p style="color:#123">Bonjour <script>x()</script></p>', "html")
    await aiosmtplib.send(message, hostname="127.0.0.1", port=sandbox.mailbox.port)
    state = await api.wait(lambda s: len(s["mails"]) == 1)
    mail_id = state["mails"][0]["id"]
    html = await api.http.get(f"/sandbox/api/mails/{mail_id}/html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert 'style="color:#123"' in html.text
    mail_policy = html.headers["content-security-policy"]
    assert "default-src 'none'" in mail_policy and "script-src" not in mail_policy
    assert "style-src 'unsafe-inline'" in mail_policy
    assert html.headers["x-content-type-options"] == "nosniff"
    for wrong in (mail_id + 1, "x"):
        assert (await api.http.get(f"/sandbox/api/mails/{wrong}/html")).status_code == 404


def test_the_bundled_emoji_font_has_every_emoji_of_the_bot() -> None:
    """Each emoji (U+1F000 and up) of the bot's texts and of the page is in the page's own
    font, drawn where the machine has no emoji font. A new one: rebuild the font with
    scripts/sandbox-emoji-font.py (its docstring says how)."""
    from fontTools.ttLib import TTFont

    covered = set(TTFont(static_dir() / "fonts" / "sandbox-emoji.woff").getBestCmap())
    root = static_dir().parent.parent
    sources = [*root.glob("**/*.py"), *static_dir().glob("*.*")]
    used = {
        (char, path.name)
        for path in sources
        for char in path.read_text(encoding="utf-8")
        if ord(char) >= 0x1F000
    }
    missing = sorted(
        f"{char} (U+{ord(char):X}, {name})" for char, name in used if ord(char) not in covered
    )
    assert missing == [], "not in the sandbox's emoji font: " + ", ".join(missing)
    licence = (static_dir() / "fonts" / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL Open Font License" in licence


def test_page_fetches_nothing_from_the_internet() -> None:
    for path in static_dir().glob("*.*"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://[\w-]", source), f"{path.name} names an external URL"
        assert "@import" not in source and "//cdn" not in source
    html = (static_dir() / "index.html").read_text(encoding="utf-8")
    assert ".innerHTML" not in (static_dir() / "sandbox.js").read_text(encoding="utf-8")
    assert all(tag in html for tag in ('<label for="message-input"', 'aria-live="polite"'))


async def test_state_shows_bot_commands_demo_accounts_and_empty_chats(
    sandbox: Sandbox, api: SandboxClient
) -> None:
    state = await api.state()
    assert state["bot"]["username"] == sandbox.server.bot_username
    assert [c["command"] for c in state["commands"]] == [name for name, _ in texts.COMMANDS]
    shown = [(a["identifiant"], a["mot_de_passe_provisoire"]) for a in state["demo_accounts"]]
    assert shown == [(r["identifiant"], r["mot_de_passe_provisoire"]) for r in demo_accounts()]
    assert [u["first_name"] for u in state["users"]] == ["Léa", "Paul", "Nora"]
    assert all(u["messages"] == [] for u in state["users"]) and state["mails"] == []
    assert state["resetting"] is False


async def test_sandbox_uses_its_own_database(sandbox: Sandbox, tmp_path: Path) -> None:
    assert sandbox.local_settings is not None
    assert sandbox.local_settings.database_path == tmp_path / "sandbox" / "sandbox.sqlite3"
    assert sandbox.local_settings.database_path.exists()
    assert not sandbox.settings.database_path.exists()


async def test_send_and_press_walk_into_the_activation(api: SandboxClient) -> None:
    sent = await api.send(LEA, "/start")
    assert sent.status_code == 200 and isinstance(sent.json()["message_id"], int)
    state = await api.wait(lambda s: api.bot_says(s, LEA, "Qui êtes-vous"))
    assert api.messages(state, LEA)[0] == {**api.messages(state, LEA)[0], "text": "/start"}
    welcome = api.last_bot(state, LEA)
    assert welcome is not None
    pressed = await api.press(LEA, welcome["message_id"], api.button(welcome, "Apprenti"))
    assert pressed.status_code == 200
    await api.wait(lambda s: api.bot_says(s, LEA, "identifiant"))


async def test_events_stream_delivers_messages_and_mails(
    sandbox: Sandbox, api: SandboxClient
) -> None:
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def listen() -> None:
        async with api.http.stream("GET", "/sandbox/api/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    events.put_nowait(json.loads(line[6:]))

    async def next_event(kind: str, from_bot: bool | None = None) -> dict[str, Any]:
        async with asyncio.timeout(10):
            while True:
                event = await events.get()
                if event["type"] == kind and (
                    from_bot is None or event["message"]["from_bot"] == from_bot
                ):
                    return event

    listener = asyncio.create_task(listen())
    try:
        assert await next_event("hello") == {"type": "hello"}
        await api.send(LEA, "/activer")
        mine = await next_event("message", from_bot=False)
        assert mine["user_id"] == LEA and mine["message"]["text"] == "/activer"
        answer = await next_event("message", from_bot=True)
        assert answer["user_id"] == LEA and "identifiant" in answer["message"]["text"]
        assert answer["message"]["entities"], "the bot's formatting reaches the page"

        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            "a@example.org",
            "b@example.org",
            "Test",
        )
        message.set_content("Bonjour")
        await aiosmtplib.send(message, hostname="127.0.0.1", port=sandbox.mailbox.port)
        mail = await next_event("mail")
        assert mail["mail"]["subject"] == "Test" and mail["mail"]["to"] == ["b@example.org"]
    finally:
        listener.cancel()


async def test_bad_inputs_get_a_clear_json_error(api: SandboxClient) -> None:
    http = api.http
    cases: list[tuple[httpx.Response, int, str]] = [
        (await api.send(1, "bonjour"), 404, "unknown_user"),
        (
            await http.post("/sandbox/api/users/abc/messages", json={"text": "x"}),
            404,
            "unknown_user",
        ),
        (await api.send(LEA, "   "), 400, "empty_text"),
        (await api.send(LEA, "x" * 4097), 400, "text_too_long"),
        (await http.post(f"/sandbox/api/users/{LEA}/messages", json=["x"]), 400, "bad_json"),
        (
            await http.post(
                f"/sandbox/api/users/{LEA}/messages",
                content=b"{not json",
                headers={"Content-Type": "application/json"},
            ),
            400,
            "bad_json",
        ),
        (
            await http.post(f"/sandbox/api/users/{LEA}/messages", data={"text": "x"}),
            415,
            "bad_json",
        ),
        (
            await http.post(f"/sandbox/api/users/{LEA}/messages", json={"text": 3}),
            400,
            "empty_text",
        ),
        (await api.press(LEA, 123456, "x"), 404, "unknown_message"),
        (await http.post("/sandbox/api/users", json={"first_name": ""}), 400, "bad_name"),
        (await http.post("/sandbox/api/users", json={"first_name": "x" * 65}), 400, "bad_name"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.json() == {"error": code, "message": texts.SANDBOX_ERRORS[code]}
    await api.send(LEA, "/start")
    state = await api.wait(lambda s: api.bot_says(s, LEA, "Qui êtes-vous"))
    welcome = api.last_bot(state, LEA)
    assert welcome is not None
    forged = await api.press(LEA, welcome["message_id"], "forged:data")
    assert forged.status_code == 400 and forged.json()["error"] == "unknown_button"
    own = api.messages(state, LEA)[0]
    assert (await api.press(LEA, own["message_id"], "x")).json()["error"] == "unknown_message"


async def test_a_new_person_can_join_and_chat(api: SandboxClient) -> None:
    created = await api.http.post("/sandbox/api/users", json={"first_name": " Zoé "})
    assert created.status_code == 201
    user = created.json()
    assert user["first_name"] == "Zoé" and user["id"] not in range(LEA, LEA + 3)
    await api.send(user["id"], "/aide")
    state = await api.wait(lambda s: api.last_bot(s, user["id"]) is not None)
    assert [u["first_name"] for u in state["users"]][-1] == "Zoé"


async def test_reset_forgets_chats_mails_and_steps_and_reseeds_accounts(
    sandbox: Sandbox, api: SandboxClient
) -> None:
    # Léa goes up to the address step; an e-mail is sent for Paul.
    await api.send(LEA, "/activer")
    await api.wait(lambda s: api.bot_says(s, LEA, "identifiant"))
    paul = LEA + 1
    await api.send(paul, "/activer")
    await api.wait(lambda s: api.bot_says(s, paul, "identifiant"))
    await api.send(paul, "paul.demo")
    await api.wait(lambda s: api.bot_says(s, paul, "provisoire"))
    await api.send(paul, "Demo-Paul-2026")
    state = await api.wait(
        lambda s: "J'accepte" in json.dumps(api.last_bot(s, paul), ensure_ascii=False)
    )
    cgu = api.last_bot(state, paul)
    assert cgu is not None
    await api.press(paul, cgu["message_id"], api.button(cgu, "J'accepte"))
    state = await api.wait(
        lambda s: "e-mail" in json.dumps(api.last_bot(s, paul), ensure_ascii=False)
    )
    step3 = api.last_bot(state, paul)
    assert step3 is not None
    await api.press(paul, step3["message_id"], api.button(step3, "e-mail"))
    await api.wait(lambda s: api.bot_says(s, paul, "adresse"))
    await api.send(paul, "paul@example.org")  # sent at once
    # The e-mail's link is Paul's: the page continues his chat with it, whoever is selected.
    state = await api.wait(lambda s: len(s["mails"]) == 1 and s["mails"][0]["user_id"] is not None)
    assert state["mails"][0]["deep_link_payload"] and state["mails"][0]["user_id"] == paul

    reset = await api.http.post("/sandbox/api/reset", json={})
    assert reset.status_code == 200 and reset.json()["message"] == texts.SANDBOX_RESET_DONE
    state = await api.state()
    assert state["mails"] == [] and all(u["messages"] == [] for u in state["users"])
    assert [u["id"] for u in state["users"]] == [LEA, paul, LEA + 2]

    # Léa's old step is gone: her identifier is not taken as an answer to a forgotten question.
    await api.send(LEA, "lea.demo")
    state = await api.wait(lambda s: api.last_bot(s, LEA) is not None)
    assert "provisoire" not in (api.last_bot(state, LEA) or {})["text"]
    # Paul's account is fresh again: the provisional password works once more.
    await api.send(paul, "/activer")
    await api.wait(lambda s: api.bot_says(s, paul, "identifiant"))
    await api.send(paul, "paul.demo")
    await api.wait(lambda s: api.bot_says(s, paul, "provisoire"))
    await api.send(paul, "Demo-Paul-2026")
    await api.wait(
        lambda s: any("Conditions Générales" in m["text"] for m in api.messages(s, paul))
    )


async def test_the_team_view_answers_a_ticket_as_staff(api: SandboxClient) -> None:
    """Support works out of the box: « Écrire à l'équipe » opens a ticket in the sandbox's
    staff group (a forum), whose topic ``/team`` shows; a staff answer posted there reaches
    the user's chat signed by the school's team."""
    state = await api.state()
    assert state["team"]["topics"] == [] and state["team"]["staff"]["first_name"]
    await api.send(LEA, "/aide")
    state = await api.wait(lambda s: api.last_bot(s, LEA) is not None)
    offer = api.last_bot(state, LEA)
    assert offer is not None
    await api.press(LEA, offer["message_id"], api.button(offer, "Je bloque"))
    state = await api.wait(lambda s: api.bot_says(s, LEA, "Quel est le problème"))
    menu = api.last_bot(state, LEA)
    assert menu is not None
    await api.press(LEA, menu["message_id"], api.button(menu, "Écrire à l'équipe"))
    await api.wait(lambda s: api.bot_says(s, LEA, "Écrivez votre message"))
    await api.send(LEA, "Je ne trouve pas mon courrier")

    async def team() -> dict[str, Any]:
        response = await api.http.get("/sandbox/api/team")
        assert response.status_code == 200
        return response.json()["team"]

    # The topic is created first, then the card is posted in it.
    await api.wait(lambda s: any(t["messages"] for t in s["team"]["topics"]))
    [topic] = (await team())["topics"]
    assert topic["name"].endswith("#1") and topic["closed"] is False
    card = topic["messages"][0]
    assert card["from_bot"] and card["author"] is None
    assert card["text"].startswith("🆘 Demande #1") and "Je ne trouve pas" in card["text"]

    path = f"/sandbox/api/team/topics/{topic['thread_id']}/messages"
    wrong = await api.http.post("/sandbox/api/team/topics/999999/messages", json={"text": "x"})
    assert wrong.status_code == 404 and wrong.json()["error"] == "unknown_topic"
    empty = await api.http.post(path, json={"text": "  "})
    assert empty.status_code == 400 and empty.json()["error"] == "empty_text"
    answered = await api.http.post(path, json={"text": "Passez au secrétariat."})
    assert answered.status_code == 200
    state = await api.wait(lambda s: api.bot_says(s, LEA, "Passez au secrétariat"))
    answer = api.last_bot(state, LEA)
    assert answer is not None and "L'équipe de CFA Exemple" in answer["text"]
    [topic] = (await team())["topics"]
    assert [m["author"] for m in topic["messages"]][-1] == state["team"]["staff"]["first_name"]
