"""The web channel's HTTP side (aiohttp): the loader script, the panel, the JSON API and the
no-JavaScript pages, all under ``/web``.

- ``GET /web/widget.js``: the loader the ENT page includes (adds the button, opens the panel in
  an iframe of this origin only when pressed); ``GET /web/panel``: the panel; ``/web/static/…``.
- ``POST /web/api/conversations``: a fresh conversation: ``{"conversation": id, …}``.
- ``GET /web/api/messages?after=N`` (header ``X-Conversation``): the messages after sequence N,
  waiting up to :attr:`WebConfig.poll_seconds` for one (long poll).
- ``POST /web/api/input`` (header ``X-Conversation``): ``{"kind": "text"|"secret"|"choice",
  "text": …, "action": …, "nonce": …}``.
- ``GET|POST /web/sans-js`` and ``/web/sans-js/c/{id}``: the same conversation, one HTML form a
  step, POST-redirect-GET.

The conversation id is 128 random bits the page holds (``sessionStorage`` of this origin, or the
no-JavaScript page's URL); the server keeps only its keyed hash. There is no cookie at all: a
request another site makes carries no id, so it can only open a conversation of its own. Every
POST's ``Origin`` must be this origin or one of ``WEB_ALLOWED_ORIGINS``. An unknown or forged id
gets a fresh conversation. Secrets go to the engine and nowhere else: never logged, never in
the outbound log, never sent back.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import ipaddress
import json
import logging
import secrets
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from bot.config.refusal import StartupRefused
from bot.config.web_origins import origin_of
from bot.security import KeyedHasher
from bot.texts import ops as ops_texts
from bot.texts import web as texts
from bot.web.engine import InputKind, WebConversation, WebEngine, WebPrompt
from bot.web.limits import WindowLimiter
from storage.web import StoredConversation, WebRepository

logger = logging.getLogger(__name__)

PREFIX = "/web"
ID_HEADER = "X-Conversation"
MAX_BODY = 8 * 1024
ID_BYTES = 16  # 128 bits
ID_PURPOSE = "web-conversation"
BOT = "bot"
PERSON = "person"


def static_dir() -> Path:
    """The widget's files (shipped as package data; no build step)."""
    return Path(str(resources.files("bot.web") / "static"))


@dataclass(frozen=True)
class WebConfig:
    """The channel's knobs (from ``WEB_ALLOWED_ORIGINS`` and ``WEB_PUBLIC_URL``)."""

    allowed_origins: tuple[str, ...] = ()
    public_url: str | None = None
    poll_seconds: float = 25.0
    # Per IP: a school's pupils often share one address (a classroom behind one NAT).
    requests_per_ip_per_minute: int = 600
    opens_per_ip_per_minute: int = 60
    inputs_per_conversation_per_minute: int = 30

    @property
    def csp(self) -> str:
        """The Content-Security-Policy of every response: this origin's files only, no inline
        script or style, framed only by this origin and the allowed ENT origins."""
        ancestors = " ".join(["'self'", *self.allowed_origins])
        return (
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            "img-src 'self' data:; form-action 'self'; base-uri 'none'; "
            f"frame-ancestors {ancestors}"
        )


class ApiError(Exception):
    """A refused request, answered in French (JSON, or a page for the no-JavaScript side)."""

    def __init__(self, status: int, code: str, retry_after: int | None = None) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.retry_after = retry_after


@dataclass
class Bound:
    """What the channel serves with once the bot's services are open."""

    repository: WebRepository
    keyed: KeyedHasher
    engine: WebEngine
    clock: Callable[[], datetime]


