"""Conversations by e-mail, first step (issue 26): the running bot reads a real Dovecot's INBOX
over IMAP and answers a person by e-mail through the outbox and a real SMTP server — threaded,
in French, with the quick answer that matches, the Telegram link, the ENT, the hours; never an
auto-reply, a bounce or a DMARC fail; a per-address cap; bad input never stops it."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import shutil
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import pytest_asyncio
from pydantic import SecretStr

from bot.cli import quiet_noisy_loggers
from bot.config.smtp import SmtpSecurity
from bot.sandbox.bot_api_server import LocalBotApi
from bot.sandbox.mailbox import Mailbox
from bot.settings import Settings
from storage.db import Database

from conftest import BotHarness, _ListHandler, harness_settings
from dovecot_server import PASSWORD, USER, Dovecot, running_dovecot
from support import DATA, MutableClock

INBOUND = "activation@lycee.example"
AUTHSERV = "mx.lycee.example"
HOURS = """
[horaires]
fuseau = "Europe/Paris"
lundi = ["08:00-12:00", "13:30-17:00"]
mardi = ["08:00-12:00", "13:30-17:00"]
mercredi = ["08:00-12:00"]
jeudi = ["08:00-12:00", "13:30-17:00"]
vendredi = ["08:00-12:00", "13:30-16:30"]
"""


def mail(
    sender: str = "Nora Petit <nora.petit@example.org>",
    subject: str = "Activation",
    body: str = "Bonjour, je n'ai pas reçu l'e-mail.",
    message_id: str | None = "<q1@example.org>",
    *headers: str,
) -> bytes:
    """One incoming e-mail as a mail server would store it."""
    lines = [f"From: {sender}", f"To: {INBOUND}", f"Subject: {subject}"]
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    lines += [*headers, "Content-Type: text/plain; charset=utf-8", ""]
    return ("\r\n".join(lines) + "\r\n" + body + "\r\n").encode()


def headers_of(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot on a free loopback port (skips, saying why, where it is missing)."""
    yield from running_dovecot()


def mail_in_settings(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox, imap: Dovecot
) -> Settings:
    """The harness's settings with the mailbox, the inbound address and the school's hours."""
    school = tmp_path / "school.toml"
    text = (DATA / "school.toml").read_text()
    school.write_text(text.replace('cgu = "', f'cgu = "{DATA}/') + HOURS)
    settings = harness_settings(tmp_path, bot_api, mailbox.port)
    return settings.model_copy(
        update={
            "school_config": school,
            "imap_host": "127.0.0.1",
            "imap_port": imap.port,
            "imap_user": USER,
            "imap_password": SecretStr(PASSWORD),
            "inbound_email": INBOUND,
            "mail_authserv_id": AUTHSERV,
            "imap_poll_seconds": 2.0,
        }
    )


@pytest_asyncio.fixture
async def mail_harness(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox, clock: MutableClock, dovecot: Dovecot
) -> AsyncIterator[BotHarness]:
    """The running bot, reading the Dovecot's INBOX."""
    settings = mail_in_settings(tmp_path, bot_api, mailbox, dovecot)
    harness = BotHarness(bot_api, settings, clock, mailbox, tmp_path)
    handler = _ListHandler(harness.log_records)
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet_noisy_loggers()
    await harness.start()
    yield harness
    await harness.stop()
    root.removeHandler(handler)
    root.setLevel(previous_level)


async def outcomes(harness: BotHarness, count: int, timeout: float = 20) -> dict[str, int]:
    """The outcomes once ``count`` messages are handled."""
    async with asyncio.timeout(timeout):
        while True:
            found = await harness.services.mail_in.repository.outcomes()
            if sum(found.values()) >= count:
                return dict(found)
            await asyncio.sleep(0.05)


async def test_a_new_writer_gets_a_threaded_answer(
    mail_harness: BotHarness, dovecot: Dovecot
) -> None:
    dovecot.deliver(
        mail(
            "Nora Petit <nora.petit@example.org>",
            "Activation de mon compte",
            "Bonjour, je n'ai pas reçu l'e-mail.\n\n-- \nNora Petit\n",
            "<q1@example.org>",
            "References: <r0@example.org>",
            f"Authentication-Results: {AUTHSERV}; dmarc=pass header.from=example.org",
        )
    )
    answer = await mail_harness.mailbox.wait_for(1, timeout=30)
    assert answer.recipients == ("nora.petit@example.org",)
    assert answer.subject == "Re: Activation de mon compte"
    head = headers_of(mail_harness.mailbox.raw[0])
    assert head["In-Reply-To"] == "<q1@example.org>"
    assert head["References"] == "<r0@example.org> <q1@example.org>"
    assert head["Reply-To"] == INBOUND
    assert head["Auto-Submitted"] == "auto-replied"
    text = answer.text
    assert text.startswith("Bonjour,")
    # The school's quick answer that matches, how to go on, the hours, no secret by e-mail.
    assert "Je n'ai pas reçu l'e-mail" in text and "Spam" in text
    assert "https://t.me/ent_test_bot" in text
    assert "jamais de mot de passe ni de code par e-mail" in text
    assert "lundi : 8 h - 12 h, 13 h 30 - 17 h" in text
    assert "mercredi : 8 h - 12 h" in text
    assert "&nbsp;" not in text and "&nbsp;" not in answer.html
    assert await outcomes(mail_harness, 1) == {"answered": 1}
    # Neither the message, nor its sender, nor the mailbox's password reach the logs (DEBUG).
    logged = "\n".join(record.getMessage() for record in mail_harness.log_records)
    for private in ("reçu l'e-mail", "nora.petit", PASSWORD):
        assert private not in logged
    # Read once: a later look finds nothing new, and nothing is sent again.
    await asyncio.sleep(3)
    assert len(mail_harness.mailbox.mails) == 1


