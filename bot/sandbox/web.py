"""The sandbox page: static files, a JSON API and a Server-Sent Events feed, on the local Bot API
server's own aiohttp application.

Routes (all under the server's root URL):

- ``GET /``: the page (``static/index.html``); ``GET /static/…``: its CSS and JavaScript.
- ``GET /sandbox/api/state``: bot, commands menu, demo accounts, users with their chats, e-mails
  (each with ``user_id``: the person whose chat its link continues, or null).
- ``POST /sandbox/api/users``: ``{"first_name": …}`` → a new person chatting with the bot.
- ``POST /sandbox/api/users/{id}/messages``: ``{"text": …}`` → the user types and sends it.
- ``POST /sandbox/api/users/{id}/press``: ``{"message_id": …, "data": …}`` → presses a button.
- ``POST /sandbox/api/reset``: forget chats and e-mails, recreate the demo accounts.
- ``GET /sandbox/api/mails/{id}/html``: that e-mail's HTML part, a document of its own (the
  page's HTML view loads it in a sandboxed iframe) under ``MAIL_CSP``.
- ``GET /sandbox/api/team``: the staff group (« Équipe »): its forum topics, one a ticket, each
  with its posts (the bot's context card and relayed messages, the staff's answers).
- ``POST /sandbox/api/team/topics/{thread_id}/messages``: ``{"text": …}`` → the sandbox's staff
  member writes it in that topic (the bot relays it to the user as « L'équipe de … »).
- ``GET /sandbox/api/events``: Server-Sent Events, one JSON object a change (``type``: message,
  edit, delete, commands, callback_answer, mail, reset, ready; ``team``: the staff group
  changed, read ``/team`` again).

Bad inputs get a 4xx JSON answer ``{"error": code, "message": French text}``. POST bodies must be
JSON (``Content-Type: application/json``), which a foreign web page cannot send without a CORS
preflight this server never grants.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import texts
from bot.sandbox.bot_api_server import TEXT_LIMIT, LocalBotApi, SandboxGroup, SandboxUser
from bot.sandbox.mailbox import CaughtMail, Mailbox
from bot.sandbox.telegram_html import utf16_length

logger = logging.getLogger(__name__)

API = "/sandbox/api"
FIRST_DEMO_USER_ID = 7_000_001
FIRST_EXTRA_USER_ID = 7_000_101
MAX_USERS = 50
# The sandbox's staff group (a forum: one topic a ticket) and its one staff member.
TEAM_CHAT_ID = -1_001_424_242_000
TEAM_TITLE = "Équipe de l'établissement"
STAFF_USER_ID = 7_000_900
STAFF_FIRST_NAME = "Camille"
NAME_LIMIT = 64
PING_SECONDS = 15.0
# The page loads only its own files: no inline script or style.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
# The imitation of the ENT's page: its files and the widget (same origin here), framed by no one.
ENT_CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# An e-mail's HTML, its own document in the page's iframe: its inline styles and data: images,
# nothing else (no script, nothing fetched, no form sent).
MAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'"
)


def static_dir() -> Path:
    """The page's files (shipped as package data)."""
    return Path(str(resources.files("bot.sandbox") / "static"))


@dataclass(frozen=True)
class PageUser:
    """A person of the page: a Telegram user id, a first name and what the tabs show."""

    id: int
    first_name: str
    label: str


