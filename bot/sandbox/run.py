"""``python run_bot.py sandbox``: the real bot, a local Bot API server, an SMTP server that
catches every e-mail, and demo accounts — nothing to configure, nothing leaves the machine."""

from __future__ import annotations

import asyncio
import csv
import ipaddress
import logging
import signal
import sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from pydantic import SecretStr

from bot import texts
from bot.app import build_application, services_of, start_bot, stop_bot
from bot.procedures.activation import new_letter_token
from bot.sandbox.bot_api_server import LocalBotApi
from bot.sandbox.mailbox import Mailbox
from bot.sandbox.web import STAFF_USER_ID, TEAM_CHAT_ID, SandboxWeb
from bot.security import (
    KeyedHasher,
    SecretHasher,
    load_or_create_server_secret,
    normalise_identifiant,
)
from bot.settings import Settings
from bot.staff.accounts_import import import_accounts
from bot.texts import ops as ops_texts
from bot.web.demo import DemoEngine
from bot.web.server import PREFIX, Bound, WebChannel, WebConfig
from conversations.context import BotApp
from storage.accounts import SqliteAccountDirectory
from storage.db import Database
from storage.web import WebRepository

logger = logging.getLogger(__name__)

SANDBOX_TOKEN = "424242:SANDBOX-local-only-not-a-telegram-token"
SANDBOX_BOT_USERNAME = "ent_activation_sandbox_bot"


def demo_accounts_file() -> Path:
    """The shipped demo accounts (CSV, same format as a staff import)."""
    return Path(str(resources.files("bot.sandbox") / "demo_accounts.csv"))


def demo_accounts() -> list[dict[str, str]]:
    """The demo accounts, to print and to show on the page."""
    with demo_accounts_file().open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def demo_account_lines() -> list[str]:
    """One line a demo account: identifier, provisional password (demo data only), profile."""
    return [
        f"  {row['identifiant']:<12} {row['mot_de_passe_provisoire']:<16} "
        f"{row['prenom']} ({texts.PROFIL_LABELS.get(row['profil'], row['profil'])})"
        for row in demo_accounts()
    ]


def local_url(host: str, port: int) -> str:
    """``http://host:port`` as a browser or the bot on this machine can reach it (a wildcard
    address such as ``0.0.0.0`` is reached through the loopback one)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (``localhost``, 127.0.0.0/8,
    ``::1``). Any other address or name, wildcards included, can be reached from elsewhere."""
    if host.strip().casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def sandbox_settings(settings: Settings, server: LocalBotApi, mailbox: Mailbox) -> Settings:
    """The same settings, pointed at the local servers and the sandbox's own database."""
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(SANDBOX_TOKEN),
            "telegram_api_url": local_url(server.host, server.port),
            "database_path": settings.sandbox_database_path,
            "server_secret_file": settings.sandbox_database_path.with_suffix(".key"),
            "smtp_host": "127.0.0.1",
            "smtp_port": mailbox.port,
            "smtp_security": "none",
            "smtp_username": None,
            "smtp_password": None,
            # Never the school's real mailbox: the sandbox would answer real people.
            "imap_host": None,
            # Support works out of the box: a staff group with forum topics, one staff member
            # (the page's « Équipe » view writes as them).
            "support_chat_id": TEAM_CHAT_ID,
            "support_forum_topics": True,
            "staff_telegram_ids": [*settings.staff_telegram_ids, STAFF_USER_ID],
        }
    )


