"""The cap on identifiers one Telegram user may try (issue 22, point 9): « Supprimer mes
données » deletes the link to the account, never the security trace of the identifiers tried,
so the linked account's identifier keeps counting for its 24 hours, whatever the way the sixth
identifier comes in (typed in /activer or /motdepasse, or a letter's QR code). The real
Application, real SMTP, a real SQLite file."""

from __future__ import annotations

from chat import Chat
from conftest import BotHarness
from support import GOOD_PASSWORD

TOO_MANY = "trop d'identifiants"


async def delete_my_data(chat: Chat) -> None:
    await chat.say("/moncompte")
    await chat.press("Supprimer mes données")
    assert "24 heures" in (await chat.press("Oui, supprimer")).text


async def test_the_linked_account_keeps_counting_after_delete_my_data(
    harness: BotHarness,
) -> None:
    staff = harness.services.staff
    letters = await staff.prepare_letters(await staff.accounts_for_letters())
    await staff.commit_letters(letters, "test:letters", "courriers.pdf")
    sam = next(letter for letter in letters if letter.account.identifiant == "sam.roux")
    chat = Chat(harness, 8901)
    for n in range(2):  # two identifiers by /motdepasse, two by /activer
        await chat.restart("/motdepasse")
        await chat.say(f"inconnu.mdp.{n}")
        await chat.press("adresse e-mail")
        await chat.restart("/activer")
        await chat.say(f"inconnu.act.{n}")
        await chat.say_secret("Mauvais-Mot-1")
    # the fifth: the account this user activates, linked to them
    lea = next(letter for letter in letters if letter.account.identifiant == "lea.martin")
    await chat.restart("/activer")
    await chat.walk_to_password("lea.martin", lea.provisional_password)
    await chat.say_secret(GOOD_PASSWORD)
    assert "activé" in (await chat.say_secret(GOOD_PASSWORD)).text
    await chat.restart("/activer")
    await chat.say("inconnu.6")
    assert TOO_MANY in (await chat.say_secret("Mauvais-Mot-1")).text

    await delete_my_data(chat)
    account = await harness.services.activation.ports.directory.find("lea.martin")
    assert account.telegram_user_id is None
    # the sixth, every way in: still refused
    await chat.restart("/activer")
    await chat.say("inconnu.6")
    assert TOO_MANY in (await chat.say_secret("Mauvais-Mot-1")).text
    await chat.restart("/motdepasse")
    await chat.say("inconnu.6")
    assert TOO_MANY in (await chat.press("adresse e-mail")).text
    await chat.say(f"/start {sam.token}")
    assert TOO_MANY in (await chat.say_secret(sam.provisional_password)).text
    # the linked account's identifier is still one of the five (typing it again frees nothing)
    await chat.restart("/motdepasse")
    await chat.say("lea.martin")
    assert TOO_MANY not in (await chat.press("adresse e-mail")).text
    await chat.restart("/activer")
    await chat.say("inconnu.6")
    assert TOO_MANY in (await chat.say_secret("Mauvais-Mot-1")).text
    # for 24 hours after the last try: then the trace is gone and so is the cap
    harness.clock.advance(hours=24, seconds=1)
    await chat.restart("/activer")
    await chat.say("inconnu.6")
    assert TOO_MANY not in (await chat.say_secret("Mauvais-Mot-1")).text
