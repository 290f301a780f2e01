"""What the bot decides for one incoming e-mail (bot/mail_in/service.py), over a real database
and without any channel: who is answered, with what, and who never is."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.mail_in.service import MailInService, MailInSettings
from bot.school import SchoolConfig
from bot.security import KeyedHasher
from storage.db import Database
from storage.mail_in import MailInRepository, MailOutcome
from storage.outbox import NewOutboxItem, OutboxRepository

from support import MutableClock

INBOUND = "activation@lycee.example"


class Kicks:
    """The outbox as the service sees it: items kicked after their commit."""

    def __init__(self) -> None:
        self.items: list[NewOutboxItem] = []

    def kick(self, item: NewOutboxItem) -> None:
        self.items.append(item)


def mail(sender: str, body: str = "Bonjour", *headers: str, subject: str = "Question") -> bytes:
    lines = [f"From: {sender}", f"To: {INBOUND}", f"Subject: {subject}", *headers, "", body]
    return "\r\n".join(lines).encode()


@pytest.fixture
def kicks() -> Kicks:
    return Kicks()


@pytest.fixture
def service(
    database: Database, kicks: Kicks, school: SchoolConfig, keyed: KeyedHasher, clock: MutableClock
) -> MailInService:
    return MailInService(
        MailInRepository(database),
        kicks,
        school,
        keyed,
        clock,
        MailInSettings(
            inbound_email=INBOUND,
            authserv_id="mx.lycee.example",
            answers_per_day=2,
            own_addresses=frozenset({INBOUND, "no-reply@example.org"}),
        ),
    )


async def test_a_person_gets_one_answer_with_the_matching_quick_answer(
    service: MailInService, kicks: Kicks, database: Database
) -> None:
    body = (
        "Bonjour, je n'ai pas reçu l'e-mail.\n\n"
        "Le lun. 7 déc. 2026 à 10:00, ENT <no-reply@example.org> a écrit :\n"
        "> Mon mot de passe provisoire ne marche pas\n"
    )
    raw = mail("Léa <lea@example.org>", body, "Message-ID: <m1@example.org>")
    assert await service.handle(7, 1, raw) == MailOutcome.ANSWERED
    # The same UID again (a replay after a crash): nothing more.
    assert await service.handle(7, 1, raw) is None
    assert len(kicks.items) == 1
    stored = await OutboxRepository(database).get(kicks.items[0].id or 0)
    assert stored is not None and stored.template == "mail_answer"
    values = stored.params["values"]
    # The person's words, not the quoted e-mail, chose the answer.
    assert values["quick_titre"] == "Je n'ai pas reçu l'e-mail"
    assert values["telegram_link"] == ""  # no Telegram running
    assert stored.params["in_reply_to"] == "<m1@example.org>"
    assert stored.params["to"] == "lea@example.org"


async def test_the_telegram_link_when_the_bot_runs_there(
    service: MailInService, kicks: Kicks, database: Database
) -> None:
    service.bot_username = "ent_bot"
    await service.handle(7, 1, mail("lea@example.org"))
    stored = await OutboxRepository(database).get(kicks.items[0].id or 0)
    assert stored is not None
    assert stored.params["values"]["telegram_link"] == "https://t.me/ent_bot"


@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        (mail(INBOUND), MailOutcome.OWN),
        (mail("ENT <No-Reply@Example.org>"), MailOutcome.AUTOMATIC),
        (mail("not an address"), MailOutcome.NO_SENDER),
        (mail("lea@example.org", "x", "Auto-Submitted: auto-replied"), MailOutcome.AUTOMATIC),
        (
            mail("lea@example.org", "x", "Authentication-Results: mx.lycee.example; dmarc=fail"),
            MailOutcome.UNVERIFIED,
        ),
        (
            mail("lea@example.org", "x", "Authentication-Results: mx.other.example; dmarc=fail"),
            MailOutcome.ANSWERED,
        ),
    ],
)
async def test_who_is_never_answered(
    service: MailInService, kicks: Kicks, raw: bytes, outcome: MailOutcome
) -> None:
    assert await service.handle(7, 1, raw) == outcome
    assert len(kicks.items) == (1 if outcome == MailOutcome.ANSWERED else 0)


async def test_the_cap_per_address_and_its_window(
    service: MailInService, kicks: Kicks, clock: MutableClock
) -> None:
    outcomes = [
        await service.handle(7, uid, mail(sender))
        for uid, sender in enumerate(
            ["a@example.org", "A@EXAMPLE.org", "a@example.org", "b@example.org"], start=1
        )
    ]
    assert outcomes == [
        MailOutcome.ANSWERED,
        MailOutcome.ANSWERED,
        MailOutcome.CAPPED,
        MailOutcome.ANSWERED,
    ]
    clock.advance(hours=24, seconds=1)
    assert await service.handle(7, 5, mail("a@example.org")) == MailOutcome.ANSWERED
    assert len(kicks.items) == 4


async def test_a_new_uidvalidity_is_another_mailbox(service: MailInService) -> None:
    await service.handle(7, 1, mail("a@example.org"))
    assert await service.resume_after(7) == 1
    assert await service.resume_after(8) == 0
    assert await service.handle(8, 1, mail("b@example.org")) == MailOutcome.ANSWERED


def test_the_window_is_a_day() -> None:
    from bot.mail_in.service import CAP_WINDOW

    assert timedelta(hours=24) == CAP_WINDOW
