"""The outbox without Telegram: a real SQLite file, a mailer that can fail or hang."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import timedelta

from bot.outbox import MailSender, Outbox, OutboxSettings
from bot.outbox.mail import MailDeliveryError, OutgoingMail
from bot.outbox.seeds import code_from_seed, new_seed, token_from_seed
from bot.outbox.templates import VERIFICATION
from bot.procedures.activation import ActivationService, Step
from bot.procedures.kernel import Outcome
from bot.school import SchoolConfig
from bot.security import KeyedHasher
from storage.db import Database
from storage.outbox import NewOutboxItem, OutboxKind, OutboxRepository, OutboxStatus

from conftest import ServiceFactory
from support import MutableClock
from test_activation_service import at_step

FAST = OutboxSettings(retry_first=0.01, retry_max=0.05, stop_grace=0.2)


class Mailer:
    """Records mails; ``fail`` refuses them, ``hang`` never answers."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []
        self.fail = False
        self.hang = False
        self.arrived = asyncio.Event()

    async def send(self, mail: OutgoingMail) -> None:
        if self.hang:
            await asyncio.Event().wait()
        if self.fail:
            raise MailDeliveryError("refused", kind="SMTPConnectError")
        self.sent.append(mail)
        self.arrived.set()


def outbox(
    database: Database,
    mailer: Mailer,
    school: SchoolConfig,
    keyed: KeyedHasher,
    clock: MutableClock,
) -> Outbox:
    return Outbox(
        OutboxRepository(database),
        MailSender(mailer, school, keyed),  # type: ignore[arg-type]
        clock,
        FAST,
    )


def code_mail(clock: MutableClock, seed: str = "s" * 43) -> NewOutboxItem:
    return NewOutboxItem(
        kind=OutboxKind.CODE_MAIL,
        template=VERIFICATION,
        params={
            "to": "lea@example.org",
            "prenom": "Léa",
            "code_length": 8,
            "hours": 48,
            "bot_username": "b",
        },
        seed=seed,
        account_id=None,
        address_key="k",
        created_at=clock(),
        expires_at=clock() + timedelta(hours=48),
    )


def test_code_and_token_come_from_the_seed_and_the_key(keyed: KeyedHasher) -> None:
    seed = new_seed()
    code, token = code_from_seed(keyed, seed, 8), token_from_seed(keyed, seed)
    assert re.fullmatch(r"\d{8}", code) and re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert code == code_from_seed(keyed, seed, 8) and token == token_from_seed(keyed, seed)
    other = KeyedHasher(b"o" * 32)
    assert token_from_seed(other, seed) != token and seed not in (code, token)


async def test_pending_items_of_an_earlier_run_are_sent_at_start(
    database: Database, school: SchoolConfig, keyed: KeyedHasher, clock: MutableClock
) -> None:
    mailer = Mailer()
    box = outbox(database, mailer, school, keyed, clock)
    await box.repository.add([code_mail(clock)])  # committed, then the process died
    box.start()
    try:
        await asyncio.wait_for(mailer.arrived.wait(), 5)
    finally:
        await box.stop()
    assert mailer.sent[0].to == "lea@example.org"
    (row,) = await database.fetch_all("SELECT status, seed, params FROM outbox")
    assert tuple(row) == (OutboxStatus.SENT, None, "{}")


async def test_failures_are_retried_until_the_server_is_back(
    database: Database, school: SchoolConfig, keyed: KeyedHasher, clock: MutableClock
) -> None:
    mailer = Mailer()
    mailer.fail = True
    box = outbox(database, mailer, school, keyed, clock)
    item = code_mail(clock)
    await box.repository.add([item])
    box.start()
    try:
        assert item.id is not None
        assert not await box.attempt(item.id, 1)
        await asyncio.sleep(0.2)
        stats = await box.repository.stats(clock(), clock() - timedelta(days=1))
        assert stats.pending == 1 and stats.retrying == 1 and stats.last_error == "SMTPConnectError"
        mailer.fail = False
        await asyncio.wait_for(mailer.arrived.wait(), 5)
    finally:
        await box.stop()
    (row,) = await database.fetch_all("SELECT status, attempts FROM outbox")
    assert row["status"] == OutboxStatus.SENT and row["attempts"] >= 2


async def test_an_expired_item_is_given_up_and_wiped(
    database: Database, school: SchoolConfig, keyed: KeyedHasher, clock: MutableClock
) -> None:
    mailer = Mailer()
    box = outbox(database, mailer, school, keyed, clock)
    item = code_mail(clock)
    await box.repository.add([item])
    clock.advance(hours=49)
    assert item.id is not None and not await box.attempt(item.id, 5)
    assert mailer.sent == []
    (row,) = await database.fetch_all("SELECT status, seed, params FROM outbox")
    assert tuple(row) == (OutboxStatus.GIVEN_UP, None, "{}")


