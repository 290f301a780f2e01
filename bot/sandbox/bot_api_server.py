"""A local Telegram Bot API server over real HTTP (aiohttp), with a user side.

The bot calls ``{root_url}/bot{token}/{method}`` exactly as it would call Telegram; the methods
it uses are implemented with Telegram's checks and error texts. The user side (a Python API for
tests, JSON routes and a Server-Sent Events feed for the sandbox page) lets one or many people
type, press buttons and see what the bot shows them: messages, edits, deletions.

Faults, the way Telegram fails, can be switched on per chat or for every chat, from a test
(:meth:`LocalBotApi.inject`, :meth:`LocalBotApi.inject_random`) or over HTTP
(``GET|POST|DELETE /test/faults``): 429 with ``parameters.retry_after``, 5xx, slow answers (which
the bot sees as timeouts when they outlast its read timeout), late answers (the call is carried
out at once, its answer comes ``delay`` seconds later: a message delivered that the bot sees
time out, as Telegram does when it is slow to answer). Every call of the bot but
``getUpdates`` is recorded with its outcome in :attr:`LocalBotApi.events`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web

from bot.sandbox.telegram_html import EntityParseError, parse_html, utf16_length

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200

EventListener = Callable[[dict[str, Any]], None]


class BotApiError(Exception):
    """An error answered to the bot as Telegram would."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def too_many_requests(retry_after: int) -> BotApiError:
    """Telegram's flood-control answer."""
    return BotApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


_SERVER_ERRORS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

FaultKind = Literal["retry_after", "server_error", "slow", "late"]
FAULT_KINDS: tuple[FaultKind, ...] = ("retry_after", "server_error", "slow", "late")


