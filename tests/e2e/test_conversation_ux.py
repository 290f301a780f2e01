"""The conversation as a new user lives it (issue 14): nothing thrown away without asking, the
identifier kept after a wrong provisional password, an active account recognised, refusals that
name the right rule, questions that read right wherever they land."""

from __future__ import annotations

from bot import texts
from bot.procedures.activation import Step
from bot.procedures.recovery import RecoveryStep

from chat import Chat
from conftest import BotHarness, last_code
from support import GOOD_PASSWORD
from test_recovery import activate_by_email

LEA, LEA_PROVISIONAL = "lea.martin", "Xq7-Tb4k-Wpz"


async def _step(harness: BotHarness, user_id: int) -> str | None:
    session = await harness.services.ports.sessions.get(user_id)
    return session.step if session else None


async def test_a_wrong_provisional_password_asks_only_the_password_again(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 1401)
    await chat.walk_to_provisional(LEA)
    refused = await chat.say_secret("Mauvais-1")
    assert "Retapez le mot de passe provisoire" in refused.text
    assert any("Changer d'identifiant" in label for label in chat.labels(refused))
    assert await _step(harness, 1401) == Step.PROVISIONAL
    # The same answer for an identifier that does not exist.
    other = Chat(harness, 1402)
    await other.walk_to_provisional("personne.inconnue")
    assert (await other.say_secret("Mauvais-1")).text == refused.text
    # The right password now, without typing the identifier again.
    cgu = await chat.say_secret(LEA_PROVISIONAL)
    assert await _step(harness, 1401) == Step.CGU, cgu.text
    chat.assert_secrets_deleted()


async def test_change_identifiant_button(harness: BotHarness) -> None:
    chat = Chat(harness, 1403)
    await chat.walk_to_provisional("lea.martine")
    await chat.say_secret("Mauvais-1")
    asked = await chat.press("Changer d'identifiant")
    assert "identifiant" in asked.text and await _step(harness, 1403) == Step.IDENTIFIANT
    await chat.say(LEA)
    await chat.say_secret(LEA_PROVISIONAL)
    assert await _step(harness, 1403) == Step.CGU


async def test_an_active_account_retried_from_the_same_telegram_is_recognised(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 1404)
    await activate_by_email(harness, 1404, LEA, LEA_PROVISIONAL)
    await chat.walk_to_provisional(LEA)
    reply = await chat.say_secret(LEA_PROVISIONAL)
    assert "déjà activé" in reply.text and "/motdepasse" in reply.text
    assert "/moncompte" in reply.text
    assert await _step(harness, 1404) is None
    # Someone else trying the same identifier gets the usual refusal: nothing is told.
    stranger = Chat(harness, 1405)
    await stranger.walk_to_provisional(LEA)
    assert "déjà activé" not in (await stranger.say_secret(LEA_PROVISIONAL)).text


async def test_commands_that_would_replace_a_procedure_ask_first(harness: BotHarness) -> None:
    chat = Chat(harness, 1406)
    await chat.walk_to_cgu(LEA, LEA_PROVISIONAL)
    for command in ("/activer", "/motdepasse", "/start activer", "/start"):
        asked = await chat.say(command)
        assert asked.text == texts.RESUME_OR_RESTART, command
        assert await _step(harness, 1406) == Step.CGU, command
    # « Reprendre » resumes the activation, not the procedure the command named.
    await chat.press("Reprendre")
    assert await _step(harness, 1406) == Step.CGU
    # « Tout recommencer » after /motdepasse starts the forgotten password.
    await chat.say("/motdepasse")
    await chat.press("Tout recommencer")
    assert await _step(harness, 1406) == RecoveryStep.IDENTIFIANT


async def test_moncompte_in_the_middle_of_a_procedure_shows_its_step(harness: BotHarness) -> None:
    chat = Chat(harness, 1407)
    await chat.walk_to_recovery(LEA, LEA_PROVISIONAL)
    shown = await chat.say("/moncompte")
    assert "tapez /activer" not in shown.text
    assert await _step(harness, 1407) == Step.RECOVERY
    replies = await chat.replies()
    assert texts.MY_ACCOUNT_FINISH_FIRST.strip() in replies[0].text


async def test_help_at_the_cgu_asks_a_question_that_reads_right(harness: BotHarness) -> None:
    chat = Chat(harness, 1408)
    await chat.walk_to_cgu(LEA, LEA_PROVISIONAL)
    await chat.say("/aide")
    question = await chat.last()
    assert "ci-dessus" not in question.text
    assert "Conditions Générales d'Utilisation" in question.text
    assert any("Relire" in label for label in chat.labels(question))