@dataclass
class WebChannel:
    """The routes of the web channel on their own :class:`aiohttp.web.Application` (mounted at
    :data:`PREFIX`), and what they serve with: :meth:`bind` once the services are open."""

    config: WebConfig = field(default_factory=WebConfig)
    bound: Bound | None = None
    app: web.Application = field(init=False)
    _events: dict[int, asyncio.Event] = field(default_factory=dict, init=False)
    _waiting: dict[int, int] = field(default_factory=dict, init=False)
    _locks: weakref.WeakValueDictionary[int, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary, init=False
    )
    _per_ip: WindowLimiter = field(init=False)
    _opens: WindowLimiter = field(init=False)
    _inputs: WindowLimiter = field(init=False)

    def __post_init__(self) -> None:
        self._per_ip = WindowLimiter(self.config.requests_per_ip_per_minute)
        self._opens = WindowLimiter(self.config.opens_per_ip_per_minute)
        self._inputs = WindowLimiter(self.config.inputs_per_conversation_per_minute)
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._headers_middleware])
        app.router.add_get("/widget.js", self._widget)
        app.router.add_get("/panel", self._panel)
        app.router.add_static("/static/", static_dir(), append_version=False)
        app.router.add_post("/api/conversations", self._open_route)
        app.router.add_get("/api/messages", self._messages_route)
        app.router.add_post("/api/input", self._input_route)
        app.router.add_route("OPTIONS", "/api/{tail:.*}", self._preflight)
        app.router.add_get("/sans-js", self._nojs_start)
        app.router.add_post("/sans-js", self._nojs_open)
        app.router.add_get("/sans-js/c/{conversation}", self._nojs_page)
        app.router.add_post("/sans-js/c/{conversation}", self._nojs_post)
        self.app = app

    def bind(self, bound: Bound) -> None:
        """Serve with these (the services' database and key, an engine)."""
        self.bound = bound

    def unbind(self) -> None:
        """Answer « l'assistant redémarre » until the next :meth:`bind` (the sandbox's reset);
        waiting polls return at once."""
        self.bound = None
        for event in self._events.values():
            event.set()

    # --- the security headers and the kind answers ----------------------------------------------

    @web.middleware
    async def _headers_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except ApiError as error:
            response = self._error(request, error)
        except web.HTTPRequestEntityTooLarge:
            response = self._error(request, ApiError(413, "too_large"))
        except web.HTTPException as error:
            if error.status >= 400:
                code = "not_found" if error.status in (404, 405) else "malformed"
                response = self._error(request, ApiError(error.status, code))
            else:  # a redirect: raised on, with the same headers
                self._secure(request, error)
                raise
        except Exception:  # never a traceback to the person; the log names the type only
            logger.exception("web: request failed")
            response = self._error(request, ApiError(500, "internal"))
        self._secure(request, response)
        return response

    def _secure(self, request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers["Content-Security-Policy"] = self.config.csp
        headers["X-Content-Type-Options"] = "nosniff"
        # same-origin: the no-JS page's URL (its id) never leaves; no-referrer would make
        # Chromium send « Origin: null » on the form's own POST.
        headers["Referrer-Policy"] = "same-origin"
        if request.path.endswith("/widget.js"):  # loaded by the ENT's pages
            headers["Cross-Origin-Resource-Policy"] = "cross-origin"
            headers["Cache-Control"] = "public, max-age=300"
        elif "/static/" not in request.path:
            headers["Cache-Control"] = "no-store"
        origin = request.headers.get("Origin")
        if origin and origin.casefold() in self.config.allowed_origins:
            headers["Access-Control-Allow-Origin"] = origin
            headers["Vary"] = "Origin"

    def _error(self, request: web.Request, error: ApiError) -> web.Response:
        message = texts.ERRORS[error.code]
        extra = {"Retry-After": str(error.retry_after)} if error.retry_after else None
        if "/sans-js" in request.path:
            return _page(
                texts.NO_JS_TITLE,
                f"<p role='alert'>{html.escape(message)}</p>"
                f"<p><a href='{PREFIX}/sans-js'>{html.escape(texts.NO_JS_NEW)}</a></p>",
                status=error.status,
                headers=extra,
            )
        return web.json_response(
            {"error": error.code, "message": message}, status=error.status, headers=extra
        )

    async def _preflight(self, request: web.Request) -> web.Response:
        origin = (request.headers.get("Origin") or "").casefold()
        if origin not in self.config.allowed_origins:
            raise ApiError(403, "origin")
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Methods": "GET, POST",
                "Access-Control-Allow-Headers": f"Content-Type, {ID_HEADER}",
                "Access-Control-Max-Age": "600",
            },
        )

    def _client(self, request: web.Request) -> str:
        """The person's IP: the connection's, or the last ``X-Forwarded-For`` hop when the
        connection comes from this machine (the school's reverse proxy)."""
        remote = request.remote or ""
        forwarded = request.headers.get("X-Forwarded-For", "")
        try:
            local = ipaddress.ip_address(remote).is_loopback
        except ValueError:
            local = False
        if local and forwarded:
            return forwarded.split(",")[-1].strip()[:64]
        return remote

    def _check_ip(self, request: web.Request) -> None:
        if not self._per_ip.allow(self._client(request)):
            raise ApiError(429, "too_fast", self._per_ip.retry_after())

    def _check_origin(self, request: web.Request) -> None:
        """A POST must come from this origin or an allowed one (``Origin`` is set by browsers
        on every POST; a missing or ``null`` one is refused)."""
        origin = (request.headers.get("Origin") or "").casefold()
        # This host by either scheme (behind the school's HTTPS proxy the request arrives in
        # plain HTTP): a browser sets Host to this server, and Origin to the page's own site.
        own = {f"{scheme}://{request.host}".casefold() for scheme in ("http", "https")}
        if self.config.public_url and (public := origin_of(self.config.public_url)):
            own.add(public)
        if origin not in own and origin not in self.config.allowed_origins:
            raise ApiError(403, "origin")

    def _bound(self) -> Bound:
        if self.bound is None:
            raise ApiError(503, "unavailable")
        return self.bound

    # --- conversations ----------------------------------------------------------------------

    async def _find(self, conversation_id: str) -> StoredConversation | None:
        bound = self._bound()
        if not conversation_id or len(conversation_id) > 64:
            return None
        return await bound.repository.find(bound.keyed.digest(conversation_id, purpose=ID_PURPOSE))

    async def open_conversation(self, request: web.Request) -> tuple[str, int]:
        """A fresh conversation (its id for the page, its row), greeted by the engine."""
        bound = self._bound()
        if not self._opens.allow(self._client(request)):
            raise ApiError(429, "too_fast", self._opens.retry_after())
        conversation_id = secrets.token_urlsafe(ID_BYTES)
        now = bound.clock()
        row = await bound.repository.create(
            bound.keyed.digest(conversation_id, purpose=ID_PURPOSE), now
        )
        conversation = WebConversation(row)
        prompts = await bound.engine.open(conversation)
        await self._record(row, conversation, None, prompts)
        return conversation_id, row

    async def _record(
        self,
        row: int,
        conversation: WebConversation,
        person: dict[str, Any] | None,
        prompts: list[WebPrompt],
        keep: tuple[str | None, dict[str, str]] | None = None,
    ) -> None:
        """Add the person's entry and the bot's prompts to the log, with a new nonce for the
        choices shown; wake the pages waiting on this conversation."""
        bound = self._bound()
        choices = {c.action: c.label for p in prompts for r in p.rows for c in r}
        nonce = secrets.token_urlsafe(9) if choices else None
        if keep is not None:  # a message beside the current step: its choices stay valid
            nonce, choices = keep
        entries: list[tuple[str, dict[str, Any]]] = []
        if person is not None:
            entries.append((PERSON, person))
        for prompt in prompts:
            body = prompt.to_json()
            body["nonce"] = nonce if prompt.rows else None
            entries.append((BOT, body))
        state = {"engine": conversation.state, "choices": choices}
        await bound.repository.append(row, state, nonce, entries, bound.clock())
        event = self._events.pop(row, None)
        if event is not None:
            event.set()

    async def handle_input(
        self, stored: StoredConversation, kind: str, value: str, nonce: str | None
    ) -> None:
        """Pass one input to the engine (under the conversation's lock) and log the outcome."""
        bound = self._bound()
        if not self._inputs.allow(str(stored.row)):
            raise ApiError(429, "too_fast", self._inputs.retry_after())
        lock = self._locks.get(stored.row)
        if lock is None:
            lock = self._locks[stored.row] = asyncio.Lock()
        async with lock:
            current = await bound.repository.find_row(stored.row)
            if current is None:
                raise ApiError(503, "unavailable")
            conversation = WebConversation(current.row, dict(current.state.get("engine", {})))
            choices: dict[str, str] = current.state.get("choices", {})
            person: dict[str, Any]
            if kind == "secret":
                person = {"text": texts.SECRET_SENT, "secret": True}
                prompts = await bound.engine.secret(conversation, value)
            elif kind == "choice":
                if current.nonce is None or nonce != current.nonce or value not in choices:
                    await self._record(
                        current.row,
                        conversation,
                        None,
                        [WebPrompt(texts.STALE_CHOICE, input=InputKind.NONE)],
                        keep=(current.nonce, choices),
                    )
                    return
                person = {"text": choices[value]}
                prompts = await bound.engine.choose(conversation, value)
            else:
                person = {"text": value}
                prompts = await bound.engine.text(conversation, value)
            await self._record(current.row, conversation, person, prompts)

    async def deliver(self, address: str, prompts: list[WebPrompt]) -> bool:
        """Add prompts the engine did not answer with — the team's answer, an e-mail link
        followed (step 2) — to the conversation at ``address`` (``web:<row>``); its waiting
        pages show them. New choices replace the current ones; without any, those stay valid.
        False if there is no such conversation (forgotten by the purge)."""
        bound = self._bound()
        prefix, _, number = address.partition(":")
        if prefix != "web" or not number.isdigit():
            return False
        row = int(number)
        lock = self._locks.get(row)
        if lock is None:
            lock = self._locks[row] = asyncio.Lock()
        async with lock:
            current = await bound.repository.find_row(row)
            if current is None:
                return False
            conversation = WebConversation(row, dict(current.state.get("engine", {})))
            has_choices = any(prompt.rows for prompt in prompts)
            keep = None if has_choices else (current.nonce, current.state.get("choices", {}))
            await self._record(row, conversation, None, prompts, keep=keep)
        return True

    async def messages(self, row: int, after: int, wait: float) -> list[dict[str, Any]]:
        """The log after ``after``; if none yet, wait up to ``wait`` seconds for some."""
        bound = self._bound()
        if wait <= 0:
            found = await bound.repository.messages_after(row, after)
        else:
            # Watched before reading: a message logged during the read still wakes this poll.
            event = self._events.setdefault(row, asyncio.Event())
            self._waiting[row] = self._waiting.get(row, 0) + 1
            try:
                found = await bound.repository.messages_after(row, after)
                if not found:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), wait)
                    found = await self._bound().repository.messages_after(row, after)
            finally:  # the last poll of a conversation forgets its event (memory per idle page)
                self._waiting[row] -= 1
                if not self._waiting[row]:
                    del self._waiting[row]
                    if self._events.get(row) is event:
                        del self._events[row]
        return [{"seq": m.seq, "from": m.sender, **m.body} for m in found]

    # --- the JSON API ------------------------------------------------------------------------

    async def _open_route(self, request: web.Request) -> web.Response:
        self._check_origin(request)
        self._check_ip(request)
        conversation_id, row = await self.open_conversation(request)
        return web.json_response(
            {
                "conversation": conversation_id,
                "fresh": True,
                "messages": await self.messages(row, 0, 0),
            }
        )

    async def _messages_route(self, request: web.Request) -> web.Response:
        self._check_ip(request)
        after_text = request.query.get("after", "0")
        if not after_text.isascii() or not after_text.isdigit() or len(after_text) > 12:
            raise ApiError(400, "malformed")
        stored = await self._find(request.headers.get(ID_HEADER, ""))
        if stored is None:  # unknown or forged: a fresh conversation, never another's
            conversation_id, row = await self.open_conversation(request)
            return web.json_response(
                {
                    "conversation": conversation_id,
                    "fresh": True,
                    "messages": await self.messages(row, 0, 0),
                }
            )
        wait = self.config.poll_seconds if request.query.get("wait") == "1" else 0
        return web.json_response(
            {"fresh": False, "messages": await self.messages(stored.row, int(after_text), wait)}
        )

    async def _input_route(self, request: web.Request) -> web.Response:
        self._check_origin(request)
        self._check_ip(request)
        body = await _json_body(request)
        kind = body.get("kind")
        if kind not in ("text", "secret", "choice"):
            raise ApiError(400, "malformed")
        key = "action" if kind == "choice" else "text"
        value = body.get(key)
        nonce = body.get("nonce")
        if not isinstance(value, str) or not (nonce is None or isinstance(nonce, str)):
            raise ApiError(400, "malformed")
        if len(value) > texts.TEXT_LIMIT:
            raise ApiError(413, "too_large")
        if not value.strip():
            raise ApiError(400, "empty")
        stored = await self._find(request.headers.get(ID_HEADER, ""))
        if stored is None:  # the input was meant for no conversation we know: start afresh
            conversation_id, _row = await self.open_conversation(request)
            return web.json_response({"conversation": conversation_id, "fresh": True})
        await self.handle_input(stored, kind, value if kind == "secret" else value.strip(), nonce)
        return web.json_response({"fresh": False})

    # --- the loader and the panel ------------------------------------------------------------

    async def _widget(self, request: web.Request) -> web.Response:
        return web.Response(text=_widget_source(), content_type="text/javascript", charset="utf-8")

    async def _panel(self, request: web.Request) -> web.Response:
        body = (static_dir() / "panel.html").read_text(encoding="utf-8")
        for name, value in _texts().items():
            body = body.replace("{{" + name + "}}", html.escape(value))
        return web.Response(text=body, content_type="text/html", charset="utf-8")

    # --- the no-JavaScript version -----------------------------------------------------------

    async def _nojs_start(self, request: web.Request) -> web.Response:
        form = (
            f"<p>{html.escape(texts.NO_JS_INTRO)}</p>"
            f"<form method='post' action='{PREFIX}/sans-js'>"
            f"<button type='submit'>{html.escape(texts.NO_JS_START)}</button></form>"
        )
        return _page(texts.NO_JS_TITLE, form)

    async def _nojs_open(self, request: web.Request) -> web.Response:
        self._check_origin(request)
        self._check_ip(request)
        conversation_id, _ = await self.open_conversation(request)
        raise web.HTTPSeeOther(f"{PREFIX}/sans-js/c/{conversation_id}#dernier")

    async def _nojs_page(self, request: web.Request) -> web.Response:
        self._check_ip(request)
        conversation_id = request.match_info["conversation"]
        stored = await self._find(conversation_id)
        if stored is None:
            return await self._nojs_start(request)
        log = await self.messages(stored.row, 0, 0)
        return _page(texts.NO_JS_TITLE, _nojs_body(conversation_id, log))

    async def _nojs_post(self, request: web.Request) -> web.Response:
        self._check_origin(request)
        self._check_ip(request)
        conversation_id = request.match_info["conversation"]
        stored = await self._find(conversation_id)
        if stored is None:
            raise web.HTTPSeeOther(f"{PREFIX}/sans-js")
        if request.content_type != "application/x-www-form-urlencoded":
            raise ApiError(400, "malformed")
        try:
            form = parse_qs((await _read_capped(request)).decode(), max_num_fields=8)
        except ValueError:
            raise ApiError(400, "malformed") from None
        nonce, action, text, secret = (
            (form.get(name) or [""])[0] for name in ("nonce", "action", "text", "secret")
        )
        if action:
            kind, value = "choice", action
        elif secret:
            kind, value = "secret", secret
        elif text.strip():
            kind, value = "text", text.strip()
        else:
            raise web.HTTPSeeOther(f"{PREFIX}/sans-js/c/{conversation_id}#dernier")
        if len(value) > texts.TEXT_LIMIT:
            raise ApiError(413, "too_large")
        await self.handle_input(stored, kind, value, nonce or None)
        raise web.HTTPSeeOther(f"{PREFIX}/sans-js/c/{conversation_id}#dernier")


