"""With INBOUND_EMAIL set, every e-mail the bot sends carries ``Reply-To: <INBOUND_EMAIL>``
(outbox e-mails and e-mail reminders alike); an answer to an incoming e-mail is threaded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.broadcast.email import BulkMailer, ReminderMail
from bot.outbox.mail import Mailer, OutgoingMail
from bot.outbox.senders import MailSender
from bot.outbox.templates import MAIL_ANSWER
from bot.school import load_school_config
from bot.security import KeyedHasher
from bot.settings import Settings
from storage.outbox import OutboxItem, OutboxKind, OutboxStatus

from support import DATA

MAIL = OutgoingMail(to="lea@example.org", subject="Sujet", text="t", html="<p>t</p>")


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_every_e_mail_carries_reply_to() -> None:
    config = settings(inbound_email="activation@lycee.example").smtp
    assert config.reply_to == "activation@lycee.example"
    assert Mailer(config).build(MAIL)["Reply-To"] == "activation@lycee.example"
    reminder = BulkMailer(config, 5).message(ReminderMail(MAIL, "https://x.example/u/1/t"))
    assert reminder["Reply-To"] == "activation@lycee.example"


def test_no_reply_to_without_an_inbound_address() -> None:
    config = settings().smtp
    assert config.reply_to is None
    message = Mailer(config).build(MAIL)
    assert "Reply-To" not in message
    assert message["Auto-Submitted"] == "auto-generated"


def test_the_answer_is_threaded_and_auto_replied() -> None:
    school = load_school_config(Path(DATA / "school.toml"))
    now = datetime(2026, 12, 7, 10, tzinfo=UTC)
    item = OutboxItem(
        id=1,
        kind=OutboxKind.NOTICE_MAIL,
        template=MAIL_ANSWER,
        params={
            "to": "lea@example.org",
            "in_reply_to": "<q@example.org>",
            "references": "<r@example.org> <q@example.org>",
            "values": {
                "subject": "Re: Mon code",
                "quick_titre": "",
                "quick_texte": "",
                "telegram_link": "",
                "hours_lines": [],
                "back_at": "",
            },
        },
        seed=None,
        account_id=None,
        status=OutboxStatus.PENDING,
        created_at=now,
        expires_at=now,
        attempts=0,
        last_error=None,
    )
    config = settings(inbound_email="activation@lycee.example").smtp
    sender = MailSender(Mailer(config), school, KeyedHasher(b"k" * 32))
    mail = sender.render(item)
    message = sender.mailer.build(mail)
    assert message["Subject"] == "Re: Mon code"
    assert message["In-Reply-To"] == "<q@example.org>"
    assert message["References"] == "<r@example.org> <q@example.org>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert "t.me" not in mail.text  # no Telegram: no link
    assert school.ent_url in mail.text
