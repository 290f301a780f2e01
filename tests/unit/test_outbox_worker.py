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
