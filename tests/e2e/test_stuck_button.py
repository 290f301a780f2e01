"""« 🆘 Je bloque » under every prompt of a procedure (README « Aide »), one name and one behaviour
(issue 22.12): the letter's QR code prompt has it, and a secret held back as a question offers it
alone, not a second 🆘 button that did something else."""

from __future__ import annotations

from typing import Any

from bot.texts import support as support_texts

from chat import Chat
from conftest import BotHarness
from support import GOOD_PASSWORD

LEA, LEA_PROVISIONAL = "lea.martin", "Xq7-Tb4k-Wpz"


def sos_buttons(message: Any) -> list[tuple[str, str]]:
    """The message's 🆘 buttons: (label, action) with the nonce cut off."""
    return [
        (button["text"], str(button["callback_data"]).rsplit(":", 1)[0])
        for row in message.buttons
        for button in row
        if "🆘" in button["text"]
    ]


def in_help(message: Any) -> bool:
    """A screen of the help itself (it has « Reprendre »)."""
    return any(
        str(b.get("callback_data", "")).startswith("sos:back") for r in message.buttons for b in r
    )


class CheckedChat(Chat):
    """A chat in which the bot's last message of every turn, while a procedure is open (and
    outside the help's own screens), ends with the one « 🆘 Je bloque » button."""

    async def last(self) -> Any:
        message = await super().last()
        session = await self.harness.services.ports.sessions.get(self.user_id)
        if session is not None and not in_help(message):
            assert sos_buttons(message) == [(support_texts.BUTTON_STUCK, "sos:open")], (
                session.step,
                message.text,
            )
        return message


async def test_every_prompt_from_a_letter_s_qr_code_to_active_has_je_bloque(
    harness: BotHarness,
) -> None:
    staff = harness.services.staff
    letters = await staff.prepare_letters(await staff.accounts_for_letters())
    await staff.commit_letters(letters, "test:letters", "courriers.pdf")
    lea = next(letter for letter in letters if letter.account.identifiant == LEA)
    chat = CheckedChat(harness, 2201)
    recognised = await chat.say(f"/start {lea.token}")  # the letter's QR code, scanned
    assert "Courrier reconnu" in recognised.text
    menu = await chat.press("Je bloque")
    assert "Quel est le problème" in menu.text
    back = await chat.press("Reprendre")
    assert "provisoire" in back.text
    await chat.say_secret(lea.provisional_password)
    await chat.press("J'accepte")
    await chat.press("e-mail")
    count = len(harness.mailbox.mails)
    await chat.say("lea@example.org")
    mail = await harness.mailbox.wait_for(count + 1)
    await chat.say(f"/start {mail.deep_link_payload()}")  # the e-mail's link, opened
    await chat.say_secret(GOOD_PASSWORD)
    done = await chat.say_secret(GOOD_PASSWORD)
    assert "Compte activé" in done.text
    chat.assert_secrets_deleted()


async def test_a_secret_held_back_offers_one_sos_button_the_same_everywhere(
    harness: BotHarness,
) -> None:
    """« comment on fait ? » at the password step is held back; the question under it has
    « ✅ Oui, c'était bien ça » and « 🆘 Je bloque », which opens the help menu like under any
    prompt; « Reprendre » returns to the password step, which is kept."""
    chat = CheckedChat(harness, 2202)
    await chat.walk_to_password(LEA, LEA_PROVISIONAL)
    held = await chat.say_secret("comment on fait ?")
    assert "pas enregistrée" in held.text
    assert any("c'était bien ça" in label for label in chat.labels(held))
    menu = await chat.press("Je bloque")
    assert "Quel est le problème" in menu.text
    back = await chat.press("Reprendre")
    assert "mot de passe" in back.text
    session = await harness.services.ports.sessions.get(2202)
    assert session is not None and session.new_password_hash is None
    await chat.say_secret(GOOD_PASSWORD)
    done = await chat.say_secret(GOOD_PASSWORD)
    assert "Compte activé" in done.text
    chat.assert_secrets_deleted()