def _texts() -> dict[str, str]:
    return {
        name: value
        for name, value in vars(texts).items()
        if name.isupper() and isinstance(value, str)
    }


def _widget_source() -> str:
    """The loader with its French texts (``"{{NAME}}"`` → a JSON string of the catalogue)."""
    source = (static_dir() / "widget.js").read_text(encoding="utf-8")
    for name, value in _texts().items():
        source = source.replace('"{{' + name + '}}"', json.dumps(value))
    return source


def _nojs_body(conversation_id: str, log: list[dict[str, Any]]) -> str:
    """The whole conversation, then one form for the step the last message waits for."""
    items = []
    for message in log:
        who = texts.YOU if message["from"] == PERSON else texts.BOT
        items.append(
            f"<li class='msg msg-{html.escape(message['from'])}'><span class='who'>"
            f"{html.escape(who)} :</span> {html.escape(message.get('text', ''))}</li>"
        )
    last = next((m for m in reversed(log) if m["from"] == BOT), None)
    action = f"{PREFIX}/sans-js/c/{html.escape(conversation_id)}"
    form = ""
    if last is not None:
        nonce = html.escape(last.get("nonce") or "")
        buttons = "".join(
            f"<button type='submit' name='action' value='{html.escape(c['action'])}'>"
            f"{html.escape(c['label'])}</button>"
            for row in last.get("rows", [])
            for c in row
        )
        kind = last.get("input")
        field = ""
        if kind == InputKind.SECRET:
            field = (
                f"<label for='secret'>{html.escape(texts.SECRET_LABEL)}</label>"
                f"<input id='secret' name='secret' type='password' "
                f"autocomplete='{html.escape(last.get('autocomplete', 'off'))}' "
                f"maxlength='{texts.TEXT_LIMIT}'>"
                f"<button type='submit'>{html.escape(texts.SEND_BUTTON)}</button>"
            )
        elif kind == InputKind.TEXT:
            field = (
                f"<label for='text'>{html.escape(texts.MESSAGE_LABEL)}</label>"
                f"<input id='text' name='text' type='text' "
                f"autocomplete='{html.escape(last.get('autocomplete', 'off'))}' "
                f"maxlength='{texts.TEXT_LIMIT}'>"
                f"<button type='submit'>{html.escape(texts.SEND_BUTTON)}</button>"
            )
        if field or buttons:
            form = (
                f"<form method='post' action='{action}' class='nojs-form'>"
                f"<input type='hidden' name='nonce' value='{nonce}'>{field}"
                + (f"<div class='choices'>{buttons}</div>" if buttons else "")
                + "</form>"
            )
        else:
            form = f"<p>{html.escape(texts.NO_JS_NOTHING)}</p>"
    return (
        f"<ol class='log' id='conversation' aria-label='{html.escape(texts.LOG_LABEL)}'>"
        f"{''.join(items)}</ol><div id='dernier'>{form}</div>"
        f"<p><a href='{PREFIX}/sans-js'>{html.escape(texts.NO_JS_NEW)}</a></p>"
    )


