"""What happens to typed text at the steps around a secret (issues 22 and 29): a thank-you or a
question at a typed step gets a kind answer, « ? » in a password is no question, the example
password is refused, and a secret typed again after its step is deleted wherever it lands."""

from __future__ import annotations

import asyncio

import pytest

from bot import texts
from bot.procedures.activation import Step
from bot.procedures.my_account import MyAccountStep
from bot.procedures.recovery import RecoveryStep
from bot.sandbox.bot_api_server import Fault

from chat import Chat
from conftest import BotHarness
from support import GOOD_PASSWORD
from test_recovery import activate_by_email, activate_by_questions

LEA, LEA_PROVISIONAL = "lea.martin", "Xq7-Tb4k-Wpz"
NORA, NORA_PROVISIONAL = "nora.petit", "Gd5-Js3y-Fex"


async def _step(harness: BotHarness, user_id: int) -> str | None:
    session = await harness.services.ports.sessions.get(user_id)
    return session.step if session else None


def _visible(chat: Chat, message_id: int) -> bool:
    return message_id in {m.message_id for m in chat.user.visible_messages()}


# --- 22.5: a thank-you, a question, a plea at a typed step --------------------------------------


async def test_a_thank_you_at_the_address_step_gets_a_kind_answer_and_the_step_s_choices(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 5201)
    await chat.walk_to_email(LEA, LEA_PROVISIONAL)
    reply = await chat.say("Merci beaucoup !")
    assert "adresse e-mail ne semble pas valide" not in reply.text
    assert texts.KIND_THANKS.strip() in reply.text
    assert any("questions secrètes" in label for label in chat.labels(reply))
    assert any("Je bloque" in label for label in chat.labels(reply))
    assert await _step(harness, 5201) == Step.EMAIL
    # A question, then a long plea: each its own kind answer, the step's choices still last.
    reply = await chat.say("c'est quoi une adresse personnelle ?")
    assert texts.KIND_QUESTION.strip() in reply.text
    assert any("questions secrètes" in label for label in chat.labels(reply))
    plea = (
        "Bonjour, j'ai essayé plusieurs fois avec mon fils mais nous n'y arrivons pas du tout, "
        "pouvez-vous nous rappeler"
    )
    reply = await chat.say(plea)
    assert texts.KIND_PLEA.strip() in reply.text
    assert any("questions secrètes" in label for label in chat.labels(reply))
    # A plain typo keeps its own refusal, with the step's choices too.
    reply = await chat.say("lea.martin@")
    assert "ne semble pas valide" in reply.text
    assert any("questions secrètes" in label for label in chat.labels(reply))
    assert await _step(harness, 5201) == Step.EMAIL


async def test_a_thank_you_at_a_password_step_is_held_back_with_a_word_that_fits(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 5202)
    await chat.walk_to_password(LEA, LEA_PROVISIONAL)
    reply = await chat.say_secret("Merci beaucoup !")
    assert "Avec plaisir" in reply.text and "pas" in reply.text
    assert await _step(harness, 5202) == Step.PASSWORD
    # One word is never held back; refused by the rule anyway, it gets the same kind word.
    reply = await chat.say_secret("Merci")
    assert "Avec plaisir" in reply.text and "Tapez votre nouveau mot de passe" in reply.text
    assert any("règle complète" in label for label in chat.labels(reply))
    # A password refused by the rule keeps « Voir la règle complète » on the newest message.
    reply = await chat.say_secret("court")
    assert "ne convient pas" in reply.text
    assert any("règle complète" in label for label in chat.labels(reply))
    chat.assert_secrets_deleted()


# --- 22.6: « ? » in a password ----------------------------------------------------------------


async def test_a_password_with_a_question_mark_is_taken(harness: BotHarness) -> None:
    chat = Chat(harness, 5203)
    await chat.walk_to_password(LEA, LEA_PROVISIONAL)
    reply = await chat.say_secret("Girafe?Bleue7")
    assert "On dirait une question" not in reply.text
    assert await _step(harness, 5203) == Step.PASSWORD_CONFIRM
    await chat.say_secret("Girafe?Bleue7")
    assert "activé" in (await chat.last()).text
    chat.assert_secrets_deleted()


# --- 22.8: the example password -----------------------------------------------------------------