async def test_auto_replies_bounces_and_dmarc_fail_get_nothing(
    mail_harness: BotHarness, dovecot: Dovecot
) -> None:
    dovecot.deliver(
        mail(
            "Léa <lea@example.org>",
            "Réponse automatique : absent",
            "Je suis absente.",
            "<ooo@example.org>",
            "Auto-Submitted: auto-replied",
        ),
        mail("MAILER-DAEMON@mx.example.org", "Undelivered Mail", "It bounced.", "<b@mx>"),
        mail(
            "Paul <paul@example.org>", "Vacances", "Absent", "<v@example.org>", "Precedence: bulk"
        ),
        mail(
            "Boss <boss@example.org>",
            "Urgent",
            "Envoyez le code",
            "<f@example.org>",
            f"Authentication-Results: {AUTHSERV}; dmarc=fail header.from=example.org",
        ),
        # A verdict written by anyone else is ignored: this one is answered.
        mail(
            "Ami <ami@example.org>",
            "Question",
            "Bonjour",
            "<a@example.org>",
            "Authentication-Results: mx.attacker.example; dmarc=fail",
        ),
    )
    found = await outcomes(mail_harness, 5, timeout=30)
    assert found == {"automatic": 3, "unverified": 1, "answered": 1}
    await mail_harness.mailbox.wait_for(1)
    await asyncio.sleep(1)
    assert [m.recipients for m in mail_harness.mailbox.mails] == [("ami@example.org",)]


async def test_a_mail_loop_is_capped(mail_harness: BotHarness, dovecot: Dovecot) -> None:
    dovecot.deliver(
        *(
            mail("Robot <loop@example.org>", f"Sujet {n}", "Encore", f"<l{n}@example.org>")
            for n in range(7)
        )
    )
    assert await outcomes(mail_harness, 7, timeout=30) == {"answered": 5, "capped": 2}
    await mail_harness.mailbox.wait_for(5)
    await asyncio.sleep(1)
    assert len(mail_harness.mailbox.mails) == 5


async def test_bad_input_never_stops_the_reader(mail_harness: BotHarness, dovecot: Dovecot) -> None:
    dovecot.deliver(
        b"From: a@example.org\r\nSubject: no id\r\n\r\nPas de Message-ID\r\n",
        b"From: b@example.org\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nbroken",
        b"From: c@example.org\r\nSubject: \xc3\xa9t\xe9 \xff\r\n\r\n8-bit header\r\n",
        b"From: d@example.org\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n\xe9t\xe9\r\n",
        b"From: e@example.org\r\nSubject: big\r\n\r\n" + b"Bonjour " * 400_000 + b"\r\n",
        b"this is not an e-mail",
        mail("Nora <nora@example.org>", "Après", "Bonjour", "<after@example.org>"),
    )
    found = await outcomes(mail_harness, 7, timeout=60)
    assert found == {"answered": 6, "no_sender": 1}
    await mail_harness.mailbox.wait_for(6, timeout=30)
    no_id = next(r for r in mail_harness.mailbox.raw if b"a@example.org" in r)
    assert "In-Reply-To" not in headers_of(no_id)
    assert headers_of(no_id)["Subject"] == "Re: no id"


async def test_every_mail_the_bot_sends_carries_reply_to(
    mail_harness: BotHarness, dovecot: Dovecot
) -> None:
    """The activation's own code e-mail too (the outbox's Mailer)."""
    services = mail_harness.services
    mailer = services.outbox.mail.mailer
    from bot.outbox.mail import OutgoingMail

    await mailer.send(OutgoingMail(to="x@example.org", subject="s", text="t", html="<p>t</p>"))
    await mail_harness.mailbox.wait_for(1)
    assert headers_of(mail_harness.mailbox.raw[0])["Reply-To"] == INBOUND


