"""End-to-end fixtures: the real Application (same factory as production) polling the local Bot
API server over HTTP, a real SMTP server (aiosmtpd on 127.0.0.1) and a real SQLite file."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest_asyncio
from telegram.ext import Application

from bot.app import build_application, services_of, start_bot, stop_bot
from bot.cli import quiet_noisy_loggers
from bot.sandbox.bot_api_server import LocalBotApi
from bot.sandbox.mailbox import Mailbox
from bot.security import KeyedHasher, SecretHasher, load_or_create_server_secret
from bot.settings import Settings
from bot.staff.accounts_import import import_accounts
from storage.accounts import SqliteAccountDirectory

from support import ACCOUNTS, CHEAP_ARGON2, DATA, MutableClock, write_accounts_csv

BOT_TOKEN = "123456789:AAE2eTestTokenForTheLocalBotApiServer"
BOT_USERNAME = "ent_test_bot"


CODE = re.compile(r"\b(\d{8})\b")


def last_code(mailbox: Mailbox) -> str:
    """The code of the last e-mail."""
    match = CODE.search(mailbox.mails[-1].text)
    assert match, "no code in the e-mail"
    return match.group(1)


@dataclass
class BotHarness:
    """The bot under test and everything around it."""

    server: LocalBotApi
    settings: Settings
    clock: MutableClock
    mailbox: Mailbox
    tmp_path: Path
    app: Application | None = None
    log_records: list[logging.LogRecord] = field(default_factory=list)

    async def start(self) -> Application:
        """Build the application with the production factory and start polling."""
        self.app = build_application(self.settings, clock=self.clock)
        await start_bot(self.app, poll_timeout=1)
        return self.app

    async def stop(self) -> None:
        """Stop the bot (handlers finish, database closed)."""
        if self.app is not None:
            await stop_bot(self.app)
            self.app = None

    async def import_accounts(self, rows: list[tuple[str, ...]] | None = None) -> None:
        """Import accounts through the staff import code path."""
        from datetime import UTC, datetime

        from storage.db import Database

        path = write_accounts_csv(self.tmp_path / "accounts.csv", rows or ACCOUNTS)
        database = await Database.open(self.settings.database_path)
        try:
            await import_accounts(
                path,
                SqliteAccountDirectory(database),
                SecretHasher(self.settings.argon2),
                KeyedHasher(load_or_create_server_secret(self.settings.server_secret_file)),
                datetime.now(UTC),
            )
        finally:
            await database.close()

    async def settle(self, timeout: float = 20) -> None:
        """Wait until the bot has fetched and fully handled every update sent so far."""
        quiet_rounds = 0
        async with asyncio.timeout(timeout):
            while quiet_rounds < 3:
                app = self.app
                busy = self.server.unconfirmed_updates() > 0 or (
                    app is not None
                    and (
                        not app.update_queue.empty()
                        or app.update_processor.current_concurrent_updates > 0
                    )
                )
                quiet_rounds = 0 if busy else quiet_rounds + 1
                await asyncio.sleep(0.01)

    @property
    def services(self) -> Any:
        """The running application's services."""
        assert self.app is not None
        return services_of(self.app)


def harness_settings(tmp_path: Path, server: LocalBotApi, smtp_port: int) -> Settings:
    """Settings of the bot under test: env-like values, cheap argon2id, no .env file read."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=BOT_TOKEN,
        telegram_api_url=server.root_url,
        database_path=tmp_path / "data" / "bot.sqlite3",
        server_secret_file=tmp_path / "secret" / "server.key",
        school_config=DATA / "school.toml",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        mail_from="ENT Test <no-reply@example.org>",
        log_level="DEBUG",
        # The outbox retries fast in tests (the rhythm comes from the settings).
        outbox_retry_first_seconds=0.05,
        outbox_retry_max_seconds=0.5,
        outbox_reply_wait_seconds=1.0,
        **CHEAP_ARGON2,
    )


class _ListHandler(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(level=logging.DEBUG)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest_asyncio.fixture
async def bot_api() -> AsyncIterator[LocalBotApi]:
    """The local Bot API server on a free port."""
    server = LocalBotApi(bot_token=BOT_TOKEN, bot_username=BOT_USERNAME, bot_first_name="ENT Test")
    await server.start(host="127.0.0.1", port=0)
    yield server
    await server.stop()


@pytest_asyncio.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    """A real SMTP server on 127.0.0.1."""
    box = Mailbox()
    box.start("127.0.0.1")
    yield box
    box.stop()


@pytest_asyncio.fixture
async def harness(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox, clock: MutableClock
) -> AsyncIterator[BotHarness]:
    """A running bot with the test accounts imported; every log record kept."""
    settings = harness_settings(tmp_path, bot_api, mailbox.port)
    result = BotHarness(bot_api, settings, clock, mailbox, tmp_path)
    handler = _ListHandler(result.log_records)
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet_noisy_loggers()
    await result.import_accounts()
    await result.start()
    yield result
    await result.stop()
    root.removeHandler(handler)
    root.setLevel(previous_level)
