"""The durable outbox end to end: e-mails written with the step that causes them and sent by the
application's worker — through an SMTP outage, a hung SMTP server, a SIGKILL of the real
``run_bot.py`` — owed deletions retried, and e-mails limited per address and per account."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.outbox.senders import STAFF_NOTICE
from bot.sandbox.bot_api_server import BotApiError, LocalBotApi
from bot.sandbox.mailbox import Mailbox
from storage.outbox import NewOutboxItem, OutboxKind, OutboxStatus

from chat import Chat
from conftest import BotHarness, last_code
from test_kill_restart import PROJECT, BotProcess, real_bot_env, turn
from test_recovery import activate_by_email

QUEUED = "partira dans quelques instants"
NEW_PASSWORD = "Train-Bleu-Montagne-7"


class HungSmtpServer:
    """Accepts TCP connections on a port and never answers (a hung SMTP server)."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self, port: int = 0) -> int:
        async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.writers.append(writer)

        self.server = await asyncio.start_server(hold, "127.0.0.1", port)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def outbox_cli(harness: BotHarness, *args: str) -> tuple[int, str]:
    """``python run_bot.py outbox …`` on the bot's database, as staff run it."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_"))},
        "DATABASE_PATH": str(harness.settings.database_path),
        "SERVER_SECRET_FILE": str(harness.settings.server_secret_file),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "run_bot.py",
        "outbox",
        *args,
        cwd=PROJECT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_smtp_down_then_back_every_mail_arrives(harness: BotHarness) -> None:
    await activate_by_email(harness, 5001, "paul.durand", "Rm2-Hv8n-Zcw")
    before = len(harness.mailbox.mails)
    port = harness.mailbox.port
    harness.mailbox.stop()

    lea = Chat(harness, 5002)
    await lea.walk_to_email("lea.martin", "Xq7-Tb4k-Wpz")
    told = await lea.say("lea@example.org")
    assert QUEUED in told.text and "code à 8 chiffres" in told.text
    assert "n'a pas pu partir" not in told.text
    paul = Chat(harness, 5003)
    await paul.say("/motdepasse")
    await paul.say("paul.durand")
    sent = await paul.press("adresse e-mail")
    assert "Si ce compte a une adresse e-mail de secours" in sent.text
    await asyncio.sleep(0.3)  # a few failed attempts
    assert len(harness.mailbox.mails) == before

    code, shown = await outbox_cli(harness, "--json")
    figures = json.loads(shown)
    assert code == 0 and figures["pending"] == 2 and figures["retrying"] == 2
    assert figures["oldest_pending_at"] and figures["last_error"]
    code, text = await outbox_cli(harness)
    assert code == 0 and "En attente" in text and "Dernière erreur" in text
    for leak in ("lea@example.org", "x@example.org", "Léa", "Paul"):
        assert leak not in shown and leak not in text

    harness.mailbox.start("127.0.0.1", port)
    await harness.mailbox.wait_for(before + 2)
    recipients = {mail.recipients for mail in harness.mailbox.mails[before:]}
    assert recipients == {("lea@example.org",), ("x@example.org",)}
    lea_mail = next(m for m in harness.mailbox.mails if m.recipients == ("lea@example.org",))
    await lea.say_secret(last_code_of(lea_mail.text))
    assert "Étape 4" in (await lea.last()).text
    await harness.services.outbox.drain()
    figures = json.loads((await outbox_cli(harness, "--json"))[1])
    assert figures["pending"] == 0 and figures["sent_last_day"] >= 3


def last_code_of(text: str) -> str:
    """The 8-digit code of an e-mail's text."""
    match = re.search(r"\b(\d{8})\b", text)
    assert match
    return match.group(1)


async def test_a_hung_smtp_server_does_not_keep_the_user_waiting(harness: BotHarness) -> None:
    port = harness.mailbox.port
    harness.mailbox.stop()
    hung = HungSmtpServer()
    await hung.start(port)
    chat = Chat(harness, 5101)
    await chat.walk_to_email("sam.roux", "Nt9-Bw6q-Kyv")
    assert QUEUED in (await chat.say("sam@example.org")).text
    await hung.stop()
    harness.mailbox.start("127.0.0.1", port)
    mail = await harness.mailbox.wait_for(1, timeout=30)
    assert mail.recipients == ("sam@example.org",)
    await chat.say_secret(last_code(harness.mailbox))
    assert "Étape 4" in (await chat.last()).text


