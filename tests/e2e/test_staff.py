"""Staff end to end: /stats and /compte for the Telegram ids of STAFF_TELEGRAM_IDS only, and the
reactivation of an account after a staff reset, through the real Application, the local Bot
API server, a real SMTP server and a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from bot import texts
from bot.staff.service import StaffService
from bot.texts import staff as staff_texts
from storage.accounts import AccountStatus

from chat import Chat
from conftest import BotHarness, last_code
from support import GOOD_PASSWORD

STAFF_ID = 9001
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest_asyncio.fixture
async def staff_harness(harness: BotHarness) -> AsyncIterator[BotHarness]:
    """The harness's bot restarted with one staff member in its settings."""
    await harness.stop()
    harness.settings = harness.settings.model_copy(update={"staff_telegram_ids": [STAFF_ID]})
    await harness.start()
    yield harness


def staff_service(harness: BotHarness) -> StaffService:
    """The staff code path (as ``run_bot.py accounts …`` uses it) over the bot's database."""
    return harness.services.staff


async def test_stats_shows_the_funnel_as_text_and_chart(staff_harness: BotHarness) -> None:
    await Chat(staff_harness, 2002).walk_to_cgu("paul.durand", "Rm2-Hv8n-Zcw")
    staff = Chat(staff_harness, STAFF_ID, "Équipe")
    await staff.send("/stats")
    replies = await staff.replies()
    text = next(m for m in replies if m.kind == "text")
    assert "Importés : 4 (100 %)" in text.text
    assert "Activation commencée : 1 (25 %)" in text.text
    assert "Actifs : 0 (0 %)" in text.text
    photo = next(m for m in replies if m.kind == "photo")
    assert photo.photo_bytes is not None and photo.photo_bytes.startswith(PNG_MAGIC)
    assert photo.text == staff_texts.STAFF_CHART_CAPTION


async def test_compte_shows_an_account_like_show(staff_harness: BotHarness) -> None:
    staff = Chat(staff_harness, STAFF_ID)
    shown = await staff.say("/compte LEA.MARTIN")
    assert "lea.martin" in shown.text and "à activer" in shown.text
    assert "pas commencée" in shown.text and "$argon2" not in shown.text
    assert "Aucun compte" in (await staff.say("/compte nobody")).text
    assert "/compte IDENTIFIANT" in (await staff.say("/compte")).text


async def test_staff_commands_are_refused_to_anyone_else(staff_harness: BotHarness) -> None:
    names = [command["command"] for command in staff_harness.server.commands]
    assert "stats" not in names and "compte" not in names

    user = Chat(staff_harness, 2003)
    normal = (await user.say("/inconnue")).text
    assert texts.OUTSIDE_FLOW.split("\n")[0] in normal
    assert (await user.say("/stats")).text == normal
    assert (await user.say("/compte lea.martin")).text == normal
    assert not any(m.kind == "photo" for m in user.user.messages)

    # In the middle of a procedure too: the unknown-command answer and the current step.
    await user.walk_to_provisional("lea.martin")
    await user.send("/inconnue")
    normal_in_flow = [m.text for m in await user.replies()]
    assert texts.UNKNOWN_COMMAND in normal_in_flow[0]
    await user.send("/stats")
    assert [m.text for m in await user.replies()] == normal_in_flow
    await user.send("/compte lea.martin")
    assert [m.text for m in await user.replies()] == normal_in_flow


async def test_reactivation_after_a_staff_reset(staff_harness: BotHarness) -> None:
    harness = staff_harness
    user = Chat(harness, 2001)
    # First activation, with the secret questions.
    await user.walk_to_recovery("sam.roux", "Nt9-Bw6q-Kyv")
    await user.press("questions secrètes")
    await user.press("Question A")
    await user.say_secret("Mon Éléphant")  # typed twice
    await user.say_secret("Mon Éléphant")
    await user.press("Question B")
    await user.say_secret("Tours")  # typed twice
    await user.say_secret("Tours")
    await user.say_secret(GOOD_PASSWORD)
    assert "activé" in (await user.say_secret(GOOD_PASSWORD)).text

    # Staff reset: a new provisional password, the Telegram link kept.
    harness.clock.advance(minutes=5)
    staff = staff_service(harness)
    result = await staff.reset("Sam.Roux", "cli:test-staff")
    assert result is not None and result.generated
    account = await harness.services.activation.ports.directory.find("sam.roux")
    assert account.status == AccountStatus.TO_ACTIVATE and account.telegram_user_id == 2001
    stored = await harness.services.activation.ports.directory.store.password_hashes(account.id)
    assert stored.password_hash is None and account.cgu_version is None
    assert "à activer" in (await Chat(harness, STAFF_ID).say("/compte sam.roux")).text

    # The same user activates again from the letter's link, with the new provisional password.
    harness.clock.advance(minutes=5)
    assert "Tapez votre identifiant" in (await user.say("/start activer")).text
    await user.say("sam.roux")
    await user.say_secret("Nt9-Bw6q-Kyv")  # the first letter's password no longer works
    assert "identifiant" in (await user.last()).text
    await user.say("sam.roux")
    await user.say_secret(result.provisional_password)
    assert any("Conditions Générales" in m.text for m in await user.replies())
    await user.press("J'accepte")
    await user.press("e-mail")
    await user.say("sam@example.org")
    await harness.mailbox.wait_for(1)
    await user.say_secret(last_code(harness.mailbox))
    await user.say_secret(GOOD_PASSWORD)
    assert "activé" in (await user.say_secret(GOOD_PASSWORD)).text
    user.assert_secrets_deleted()

    account = await harness.services.activation.ports.directory.find("sam.roux")
    assert account.status == AccountStatus.ACTIVE and account.email == "sam@example.org"
    events = [event.event for event in await staff.history("sam.roux") or []]
    assert events == [
        "imported",
        "activation_started",
        "cgu_accepted",
        "questions_set",
        "password_set",
        "reset",
        "activation_started",
        "cgu_accepted",
        "email_verified",
        "password_set",
    ]
    history = await staff.history("sam.roux") or []
    assert next(e for e in history if e.event == "reset").actor == "cli:test-staff"
    accepted = [e for e in history if e.event == "cgu_accepted"]
    assert all(e.details.startswith("version=") and e.actor == "telegram:2001" for e in accepted)
    report = await staff.report("sam.roux")
    assert report is not None and report.step == "active" and report.recovery == "email"
