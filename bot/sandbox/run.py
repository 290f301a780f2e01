"""``python run_bot.py sandbox``: the real bot, a local Bot API server, an SMTP server that
catches every e-mail, and demo accounts — nothing to configure, nothing leaves the machine."""

from __future__ import annotations

import asyncio
import csv
import logging
import signal
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from pydantic import SecretStr

from bot.accounts_import import import_accounts
from bot.app import build_application, start_bot, stop_bot
from bot.sandbox.bot_api_server import LocalBotApi
from bot.sandbox.mailbox import Mailbox
from bot.security import KeyedHasher, SecretHasher, load_or_create_server_secret
from bot.settings import Settings
from storage.accounts import SqliteAccountDirectory
from storage.db import Database

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
        f"  {row['identifiant']:<12} {row['mot_de_passe_provisoire']:<16} {row['profil']}"
        for row in demo_accounts()
    ]


def sandbox_settings(settings: Settings, server: LocalBotApi, mailbox: Mailbox) -> Settings:
    """The same settings, pointed at the local servers and the sandbox's own database."""
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(SANDBOX_TOKEN),
            "telegram_api_url": server.root_url,
            "database_path": settings.sandbox_database_path,
            "server_secret_file": settings.sandbox_database_path.with_suffix(".key"),
            "smtp_host": "127.0.0.1",
            "smtp_port": mailbox.port,
            "smtp_security": "none",
            "smtp_username": None,
            "smtp_password": None,
        }
    )


async def seed_demo_accounts(settings: Settings) -> None:
    """A fresh sandbox database with the demo accounts (the production one is never touched)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{settings.database_path}{suffix}").unlink(missing_ok=True)
    database = await Database.open(settings.database_path)
    try:
        await import_accounts(
            demo_accounts_file(),
            SqliteAccountDirectory(database),
            SecretHasher(settings.argon2),
            KeyedHasher(load_or_create_server_secret(settings.server_secret_file)),
            datetime.now(UTC),
            actor="sandbox",
        )
    finally:
        await database.close()


async def run_sandbox(settings: Settings) -> int:
    """Run until Ctrl+C."""
    server = LocalBotApi(
        bot_token=SANDBOX_TOKEN,
        bot_username=SANDBOX_BOT_USERNAME,
        bot_first_name="ENT (bac à sable)",
    )
    mailbox = Mailbox()
    mailbox.start("127.0.0.1")
    await server.start(host=settings.sandbox_host, port=settings.sandbox_port)
    local = sandbox_settings(settings, server, mailbox)
    await seed_demo_accounts(local)
    application = build_application(local)
    await start_bot(application, poll_timeout=10)

    print("\nBac à sable de l'assistant d'activation ENT : aucun jeton Telegram n'est configuré,")
    print("le bot tourne sur ce poste, avec un faux Telegram et une fausse boîte mail.")
    print(f"Ouvrez : {server.root_url}/\n")
    print("Comptes de démonstration (identifiant / mot de passe provisoire) :")
    print("\n".join(demo_account_lines()))
    print("\nCtrl+C pour arrêter.")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await stop_bot(application)
        await server.stop()
        mailbox.stop()
    return 0