async def test_a_refused_password_names_the_first_name_only(harness: BotHarness) -> None:
    chat = Chat(harness, 1409)
    await chat.walk_to_password(LEA, LEA_PROVISIONAL)
    refused = await chat.say_secret("Léa aime 3 vélos !")
    assert "il contient votre prénom" in refused.text
    assert "il contient votre identifiant" not in refused.text
    assert "il contient votre nom" not in refused.text
    assert (await chat.say_secret(GOOD_PASSWORD)).text


async def test_a_question_at_an_answer_step_is_not_taken_as_the_answer(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 1410)
    await chat.walk_to_questions(LEA, LEA_PROVISIONAL)
    await chat.press("Question A")
    held = await chat.say_secret("je comprends pas")
    assert "pas enregistrée" in held.text
    session = await harness.services.ports.sessions.get(1410)
    assert session is not None and session.step == Step.ANSWER1
    assert session.answer1_hash is None
    # It really was the answer: typed again, it is taken as it is.
    await chat.press("c'était bien ça")
    await chat.say_secret("je comprends pas")
    assert await _step(harness, 1410) == Step.ANSWER1_CONFIRM
    # The second typing is only compared with the first: it is not held back.
    await chat.say_secret("je comprends pas")
    assert await _step(harness, 1410) == Step.QUESTION2


async def test_a_typo_in_the_second_typing_asks_the_answer_again(harness: BotHarness) -> None:
    chat = Chat(harness, 1412)
    await chat.walk_to_questions(LEA, LEA_PROVISIONAL)
    await chat.press("Question A")
    again = await chat.say_secret("Mon Éléphant")
    assert "même réponse" in again.text
    differ = await chat.say_secret("Mon Éléphan")
    assert "pas identiques" in differ.text
    assert await _step(harness, 1412) == Step.ANSWER1
    await chat.say_secret("Mon Éléphant")
    await chat.say_secret("mon elephant")
    assert await _step(harness, 1412) == Step.QUESTION2
    chat.assert_secrets_deleted()
    chat.assert_secrets_deleted()


async def test_help_from_a_password_step_keeps_the_step(harness: BotHarness) -> None:
    chat = Chat(harness, 1411)
    await chat.walk_to_password(LEA, LEA_PROVISIONAL)
    await chat.say_secret("comment on fait ?")
    menu = await chat.press("Je bloque")
    assert "Quel est le problème" in menu.text
    assert await _step(harness, 1411) == Step.PASSWORD
    await chat.press("Reprendre")
    session = await harness.services.ports.sessions.get(1411)
    assert session is not None and session.new_password_hash is None
    await chat.say_secret(GOOD_PASSWORD)
    assert await _step(harness, 1411) == Step.PASSWORD_CONFIRM
    chat.assert_secrets_deleted()


async def test_every_message_but_the_cgu_fits_a_phone_screen(harness: BotHarness) -> None:
    """Every bot message except the CGU text stays under 600 characters, on both paths of the
    activation, the forgotten password, « Mon compte », the help and the refusals."""
    by_email = Chat(harness, 1420)
    await by_email.say("/start")
    await by_email.press("Apprenti")
    await by_email.say(LEA)
    await by_email.say_secret("Mauvais-1")
    await by_email.say_secret(LEA_PROVISIONAL)
    await by_email.say("/aide")
    await by_email.press("J'accepte")
    await by_email.press("e-mail")
    await by_email.say("lea@example.org")
    await harness.mailbox.wait_for(1)
    await by_email.say_secret(last_code(harness.mailbox))
    await by_email.press("Voir la règle complète")
    await by_email.say_secret("a")  # every rule broken at once
    await by_email.say_secret("Léa Martin 1 !")
    await by_email.say_secret(GOOD_PASSWORD)
    await by_email.say_secret(GOOD_PASSWORD)
    await by_email.say("/moncompte")
    await by_email.say("/motdepasse")
    await by_email.say(LEA)
    await by_email.press("adresse e-mail")
    by_questions = Chat(harness, 1421)
    await by_questions.walk_to_questions("nora.petit", "Gd5-Js3y-Fex")
    await by_questions.press("Question A")
    await by_questions.say_secret("Mon Éléphant")
    await by_questions.say_secret("Mon Elefant")  # a typo: asked again
    said = [m.text for chat in (by_email, by_questions) for m in chat.user.messages if m.from_bot]
    assert any("Compte activé" in text for text in said)
    assert any("La règle complète" in text for text in said)
    assert any("C'est parti" in text for text in said)
    assert any("pas identiques" in text for text in said)
    cgu = set(texts.cgu_chunks(harness.services.school))
    long = [
        (len(m.text), m.text[:60])
        for chat in (by_email, by_questions)
        for m in chat.user.messages
        if m.from_bot and len(m.text) >= 600 and m.html not in cgu
    ]
    assert not long, long