def _page(
    title: str, body: str, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A plain French page of the no-JavaScript side (its own stylesheet, no script)."""
    document = (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title>"
        f"<link rel='stylesheet' href='{PREFIX}/static/panel.css'></head>"
        f"<body class='nojs'><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return web.Response(
        text=document, content_type="text/html", charset="utf-8", status=status, headers=headers
    )


async def _read_capped(request: web.Request) -> bytes:
    """The body, at most :data:`MAX_BODY` bytes (whatever the application mounting the channel
    allows: the sandbox's Bot API server takes files)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "too_large")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise ApiError(413, "too_large")
    return raw


async def _json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or a kind 400/413 (never a traceback)."""
    if request.content_type != "application/json":
        raise ApiError(400, "malformed")
    raw = await _read_capped(request)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "malformed") from None
    if not isinstance(body, dict):
        raise ApiError(400, "malformed")
    return body


@dataclass
class WebServer:
    """The channel on its own port (``WEB_HOST``/``WEB_PORT``), started with the services."""

    channel: WebChannel
    _runner: web.AppRunner | None = field(default=None, init=False)
    port: int = field(default=0, init=False)

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port`` (0: a free port, read back in :attr:`port`)."""
        root = web.Application(client_max_size=MAX_BODY)
        root.add_subapp(PREFIX, self.channel.app)
        self._runner = web.AppRunner(root, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except OSError as error:  # the port is taken: one French sentence, not a traceback
            await self.stop()
            raise StartupRefused(
                ops_texts.cannot_listen(ops_texts.LISTEN_WEB, host, port, "WEB_PORT", error.errno)
            ) from None
        sockets = getattr(site._server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else port
        logger.info("web: http://%s:%s%s/widget.js", host, self.port, PREFIX)

    async def stop(self) -> None:
        """Stop listening (waiting polls end)."""
        self.channel.unbind()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
