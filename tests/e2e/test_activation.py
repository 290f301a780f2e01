"""Activation end to end: users chatting with the real Application through the local Bot API
server over HTTP, e-mails through a real SMTP server, a real SQLite file."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot import texts
from storage.accounts import AccountStatus

from chat import Chat
from conftest import BOT_USERNAME, BotHarness, last_code
from support import ACCOUNTS, GOOD_PASSWORD


async def test_commands_menu_is_registered(harness: BotHarness) -> None:
    names = [command["command"] for command in harness.server.commands]
    assert names == ["start", "activer", "aide", "motdepasse", "moncompte", "annuler"]


async def test_full_activation_by_email_code(harness: BotHarness) -> None:
    chat = Chat(harness, 1001)
    welcome = await chat.say("/start")
    assert "Qui êtes-vous" in welcome.text
    assert {"Apprenti", "Maître d'apprentissage", "Élève ou parent"} <= chat.labels_contain(welcome)

    await chat.press("Apprenti")
    assert "identifiant" in (await chat.last()).text
    await chat.say("lea.martin")
    await chat.say_secret("Xq7-Tb4k-Wpz")
    replies = await chat.replies()
    assert any("Conditions Générales" in m.text for m in replies)
    assert len(replies) >= 4, "the long CGU text is split over several messages"
    assert all(len(m.text) <= 4096 for m in replies)

    await chat.press("J'accepte")
    await chat.press("e-mail")
    confirm = await chat.say("Lea.Martin@Example.org")  # sent at once: one tap less
    assert "lea.martin@example.org" in confirm.text.lower()
    mail = await harness.mailbox.wait_for(1)
    assert mail.recipients == ("Lea.Martin@example.org",) or mail.recipients[0].lower() == (
        "lea.martin@example.org"
    )
    assert "Bonjour Léa" in mail.text and mail.html.count("<a ") >= 1
    sent = await chat.last()
    assert "indésirables" in sent.text and "48 heures" in sent.text

    await chat.say_secret(last_code(harness.mailbox))
    assert "Adresse e-mail confirmée" in (await chat.last()).text
    await chat.say_secret(GOOD_PASSWORD)
    await chat.say_secret(GOOD_PASSWORD)
    done = await chat.last()
    assert "activé" in done.text and "lea.martin" in done.text
    assert "l********n@example.org" in done.text or "@example.org" in done.text
    assert chat.url_buttons(done) == ["https://ent.example.org/test"]

    account = await harness.services.activation.ports.directory.find("lea.martin")
    assert account.status == AccountStatus.ACTIVE and account.telegram_user_id == 1001
    chat.assert_secrets_deleted()


async def test_full_activation_by_deep_link(harness: BotHarness) -> None:
    chat = Chat(harness, 1002)
    await chat.walk_to_email_sent("paul.durand", "Rm2-Hv8n-Zcw", "paul@example.org")
    payload = harness.mailbox.mails[-1].deep_link_payload()
    assert payload and harness.mailbox.mails[-1].text.count(f"t.me/{BOT_USERNAME}?start=") == 1
    await chat.say(f"/start {payload}")
    assert "Adresse e-mail confirmée" in "".join(m.text for m in await chat.replies())
    await chat.say_secret(GOOD_PASSWORD)
    await chat.say_secret(GOOD_PASSWORD)
    assert "activé" in (await chat.last()).text
    # single use
    await chat.say(f"/start {payload}")
    assert "plus valable" in (await chat.last()).text


async def test_full_activation_by_secret_questions(harness: BotHarness) -> None:
    chat = Chat(harness, 1003)
    await chat.walk_to_recovery("nora.petit", "Gd5-Js3y-Fex")
    await chat.press("questions secrètes")
    await chat.press("Question A")
    await chat.say_secret("Mon Éléphant")  # typed twice
    await chat.say_secret("Mon Éléphant")
    await chat.press("Question B")
    await chat.say_secret("Tours")  # typed twice
    await chat.say_secret("Tours")
    assert "Étape 4" in "".join(m.text for m in await chat.replies())
    await chat.say_secret(GOOD_PASSWORD)
    await chat.say_secret(GOOD_PASSWORD)
    done = await chat.last()
    assert "activé" in done.text and "questions secrètes" in done.text
    chat.assert_secrets_deleted()


async def test_second_question_list_excludes_the_first(harness: BotHarness) -> None:
    chat = Chat(harness, 1004)
    await chat.walk_to_recovery("nora.petit", "Gd5-Js3y-Fex")
    await chat.press("questions secrètes")
    await chat.press("Question A")
    await chat.say_secret("Mon Éléphant")  # typed twice
    await chat.say_secret("Mon Éléphant")
    question2 = await chat.last()
    assert not any("Question A" in label for label in chat.labels(question2))


async def test_cgu_refused_then_accepted(harness: BotHarness) -> None:
    chat = Chat(harness, 1005)
    await chat.walk_to_cgu("sam.roux", "Nt9-Bw6q-Kyv")
    await chat.press("Je refuse")
    refused = await chat.last()
    assert "ne peut pas être activé" in refused.text
    await chat.press("Relire")
    assert any("Conditions Générales" in m.text for m in await chat.replies())
    await chat.press("J'accepte")
    assert "Étape 3" in (await chat.last()).text


async def test_unknown_and_wrong_get_the_same_reply(harness: BotHarness) -> None:
    answers = []
    for user, (identifiant, password) in enumerate(
        [("inconnu.total", "Nimporte-1"), ("lea.martin", "Mauvais-1")], start=1101
    ):
        chat = Chat(harness, user)
        await chat.say("/activer")
        await chat.say(identifiant)
        await chat.say_secret(password)
        answers.append((await chat.last()).text)
    assert answers[0] == answers[1] == texts_plain(texts.CREDENTIALS_REFUSED)


async def test_throttle_after_five_failures_refuses_even_the_right_password(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 1102)
    await chat.say("/activer")
    await chat.say("paul.durand")  # kept after each refusal: only the password is asked again
    for n in range(5):
        await chat.say_secret(f"Mauvais-{n}")
    # another chat: refused like any wrong guess (the identifier's own delay is never told)
    other = Chat(harness, 1112)
    await other.walk_to_provisional("paul.durand")
    await other.say_secret("Rm2-Hv8n-Zcw")
    assert (await other.last()).text == texts_plain(texts.CREDENTIALS_REFUSED)
    # this chat: told its own wait, the same for any identifier (issue 22.10)
    await chat.say_secret("Rm2-Hv8n-Zcw")
    assert (await chat.last()).text == texts_plain(texts.chat_must_wait(timedelta(minutes=1)))
    harness.clock.advance(seconds=61)
    await chat.say_secret("Rm2-Hv8n-Zcw")
    assert any("Conditions Générales" in m.text for m in await chat.replies())


async def test_invalid_email_address(harness: BotHarness) -> None:
    chat = Chat(harness, 1103)
    await chat.walk_to_recovery("sam.roux", "Nt9-Bw6q-Kyv")
    await chat.press("e-mail")
    for bad in ("pas-une-adresse", "a@b", "deux@example.org trois@example.org"):
        assert "ne semble pas valide" in (await chat.say(bad)).text
    assert "C'est envoyé" in (await chat.say("sam@example.org")).text


async def test_expired_code_starts_again_from_the_provisional_password(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 1104)
    await chat.walk_to_email_sent("sam.roux", "Nt9-Bw6q-Kyv", "sam@example.org")
    code = last_code(harness.mailbox)
    harness.clock.advance(hours=48, seconds=1)
    await chat.say_secret(code)
    text = "".join(m.text for m in await chat.replies())
    assert "délai" in text and "mot de passe provisoire" in text
    await chat.say_secret("Nt9-Bw6q-Kyv")
    assert any("Conditions Générales" in m.text for m in await chat.replies())


async def test_wrong_code_then_resend_then_right_code(harness: BotHarness) -> None:
    chat = Chat(harness, 1105)
    await chat.walk_to_email_sent("sam.roux", "Nt9-Bw6q-Kyv", "sam@example.org")
    first = last_code(harness.mailbox)
    await chat.say_secret("12345678" if first != "12345678" else "87654321")
    assert "pas le bon" in (await chat.last()).text
    await chat.press("Renvoyer")
    assert "Vous pourrez en demander un autre" in (await chat.last()).text
    harness.clock.advance(seconds=61)
    await chat.press("Renvoyer")
    await harness.mailbox.wait_for(2)
    await chat.say_secret(first)
    assert "pas le bon" in (await chat.last()).text or first == last_code(harness.mailbox)
    await chat.say_secret(last_code(harness.mailbox))
    assert "confirmée" in "".join(m.text for m in await chat.replies())


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Ab1!", "trop court"),
        ("velorouge12", "sortes de caractères"),
        ("Sam-Roux-2026!", "il contient votre prénom"),
        ("sam.roux-Velo-9", "identifiant"),
        ("Nt9-Bw6q-Kyv", "provisoire"),
        ("Azerty123!", "trop courant"),
        ("A" * 129 + "b1!", "trop long"),
    ],
)
async def test_each_password_rule_is_explained(
    harness: BotHarness, password: str, expected: str
) -> None:
    chat = Chat(harness, 1200)
    await chat.walk_to_password("sam.roux", "Nt9-Bw6q-Kyv")
    refusal = await chat.say_secret(password)
    assert "ne convient pas" in refusal.text and expected in refusal.text


async def test_mismatched_confirmation_asks_again(harness: BotHarness) -> None:
    chat = Chat(harness, 1201)
    await chat.walk_to_password("sam.roux", "Nt9-Bw6q-Kyv")
    await chat.say_secret(GOOD_PASSWORD)
    assert "identiques" in (await chat.say_secret(GOOD_PASSWORD + "?")).text
    await chat.say_secret(GOOD_PASSWORD)
    await chat.say_secret(GOOD_PASSWORD)
    assert "activé" in (await chat.last()).text


async def test_cancel_at_every_step(harness: BotHarness) -> None:
    walks = [
        lambda c: c.say("/start"),
        lambda c: c.say("/activer"),
        lambda c: c.walk_to_provisional("sam.roux"),
        lambda c: c.walk_to_cgu("sam.roux", "Nt9-Bw6q-Kyv"),
        lambda c: c.walk_to_recovery("sam.roux", "Nt9-Bw6q-Kyv"),
        lambda c: c.walk_to_email("sam.roux", "Nt9-Bw6q-Kyv"),
        lambda c: c.walk_to_email_sent("sam.roux", "Nt9-Bw6q-Kyv", "sam@example.org"),
        lambda c: c.walk_to_questions("sam.roux", "Nt9-Bw6q-Kyv"),
        lambda c: c.walk_to_password("sam.roux", "Nt9-Bw6q-Kyv"),
    ]
    for n, walk in enumerate(walks):
        chat = Chat(harness, 1300 + n)
        await walk(chat)
        assert "arrêté la démarche" in (await chat.say("/annuler")).text
        assert await harness.services.activation.session_of(1300 + n) is None
        # after cancelling, text gets the outside-flow answer, not a step
        assert "/start" in (await chat.say("bonjour")).text


async def test_help_at_a_step_keeps_the_step(harness: BotHarness) -> None:
    chat = Chat(harness, 1400)
    await chat.walk_to_provisional("sam.roux")
    await chat.say("/aide")
    replies = await chat.replies()
    assert any("aide@example.org" in m.text for m in replies)
    assert "mot de passe provisoire" in replies[-1].text
    await chat.say_secret("Nt9-Bw6q-Kyv")
    assert any("Conditions Générales" in m.text for m in await chat.replies())


async def test_stickers_photos_and_stale_buttons_never_skip_a_step(harness: BotHarness) -> None:
    chat = Chat(harness, 1401)
    await chat.walk_to_cgu("sam.roux", "Nt9-Bw6q-Kyv")
    cgu_question = await chat.last()
    await chat.sticker()
    assert "que du texte" in (await chat.replies())[0].text
    await chat.photo()
    assert "que du texte" in (await chat.replies())[0].text
    assert "boutons" in (await chat.say("j'accepte")).text
    # a forged callback with a wrong nonce
    await chat.press_data(cgu_question.message_id, "cgu:ok:000000")
    assert "plus valable" in (await chat.replies())[0].text
    await chat.press("J'accepte")
    recovery = await chat.last()
    # the CGU button again (stale now): no effect, the step stays
    await chat.press_data(cgu_question.message_id, chat.data_of(cgu_question, "J'accepte"))
    assert "plus valable" in (await chat.replies())[0].text
    # forged data that looks like a later step: no bypass of the verification
    await chat.press_data(recovery.message_id, "em:send:" + chat.nonce_of(recovery))
    session = await harness.services.activation.session_of(1401)
    assert session.step == "choix_secours"


async def test_restart_mid_flow_resumes_at_the_same_step(harness: BotHarness) -> None:
    chat = Chat(harness, 1500)
    await chat.walk_to_email_sent("sam.roux", "Nt9-Bw6q-Kyv", "sam@example.org")
    code = last_code(harness.mailbox)
    await harness.stop()
    await harness.start()
    await chat.say_secret(code)
    assert "confirmée" in "".join(m.text for m in await chat.replies())
    await harness.stop()
    await harness.start()
    await chat.say_secret(GOOD_PASSWORD)
    await chat.say_secret(GOOD_PASSWORD)
    assert "activé" in (await chat.last()).text


async def test_two_users_interleaved(harness: BotHarness) -> None:
    lea, paul = Chat(harness, 1600), Chat(harness, 1601)
    await lea.say("/activer")
    await paul.say("/activer")
    await lea.say("lea.martin")
    await paul.say("paul.durand")
    await paul.say_secret("Rm2-Hv8n-Zcw")
    await lea.say_secret("Xq7-Tb4k-Wpz")
    await lea.press("J'accepte")
    await paul.press("J'accepte")
    await paul.press("questions")
    await lea.press("questions")
    for chat in (lea, paul):
        await chat.press("Question C")
        await chat.say_secret("Réponse de " + str(chat.user_id))  # typed twice
        await chat.say_secret("Réponse de " + str(chat.user_id))
        await chat.press("Question A")
        await chat.say_secret("Autre réponse")  # typed twice
        await chat.say_secret("Autre réponse")
    await paul.say_secret(GOOD_PASSWORD)
    await lea.say_secret(GOOD_PASSWORD + "L")
    await lea.say_secret(GOOD_PASSWORD + "L")
    await paul.say_secret(GOOD_PASSWORD)
    assert "lea.martin" in (await lea.last()).text
    assert "paul.durand" in (await paul.last()).text


async def test_same_identifier_in_two_chats_exactly_one_succeeds(harness: BotHarness) -> None:
    one, two = Chat(harness, 1700), Chat(harness, 1701)
    for chat in (one, two):
        # Two addresses: one address gets one code e-mail a minute, whoever asks.
        await chat.walk_to_password("sam.roux", "Nt9-Bw6q-Kyv", f"x{chat.user_id}@example.org")
        await chat.say_secret(GOOD_PASSWORD)
    await asyncio.gather(one.send(GOOD_PASSWORD), two.send(GOOD_PASSWORD))
    finals = [(await one.replies())[-1].text, (await two.replies())[-1].text]
    assert sum("Compte activé" in text for text in finals) == 1
    assert sum("vient d'être activé" in text for text in finals) == 1


async def test_no_secret_in_the_database_file_or_the_logs(harness: BotHarness) -> None:
    chat = Chat(harness, 1800)
    await chat.walk_to_email_sent("lea.martin", "Xq7-Tb4k-Wpz", "lea@example.org")
    code = last_code(harness.mailbox)
    token = harness.mailbox.mails[-1].deep_link_payload()
    await chat.say_secret(code)
    await chat.say_secret(GOOD_PASSWORD)
    await chat.say_secret(GOOD_PASSWORD)
    other = Chat(harness, 1801)
    await other.walk_to_questions("nora.petit", "Gd5-Js3y-Fex")
    await other.press("Question A")
    await other.say_secret("Ma Réponse Secrète")  # typed twice
    await other.say_secret("Ma Réponse Secrète")
    await harness.stop()
    secrets = [
        GOOD_PASSWORD,
        code,
        token,
        "Xq7-Tb4k-Wpz",
        "Gd5-Js3y-Fex",
        "ma reponse secrete",
        "Ma Réponse Secrète",
        *[row[1] for row in ACCOUNTS],
    ]
    database = harness.settings.database_path
    blob = b"".join(
        path.read_bytes()
        for path in database.parent.iterdir()
        if path.name.startswith(database.name)
    )
    logs = "\n".join(record.getMessage() for record in harness.log_records)
    assert harness.log_records, "the bot logged nothing at all: the capture is broken"
    for secret in secrets:
        assert secret and secret.encode() not in blob, "a secret is in the database file"
        assert secret not in logs, "a secret is in the logs"


def texts_plain(html_text: str) -> str:
    """What a user sees of an HTML text (tags removed, entities decoded)."""
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


async def test_a_failing_set_my_commands_does_not_stop_the_bot(harness: BotHarness) -> None:
    from bot.sandbox.bot_api_server import bad_request

    await harness.stop()
    harness.server.failing_methods["setmycommands"] = bad_request("BOT_COMMANDS_TOO_MUCH")
    await harness.start()
    assert any("setMyCommands failed" in r.getMessage() for r in harness.log_records)
    assert "Qui êtes-vous" in (await Chat(harness, 1900).say("/start")).text


async def test_cgu_acceptance_is_recorded_with_version_time_and_user(harness: BotHarness) -> None:
    chat = Chat(harness, 1901)
    await chat.walk_to_recovery("sam.roux", "Nt9-Bw6q-Kyv")
    database = harness.services.database
    row = await database.fetch_one("SELECT * FROM cgu_acceptances")
    assert row["cgu_version"] == harness.services.school.cgu_version
    assert len(row["cgu_version"]) == 64 and row["telegram_user_id"] == 1901
    assert row["accepted_at"].endswith("Z")


async def test_change_address_or_switch_to_questions_while_waiting_for_the_code(
    harness: BotHarness,
) -> None:
    chat = Chat(harness, 1902)
    await chat.walk_to_email_sent("sam.roux", "Nt9-Bw6q-Kyv", "sam@example.org")
    old_code = last_code(harness.mailbox)
    await chat.press("Changer d'adresse")
    assert "adresse e-mail personnelle" in (await chat.last()).text
    await chat.say("sam.roux@example.org")
    await harness.mailbox.wait_for(2)
    assert harness.mailbox.mails[-1].recipients == ("sam.roux@example.org",)
    if old_code != last_code(harness.mailbox):
        assert "pas le bon" in (await chat.say_secret(old_code)).text
    await chat.press("Plutôt les questions")
    assert "Questions secrètes (1 sur 2)" in (await chat.last()).text
    await chat.say_secret(last_code(harness.mailbox))
    assert "boutons" in (await chat.replies())[0].text
