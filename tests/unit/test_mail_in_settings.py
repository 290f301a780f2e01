"""The incoming e-mail settings: names, values, bounds; the sandbox never reads the real
mailbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config.smtp import SmtpSecurity
from bot.sandbox.bot_api_server import LocalBotApi
from bot.sandbox.mailbox import Mailbox
from bot.sandbox.run import sandbox_settings
from bot.settings import Settings


def test_the_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "IMAP_HOST": "imap.lycee.example",
        "IMAP_PORT": "993",
        "IMAP_USER": "activation",
        "IMAP_PASSWORD": "s3cret",
        "IMAP_SECURITY": "tls",
        "INBOUND_EMAIL": "activation@lycee.example",
        "MAIL_AUTHSERV_ID": "mx.lycee.example",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.imap_host == "imap.lycee.example"
    assert settings.imap_port == 993
    assert settings.imap_security == SmtpSecurity.TLS
    assert settings.imap_password is not None
    assert "s3cret" not in repr(settings)
    assert settings.inbound_email == "activation@lycee.example"
    assert settings.mail_authserv_id == "mx.lycee.example"
    assert settings.imap_poll_seconds <= 30


def test_a_look_is_never_more_than_30_seconds_apart() -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, imap_poll_seconds=31)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(_env_file=None, imap_security="ssl")  # type: ignore[call-arg]


def test_the_sandbox_never_reads_the_real_mailbox(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, imap_host="imap.lycee.example", inbound_email="a@lycee.example"
    )
    server = LocalBotApi(bot_token="1:x", bot_username="b", bot_first_name="B")
    mailbox = Mailbox()
    mailbox.port = 2525
    assert sandbox_settings(settings, server, mailbox).imap_host is None