async def test_stop_does_not_hang_on_a_hung_server_and_the_item_stays_pending(
    database: Database, school: SchoolConfig, keyed: KeyedHasher, clock: MutableClock
) -> None:
    mailer = Mailer()
    mailer.hang = True
    box = outbox(database, mailer, school, keyed, clock)
    item = code_mail(clock)
    await box.repository.add([item])
    box.start()
    assert item.id is not None and not await box.attempt(item.id, 0.1)
    await asyncio.wait_for(box.stop(), 5)
    (row,) = await database.fetch_all("SELECT status FROM outbox")
    assert row["status"] == OutboxStatus.PENDING


async def test_an_account_gets_at_most_its_cap_whatever_the_address(
    make_service: ServiceFactory,
) -> None:
    service: ActivationService = await make_service(ActivationService)
    service.ports.settings = dataclasses.replace(service.ports.settings, max_mails_per_account=3)
    outcomes = []
    for user in range(1, 6):  # five procedures, five addresses, one account
        session = await at_step(service, user, Step.EMAIL_CONFIRM)
        outcomes.append((await service.send_verification(session, "b")).outcome)
    assert outcomes == [Outcome.SENT] * 3 + [Outcome.RESEND_LIMIT] * 2


# --- Telegram items whose outcome is unknown (issue 29.1) -----------------------------------


class FakeBot:
    """A Bot standing in for Telegram: ``send_message`` raises ``errors`` in turn, then works."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.sent: list[str] = []
        self.copies = 0

    async def send_message(self, chat_id: int, text: str, **_: object) -> object:
        self.sent.append(text)
        if self.errors:
            raise self.errors.pop(0)
        return type("Message", (), {"message_id": len(self.sent)})()

    async def copy_message(self, **_: object) -> object:
        self.copies += 1
        return type("Message", (), {"message_id": 100})()


class Topics:
    """Keeps what a relay's card and copy became."""

    def __init__(self) -> None:
        self.before: dict[int, int] = {}
        self.copies: dict[int, int] = {}

    async def posted_before(self, relay_id: int, message_id: int) -> None:
        self.before[relay_id] = message_id

    async def before_posted(self, relay_id: int) -> bool:
        return relay_id in self.before

    async def copied(self, relay_id: int, chat_id: int, message_id: int) -> None:
        self.copies[relay_id] = message_id


def telegram_item(template: str, **params: object) -> object:
    from datetime import UTC, datetime

    from storage.outbox import OutboxItem

    now = datetime.now(UTC)
    return OutboxItem(
        1, OutboxKind.TELEGRAM_MESSAGE, template, dict(params), None, None,
        OutboxStatus.PENDING, now, now + timedelta(days=1), 0, None,
    )  # fmt: skip


async def test_a_staff_notice_that_timed_out_is_given_up_as_uncertain() -> None:
    import pytest
    from telegram.error import NetworkError, TimedOut

    from bot.outbox.senders import DeliveryError, TelegramSender
    from bot.outbox.templates import STAFF_NOTICE

    sender = TelegramSender(FakeBot(TimedOut()))  # type: ignore[arg-type]
    with pytest.raises(DeliveryError) as raised:
        await sender.send(telegram_item(STAFF_NOTICE, chat_id=5, text="Avis"))  # type: ignore[arg-type]
    assert raised.value.permanent and raised.value.kind == "Incertain:TimedOut"
    # An answer that proves it did not leave (a 502): tried again later.
    sender = TelegramSender(FakeBot(NetworkError("Bad Gateway")))  # type: ignore[arg-type]
    with pytest.raises(DeliveryError) as raised:
        await sender.send(telegram_item(STAFF_NOTICE, chat_id=5, text="Avis"))  # type: ignore[arg-type]
    assert not raised.value.permanent and raised.value.kind == "NetworkError"


async def test_a_relay_card_that_timed_out_is_not_posted_again_and_the_copy_leaves() -> None:
    from telegram.error import TimedOut

    from bot.outbox.senders import TelegramSender
    from bot.outbox.templates import RELAY_COPY

    bot, topics = FakeBot(TimedOut()), Topics()
    sender = TelegramSender(bot, topics)  # type: ignore[arg-type]
    item = telegram_item(
        RELAY_COPY, chat_id=5, text="Carte", relay_id=7, copy={"from_chat_id": 1, "message_id": 2}
    )
    await sender.send(item)  # type: ignore[arg-type]
    assert bot.sent == ["Carte"] and bot.copies == 1
    assert topics.before == {7: 0} and topics.copies == {7: 100}