@dataclass
class Fault:
    """A failure the server plays on the bot's calls that match it.

    ``chat_id`` None: every chat (and calls without one); ``methods`` (lower-case) None: every
    method but ``getUpdates``; ``times`` None: until cleared; ``probability``: of each matching
    call. ``slow`` waits ``delay`` seconds, then carries the call out and answers; ``late``
    carries it out at once and answers ``delay`` seconds later (delivered, but a bot with a
    shorter read timeout cannot know it)."""

    kind: FaultKind
    chat_id: int | None = None
    methods: frozenset[str] | None = None
    times: int | None = 1
    probability: float = 1.0
    retry_after: int = 1
    status: int = 500
    delay: float = 1.0

    def matches(self, method: str, chat_id: int | None) -> bool:
        """Whether a call of ``method`` about ``chat_id`` is concerned."""
        if self.times is not None and self.times <= 0:
            return False
        if self.methods is None:
            if method == "getupdates":
                return False
        elif method not in self.methods:
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def to_json(self) -> dict[str, Any]:
        """For ``GET /test/faults``."""
        return {
            "kind": self.kind,
            "chat_id": self.chat_id,
            "methods": sorted(self.methods) if self.methods is not None else None,
            "times": self.times,
            "probability": self.probability,
            "retry_after": self.retry_after,
            "status": self.status,
            "delay": self.delay,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Fault:
        """From a ``POST /test/faults`` body (``kind`` required, the rest as the fields)."""
        kind = body.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        methods = body.get("methods")
        return cls(
            kind=kind,
            chat_id=None if body.get("chat_id") is None else int(body["chat_id"]),
            methods=None if methods is None else frozenset(str(m).lower() for m in methods),
            times=None if body.get("times", 1) is None else int(body.get("times", 1)),
            probability=float(body.get("probability", 1.0)),
            retry_after=int(body.get("retry_after", 1)),
            status=int(body.get("status", 500)),
            delay=float(body.get("delay", 1.0)),
        )


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's flood control, opt-in (:meth:`LocalBotApi.enforce_limits`): more than
    ``overall_per_second`` messages of the bot in any second, or more than
    ``per_chat_per_second`` to one chat, are answered 429 with ``retry_after``."""

    overall_per_second: int = 30
    per_chat_per_second: int = 1
    methods: frozenset[str] = frozenset({"sendmessage", "sendphoto", "senddocument"})


@dataclass(frozen=True)
class ApiEvent:
    """One call of the bot as the server answered it (``outcome``: ``ok``, ``429``, ``500``,
    ``400``…; ``fault``: the injected fault's kind, if any)."""

    seq: int
    at: float
    method: str
    chat_id: int | None
    outcome: str
    fault: FaultKind | None = None


def bad_request(reason: str) -> BotApiError:
    """A 400 with Telegram's ``Bad Request: …`` description."""
    return BotApiError(400, f"Bad Request: {reason}")


@dataclass
class ChatMessage:
    """A message of a private chat, as the user sees it."""

    message_id: int
    from_bot: bool
    date: int
    text: str = ""
    html: str = ""
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    kind: str = "text"
    edited: bool = False
    deleted: bool = False
    photo_bytes: bytes | None = None
    # In a group: the ``User`` who wrote it (a private chat's messages are its user's).
    author: dict[str, Any] | None = None
    reply_to: int | None = None
    # In a forum: the topic (``message_thread_id``) the message is in.
    thread_id: int | None = None
    # A photo or document: its file (``file_id``, a document's ``file_name``); ``text`` is
    # then its caption.
    media: dict[str, Any] | None = None

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """Rows of inline buttons."""
        rows: list[list[dict[str, Any]]] = (self.reply_markup or {}).get("inline_keyboard", [])
        return rows

    def to_json(self) -> dict[str, Any]:
        """For the sandbox page."""
        return {
            "message_id": self.message_id,
            "from_bot": self.from_bot,
            "date": self.date,
            "text": self.text,
            "entities": self.entities,
            "reply_markup": self.reply_markup,
            "kind": self.kind,
            "edited": self.edited,
            "deleted": self.deleted,
        }


@dataclass
class SandboxUser:
    """A person in a private chat with the bot."""

    server: LocalBotApi
    id: int
    first_name: str
    last_name: str = ""
    language_code: str = "fr"
    blocked: bool = False
    messages: list[ChatMessage] = field(default_factory=list)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)

    def block_bot(self) -> None:
        """The user blocks the bot: its messages get 403, and it is told (``my_chat_member``)."""
        self.blocked = True
        self.server._push_member_change(self, "member", "kicked")

    def unblock_bot(self) -> None:
        """The user restarts the bot."""
        self.blocked = False
        self.server._push_member_change(self, "kicked", "member")

    def as_user(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        user = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        user["language_code"] = self.language_code
        return user

    def as_chat(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object of the private chat."""
        return {"id": self.id, "type": "private", "first_name": self.first_name}

    # --- acting ---------------------------------------------------------------------------

    async def send_text(self, text: str) -> int:
        """Type and send ``text``; return its message id."""
        message = self.server._user_message(self, kind="text", text=text)
        payload = self.server._message_json(self, message)
        if text.startswith("/"):
            command = text.split()[0]
            payload["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
            ]
        self.server._push_update({"message": payload}, self.id)
        return message.message_id

    async def send_sticker(self) -> int:
        """Send a sticker."""
        message = self.server._user_message(self, kind="sticker")
        payload = self.server._message_json(self, message)
        payload["sticker"] = {
            "file_id": "sticker-1",
            "file_unique_id": "st1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        self.server._push_update({"message": payload}, self.id)
        return message.message_id

    async def send_photo(self, caption: str = "") -> int:
        """Send a photo (with ``caption``)."""
        message = self.server._user_message(self, kind="photo", text=caption)
        message.media = {"file_id": "photo-1", "file_unique_id": "ph1"}
        payload = self.server._message_json(self, message)
        payload["photo"] = [
            {"file_id": "photo-1", "file_unique_id": "ph1", "width": 90, "height": 90}
        ]
        self.server._push_update({"message": payload}, self.id)
        return message.message_id

    async def send_document(self, file_name: str = "capture.pdf", caption: str = "") -> int:
        """Send a document (with ``caption``)."""
        message = self.server._user_message(self, kind="document", text=caption)
        message.media = {"file_id": f"doc-{file_name}", "file_unique_id": "dc1"}
        message.media["file_name"] = file_name
        self.server._push_update({"message": self.server._message_json(self, message)}, self.id)
        return message.message_id

    async def edit(self, message_id: int, text: str) -> None:
        """Edit one's own message: its text, or a photo's or document's caption (Telegram
        sends the bot an ``edited_message`` update)."""
        message = self._find(message_id)
        if message is None or message.from_bot or message.deleted:
            raise AssertionError(f"user {self.id} has no message {message_id} to edit")
        message.text = text
        message.edited = True
        self.server._emit({"type": "edit", "user_id": self.id, "message": message.to_json()})
        payload = self.server._message_json(self, message)
        if text.startswith("/") and message.kind == "text":
            command = text.split()[0]
            payload["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
            ]
        self.server._push_update({"edited_message": payload}, self.id)

    async def press(self, label: str, message_id: int | None = None) -> str:
        """Press the newest visible button whose label contains ``label``."""
        for message in reversed(self.visible_messages()):
            if message_id is not None and message.message_id != message_id:
                continue
            for row in message.buttons:
                for button in row:
                    if label in button.get("text", "") and "callback_data" in button:
                        return await self.press_data(message.message_id, button["callback_data"])
        raise AssertionError(
            f"no button {label!r} for user {self.id}; the chat shows:\n{self.transcript()}"
        )

    async def press_data(self, message_id: int, data: str) -> str:
        """Press a button with this callback data (it may be stale or forged)."""
        message = self._find(message_id)
        if message is None:
            raise AssertionError(f"user {self.id} has no message {message_id}")
        query_id = self.server._new_callback_query(self.id)
        self.server._push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.as_user(),
                    "message": self.server._message_json(self, message),
                    "chat_instance": str(self.id),
                    "data": data,
                }
            },
            self.id,
        )
        return query_id

    # --- reading --------------------------------------------------------------------------

    def visible_messages(self) -> list[ChatMessage]:
        """What the chat shows now: both sides, in order, deletions gone, edits applied."""
        return [m for m in self.messages if not m.deleted]

    @property
    def deleted_message_ids(self) -> set[int]:
        """Ids of the messages the bot deleted."""
        return {m.message_id for m in self.messages if m.deleted}

    def last_bot_message(self) -> ChatMessage | None:
        """The bot's newest visible message."""
        return next((m for m in reversed(self.visible_messages()) if m.from_bot), None)

    def transcript(self) -> str:
        """The chat as text, for error messages."""
        lines = []
        for m in self.visible_messages()[-12:]:
            who = "bot" if m.from_bot else "user"
            labels = [b.get("text") for row in m.buttons for b in row]
            lines.append(f"  [{m.message_id}] {who}: {m.text[:160]!r} {labels or ''}")
        return "\n".join(lines) or "  (empty)"

    async def wait_for_message(self, timeout: float = 10) -> ChatMessage:
        """Wait for the next bot message sent after this call."""
        count = sum(1 for m in self.messages if m.from_bot)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            bot_messages = [m for m in self.messages if m.from_bot]
            if len(bot_messages) > count:
                return bot_messages[count]
            await self.server._changed_wait(deadline - time.monotonic())
        raise AssertionError(
            f"no bot message within {timeout} s; the chat shows:\n{self.transcript()}"
        )

    def _find(self, message_id: int) -> ChatMessage | None:
        return next((m for m in self.messages if m.message_id == message_id), None)


@dataclass
class SandboxGroup(SandboxUser):
    """A supergroup the bot is a member of (the staff's group): members post and reply to
    messages; the bot reads every message (as an administrator does)."""

    title: str = "Équipe"
    is_forum: bool = False
    # Forum topics by ``message_thread_id``: their name and whether they are closed.
    topics: dict[int, dict[str, Any]] = field(default_factory=dict)

    def as_chat(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object of a supergroup."""
        chat: dict[str, Any] = {"id": self.id, "type": "supergroup", "title": self.title}
        if self.is_forum:
            chat["is_forum"] = True
        return chat

    async def post(
        self,
        author: SandboxUser,
        text: str,
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> int:
        """``author`` writes ``text`` in the group (in topic ``thread_id`` of a forum),
        replying to message ``reply_to`` if given."""
        message = self.server._user_message(self, kind="text", text=text)
        message.author = author.as_user()
        message.reply_to = reply_to
        message.thread_id = thread_id
        payload = self.server._message_json(self, message)
        if text.startswith("/"):
            command = text.split()[0]
            payload["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
            ]
        self.server._push_update({"message": payload}, self.id)
        return message.message_id

    async def post_media(
        self,
        author: SandboxUser,
        kind: Literal["photo", "document"] = "photo",
        caption: str = "",
        reply_to: int | None = None,
        thread_id: int | None = None,
    ) -> int:
        """``author`` posts a photo or document with ``caption`` (in topic ``thread_id``,
        replying to ``reply_to`` if given)."""
        message = self.server._user_message(self, kind=kind, text=caption)
        message.media = {"file_id": f"{kind}-g{message.message_id}", "file_unique_id": "g1"}
        if kind == "document":
            message.media["file_name"] = "document.pdf"
        message.author = author.as_user()
        message.reply_to = reply_to
        message.thread_id = thread_id
        self.server._push_update({"message": self.server._message_json(self, message)}, self.id)
        return message.message_id

    def bot_posts(self, thread_id: int | None = None) -> list[ChatMessage]:
        """The bot's messages in the group (in one topic, if given), oldest first."""
        return [
            m
            for m in self.messages
            if m.from_bot and not m.deleted and (thread_id is None or m.thread_id == thread_id)
        ]

    def delete_topic(self, thread_id: int) -> None:
        """An administrator deletes a topic and its messages."""
        self.topics.pop(thread_id, None)
        for message in self.messages:
            if message.thread_id == thread_id:
                message.deleted = True


class LocalBotApi:
    """The local Bot API server: bot side under ``/bot{token}/``, user side under
    ``/sandbox/api/``; ``app`` is the aiohttp application (add routes before :meth:`start`)."""

    def __init__(
        self,
        bot_token: str,
        bot_username: str = "ent_activation_bot",
        bot_first_name: str = "ENT",
    ) -> None:
        self.bot_token = bot_token
        self.bot_id = int(bot_token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.users: dict[int, SandboxUser] = {}
        self.commands: list[dict[str, str]] = []
        self.requests_log: list[tuple[str, dict[str, Any]]] = []
        # Methods made to fail (lower-case name → error), to test the bot's resilience.
        self.failing_methods: dict[str, BotApiError] = {}
        # Injected faults (see :class:`Fault`) and the record of every call's outcome.
        self.faults: list[Fault] = []
        self.events: list[ApiEvent] = []
        self._event_ids = itertools.count(1)
        self._random = random.Random(0)
        # Telegram's flood control, when enforced; the 429s it answered.
        self.limits: FloodLimits | None = None
        self.flood_refusals = 0
        self._sent_at: collections.deque[float] = collections.deque()
        self._sent_at_chat: dict[int, collections.deque[float]] = {}
        self.app = web.Application(client_max_size=50 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_bot_request)
        self.app.router.add_route("*", "/test/faults", self._handle_faults)
        self._listeners: list[EventListener] = []
        self._updates: list[tuple[int, dict[str, Any], int]] = []  # (update_id, update, user)
        self._confirmed_offset = 0
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._open_queries: dict[str, int] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._closing = False
        self.host = "127.0.0.1"
        self.port = 0
        # Webhook (setWebhook): updates are POSTed there, one at a time, in order, with the
        # secret token header; getUpdates is refused meanwhile (409), as Telegram does.
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_allowed_updates: list[str] | None = None
        self.webhook_last_error: str | None = None
        self._webhook_task: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0: any free port)."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port)
        await self._site.start()
        server = self._site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.host = host
        self.port = int(sockets[0].getsockname()[1]) if sockets else port

    async def stop(self) -> None:
        """Release pending long polls and stop listening."""
        self._closing = True
        await self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def root_url(self) -> str:
        """``http://host:port``: the bot calls ``{root_url}/bot{token}/{method}``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``{root_url}/bot`` as python-telegram-bot's ``base_url`` wants it."""
        return f"{self.root_url}/bot"

    # --- user side -------------------------------------------------------------------------

    def user(
        self, user_id: int, first_name: str = "Utilisateur", last_name: str = ""
    ) -> SandboxUser:
        """The private chat of this user (created on first use)."""
        if user_id not in self.users:
            self.users[user_id] = SandboxUser(self, user_id, first_name, last_name)
        return self.users[user_id]

    def group(self, chat_id: int, title: str = "Équipe", *, is_forum: bool = False) -> SandboxGroup:
        """The supergroup ``chat_id`` (negative, created on first use) with the bot in it as
        an administrator allowed to manage topics (``is_forum``: topics on)."""
        existing = self.users.get(chat_id)
        if isinstance(existing, SandboxGroup):
            return existing
        group = SandboxGroup(self, chat_id, title, title=title, is_forum=is_forum)
        self.users[chat_id] = group
        return group

    def add_listener(self, listener: EventListener) -> None:
        """Call ``listener(event)`` on every change a user can see."""
        self._listeners.append(listener)

    def unconfirmed_updates(self) -> int:
        """Updates the bot has not confirmed yet (by asking for a later offset)."""
        return sum(1 for update_id, _, _ in self._updates if update_id >= self._confirmed_offset)

    def reset(self) -> None:
        """Forget every chat (the bot keeps running)."""
        self.users.clear()
        self._updates.clear()
        self._emit({"type": "reset"})

    # --- faults ----------------------------------------------------------------------------

    def inject(self, fault: Fault) -> Fault:
        """Play ``fault`` on the matching calls (first injected, first tried)."""
        self.faults.append(fault)
        return fault

    def inject_random(
        self,
        rate: float,
        kinds: tuple[FaultKind, ...] = ("retry_after", "server_error", "slow"),
        *,
        chat_id: int | None = None,
        retry_after: int = 1,
        delay: float = 1.0,
        seed: int = 0,
    ) -> list[Fault]:
        """Fail about ``rate`` of the calls, shared evenly between ``kinds``, until cleared."""
        self._random = random.Random(seed)
        # The faults are tried in turn: the k-th has the probability that makes each kind
        # ``rate / len(kinds)`` of all calls.
        share = rate / len(kinds)
        faults = []
        left = 1.0
        for kind in kinds:
            faults.append(
                self.inject(
                    Fault(
                        kind,
                        chat_id=chat_id,
                        times=None,
                        probability=min(1.0, share / left),
                        retry_after=retry_after,
                        delay=delay,
                    )
                )
            )
            left -= share
        return faults

    def enforce_limits(self, limits: FloodLimits | None = None) -> None:
        """Answer 429 as Telegram does when the bot sends too much (None: the defaults)."""
        self.limits = limits or FloodLimits()

    def _flood_check(self, method: str, chat_id: int | None) -> None:
        """Raise Telegram's 429 if this message is over the limits; else count it."""
        limits = self.limits
        if limits is None or method not in limits.methods:
            return
        now = time.monotonic()
        while self._sent_at and self._sent_at[0] <= now - 1:
            self._sent_at.popleft()
        chat = self._sent_at_chat.setdefault(chat_id or 0, collections.deque())
        while chat and chat[0] <= now - 1:
            chat.popleft()
        for window, limit in (
            (self._sent_at, limits.overall_per_second),
            (chat, limits.per_chat_per_second),
        ):
            if len(window) >= limit:
                self.flood_refusals += 1
                raise too_many_requests(max(1, math.ceil(window[0] + 1 - now)))
        self._sent_at.append(now)
        chat.append(now)
        if len(self._sent_at_chat) > 4096:
            self._sent_at_chat = {k: v for k, v in self._sent_at_chat.items() if v}

    def clear_faults(self) -> None:
        """Answer every call normally again."""
        self.faults.clear()

    def events_of(self, chat_id: int | None = None, method: str | None = None) -> list[ApiEvent]:
        """Recorded calls, of one chat and/or one method (case-insensitive)."""
        return [
            e
            for e in self.events
            if (chat_id is None or e.chat_id == chat_id)
            and (method is None or e.method.lower() == method.lower())
        ]

    async def wait_for_event(
        self, predicate: Callable[[ApiEvent], bool], timeout: float = 10
    ) -> ApiEvent:
        """The first recorded call matching ``predicate``, waiting for it if needed."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((e for e in self.events if predicate(e)), None)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(f"no such Bot API call within {timeout} s")
            await self._changed_wait(deadline - time.monotonic())

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10) -> None:
        """Wait until ``condition()`` holds (checked at every change a chat could see)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition not met within {timeout} s")
            await self._changed_wait(deadline - time.monotonic())

    def _fault_for(self, method: str, chat_id: int | None) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, chat_id) and (
                fault.probability >= 1.0 or self._random.random() < fault.probability
            ):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def _record(self, method: str, chat_id: int | None, outcome: str, fault: Fault | None) -> None:
        self.events.append(
            ApiEvent(
                next(self._event_ids),
                time.monotonic(),
                method,
                chat_id,
                outcome,
                fault.kind if fault else None,
            )
        )
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(self._notify())

    async def _handle_faults(self, request: web.Request) -> web.Response:
        """``GET``: the faults; ``POST`` a JSON :class:`Fault`: add it; ``DELETE``: clear."""
        if request.method == "POST":
            try:
                body = await request.json()
                fault = self.inject(Fault.from_json(body if isinstance(body, dict) else {}))
            except (ValueError, TypeError) as error:
                return web.json_response({"ok": False, "description": str(error)}, status=400)
            return web.json_response({"ok": True, "result": fault.to_json()})
        if request.method == "DELETE":
            self.clear_faults()
        elif request.method != "GET":
            refused = {"ok": False, "description": "GET, POST or DELETE"}
            return web.json_response(refused, status=405)
        return web.json_response({"ok": True, "result": [f.to_json() for f in self.faults]})

    # --- internals shared with users ------------------------------------------------------

    def _user_message(self, user: SandboxUser, kind: str, text: str = "") -> ChatMessage:
        if self._closing:
            raise RuntimeError("the server is stopped")
        message = ChatMessage(
            message_id=next(self._message_ids),
            from_bot=False,
            date=int(time.time()),
            text=text,
            kind=kind,
        )
        user.messages.append(message)
        self._emit({"type": "message", "user_id": user.id, "message": message.to_json()})
        return message

    def _message_json(self, user: SandboxUser, message: ChatMessage) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": user.as_chat(),
        }
        if message.from_bot:
            payload["from"] = self._bot_user()
        else:
            payload["from"] = message.author or user.as_user()
        if message.thread_id is not None:
            payload["message_thread_id"] = message.thread_id
            payload["is_topic_message"] = True
        if message.reply_to is not None:
            replied = user._find(message.reply_to)
            if replied is not None and not replied.deleted:
                payload["reply_to_message"] = self._message_json(user, replied)
        if message.kind == "text":
            payload["text"] = message.text
            if message.entities:
                payload["entities"] = message.entities
        self._media_json(message, payload)
        if message.edited:
            payload["edit_date"] = int(time.time())
        if message.reply_markup:
            payload["reply_markup"] = message.reply_markup
        return payload

    def _push_update(self, body: dict[str, Any], user_id: int) -> None:
        update_id = next(self._update_ids)
        self._updates.append((update_id, {"update_id": update_id, **body}, user_id))
        asyncio.get_running_loop().create_task(self._notify())

    def _push_member_change(self, user: SandboxUser, old: str, new: str) -> None:
        member: dict[str, Any] = {"status": new, "user": self._bot_user()}
        if new == "kicked":
            member["until_date"] = 0
        self._push_update(
            {
                "my_chat_member": {
                    "chat": user.as_chat(),
                    "from": user.as_user(),
                    "date": int(time.time()),
                    "old_chat_member": {"status": old, "user": self._bot_user()},
                    "new_chat_member": member,
                }
            },
            user.id,
        )

    def _new_callback_query(self, user_id: int) -> str:
        query_id = f"{user_id}{next(self._query_ids):08d}"
        self._open_queries[query_id] = user_id
        return query_id

    def _emit(self, event: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            listener(event)
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _changed_wait(self, timeout: float) -> None:
        if timeout <= 0:
            return
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # --- bot side --------------------------------------------------------------------------

    async def _handle_bot_request(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.bot_token:
            return _error(BotApiError(401, "Unauthorized"))
        method = request.match_info["method"].lower()
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(BotApiError(404, "Not Found"))
        fault: Fault | None = None
        chat_id: int | None = None
        try:
            params = await _read_params(request)
            chat_id = self._chat_of(params)
            if method != "getupdates":
                self.requests_log.append((request.match_info["method"], params))
            fault = self._fault_for(method, chat_id)
            if fault is not None and fault.kind == "retry_after":
                raise too_many_requests(fault.retry_after)
            if fault is not None and fault.kind == "server_error":
                raise BotApiError(fault.status, _SERVER_ERRORS.get(fault.status, "Server Error"))
            if fault is not None and fault.kind == "slow":
                await asyncio.sleep(fault.delay)
            if method in self.failing_methods:
                raise self.failing_methods[method]
            self._flood_check(method, chat_id)
            result = await handler(params)
        except BotApiError as error:
            if method != "getupdates":
                self._record(request.match_info["method"], chat_id, str(error.code), fault)
            return _error(error)
        if method != "getupdates":
            self._record(request.match_info["method"], chat_id, "ok", fault)
        if fault is not None and fault.kind == "late":
            await asyncio.sleep(fault.delay)  # done already; the answer is what is late
        return web.json_response({"ok": True, "result": result})

    def _chat_of(self, params: dict[str, Any]) -> int | None:
        """The chat a call is about (through the query for ``answerCallbackQuery``)."""
        chat_id = params.get("chat_id")
        if chat_id is None:
            return self._open_queries.get(str(params.get("callback_query_id") or ""))
        try:
            return int(chat_id)
        except (TypeError, ValueError):
            return None

    async def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(float(params.get("timeout") or 0), 50)
        if offset:
            self._confirmed_offset = max(self._confirmed_offset, offset)
            self._updates = [u for u in self._updates if u[0] >= offset]
        deadline = time.monotonic() + timeout
        while True:
            ready = [u for u in self._updates if u[0] >= self._confirmed_offset][:limit]
            if ready or self._closing or time.monotonic() >= deadline:
                return [update for _, update, _ in ready]
            await self._changed_wait(deadline - time.monotonic())

    async def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        if _truthy(params.get("drop_pending_updates")):
            self._updates.clear()
        self.webhook_url = ""
        self.webhook_secret = None
        await self._notify()
        return True

    async def _api_setwebhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not _valid_secret_token(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if _truthy(params.get("drop_pending_updates")):
            self._updates.clear()
        allowed = _json_param(params, "allowed_updates") if "allowed_updates" in params else None
        self.webhook_url = url
        self.webhook_secret = str(secret) if secret is not None else None
        self.webhook_allowed_updates = allowed if isinstance(allowed, list) else None
        if url and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver())
        await self._notify()
        return True

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": self.unconfirmed_updates(),
        }
        if self.webhook_allowed_updates is not None:
            info["allowed_updates"] = self.webhook_allowed_updates
        if self.webhook_last_error:
            info["last_error_message"] = self.webhook_last_error
        return info

    async def _deliver(self) -> None:
        """POST each update to the webhook in order; a non-2xx answer or a connection error
        keeps it pending and tries again (Telegram retries too)."""
        async with aiohttp.ClientSession() as session:
            while self.webhook_url and not self._closing:
                ready = [u for u in self._updates if u[0] >= self._confirmed_offset]
                if not ready:
                    await self._changed_wait(1.0)
                    continue
                update_id, update, _ = ready[0]
                headers = {"Content-Type": "application/json"}
                if self.webhook_secret is not None:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
                try:
                    async with session.post(
                        self.webhook_url, data=json.dumps(update), headers=headers
                    ) as response:
                        delivered = 200 <= response.status < 300
                        wrong = f"Wrong response from the webhook: {response.status}"
                        self.webhook_last_error = None if delivered else wrong
                except (aiohttp.ClientError, OSError) as error:
                    delivered = False
                    self.webhook_last_error = f"Connection failed: {type(error).__name__}"
                if delivered:
                    self._confirmed_offset = max(self._confirmed_offset, update_id + 1)
                    self._updates = [u for u in self._updates if u[0] > update_id]
                else:
                    await asyncio.sleep(0.2)

    async def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_logout(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = _json_param(params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            name = str(command.get("command", ""))
            if not (1 <= len(name) <= 32) or not all(
                c.islower() or c.isdigit() or c == "_" for c in name
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not (1 <= len(str(command.get("description", ""))) <= 256):
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        self._emit({"type": "commands", "commands": self.commands})
        return True

    async def _api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands

    async def _api_deletemycommands(self, params: dict[str, Any]) -> bool:
        self.commands = []
        self._emit({"type": "commands", "commands": []})
        return True

    async def _api_setchatmenubutton(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_getchatmenubutton(self, params: dict[str, Any]) -> dict[str, str]:
        return {"type": "commands"}

    async def _api_sendchataction(self, params: dict[str, Any]) -> bool:
        self._chat(params)
        return True

    async def _api_getchat(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._chat(params)
        return {
            **user.as_chat(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
            },
        }

    async def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._chat(params)
        thread_id = self._thread_of(user, params)
        text, entities, source = _message_text(params)
        markup = _inline_markup(params)
        message = ChatMessage(
            message_id=next(self._message_ids),
            from_bot=True,
            date=int(time.time()),
            text=text,
            html=source,
            entities=entities,
            reply_markup=markup,
            thread_id=thread_id,
        )
        user.messages.append(message)
        self._emit({"type": "message", "user_id": user.id, "message": message.to_json()})
        return self._message_json(user, message)

    async def _api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._chat(params)
        caption = str(params.get("caption") or "")
        message = ChatMessage(
            message_id=next(self._message_ids),
            from_bot=True,
            date=int(time.time()),
            text=caption,
            kind="photo",
            reply_markup=_inline_markup(params),
            photo_bytes=params.get("__file_photo"),
        )
        user.messages.append(message)
        self._emit({"type": "message", "user_id": user.id, "message": message.to_json()})
        payload = self._message_json(user, message)
        payload["photo"] = [
            {
                "file_id": f"p{message.message_id}",
                "file_unique_id": f"u{message.message_id}",
                "width": 800,
                "height": 600,
            }
        ]
        if caption:
            payload["caption"] = caption
        return payload

    async def _api_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._chat(params)
        message = ChatMessage(
            message_id=next(self._message_ids),
            from_bot=True,
            date=int(time.time()),
            text=str(params.get("caption") or ""),
            kind="document",
        )
        user.messages.append(message)
        self._emit({"type": "message", "user_id": user.id, "message": message.to_json()})
        payload = self._message_json(user, message)
        payload["document"] = {
            "file_id": f"d{message.message_id}",
            "file_unique_id": f"u{message.message_id}",
        }
        return payload

    async def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        user, message = self._bot_message(params, "message to edit not found")
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        return self._edit(user, message, *_message_text(params), _inline_markup(params))

    def _edit(
        self,
        user: SandboxUser,
        message: ChatMessage,
        text: str,
        entities: list[dict[str, Any]],
        html: str,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """editMessageText / editMessageCaption: the new content, or 400 when nothing changes."""
        if text == message.text and entities == message.entities and markup == message.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.text, message.entities, message.html = text, entities, html
        message.reply_markup = markup
        message.edited = True
        self._emit({"type": "edit", "user_id": user.id, "message": message.to_json()})
        return self._message_json(user, message)

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        user, message = self._bot_message(params, "message to edit not found")
        markup = _inline_markup(params)
        if markup == message.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.reply_markup = markup
        message.edited = True
        self._emit({"type": "edit", "user_id": user.id, "message": message.to_json()})
        return self._message_json(user, message)

    async def _api_deletemessage(self, params: dict[str, Any]) -> bool:
        user = self._chat(params)
        self._delete(user, int(params.get("message_id") or 0))
        return True

    async def _api_deletemessages(self, params: dict[str, Any]) -> bool:
        user = self._chat(params)
        for message_id in _json_param(params, "message_ids") or []:
            with contextlib.suppress(BotApiError):
                self._delete(user, int(message_id))
        return True

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        user_id = self._open_queries.pop(query_id, None)
        if user_id is None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = str(params.get("text") or "")
        if utf16_length(text) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        answer = {
            "query_id": query_id,
            "text": text,
            "show_alert": _truthy(params.get("show_alert")),
        }
        self.users[user_id].callback_answers.append(answer)
        self._emit({"type": "callback_answer", "user_id": user_id, **answer})
        return True

    # --- forum topics ----------------------------------------------------------------------

    def _forum(self, params: dict[str, Any]) -> SandboxGroup:
        group = self._chat(params)
        if not isinstance(group, SandboxGroup) or not group.is_forum:
            raise bad_request("the chat is not a forum")
        return group

    def _topic(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self._forum(params)
        topic = group.topics.get(int(params.get("message_thread_id") or 0))
        if topic is None:
            raise bad_request("message thread not found")
        return topic

    def _thread_of(self, chat: SandboxUser, params: dict[str, Any]) -> int | None:
        """``message_thread_id`` of a send: only in a forum, to a topic that exists and is
        open (a closed topic refuses messages until it is reopened)."""
        raw = params.get("message_thread_id")
        if raw in (None, ""):
            return None
        if not isinstance(chat, SandboxGroup) or not chat.is_forum:
            return None  # Telegram ignores it outside forums
        topic = chat.topics.get(int(str(raw)))
        if topic is None:
            raise bad_request("message thread not found")
        if topic["closed"]:
            raise bad_request("TOPIC_CLOSED")
        return int(str(raw))

    async def _api_createforumtopic(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self._forum(params)
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
        thread_id = next(self._message_ids)  # a topic's id is its creation message's
        group.topics[thread_id] = {"name": name, "closed": False}
        self._emit({"type": "topic", "user_id": group.id, "thread_id": thread_id, "name": name})
        return {"message_thread_id": thread_id, "name": name, "icon_color": 7322096}

    async def _api_closeforumtopic(self, params: dict[str, Any]) -> bool:
        topic = self._topic(params)
        if topic["closed"]:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic["closed"] = True
        return True

    async def _api_reopenforumtopic(self, params: dict[str, Any]) -> bool:
        topic = self._topic(params)
        if not topic["closed"]:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic["closed"] = False
        return True

    # --- copies, captions, topic names (support relays) ---------------------------------

    def _media_json(self, message: ChatMessage, payload: dict[str, Any]) -> None:
        """A photo's or document's file and caption in a ``Message`` object."""
        if message.media is None or message.kind not in ("photo", "document"):
            return
        if message.kind == "photo":
            payload["photo"] = [{**message.media, "width": 800, "height": 600}]
        else:
            payload["document"] = dict(message.media)
        if message.text:
            payload["caption"] = message.text
            if message.entities:
                payload["caption_entities"] = message.entities

    async def _api_copymessage(self, params: dict[str, Any]) -> dict[str, Any]:
        """Like Telegram: a copy without a link to the original (no author, no forward
        header); a new ``caption`` replaces a media's own, which is kept when none is given
        (a text message has no caption: one given is ignored); returns ``MessageId``."""
        target = self._chat(params)
        thread_id = self._thread_of(target, params)
        source_chat = self._chat({"chat_id": params.get("from_chat_id")})
        original = source_chat._find(int(params.get("message_id") or 0))
        if original is None or original.deleted:
            raise bad_request("message to copy not found")
        if original.kind not in ("text", "photo", "document"):
            raise bad_request("message can't be copied")
        text, entities, html = original.text, list(original.entities), original.html
        if original.kind != "text" and "caption" in params:
            text, entities, html = _caption_text(params)
        copy = ChatMessage(
            message_id=next(self._message_ids),
            from_bot=True,
            date=int(time.time()),
            text=text,
            html=html,
            entities=entities,
            kind=original.kind,
            reply_markup=_inline_markup(params),
            photo_bytes=original.photo_bytes,
            thread_id=thread_id,
            media=dict(original.media) if original.media else None,
        )
        target.messages.append(copy)
        self._emit({"type": "message", "user_id": target.id, "message": copy.to_json()})
        return {"message_id": copy.message_id}

    async def _api_editmessagecaption(self, params: dict[str, Any]) -> dict[str, Any]:
        user, message = self._bot_message(params, "message to edit not found")
        if message.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        return self._edit(user, message, *_caption_text(params), _inline_markup(params))

    async def _api_editforumtopic(self, params: dict[str, Any]) -> bool:
        topic = self._topic(params)
        if "name" not in params:
            return True
        name = str(params.get("name") or "")
        if len(name) > 128:
            raise bad_request("TOPIC_TITLE_TOO_LONG")
        if not name or name == topic["name"]:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic["name"] = name
        self._emit({"type": "topic", "user_id": self._chat(params).id, "name": name})
        return True

    # --- checks ----------------------------------------------------------------------------

    def _chat(self, params: dict[str, Any]) -> SandboxUser:
        try:
            chat_id = int(params.get("chat_id") or 0)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        user = self.users.get(chat_id)
        if user is None:
            raise bad_request("chat not found")
        if user.blocked:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        return user

    def _bot_message(self, params: dict[str, Any], missing: str) -> tuple[SandboxUser, ChatMessage]:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        user = self._chat(params)
        message = user._find(int(params.get("message_id") or 0))
        if message is None or message.deleted:
            raise bad_request(missing)
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return user, message

    def _delete(self, user: SandboxUser, message_id: int) -> None:
        message = user._find(message_id)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        self._emit({"type": "delete", "user_id": user.id, "message_id": message_id})


def _error(error: BotApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.code)


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise bad_request("invalid JSON body") from None
        if isinstance(body, dict):
            params.update(body)
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            params[f"__file_{key}"] = value.file.read()
            params[key] = f"attach://{value.filename}"
        else:
            params[key] = value
    return params


def _json_param(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise bad_request(f"can't parse {name} JSON object") from None
    return value


def _valid_secret_token(token: str) -> bool:
    """1-256 characters among A-Z, a-z, 0-9, ``_`` and ``-`` (the Bot API's rule)."""
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    return 0 < len(token) <= 256 and set(token) <= allowed


def _truthy(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)


def _message_text(params: dict[str, Any]) -> tuple[str, list[dict[str, Any]], str]:
    source = str(params.get("text") or "")
    parse_mode = str(params.get("parse_mode") or "")
    if parse_mode.lower() == "html":
        try:
            text, entities = parse_html(source)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    elif parse_mode:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    else:
        text, entities = source, list(_json_param(params, "entities") or [])
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_length(text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return text, entities, source


def _caption_text(params: dict[str, Any]) -> tuple[str, list[dict[str, Any]], str]:
    """A media caption (0-1024 characters after entities parsing, empty allowed)."""
    source = str(params.get("caption") or "")
    parse_mode = str(params.get("parse_mode") or "")
    if parse_mode.lower() == "html":
        try:
            text, entities = parse_html(source)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    else:
        text, entities = source, list(_json_param(params, "caption_entities") or [])
    if utf16_length(text) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return text, entities, source


def _inline_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    markup: dict[str, Any] | None = _json_param(params, "reply_markup")
    if not markup:
        return None
    if "inline_keyboard" not in markup:
        return markup  # reply keyboards and removals are kept as they are
    for row in markup["inline_keyboard"]:
        for button in row:
            if not str(button.get("text", "")).strip():
                raise bad_request("text buttons are unallowed in the inline keyboard")
            kinds = [
                k
                for k in (
                    "url",
                    "callback_data",
                    "switch_inline_query",
                    "web_app",
                    "login_url",
                    "pay",
                    "copy_text",
                )
                if k in button
            ]
            if len(kinds) != 1:
                raise bad_request("BUTTON_TYPE_INVALID")
            if "callback_data" in button:
                size = len(str(button["callback_data"]).encode("utf-8"))
                if not 1 <= size <= CALLBACK_DATA_LIMIT:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not str(button["url"]).startswith(
                ("http://", "https://", "tg://")
            ):
                raise bad_request("BUTTON_URL_INVALID")
    return markup