class CountedChat(Chat):
    """A chat that counts the user's actions: every message typed, every button tapped."""

    actions = 0

    async def send(self, text: str) -> int:
        self.actions += 1
        return await super().send(text)

    async def press(self, label: str) -> object:
        self.actions += 1
        return await super().press(label)


async def _activate_by_email_link(chat: CountedChat, harness: BotHarness, password: str) -> None:
    """From the provisional password to « Compte activé », by the e-mail's link."""
    await chat.say_secret(password)
    await chat.press("J'accepte")
    await chat.press("e-mail")
    count = len(harness.mailbox.mails)
    await chat.say("lea@example.org")  # sent at once
    mail = await harness.mailbox.wait_for(count + 1)
    await chat.say(f"/start {mail.deep_link_payload()}")  # the e-mail's link, opened
    await chat.say_secret(GOOD_PASSWORD)
    done = await chat.say_secret(GOOD_PASSWORD)
    assert "Compte activé" in done.text


async def test_from_a_letter_s_qr_code_to_active_in_eight_actions(harness: BotHarness) -> None:
    staff = harness.services.staff
    letters = await staff.prepare_letters(await staff.accounts_for_letters())
    assert await staff.commit_letters(letters, "test:letters", "courriers.pdf") == len(letters)
    lea = next(letter for letter in letters if letter.account.identifiant == LEA)
    chat = CountedChat(harness, 1430)
    recognised = await chat.say(f"/start {lea.token}")  # the letter's QR code, scanned
    assert "Courrier reconnu" in recognised.text and LEA in recognised.text
    assert await _step(harness, 1430) == Step.PROVISIONAL
    await _activate_by_email_link(chat, harness, lea.provisional_password)
    assert chat.actions == 8
    chat.assert_secrets_deleted()
    # The letter's token works once: the account is active now.
    again = Chat(harness, 1431)
    assert "ne correspond plus" in (await again.say(f"/start {lea.token}")).text
    assert await _step(harness, 1431) == Step.IDENTIFIANT


async def test_from_start_activer_to_active_in_nine_actions(harness: BotHarness) -> None:
    chat = CountedChat(harness, 1432)
    await chat.say("/start activer")
    await chat.say(LEA)
    await _activate_by_email_link(chat, harness, LEA_PROVISIONAL)
    assert chat.actions == 9


async def test_a_reprinted_letter_voids_the_earlier_one(harness: BotHarness) -> None:
    staff = harness.services.staff
    first = await staff.prepare_letters(await staff.accounts_for_letters())
    await staff.commit_letters(first, "test:letters", "a.pdf")
    second = await staff.prepare_letters(await staff.accounts_for_letters())
    await staff.commit_letters(second, "test:letters", "b.pdf")
    old = next(letter for letter in first if letter.account.identifiant == LEA)
    new = next(letter for letter in second if letter.account.identifiant == LEA)
    assert "ne correspond plus" in (await Chat(harness, 1433).say(f"/start {old.token}")).text
    assert "Courrier reconnu" in (await Chat(harness, 1434).say(f"/start {new.token}")).text


async def test_an_address_that_looks_like_a_typo_is_corrected_in_one_tap(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 1435)
    await chat.walk_to_email(LEA, LEA_PROVISIONAL)
    asked = await chat.say("lea@gmial.com")
    assert "Vouliez-vous dire" in asked.text and "lea@gmail.com" in asked.text
    assert harness.mailbox.mails == []
    await chat.press("Oui, corriger")
    mail = await harness.mailbox.wait_for(1)
    assert mail.recipients == ("lea@gmail.com",)
    assert "Changer d'adresse" in "".join(Chat.labels(await chat.last()))


async def test_one_short_note_per_procedure_when_secrets_are_deleted(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 1440)
    await chat.walk_to_password(LEA, LEA_PROVISIONAL)
    await chat.say_secret(GOOD_PASSWORD)
    await chat.say_secret(GOOD_PASSWORD)
    notes = [m for m in chat.user.messages if m.from_bot and m.text == texts.SECRET_DELETED]
    assert len(chat.secret_message_ids) >= 4 and len(notes) == 1
    chat.assert_secrets_deleted()


async def test_the_forgotten_password_rule_says_nothing_of_a_provisional_password(
    harness: BotHarness,
) -> None:
    await activate_by_email(harness, 1441, LEA, LEA_PROVISIONAL)
    chat = Chat(harness, 1442)
    await chat.say("/motdepasse")
    await chat.say(LEA)
    await chat.press("adresse e-mail")
    await harness.mailbox.wait_for(2)
    rule = await chat.say_secret(last_code(harness.mailbox))
    assert "Nouveau mot de passe" in rule.text and "provisoire" not in rule.text
    full = await chat.press("Voir la règle complète")
    assert "La règle complète" in full.text and "provisoire" not in full.text