class ApiError(Exception):
    """A bad input, answered as ``{"error": code, "message": text}``."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


def _error_response(error: ApiError) -> web.Response:
    return web.json_response(
        {"error": error.code, "message": texts.SANDBOX_ERRORS[error.code]}, status=error.status
    )


class SandboxWeb:
    """The page's routes, bound to a :class:`LocalBotApi` and a :class:`Mailbox`.

    ``reset`` is the sandbox's own reset (stop the bot, forget everything, re-seed, restart);
    ``resetting()`` tells whether one is running, during which user actions are refused.
    ``link_owner(payload)`` names the Telegram user whose procedure an e-mail's link continues
    (asked when the e-mail arrives, while that procedure still waits for it).
    """

    def __init__(
        self,
        server: LocalBotApi,
        mailbox: Mailbox,
        demo_accounts: list[dict[str, str]],
        reset: Callable[[], Awaitable[None]],
        resetting: Callable[[], bool] = lambda: False,
        link_owner: Callable[[str], Awaitable[int | None]] | None = None,
        team_chat_id: int | None = None,
    ) -> None:
        self.server = server
        self.mailbox = mailbox
        self.demo_accounts = demo_accounts
        # {identifiant: the payload of its demo letter's QR code} (set by the sandbox at start)
        self.letters: dict[str, str] = {}
        self.page_users: list[PageUser] = []
        self._reset = reset
        self._resetting = resetting
        self._link_owner = link_owner
        self._mail_users: dict[int, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._streams: set[asyncio.Queue[dict[str, Any] | None]] = set()
        # The staff group shown in « Équipe » (None: no such view).
        self.team_chat_id = team_chat_id
        server.add_listener(self._on_server_event)
        mailbox.add_listener(self._on_mail)

    # --- set-up -----------------------------------------------------------------------------

    def install(self, app: web.Application) -> None:
        """Add the page's routes to the server's application (before it starts)."""
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", static_dir(), append_version=False)
        app.router.add_get(f"{API}/state", self._state)
        app.router.add_get(f"{API}/events", self._events)
        app.router.add_post(f"{API}/users", self._create_user)
        app.router.add_post(f"{API}/users/{{user_id}}/messages", self._send)
        app.router.add_post(f"{API}/users/{{user_id}}/press", self._press)
        app.router.add_post(f"{API}/reset", self._reset_route)
        app.router.add_get(f"{API}/mails/{{mail_id}}/html", self._mail_html)
        app.router.add_get(f"{API}/team", self._team_route)
        app.router.add_post(f"{API}/team/topics/{{thread_id}}/messages", self._team_send)
        app.on_shutdown.append(self._on_shutdown)

    def install_ent_page(self, app: web.Application) -> None:
        """``GET /ent/``: a page imitating the ENT's « Activer mon compte », embedding the web
        channel's widget with the one ``<script>`` tag a school pastes."""
        app.router.add_get("/ent/", self._ent)
        app.router.add_get("/ent", self._ent_redirect)

    async def _ent(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            static_dir() / "ent.html",
            headers={
                "Content-Type": "text/html; charset=utf-8",
                "Cache-Control": "no-cache",
                "Content-Security-Policy": ENT_CSP,
            },
        )

    async def _ent_redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/ent/")

    def seed_users(self) -> None:
        """One person per demo account (after a start or a reset the chats are empty)."""
        self.page_users = []
        self._mail_users = {}
        for number, row in enumerate(self.demo_accounts):
            profil = texts.PROFIL_LABELS.get(row["profil"], row["profil"])
            self._add_user(
                FIRST_DEMO_USER_ID + number, row["prenom"], f"{row['prenom']} ({profil})"
            )
        if self.team_chat_id is not None:
            self.server.group(self.team_chat_id, TEAM_TITLE, is_forum=True)
            self.server.user(STAFF_USER_ID, first_name=STAFF_FIRST_NAME)

    def _add_user(self, user_id: int, first_name: str, label: str) -> PageUser:
        page_user = PageUser(user_id, first_name, label)
        self.server.user(user_id, first_name=first_name)
        self.page_users.append(page_user)
        return page_user

    # --- events -----------------------------------------------------------------------------

    def broadcast(self, event: dict[str, Any]) -> None:
        """Send ``event`` to every open page."""
        for queue in list(self._streams):
            queue.put_nowait(event)

    def _on_server_event(self, event: dict[str, Any]) -> None:
        """A change of a chat: as it is, or « the staff group changed » (the page reads
        ``/team`` again, where each post has its topic)."""
        if self.team_chat_id is not None and event.get("user_id") == self.team_chat_id:
            self.broadcast({"type": "team"})
        else:
            self.broadcast(event)

    def _on_mail(self, mail: CaughtMail) -> None:
        task = asyncio.get_running_loop().create_task(self._announce_mail(mail))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _announce_mail(self, mail: CaughtMail) -> None:
        """Find whose chat the e-mail's link continues, then tell the pages."""
        payload = mail.deep_link_payload()
        if payload is not None and self._link_owner is not None:
            try:
                owner = await self._link_owner(payload)
            except Exception:  # the sandbox still shows the e-mail
                logger.exception("could not find whose chat an e-mail's link continues")
                owner = None
            if owner is not None:
                self._mail_users[mail.id] = owner
        self.broadcast({"type": "mail", "mail": self.mail_json(mail)})

    def mail_json(self, mail: CaughtMail) -> dict[str, Any]:
        """An e-mail for the page, with ``user_id``: the person whose chat its link continues."""
        return {**mail.as_json(), "user_id": self._mail_users.get(mail.id)}

    def close_streams(self) -> None:
        """End every event stream (before the server stops)."""
        for queue in list(self._streams):
            queue.put_nowait(None)

    async def _on_shutdown(self, app: web.Application) -> None:
        self.close_streams()

    # --- routes -----------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            static_dir() / "index.html",
            headers={
                "Content-Type": "text/html; charset=utf-8",
                "Cache-Control": "no-cache",
                "Content-Security-Policy": PAGE_CSP,
            },
        )

    def state(self) -> dict[str, Any]:
        """Everything the page shows, as JSON."""
        return {
            "bot": {
                "username": self.server.bot_username,
                "first_name": self.server.bot_first_name,
            },
            "commands": self.server.commands,
            "demo_accounts": [
                {
                    "identifiant": row["identifiant"],
                    "mot_de_passe_provisoire": row["mot_de_passe_provisoire"],
                    "profil": texts.PROFIL_LABELS.get(row["profil"], row["profil"]),
                    "prenom": row["prenom"],
                    "nom": row["nom"],
                    "courrier": self.letters.get(row["identifiant"], ""),
                }
                for row in self.demo_accounts
            ],
            "users": [
                {
                    "id": page_user.id,
                    "first_name": page_user.first_name,
                    "label": page_user.label,
                    "messages": [
                        m.to_json() for m in self.server.user(page_user.id).visible_messages()
                    ],
                }
                for page_user in self.page_users
            ],
            "mails": [self.mail_json(mail) for mail in self.mailbox.mails],
            "resetting": self._resetting(),
            "team": self.team_json(),
        }

    def _team_group(self) -> SandboxGroup | None:
        group = self.server.users.get(self.team_chat_id) if self.team_chat_id else None
        return group if isinstance(group, SandboxGroup) else None

    def team_json(self) -> dict[str, Any] | None:
        """The staff group for « Équipe »: its topics, newest first, with their posts."""
        group = self._team_group()
        if group is None:
            return None
        posts = group.visible_messages()
        topics = [
            {
                "thread_id": thread_id,
                "name": topic["name"],
                "closed": bool(topic["closed"]),
                "messages": [
                    {
                        **m.to_json(),
                        "author": None if m.from_bot else (m.author or {}).get("first_name"),
                    }
                    for m in posts
                    if m.thread_id == thread_id
                ],
            }
            for thread_id, topic in reversed(group.topics.items())
        ]
        return {
            "id": group.id,
            "title": group.title,
            "staff": {"id": STAFF_USER_ID, "first_name": STAFF_FIRST_NAME},
            "topics": topics,
        }

    async def _mail_html(self, request: web.Request) -> web.Response:
        mail_id = request.match_info["mail_id"]
        mail = next((m for m in self.mailbox.mails if str(m.id) == mail_id), None)
        if mail is None:
            return _error_response(ApiError(404, "unknown_mail"))
        return web.Response(
            text=mail.html or texts.SANDBOX_MAIL_NO_HTML,
            content_type="text/html",
            charset="utf-8",
            headers={
                "Content-Security-Policy": MAIL_CSP,
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )

    async def _team_route(self, request: web.Request) -> web.Response:
        return web.json_response({"team": self.team_json()}, headers={"Cache-Control": "no-store"})

    async def _team_send(self, request: web.Request) -> web.Response:
        try:
            self._check_not_resetting()
            group = self._team_group()
            try:
                thread_id = int(request.match_info["thread_id"])
            except ValueError:
                raise ApiError(404, "unknown_topic") from None
            if group is None or thread_id not in group.topics:
                raise ApiError(404, "unknown_topic")
            body = await _json_body(request)
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                raise ApiError(400, "empty_text")
            text = text.strip()
            if utf16_length(text) > TEXT_LIMIT:
                raise ApiError(400, "text_too_long")
            staff = self.server.user(STAFF_USER_ID, first_name=STAFF_FIRST_NAME)
            message_id = await group.post(staff, text, thread_id=thread_id)
        except ApiError as error:
            return _error_response(error)
        return web.json_response({"message_id": message_id})

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state(), headers={"Cache-Control": "no-store"})

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._streams.add(queue)
        try:
            await response.write(b"retry: 1000\n\n")
            await _write_event(response, {"type": "hello"})
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), PING_SECONDS)
                except TimeoutError:
                    await response.write(b": ping\n\n")
                    continue
                if event is None:
                    break
                await _write_event(response, event)
        except (ConnectionError, RuntimeError):
            pass  # the page was closed
        finally:
            self._streams.discard(queue)
        return response

    async def _create_user(self, request: web.Request) -> web.Response:
        try:
            self._check_not_resetting()
            body = await _json_body(request)
            name = body.get("first_name")
            if not isinstance(name, str) or not 1 <= len(name.strip()) <= NAME_LIMIT:
                raise ApiError(400, "bad_name")
            if len(self.page_users) >= MAX_USERS:
                raise ApiError(409, "too_many_users")
            used = {u.id for u in self.page_users}
            user_id = next(
                i for i in range(FIRST_EXTRA_USER_ID, FIRST_EXTRA_USER_ID + 1000) if i not in used
            )
            page_user = self._add_user(user_id, name.strip(), name.strip())
        except ApiError as error:
            return _error_response(error)
        self.broadcast(
            {
                "type": "user",
                "user": {
                    "id": page_user.id,
                    "label": page_user.label,
                    "first_name": page_user.first_name,
                },
            }
        )
        return web.json_response(
            {"id": page_user.id, "first_name": page_user.first_name, "label": page_user.label},
            status=201,
        )

    async def _send(self, request: web.Request) -> web.Response:
        try:
            self._check_not_resetting()
            user = self._user(request)
            body = await _json_body(request)
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                raise ApiError(400, "empty_text")
            text = text.strip()
            if utf16_length(text) > TEXT_LIMIT:
                raise ApiError(400, "text_too_long")
            message_id = await user.send_text(text)
        except ApiError as error:
            return _error_response(error)
        return web.json_response({"message_id": message_id})

    async def _press(self, request: web.Request) -> web.Response:
        try:
            self._check_not_resetting()
            user = self._user(request)
            body = await _json_body(request)
            message_id, data = body.get("message_id"), body.get("data")
            message = next(
                (
                    m
                    for m in user.visible_messages()
                    if m.from_bot and isinstance(message_id, int) and m.message_id == message_id
                ),
                None,
            )
            if message is None:
                raise ApiError(404, "unknown_message")
            if not isinstance(data, str) or not any(
                button.get("callback_data") == data for row in message.buttons for button in row
            ):
                raise ApiError(400, "unknown_button")
            query_id = await user.press_data(message.message_id, data)
        except ApiError as error:
            return _error_response(error)
        return web.json_response({"query_id": query_id})

    async def _reset_route(self, request: web.Request) -> web.Response:
        try:
            await _json_body(request, allow_empty=True)
            self._check_not_resetting()
        except ApiError as error:
            return _error_response(error)
        await self._reset()
        return web.json_response({"ok": True, "message": texts.SANDBOX_RESET_DONE})

    # --- checks -----------------------------------------------------------------------------

    def _check_not_resetting(self) -> None:
        if self._resetting():
            raise ApiError(409, "resetting")

    def _user(self, request: web.Request) -> SandboxUser:
        try:
            user_id = int(request.match_info["user_id"])
        except ValueError:
            raise ApiError(404, "unknown_user") from None
        if user_id not in {u.id for u in self.page_users} or user_id not in self.server.users:
            raise ApiError(404, "unknown_user")
        return self.server.users[user_id]


async def _json_body(request: web.Request, *, allow_empty: bool = False) -> dict[str, Any]:
    if allow_empty and not request.can_read_body:
        return {}
    if request.content_type != "application/json":
        raise ApiError(415, "bad_json")
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "bad_json") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json")
    return body


async def _write_event(response: web.StreamResponse, event: dict[str, Any]) -> None:
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    await response.write(f"data: {data}\n\n".encode())