async def seed_demo_accounts(settings: Settings) -> dict[str, str]:
    """A fresh sandbox database with the demo accounts (the production one is never touched),
    each with a demo letter: ``{identifiant: the payload its QR code would carry}``."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{settings.database_path}{suffix}").unlink(missing_ok=True)
    database = await Database.open(settings.database_path)
    try:
        directory = SqliteAccountDirectory(database)
        keyed = KeyedHasher(load_or_create_server_secret(settings.server_secret_file))
        now = datetime.now(UTC)
        await import_accounts(
            demo_accounts_file(),
            directory,
            SecretHasher(settings.argon2),
            keyed,
            now,
            actor="sandbox",
        )
        letters = {}
        for row in demo_accounts():
            token = new_letter_token()
            digest = keyed.digest(token, purpose="letter")
            identifiant = normalise_identifiant(row["identifiant"])
            await directory.issue_letter_token(identifiant, digest, now)
            letters[row["identifiant"]] = token
        return letters
    finally:
        await database.close()


class Sandbox:
    """The whole sandbox in this process: ``await start()`` returns the page's URL.

    The page is served by the local Bot API server itself (``host``/``port``, 0 for any free
    port); the bot uses ``settings.sandbox_database_path``, never the production database.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        host: str | None = None,
        port: int | None = None,
        poll_timeout: int = 10,
    ) -> None:
        self.settings = settings
        self.host = settings.sandbox_host if host is None else host
        self.port = settings.sandbox_port if port is None else port
        self.poll_timeout = poll_timeout
        self.server = LocalBotApi(
            bot_token=SANDBOX_TOKEN,
            bot_username=SANDBOX_BOT_USERNAME,
            bot_first_name="ENT (bac à sable)",
        )
        self.mailbox = Mailbox()
        self.web = SandboxWeb(
            self.server,
            self.mailbox,
            demo_accounts(),
            reset=self.reset,
            resetting=lambda: self._resetting,
            link_owner=self.link_owner,
            team_chat_id=TEAM_CHAT_ID,
        )
        self.web.install(self.server.app)
        # The web channel (issue 24) on the same host and port, with the demo engine until
        # step 2 binds the procedures, and /ent/: a page imitating the ENT's that embeds it.
        self.web_channel = WebChannel(WebConfig())
        self.server.app.add_subapp(PREFIX, self.web_channel.app)
        self.web.install_ent_page(self.server.app)
        self.application: BotApp | None = None
        self.local_settings: Settings | None = None
        self._resetting = False

    @property
    def url(self) -> str:
        """The page's address."""
        return f"{local_url(self.server.host, self.server.port)}/"

    async def start(self) -> str:
        """Start the SMTP and Bot API servers, seed the demo accounts, start the bot."""
        self.mailbox.start("127.0.0.1")
        await self.server.start(host=self.host, port=self.port)
        self.local_settings = sandbox_settings(self.settings, self.server, self.mailbox)
        self.web.letters = await seed_demo_accounts(self.local_settings)
        self.web.seed_users()
        await self._start_bot()
        return self.url

    async def link_owner(self, payload: str) -> int | None:
        """The Telegram user whose open procedure sent the e-mail link ``payload``, if any."""
        if self.application is None:
            return None
        ports = services_of(self.application).ports
        session = await ports.sessions.find_by_token_hash(
            ports.keyed.digest(payload, purpose="token")
        )
        return session.telegram_user_id if session else None

    async def _start_bot(self) -> None:
        assert self.local_settings is not None
        self.application = build_application(self.local_settings)
        await start_bot(self.application, poll_timeout=self.poll_timeout)
        services = services_of(self.application)
        assert services.database is not None
        self.web_channel.bind(
            Bound(
                WebRepository(services.database), services.ports.keyed, DemoEngine(), services.clock
            )
        )

    async def reset(self) -> None:
        """Forget chats, e-mails and the bot's steps; recreate the demo accounts.

        The bot is stopped (closing its database) and a new one built, so that no step of an
        old conversation survives in ConversationHandler's memory or in the database.
        """
        if self._resetting:
            return
        self._resetting = True
        try:
            self.web_channel.unbind()
            if self.application is not None:
                await stop_bot(self.application)
                self.application = None
            self.server.reset()
            self.mailbox.clear()
            assert self.local_settings is not None
            self.web.letters = await seed_demo_accounts(self.local_settings)
            self.web.seed_users()
            await self._start_bot()
        finally:
            self._resetting = False
        self.web.broadcast({"type": "ready"})

    async def stop(self) -> None:
        """Stop everything (the page's event streams first)."""
        self.web.close_streams()
        self.web_channel.unbind()
        if self.application is not None:
            await stop_bot(self.application)
            self.application = None
        await self.server.stop()
        self.mailbox.stop()


async def run_sandbox(settings: Settings) -> int:
    """Run until Ctrl+C. A non-loopback ``SANDBOX_HOST`` is refused unless
    ``SANDBOX_ALLOW_REMOTE`` confirms it (then with a warning): the page has no authentication."""
    if not is_loopback_host(settings.sandbox_host):
        if not settings.sandbox_allow_remote:
            print(texts.sandbox_remote_refused(settings.sandbox_host), file=sys.stderr)
            return 2
        print(texts.sandbox_remote_warning(settings.sandbox_host), file=sys.stderr, flush=True)
    sandbox = Sandbox(settings)
    try:
        url = await sandbox.start()
    except OSError as error:  # the port is taken, or the host is not an address of this machine
        await sandbox.stop()
        reason = ops_texts.listen_reason(error.errno)  # French, never « [Errno 98] … »
        print(texts.sandbox_cannot_listen(sandbox.host, sandbox.port, reason), file=sys.stderr)
        return 2
    print(texts.sandbox_banner(url.rstrip("/"), demo_account_lines()), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sandbox.stop()
        print(texts.SANDBOX_STOPPED, flush=True)
    return 0
