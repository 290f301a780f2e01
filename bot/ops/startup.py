"""What the bot checks before it starts with a token: the school's own file, the server key
when the database already has accounts, and the SMTP server (retried, one French line an
attempt). Each refusal is one French sentence (:class:`StartupRefused`, exit code 2)."""

from __future__ import annotations

import asyncio
import logging
import re
from urllib.parse import urlsplit

import aiosmtplib

from bot.config.refusal import StartupRefused
from bot.outbox.mail import SmtpConfig, SmtpSecurity
from bot.school import SchoolConfigError, load_school_config
from bot.settings import Settings
from bot.telegram_api.limiter import StartupRetry
from bot.texts import ops as ops_texts
from storage.ops import database_has_accounts

logger = logging.getLogger(__name__)

# The Bot API's rule for secret_token.
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


def check_before_start(settings: Settings) -> None:
    """Refuse to start without the school's own file (never the example's school), with a
    wrong establishment file (``SCHOOLS_DIR``) or with a server key gone while the database
    has accounts (a new key would void every code, lock and import fingerprint)."""
    school = settings.school_config
    if not school.is_file():
        raise StartupRefused(ops_texts.school_missing(str(school)))
    try:
        load_school_config(school)
        if settings.schools_dir is not None:  # a region: every establishment's file too
            from bot.region import region_of

            region_of(settings)
    except SchoolConfigError as error:
        raise StartupRefused(ops_texts.school_invalid(str(error))) from None
    check_server_secret(settings)
    check_webhook(settings)


def check_webhook(settings: Settings) -> None:
    """With ``WEBHOOK_URL``: an HTTPS address (plain HTTP only to the loopback) and a valid
    ``WEBHOOK_SECRET_TOKEN``."""
    url = settings.webhook_url
    if not url:
        return
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise StartupRefused(ops_texts.webhook_url_refused(url))
    token = settings.webhook_secret_token
    if token is None or not _SECRET_TOKEN.fullmatch(token.get_secret_value()):
        raise StartupRefused(ops_texts.WEBHOOK_SECRET_MISSING)


def check_server_secret(settings: Settings) -> None:
    """Refuse a missing server key when the database already has accounts."""
    if not settings.server_secret_file.exists() and database_has_accounts(settings.database_path):
        raise StartupRefused(
            ops_texts.secret_lost(str(settings.server_secret_file), str(settings.database_path))
        )


async def probe_smtp(config: SmtpConfig) -> None:
    """Connect to the SMTP server (TLS or STARTTLS as configured) and leave; raises on failure."""
    client = aiosmtplib.SMTP(
        hostname=config.host,
        port=config.port,
        use_tls=config.security == SmtpSecurity.TLS,
        start_tls=config.security == SmtpSecurity.STARTTLS,
        timeout=config.timeout,
    )
    await client.connect()
    try:
        await client.noop()
    finally:
        await client.quit()


async def wait_for_smtp(config: SmtpConfig, retry: StartupRetry | None = None) -> None:
    """Retry :func:`probe_smtp` with backoff until it works, one French warning an attempt."""
    retry = retry or StartupRetry()
    delay = retry.first
    attempt = 0
    while True:
        attempt += 1
        try:
            await probe_smtp(config)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            if retry.max_attempts is not None and attempt >= retry.max_attempts:
                raise
            logger.warning(
                ops_texts.smtp_retry(config.host, config.port, type(error).__name__, delay, attempt)
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, retry.longest)
            continue
        if attempt > 1:
            logger.info(ops_texts.SMTP_REACHED.format(host=config.host, port=config.port))
        return
