"""Locking as a weapon (issue 12, point 4): anyone who knows an identifier can lock it with 25
wrong guesses, and the lock stays until staff lift it — but the owner still gets in by the code
sent to the verified address (which the attacker lacks), and staff are told once, in Telegram,
that the account locked."""

from __future__ import annotations

from bot.procedures.throttle import identifiant_key

from chat import Chat
from conftest import BotHarness, last_code
from support import GOOD_PASSWORD
from test_recovery import NEW_PASSWORD, activate_by_email, stored_password_is

STAFF_ID = 9101


async def test_the_owner_recovers_a_locked_account_by_e_mail_and_staff_are_told(
    harness: BotHarness,
) -> None:
    await harness.stop()
    harness.settings = harness.settings.model_copy(update={"staff_telegram_ids": [STAFF_ID]})
    await harness.start()
    staff = Chat(harness, STAFF_ID, "Équipe")
    await staff.say("/start")
    await activate_by_email(harness, 6001, "lea.martin", "Xq7-Tb4k-Wpz")

    # five Telegram accounts of the attacker, five guesses each (one chat alone is held by its
    # own delay after five, issue 22.10)
    for attempt in range(harness.settings.failures_before_lock):
        attacker = Chat(harness, 6660 + attempt // 5)
        if attempt % 5 == 0:
            await attacker.say("/activer")
        await attacker.say("lea.martin")
        await attacker.say_secret(f"Devine-{attempt}")
    services = harness.services
    key = identifiant_key(services.activation.ports.keyed, "lea.martin")
    window = services.activation.ports.throttle_policy.window
    counters = await services.activation.ports.throttle.counters(key, harness.clock() - window)
    assert counters.locked_at is not None, "25 wrong guesses lock the identifier"

    await services.outbox.drain()
    notices = [m for m in staff.user.messages if m.from_bot and "bloqué" in m.text]
    assert len(notices) == 1 and "lea.martin" in notices[0].text
    assert "Devine" not in notices[0].text

    owner = Chat(harness, 6001)
    mails_before = len(harness.mailbox.mails)
    await owner.say("/motdepasse")
    await owner.say("lea.martin")
    await owner.press("adresse e-mail")
    await harness.mailbox.wait_for(mails_before + 1)
    reply = await owner.say_secret(last_code(harness.mailbox))
    assert "bloqué" not in reply.text
    await owner.say_secret(NEW_PASSWORD)
    await owner.say_secret(NEW_PASSWORD)
    assert "Mot de passe changé" in (await owner.last()).text
    assert await stored_password_is(harness, "lea.martin", NEW_PASSWORD)
    counters = await services.activation.ports.throttle.counters(key, harness.clock() - window)
    assert counters.locked_at is None, "a successful change lifts the lock"
    assert not await stored_password_is(harness, "lea.martin", GOOD_PASSWORD)
    owner.assert_secrets_deleted()