async def test_the_example_password_and_its_variants_are_refused_kindly(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 5204)
    await chat.walk_to_password(LEA, LEA_PROVISIONAL)
    for typed in ("Mon chat dort 2 fois !", "mon chat dort 2 fois", "MonChatDort2Fois!"):
        reply = await chat.say_secret(typed)
        assert "exemple" in reply.text, typed
        assert await _step(harness, 5204) == Step.PASSWORD, typed
    await chat.say_secret("Mon chien dort 3 fois !")
    assert await _step(harness, 5204) == Step.PASSWORD_CONFIRM
    chat.assert_secrets_deleted()


# --- 22.7 and 29.7: a secret typed again after its step ---------------------------------------


async def test_answers_typed_at_the_buttons_after_a_failed_try_are_deleted(
    harness: BotHarness,
) -> None:
    await activate_by_questions(harness, 5205, NORA, NORA_PROVISIONAL)
    chat = Chat(harness, 5206)
    await chat.say("/motdepasse")
    await chat.say(NORA)
    await chat.press("questions secrètes")
    await chat.say_secret("MEDOR")
    await chat.say_secret("lyon")
    assert await _step(harness, 5206) == RecoveryStep.METHOD
    # The person types the answers again where the bot waits for a button.
    await chat.say_secret("MEDOR")
    reply = await chat.say_secret("lyon")
    assert any("questions secrètes" in label for label in chat.labels(reply))
    chat.assert_secrets_deleted()
    # A sentence is not a secret: it stays, and gets the usual word.
    said = await chat.send("je ne sais plus quoi faire")
    reply = await chat.last()
    assert _visible(chat, said)
    assert texts.KIND_QUESTION.split(" touchez")[0] in reply.text
    assert any("questions secrètes" in label for label in chat.labels(reply))


async def test_a_secret_typed_again_after_a_lost_reply_is_deleted(harness: BotHarness) -> None:
    """Under Bot API faults the reply to a secret may never arrive: the person types it again,
    and the copy is read by the next step."""
    chat = Chat(harness, 5207)
    await chat.walk_to_provisional(LEA)
    harness.server.inject(
        Fault("server_error", chat_id=5207, methods=frozenset({"sendmessage"}), times=20)
    )
    await chat.say_secret(LEA_PROVISIONAL)
    harness.server.clear_faults()
    assert await _step(harness, 5207) == Step.CGU
    reply = await chat.say_secret(LEA_PROVISIONAL)  # no answer came: typed again, at the CGU
    assert await _step(harness, 5207) == Step.CGU
    assert any("J'accepte" in label for label in chat.labels(reply))
    chat.assert_secrets_deleted()


async def test_a_passphrase_typed_again_at_the_next_button_step_is_deleted(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 5208)
    await chat.walk_to_questions(LEA, LEA_PROVISIONAL)
    await chat.press("Question A")
    await chat.say_secret("Mon chien Médor")
    await chat.say_secret("Mon chien Médor")
    assert await _step(harness, 5208) == Step.QUESTION2
    await chat.say_secret("Mon chien Médor")  # a sentence, but the very answer just typed
    chat.assert_secrets_deleted()


async def test_the_current_password_typed_again_at_the_address_step_is_deleted(
    harness: BotHarness,
) -> None:
    await activate_by_email(harness, 5209, LEA, LEA_PROVISIONAL)
    chat = Chat(harness, 5209)
    await chat.say("/moncompte")
    await chat.press("adresse")
    await chat.say_secret(GOOD_PASSWORD)
    assert await _step(harness, 5209) == MyAccountStep.EMAIL
    await chat.say_secret(GOOD_PASSWORD)
    assert await _step(harness, 5209) == MyAccountStep.EMAIL
    chat.assert_secrets_deleted()


async def test_the_last_password_typed_again_after_the_end_is_deleted(
    harness: BotHarness,
) -> None:
    """The activation's « Compte activé » never arrived: the person types the password again,
    with no procedure left to read it."""
    chat = Chat(harness, 5210)
    await chat.walk_to_password(LEA, LEA_PROVISIONAL)
    await chat.say_secret(GOOD_PASSWORD)
    harness.server.inject(
        Fault("server_error", chat_id=5210, methods=frozenset({"sendmessage"}), times=20)
    )
    await chat.say_secret(GOOD_PASSWORD)
    harness.server.clear_faults()
    assert await _step(harness, 5210) is None
    reply = await chat.say_secret(GOOD_PASSWORD)
    assert "effacé" in reply.text
    chat.assert_secrets_deleted()
    # An ordinary sentence outside a procedure stays.
    said = await chat.send("bonjour")
    await chat.last()
    assert _visible(chat, said)