async def test_the_table_is_written_with_the_outbox_item(
    mail_harness: BotHarness, dovecot: Dovecot
) -> None:
    dovecot.deliver(mail())
    await outcomes(mail_harness, 1)
    await mail_harness.mailbox.wait_for(1)
    database = await Database.open(mail_harness.settings.database_path)
    try:
        rows = await database.fetch_all(
            "SELECT m.uid, o.template, o.status FROM mail_in m JOIN outbox o ON o.id = m.outbox_id"
        )
    finally:
        await database.close()
    assert [tuple(r) for r in rows] == [(1, "mail_answer", "sent")]


class Recorder:
    """A handler that keeps what the reader hands it."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.arrived = asyncio.Event()

    async def resume_after(self, uidvalidity: int) -> int:
        return max(self.seen, default=0)

    async def handled(self, uidvalidity: int, uids: list[int]) -> set[int]:
        return set(self.seen) & set(uids)

    async def handle(self, uidvalidity: int, uid: int, raw: bytes) -> None:
        self.seen.append(uid)
        self.arrived.set()


async def test_idle_brings_a_new_message_at_once(dovecot: Dovecot) -> None:
    """The reader waits in IDLE: a message arriving then is read in seconds, not at the next
    look (30 s here)."""
    from bot.mail_in.reader import ImapConfig, MailReader

    recorder = Recorder()
    reader = MailReader(
        ImapConfig("127.0.0.1", dovecot.port, USER, PASSWORD, poll_seconds=30), recorder
    )
    reader.start()
    try:
        await asyncio.wait_for(reader.connected.wait(), 10)
        await asyncio.sleep(0.5)  # in IDLE now
        dovecot.deliver(mail())
        await asyncio.wait_for(recorder.arrived.wait(), 5)
        assert recorder.seen == [1]
    finally:
        await reader.stop()
    assert not reader.running


async def test_a_wrong_password_is_retried_without_crashing(dovecot: Dovecot) -> None:
    from bot.mail_in.reader import ImapConfig, MailReader

    reader = MailReader(
        ImapConfig("127.0.0.1", dovecot.port, USER, "wrong", retry_first=0.1), Recorder()
    )
    reader.start()
    await asyncio.sleep(1)
    assert reader.running and not reader.connected.is_set()
    await reader.stop()


@pytest.fixture
def dovecot_tls() -> Iterator[Dovecot]:
    """A Dovecot with a self-signed certificate: IMAPS, and STARTTLS on the plain port."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (the test's certificate)")
    yield from running_dovecot(tls=True)


@pytest.mark.parametrize("security", [SmtpSecurity.TLS, SmtpSecurity.STARTTLS])
async def test_the_reader_speaks_tls_and_starttls(
    dovecot_tls: Dovecot, security: SmtpSecurity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IMAP_SECURITY=tls and starttls: the server's certificate is checked (the test trusts
    its own through SSL_CERT_FILE, as a school would install its CA)."""
    from bot.mail_in.reader import ImapConfig, MailReader

    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot_tls.certificate))
    port = dovecot_tls.tls_port if security == SmtpSecurity.TLS else dovecot_tls.port
    dovecot_tls.deliver(mail())
    recorder = Recorder()
    reader = MailReader(ImapConfig("127.0.0.1", port, USER, PASSWORD, security), recorder)
    reader.start()
    try:
        await asyncio.wait_for(recorder.arrived.wait(), 10)
    finally:
        await reader.stop()
    assert recorder.seen == [1]


async def test_an_untrusted_certificate_is_refused(dovecot_tls: Dovecot) -> None:
    from bot.mail_in.reader import ImapConfig, MailReader

    dovecot_tls.deliver(mail())
    recorder = Recorder()
    config = ImapConfig(
        "127.0.0.1", dovecot_tls.tls_port, USER, PASSWORD, SmtpSecurity.TLS, retry_first=0.1
    )
    reader = MailReader(config, recorder)
    reader.start()
    await asyncio.sleep(1.5)
    await reader.stop()
    assert recorder.seen == []


async def test_old_mail_of_a_mailbox_read_for_the_first_time_is_left_alone(
    dovecot: Dovecot,
) -> None:
    """The bot pointed at a mailbox with years of mail answers only the last days' messages."""
    import imaplib
    import time

    from bot.mail_in.reader import ImapConfig, MailReader

    with dovecot.client() as client:
        old = imaplib.Time2Internaldate(time.time() - 30 * 86400)
        client.append("INBOX", None, old, mail(message_id="<old@example.org>"))
    dovecot.deliver(mail(message_id="<new@example.org>"))
    recorder = Recorder()
    reader = MailReader(ImapConfig("127.0.0.1", dovecot.port, USER, PASSWORD), recorder)
    reader.start()
    try:
        await asyncio.wait_for(recorder.arrived.wait(), 10)
        await asyncio.sleep(0.5)
    finally:
        await reader.stop()
    assert recorder.seen == [2]
