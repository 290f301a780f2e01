"""Caps on code e-mails (issue 29, point 6): counted per mailbox — sub-address removed, case
folded, the provider's dot rule where it is known — per person and per target account, so
that ``victim+1@``, ``victim+2@``… are one mailbox. The real Application, real SMTP, real
SQLite file."""

from __future__ import annotations

from chat import Chat
from conftest import BotHarness

PROVISIONAL = {"lea.martin": "Xq7-Tb4k-Wpz", "paul.durand": "Rm2-Hv8n-Zcw"}


async def test_plus_addresses_and_gmail_dots_count_as_one_mailbox(harness: BotHarness) -> None:
    """Two people, two accounts, twelve spellings of one Gmail mailbox: the mailbox's cap of
    ten holds (each person and each account stays under its own cap)."""
    cap = harness.settings.max_mails_per_address_per_day
    spellings = [f"Vic.Tim+{n}@gmail.com" for n in range(6)] + [
        f"v.i.c.t.i.m+{n}@googlemail.com" for n in range(6)
    ]
    sent_to: list[str] = []
    for user, who in ((7101, "lea.martin"), (7102, "paul.durand")):
        chat = Chat(harness, user)
        await chat.walk_to_email(who, PROVISIONAL[who])
        for _ in range(6):
            address = spellings.pop(0)
            before = len(harness.mailbox.mails)
            await chat.say(address)
            await harness.services.outbox.drain()
            harness.clock.advance(seconds=61)
            if len(harness.mailbox.mails) > before:
                sent_to.append(harness.mailbox.mails[-1].recipients[0])
                await chat.press("Changer d'adresse")
            else:  # refused: the address is asked again
                assert "beaucoup d'e-mails" in "".join(m.text for m in await chat.replies())
    assert len(sent_to) == cap
    # the address is used as typed: only the counting is normalised
    assert sent_to[0] == "Vic.Tim+0@gmail.com"


async def test_one_person_gets_at_most_the_cap_whatever_the_mailboxes_and_accounts(
    harness: BotHarness,
) -> None:
    """One Telegram user, two accounts, twelve different mailboxes: the person's cap of ten."""
    chat = Chat(harness, 7201)
    sent = 0
    for who in ("lea.martin", "paul.durand"):
        await chat.restart("/activer")
        await chat.walk_to_email(who, PROVISIONAL[who])
        for n in range(6):
            before = len(harness.mailbox.mails)
            await chat.say(f"{who}.{n}@example.org")
            await harness.services.outbox.drain()
            harness.clock.advance(seconds=61)
            if len(harness.mailbox.mails) > before:
                sent += 1
                await chat.press("Changer d'adresse")
            else:
                assert "beaucoup d'e-mails" in "".join(m.text for m in await chat.replies())
    assert sent == harness.settings.max_mails_per_user_per_day == 10
