"""The one-click unsubscribe endpoint of reminder e-mails (RFC 8058), served by the running bot
(aiohttp, behind the school's HTTPS reverse proxy).

``POST /desinscription/{row}/{token}`` (what mail clients send, body
``List-Unsubscribe=One-Click``) records the opt-out at once; ``GET`` (the link in the e-mail)
shows a page with one button that does the same POST, so that a link scanner opening the
e-mail unsubscribes no one. A wrong or unknown link gets the same page as a right one used
twice: it tells nothing about which addresses exist."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from bot.broadcast.email import token_matches
from bot.config.refusal import StartupRefused
from bot.security import KeyedHasher
from bot.texts import broadcast as texts
from bot.texts import ops as ops_texts
from storage.broadcasts import BroadcastRepository, Channel

logger = logging.getLogger(__name__)

ROUTE = "/desinscription/{row}/{token}"


class UnsubscribeServer:
    """The endpoint, started and stopped with the bot."""

    def __init__(
        self, repository: BroadcastRepository, keyed: KeyedHasher, clock: Callable[[], datetime]
    ) -> None:
        self.repository = repository
        self.keyed = keyed
        self.clock = clock
        self.app = web.Application(client_max_size=4096)
        self.app.router.add_get(ROUTE, self._confirm)
        self.app.router.add_post(ROUTE, self._unsubscribe)
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port`` (0: a free port, read back in :attr:`port`)."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except OSError as error:  # the port is taken: one French sentence, not a traceback
            await self.stop()
            what = ops_texts.LISTEN_UNSUBSCRIBE
            setting = "BROADCAST_UNSUBSCRIBE_PORT"
            raise StartupRefused(
                ops_texts.cannot_listen(what, host, port, setting, error.errno)
            ) from None
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else port

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _address(self, request: web.Request) -> str | None:
        """The address the link was made for, if its token is right. An unknown or malformed
        row is checked against a made-up address, so that it costs the same HMAC as a known
        row with a wrong token: neither the page nor the time tells which rows exist."""
        row, token = request.match_info["row"], request.match_info["token"]
        number = int(row) if row.isascii() and row.isdigit() and len(row) <= 18 else None
        address = await self.repository.email_of_delivery(number) if number is not None else None
        right = token_matches(self.keyed, number or 0, address or "", token[:64])
        return address if address is not None and right and len(token) <= 64 else None

    async def _confirm(self, request: web.Request) -> web.Response:
        return _page(texts.UNSUBSCRIBE_PAGE_CONFIRM, form=True)

    async def _unsubscribe(self, request: web.Request) -> web.Response:
        address = await self._address(request)
        if address is not None:
            await self.repository.opt_out(Channel.EMAIL, address.lower(), self.clock())
            logger.info("broadcast: unsubscribed (row %s)", request.match_info["row"])
        return _page(texts.UNSUBSCRIBE_PAGE_DONE, form=False)


def _page(body: str, *, form: bool) -> web.Response:
    button = (
        f'<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        f'<button type="submit">{texts.UNSUBSCRIBE_PAGE_BUTTON}</button></form>'
        if form
        else ""
    )
    html = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{texts.UNSUBSCRIBE_PAGE_TITLE}</title></head>"
        f"<body><p>{body}</p>{button}</body></html>"
    )
    return web.Response(text=html, content_type="text/html", charset="utf-8")