async def test_the_password_changed_notice_survives_an_outage(harness: BotHarness) -> None:
    await activate_by_email(harness, 5201, "lea.martin", "Xq7-Tb4k-Wpz")
    chat = Chat(harness, 5202)
    await chat.say("/motdepasse")
    await chat.say("lea.martin")
    count = len(harness.mailbox.mails) + 1
    await chat.press("adresse e-mail")
    mail = await harness.mailbox.wait_for(count)
    port = harness.mailbox.port
    harness.mailbox.stop()
    await chat.say_secret(last_code_of(mail.text))
    await chat.say_secret(NEW_PASSWORD)
    await chat.say_secret(NEW_PASSWORD)
    assert "Mot de passe changé" in (await chat.last()).text
    await asyncio.sleep(0.3)
    assert len(harness.mailbox.mails) == count
    harness.mailbox.start("127.0.0.1", port)
    notice = await harness.mailbox.wait_for(count + 1)
    assert "a été changé" in notice.subject and notice.recipients == ("x@example.org",)
    assert NEW_PASSWORD not in notice.text


async def test_thirty_recoveries_send_at_most_the_limit(harness: BotHarness) -> None:
    await activate_by_email(harness, 5301, "lea.martin", "Xq7-Tb4k-Wpz")
    before = len(harness.mailbox.mails)
    attacker = Chat(harness, 5302)
    replies = set()
    for _ in range(30):  # as fast as the bot answers: one e-mail a minute per address
        await attacker.restart("/motdepasse")
        await attacker.say("lea.martin")
        replies.add((await attacker.press("adresse e-mail")).text)
    await harness.services.outbox.drain()
    assert len(harness.mailbox.mails) == before + 1
    # one round a minute, from 30 Telegram users (one person is capped at their own ten
    # requests a day, issue 29.6): the daily cap per mailbox and account
    for index in range(30):
        harness.clock.advance(seconds=61)
        other = Chat(harness, 5310 + index)
        await other.restart("/motdepasse")
        await other.say("lea.martin")
        replies.add((await other.press("adresse e-mail")).text)
    await harness.services.outbox.drain()
    cap = harness.settings.max_mails_per_address_per_day
    # the activation's e-mail to the same address counts too (same address, same account)
    assert len(harness.mailbox.mails) == cap
    assert all(mail.recipients == ("x@example.org",) for mail in harness.mailbox.mails)
    assert len(replies) == 1, "the answer never tells that nothing left"


async def test_a_forged_send_button_does_not_skip_the_cooldown(harness: BotHarness) -> None:
    chat = Chat(harness, 5401)
    await chat.walk_to_email("lea.martin", "Xq7-Tb4k-Wpz")
    sent = await chat.say("lea@example.org")
    await harness.mailbox.wait_for(1)
    nonce = chat.nonce_of(sent)
    for _ in range(5):
        await chat.press_data(sent.message_id, f"em:send:{nonce}")
        answer = await chat.last()
        assert "Vous pourrez en demander un autre" in answer.text
    await harness.services.outbox.drain()
    assert len(harness.mailbox.mails) == 1
    await chat.say_secret(last_code(harness.mailbox))
    assert "Étape 4" in (await chat.last()).text


async def test_a_failed_delete_of_a_secret_is_retried(
    harness: BotHarness, bot_api: LocalBotApi
) -> None:
    chat = Chat(harness, 5501)
    await chat.walk_to_provisional("lea.martin")
    bot_api.failing_methods["deletemessage"] = BotApiError(502, "Bad Gateway")
    await chat.say_secret("Xq7-Tb4k-Wpz")
    assert "Acceptez-vous" in "".join(m.text for m in await chat.replies())
    secret_id = chat.secret_message_ids[-1]
    assert secret_id not in chat.user.deleted_message_ids
    del bot_api.failing_methods["deletemessage"]
    async with asyncio.timeout(10):
        while secret_id not in chat.user.deleted_message_ids:
            await harness.services.outbox.drain()
            await asyncio.sleep(0.05)
    chat.assert_secrets_deleted()