async def _type_secret_patiently(chat: Chat, secret: str, patience: float = 1.0) -> None:
    """A person under a flaky network: types the secret, and types it again when no answer
    came after ``patience`` seconds (twice at most)."""
    server = chat.harness.server
    for _ in range(3):
        mark = server.events[-1].seq if server.events else 0
        chat.secret_message_ids.append(await chat.user.send_text(secret))
        try:
            await server.wait_for_event(
                lambda e, m=mark: (
                    e.seq > m
                    and e.chat_id == chat.user_id
                    and e.method == "sendmessage"
                    and e.outcome == "ok"
                ),
                timeout=patience,
            )
            return
        except AssertionError:
            continue


@pytest.mark.parametrize("seed", [7, 11, 23])
async def test_under_random_faults_no_secret_stays_in_the_chat(
    harness: BotHarness, seed: int
) -> None:
    """Issue 29.7: under 20 % Bot API faults, people who got no answer typed their secret
    again; the copies read at a later step stayed in the chat."""
    provisional = [Chat(harness, 5300 + n) for n in range(4)]
    passwords = [Chat(harness, 5310 + n) for n in range(4)]
    for chat in provisional:
        await chat.walk_to_provisional(LEA)
    for chat in passwords:
        await chat.walk_to_password(LEA, LEA_PROVISIONAL)
        harness.clock.advance(seconds=61)  # one code e-mail a minute to the same address
    harness.server.inject_random(0.2, ("server_error", "retry_after"), retry_after=1, seed=seed)

    async def activate(chat: Chat) -> None:
        await _type_secret_patiently(chat, GOOD_PASSWORD)
        await _type_secret_patiently(chat, GOOD_PASSWORD)

    await asyncio.gather(
        *(_type_secret_patiently(chat, LEA_PROVISIONAL) for chat in provisional),
        *(activate(chat) for chat in passwords),
    )
    faults = [e for e in harness.server.events if e.fault is not None]
    harness.server.clear_faults()
    await harness.settle(timeout=60)
    assert faults, "faults were injected"
    everyone = provisional + passwords
    retyped = sum(len(c.secret_message_ids) for c in everyone) - 4 - 8
    assert retyped > 0, "nobody typed a secret twice: the test proves nothing"

    def left() -> list[int]:
        return [
            message_id
            for chat in everyone
            for message_id in chat.secret_message_ids
            if _visible(chat, message_id)
        ]

    try:  # a deletion that met a fault is owed to the outbox, which retries it
        await harness.server.wait_until(lambda: not left(), timeout=15)
    except AssertionError:
        raise AssertionError(f"{len(left())} messages holding a secret stayed") from None


async def test_a_secret_typed_again_in_help_is_deleted_and_not_sent_to_the_team(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 5220)
    await chat.walk_to_cgu(LEA, LEA_PROVISIONAL)
    await chat.press("Je bloque")
    reply = await chat.say_secret(LEA_PROVISIONAL)
    assert "Je ne l'envoie pas à l'équipe" in reply.text
    assert await harness.services.support.mode(5220) is not None  # the help goes on
    assert await _step(harness, 5220) == Step.CGU
    chat.assert_secrets_deleted()


async def test_a_thank_you_at_the_identifier_and_code_steps_gets_a_kind_answer(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 5230)
    await chat.say("/activer")
    reply = await chat.say_secret("Merci beaucoup !")  # read like an identifier: deleted
    assert texts.KIND_THANKS.split(" 👇")[0] in reply.text
    assert await _step(harness, 5230) == Step.IDENTIFIANT
    other = Chat(harness, 5231)
    await other.walk_to_email_sent(LEA, LEA_PROVISIONAL, "lea@example.org")
    reply = await other.say_secret("je n'ai rien reçu, comment faire ?")
    assert texts.KIND_QUESTION.split(" touchez")[0] in reply.text
    assert any("Renvoyer" in label or "renvoyer" in label for label in other.labels(reply))
    assert await _step(harness, 5231) == Step.CODE
    chat.assert_secrets_deleted()
    other.assert_secrets_deleted()