@pytest_asyncio.fixture
async def bot_env(tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox) -> dict[str, str]:
    """The environment of a real ``run_bot.py`` with the test accounts imported."""
    return await real_bot_env(
        tmp_path,
        bot_api,
        mailbox,
        OUTBOX_REPLY_WAIT_SECONDS="0.5",
        OUTBOX_RETRY_FIRST_SECONDS="0.1",
        OUTBOX_RETRY_MAX_SECONDS="0.5",
    )


@pytest_asyncio.fixture
async def hung_smtp() -> AsyncIterator[HungSmtpServer]:
    server = HungSmtpServer()
    yield server
    await server.stop()


async def test_sigkill_between_commit_and_send_then_sent_after_restart(
    bot_env: dict[str, str], bot_api: LocalBotApi, mailbox: Mailbox, hung_smtp: HungSmtpServer
) -> None:
    hung_port = await hung_smtp.start()
    process = BotProcess({**bot_env, "SMTP_PORT": str(hung_port)})
    await process.start()
    try:
        user = bot_api.user(4343, first_name="Léa")
        await turn(user, user.send_text("/activer"), "identifiant")
        await turn(user, user.send_text("lea.martin"), "provisoire")
        await turn(user, user.send_text("Xq7-Tb4k-Wpz"), "Acceptez-vous")
        await turn(user, user.press("J'accepte"), "Étape 3")
        await turn(user, user.press("e-mail"), "adresse e-mail personnelle")
        # committed, and its first attempt hangs on the SMTP server: killed before the send
        await turn(user, user.send_text("lea@example.org"), QUEUED)
        assert hung_smtp.writers, "the first attempt reached the SMTP server"
        await process.kill()
        assert mailbox.mails == []

        process = BotProcess(bot_env)  # back with a working SMTP server
        await process.start()
        mail = await mailbox.wait_for(1, timeout=30)
        assert mail.recipients == ("lea@example.org",)
        await turn(user, user.send_text(last_code_of(mail.text)), "Étape 4")
    finally:
        stderr = await process.stop()
    assert b"Xq7-Tb4k-Wpz" not in stderr


async def test_a_delivery_the_database_cannot_note_is_not_sent_again(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent, but the database refuses the « sent » note (full disk, read-only remount): the
    worker notes it later and never sends it a second time. (It refuses from the moment the
    row is marked in flight: a database that refuses that mark sends nothing.)"""
    outbox = harness.services.outbox
    user = harness.server.user(5401)
    item = NewOutboxItem(
        kind=OutboxKind.TELEGRAM_MESSAGE,
        template=STAFF_NOTICE,
        params={"chat_id": 5401, "text": "Une note pour l'équipe"},
        created_at=harness.clock(),
        expires_at=harness.clock() + timedelta(days=1),
    )
    await outbox.repository.add([item])
    assert item.id is not None
    writer = harness.services.database.connection
    mark_in_flight = outbox.repository.mark_in_flight

    async def then_refuse(item_id: int, at: datetime) -> None:
        await mark_in_flight(item_id, at)
        await writer.execute("PRAGMA query_only = ON")  # every write refused from now on

    monkeypatch.setattr(outbox.repository, "mark_in_flight", then_refuse)

    def received() -> int:
        return sum(1 for m in user.visible_messages() if m.from_bot)

    try:
        outbox.kick(item)
        await harness.server.wait_until(lambda: received() == 1)
        await asyncio.sleep(2.5)  # the worker tries again meanwhile (retry_first: 2 s)
        assert received() == 1
        assert (await outbox.repository.get(item.id)).status == OutboxStatus.PENDING
    finally:
        await writer.execute("PRAGMA query_only = OFF")
    for _ in range(400):  # noted at the next try (within retry_first)
        if (await outbox.repository.get(item.id)).status == OutboxStatus.SENT:
            break
        await asyncio.sleep(0.05)
    assert (await outbox.repository.get(item.id)).status == OutboxStatus.SENT
    assert received() == 1
