"""« 🆘 Je bloque » end to end: quick answers, a ticket with the school's team in the staff
group (reply mode), its context card, the staff answer relayed without a staff name, /fermer,
the password screen and the anti-flood, through the real Application, the local Bot API server,
a real SMTP server and a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot import texts
from bot.cli import build_parser
from bot.procedures.throttle import chat_key
from bot.sandbox.bot_api_server import SandboxGroup
from bot.support.cli import support_command
from bot.texts import support as support_texts
from conversations.context import REGISTRY_KEY

from chat import Chat
from conftest import BotHarness

STAFF_ID = 9001
TEAM_CHAT = -100777


@pytest_asyncio.fixture
async def team(harness: BotHarness) -> AsyncIterator[BotHarness]:
    """The harness's bot restarted with a staff group and one staff member."""
    await harness.stop()
    harness.settings = harness.settings.model_copy(
        update={"staff_telegram_ids": [STAFF_ID], "support_chat_id": TEAM_CHAT}
    )
    harness.server.group(TEAM_CHAT, "Équipe ENT")
    await harness.start()
    yield harness


def group_of(harness: BotHarness) -> SandboxGroup:
    group = harness.server.group(TEAM_CHAT)
    return group


async def posts(harness: BotHarness, count: int) -> list[Any]:
    """The bot's posts in the staff group, once there are ``count`` (sent by the outbox)."""
    group = group_of(harness)
    await harness.server.wait_until(lambda: len(group.bot_posts()) >= count)
    await harness.settle()
    return group.bot_posts()


async def user_sees(chat: Chat, fragment: str) -> Any:
    """The bot's message to ``chat`` holding ``fragment``, once the outbox delivered it."""

    def found() -> Any:
        return next(
            (m for m in chat.user.visible_messages() if m.from_bot and fragment in m.text), None
        )

    await chat.harness.server.wait_until(lambda: found() is not None)
    return found()


async def test_a_quick_answer_helps_and_the_procedure_resumes(harness: BotHarness) -> None:
    chat = Chat(harness, 3001, "Léa")
    await chat.walk_to_provisional("lea.martin")
    prompt = await chat.last()
    assert support_texts.BUTTON_STUCK in chat.labels(prompt)
    menu = await chat.press("Je bloque")
    assert "Mon mot de passe provisoire ne marche pas" in chat.labels(menu)
    answer = await chat.press("Mon mot de passe provisoire ne marche pas")
    assert "exactement comme sur le courrier" in answer.text
    assert support_texts.BUTTON_NOT_HELPED in chat.labels(answer)
    # Typed in its own words, without accents: matched before anything else.
    typed = await chat.say("j'ai pas recu le mail")
    assert "Spam" in typed.text
    resumed = await chat.press("Reprendre")
    assert texts.HELP_RESUME in resumed.text
    assert "mot de passe provisoire écrit sur le courrier" in resumed.text
    # The step is kept: the provisional password is still taken.
    cgu = await chat.say_secret("Xq7-Tb4k-Wpz")
    assert "J'accepte" in " ".join(chat.labels(cgu))
    chat.assert_secrets_deleted()


async def test_without_a_staff_group_writing_shows_the_contacts(harness: BotHarness) -> None:
    chat = Chat(harness, 3002)
    await chat.say("/aide")
    await chat.press("Je bloque")
    contacts = await chat.press("Écrire à l'équipe")
    assert "aide@example.org" in contacts.text


async def test_ticket_from_the_cgu_step_answered_and_closed(
    team: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    chat = Chat(team, 3003, "Léa")
    await chat.walk_to_cgu("lea.martin", "Xq7-Tb4k-Wpz")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    sent = await chat.say("Je ne comprends pas les conditions")
    assert "demande n° 1" in sent.text
    [card] = await posts(team, 1)
    assert "Demande #1" in card.text
    assert "lea.martin" in card.text
    assert "Lycée de Test" in card.text
    assert team.app is not None
    label = team.app.bot_data[REGISTRY_KEY].staff_label("cgu")
    assert label and label in card.text
    assert "Xq7-Tb4k-Wpz" not in card.text
    assert card.text.endswith("Je ne comprends pas les conditions")

    staff = team.server.user(STAFF_ID, first_name="Camille")
    answer_text = "Bonjour, lisez-les puis touchez J'accepte."
    await group_of(team).post(staff, answer_text, card.message_id)
    answer = await user_sees(chat, "lisez-les")
    assert "L'équipe de Lycée de Test" in answer.text
    assert "Camille" not in answer.text
    ticket = await team.services.support.repository.get(1)
    assert ticket.first_response_at is not None

    # The procedure was kept all along: « Reprendre » shows its step again.
    resumed = await chat.press("Reprendre")
    assert "J'accepte" in " ".join(chat.labels(resumed))

    await group_of(team).post(staff, "/fermer", card.message_id)
    closed = await user_sees(chat, "est close")
    assert "rouvre" in closed.text
    ticket = await team.services.support.repository.get(1)
    assert ticket.state == "closed"

    # Staff's command line: the closed ticket, with its first-response time, no text.
    assert (
        await support_command(
            team.settings, build_parser().parse_args(["support", "list", "--json"])
        )
        == 0
    )
    listed = json.loads(capsys.readouterr().out)
    assert [(t["numero"], t["etat"]) for t in listed] == [(1, "closed")]
    assert listed[0]["premiere_reponse_le"] is not None
    assert (
        await support_command(
            team.settings, build_parser().parse_args(["support", "list", "--ouverts"])
        )
        == 0
    )
    assert "Aucune demande." in capsys.readouterr().out
    assert (
        await support_command(team.settings, build_parser().parse_args(["support", "show", "1"]))
        == 0
    )
    shown = capsys.readouterr().out
    assert "close" in shown and "1/1" in shown and "conditions" not in shown


async def test_a_school_may_sign_answers_with_the_staff_first_name(team: BotHarness) -> None:
    await team.stop()
    team.settings = team.settings.model_copy(update={"support_show_staff_names": True})
    await team.start()
    chat = Chat(team, 3009, "Léa")
    await chat.say("/aide")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    await chat.say("Je n'arrive pas à me connecter")
    [card] = await posts(team, 1)
    staff = team.server.user(STAFF_ID, first_name="Camille")
    await group_of(team).post(staff, "Nous regardons cela.", card.message_id)
    answer = await user_sees(chat, "Nous regardons")
    assert "L'équipe de Lycée de Test · Camille" in answer.text


async def test_non_staff_cannot_close_nor_use_staff_commands(team: BotHarness) -> None:
    chat = Chat(team, 3004, "Sam")
    await chat.say("/aide")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    await chat.say("Je n'ai pas de courrier")
    [card] = await posts(team, 1)
    outsider = team.server.user(4242, first_name="Intrus")
    await group_of(team).post(outsider, "/fermer", card.message_id)
    await team.settle()
    ticket = await team.services.support.repository.get(1)
    assert ticket.state == "open"
    # In a private chat, /fermer is an unknown command like any other.
    reply = await Chat(team, 4242).say("/fermer")
    assert texts.UNKNOWN_COMMAND in reply.text or texts.OUTSIDE_FLOW in reply.text


async def test_a_password_typed_to_the_team_is_not_relayed(team: BotHarness) -> None:
    chat = Chat(team, 3005, "Léa")
    await chat.walk_to_cgu("lea.martin", "Xq7-Tb4k-Wpz")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    refused = await chat.say_secret("mon code c'est Xq7-Tb4k-Wpz il marche pas")
    assert refused.text == support_texts.PASSWORD_NOT_SENT
    chat.assert_secrets_deleted()
    await team.settle()
    assert group_of(team).bot_posts() == []
    assert await team.services.support.repository.open_ticket(3005) is None
    # Sent at last without it; still with the team until « Reprendre ».
    sent = await chat.say("il ne marche pas")
    assert "demande n° 1" in sent.text and support_texts.WRITE_MORE in sent.text
    # A button of the step pressed meanwhile is the procedure's, and leaves help.
    await chat.press("J'accepte")
    assert await team.services.support.mode(3005) is None


async def test_a_provisional_password_typed_before_it_is_proven_is_not_relayed(
    team: BotHarness,
) -> None:
    """At the provisional password the account is not proven: comparing with its password
    would be an oracle without limit, so what has a password's shape is held back."""
    chat = Chat(team, 3007, "Léa")
    await chat.walk_to_provisional("lea.martin")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    refused = await chat.say_secret("mon mot de passe Xq7-Tb4k-Wpz ne marche pas")
    assert refused.text == support_texts.PASSWORD_NOT_SENT
    chat.assert_secrets_deleted()
    await team.settle()
    assert group_of(team).bot_posts() == []


async def test_outside_a_procedure_replies_go_to_the_ticket_up_to_five_a_minute(
    team: BotHarness,
) -> None:
    chat = Chat(team, 3006, "Nora")
    await chat.say("/aide")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    for n in range(4):
        reply = await chat.say(f"Message numéro {n}")
        assert "demande n° 1" in reply.text
    # Not taken for a quick answer: it is a reply to the team.
    reply = await chat.say("merci le mail est arrivé")
    assert "demande n° 1" in reply.text
    flooded = await chat.say("Encore un")
    assert flooded.text == support_texts.FLOOD
    relayed = await posts(team, 5)  # the card with the first message, then four
    assert all(post.text.startswith(("🆘 Demande #1", "✉️ Demande #1")) for post in relayed)
    assert not any("Encore un" in post.text for post in relayed)


FORUM_CHAT = -100888


@pytest_asyncio.fixture
async def forum(harness: BotHarness) -> AsyncIterator[BotHarness]:
    """The harness's bot restarted with a staff group whose forum topics are on."""
    await harness.stop()
    harness.settings = harness.settings.model_copy(
        update={
            "staff_telegram_ids": [STAFF_ID],
            "support_chat_id": FORUM_CHAT,
            "support_forum_topics": True,
        }
    )
    harness.server.group(FORUM_CHAT, "Équipe ENT", is_forum=True)
    await harness.start()
    yield harness


async def test_forum_one_topic_a_user_answered_closed_and_reopened(forum: BotHarness) -> None:
    group = forum.server.group(FORUM_CHAT)
    chat = Chat(forum, 3010, "Léa")
    await chat.say("/aide")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    # Two first messages at once: one topic.
    await chat.send("premier message")
    await chat.user.send_text("second message")
    await forum.server.wait_until(lambda: len(group.bot_posts()) >= 2)
    await forum.settle()
    assert len(group.topics) == 1
    [(thread, topic)] = group.topics.items()
    assert topic["name"].endswith("#1")
    posts_in_topic = group.bot_posts(thread)
    assert len(posts_in_topic) == 2
    assert posts_in_topic[0].text.startswith("🆘 Demande #1")

    staff = forum.server.user(STAFF_ID, first_name="Camille")
    await group.post(staff, "Nous regardons cela.", thread_id=thread)
    answer = await user_sees(chat, "Nous regardons")
    assert "L'équipe de Lycée de Test" in answer.text and "Camille" not in answer.text

    await group.post(staff, "/fermer", thread_id=thread)
    await user_sees(chat, "est close")
    assert group.topics[thread]["closed"] is True

    # The user writes again: a new ticket, in the same topic, reopened.
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    sent = await chat.say("Encore une question")
    assert "demande n° 2" in sent.text
    await forum.server.wait_until(lambda: len(group.bot_posts(thread)) >= 3)
    assert len(group.topics) == 1 and group.topics[thread]["closed"] is False


async def test_forum_topic_deleted_by_staff_is_created_again(forum: BotHarness) -> None:
    group = forum.server.group(FORUM_CHAT)
    chat = Chat(forum, 3011, "Sam")
    await chat.say("/aide")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    await chat.say("bonjour")
    await forum.server.wait_until(lambda: len(group.bot_posts()) >= 1)
    [thread] = list(group.topics)
    group.delete_topic(thread)
    await chat.say("vous êtes là ?")
    await forum.server.wait_until(lambda: len(group.topics) == 1 and thread not in group.topics)
    [new_thread] = list(group.topics)
    await forum.server.wait_until(lambda: len(group.bot_posts(new_thread)) == 2)
    # A fresh context card first, so staff never ask what the bot knows; then the message.
    card, message = group.bot_posts(new_thread)
    assert card.text.startswith("🆘 Demande #1 · Sam") and "Telegram : 3011" in card.text
    assert "vous êtes là ?" not in card.text
    assert message.text.startswith("✉️ Demande #1") and "vous êtes là ?" in message.text


# --- the password screen without false positives (issues 22 and 29) ------------------------


async def write_from_provisional(chat: Chat) -> None:
    """At the provisional password (the account not proven yet), « Écrire à l'équipe »."""
    await chat.walk_to_provisional("lea.martin")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")


async def test_words_names_and_identifiers_reach_the_team(team: BotHarness) -> None:
    """Issue 22.1: « Re-bonjour », a name with a digit, an identifier were refused as
    passwords; they go to the team as they are."""
    chat = Chat(team, 3020, "Léa")
    await write_from_provisional(chat)
    for text in (
        "Re-bonjour, encore une question.",
        "Mon fils Jean-Pierre2 n'y arrive pas",
        "son identifiant est lea.dupont12",
        "le mien c'est lea.martin",
    ):
        sent = await chat.say(text)
        assert "demande n° 1" in sent.text, text
    relayed = await posts(team, 4)
    assert "Re-bonjour, encore une question." in relayed[0].text
    assert "lea.dupont12" in relayed[2].text
    # No guess was spent on the owner's throttle: nothing had the shape of a password.
    report = await team.services.staff.report("lea.martin")
    assert report is not None and report.lock.failures_last_24h == 0


async def test_what_the_bot_cannot_check_is_asked_about(team: BotHarness) -> None:
    """Issue 22.1: a word shaped like a password that is not the account's is not refused:
    « Ce message contient-il un mot de passe ? » Non relays it, Oui deletes it."""
    chat = Chat(team, 3021, "Léa")
    await chat.walk_to_cgu("lea.martin", "Xq7-Tb4k-Wpz")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    asked = await chat.say("la référence du courrier est Kp9-Wq2z-Xav")
    assert asked.text.startswith("🔒 Ce message contient-il un mot de passe ?")
    assert chat.labels(asked) == [
        support_texts.BUTTON_YES_PASSWORD,
        support_texts.BUTTON_NO_PASSWORD,
    ]
    await team.settle()
    assert group_of(team).bot_posts() == []
    sent = await chat.press("Non, envoyez-le")
    assert "demande n° 1" in sent.text
    [post] = await posts(team, 1)
    assert "Kp9-Wq2z-Xav" in post.text

    message_id = await chat.send("et mon autre mot de passe Zr8-Mn3c-Tqw")
    chat.secret_message_ids.append(message_id)
    await chat.last()
    erased = await chat.press("Oui, effacez-le")
    assert erased.text == support_texts.PASSWORD_ERASED
    chat.assert_secrets_deleted()
    await team.settle()
    assert len(group_of(team).bot_posts()) == 1
    # A button pressed again finds nothing held: nothing more is sent.
    assert not any("Zr8-Mn3c-Tqw" in p.text for p in group_of(team).bot_posts())


async def test_a_guess_before_the_account_is_proven_is_throttled(team: BotHarness) -> None:
    """Issue 22.1: before the account is proven, a word shaped like a password is compared
    with the provisional password of the identifier typed, as one guess of its throttle."""
    chat = Chat(team, 3022, "Léa")
    await write_from_provisional(chat)
    asked = await chat.say("mon code Ab3-Cd4e-Fgh ne marche pas")
    assert asked.text.startswith("🔒 Ce message contient-il un mot de passe ?")
    report = await team.services.staff.report("lea.martin")
    assert report is not None and report.lock.failures_last_24h == 1


async def test_a_guess_in_a_support_message_counts_on_the_chat_too(team: BotHarness) -> None:
    """A password-shaped word compared with the provisional password is a guess of this chat
    as well as of the identifier: else it could put the identifier in its delay ahead of the
    chat's, and the right password would get the generic refusal again (issue 22.10)."""
    chat = Chat(team, 3027, "Léa")
    await write_from_provisional(chat)
    await chat.say("mon code Ab3-Cd4e-Fgh ne marche pas")
    ports = team.services.activation.ports
    window = team.clock() - ports.throttle_policy.window
    assert (await ports.throttle.counters(chat_key(3027), window)).consecutive_failures == 1


async def test_messages_stay_with_the_team_until_reprendre(forum: BotHarness) -> None:
    """Issue 22.2: two messages typed at once right after « Écrire à l'équipe » both reach the
    one topic (the second was answered by the procedure's step); every message stays with the
    team until « Reprendre »."""
    group = forum.server.group(FORUM_CHAT)
    chat = Chat(forum, 3023, "Léa")
    await write_from_provisional(chat)
    await chat.send("Bonjour, je suis bloquée")
    await chat.user.send_text("je ne retrouve pas mon courrier")
    await forum.server.wait_until(lambda: len(group.bot_posts()) >= 2)
    replies = await chat.replies()
    assert all("demande n° 1" in reply.text for reply in replies), [r.text for r in replies]
    assert not any("touchez un des boutons" in reply.text for reply in replies)
    later = await chat.say("ah et aussi le lien")
    assert "demande n° 1" in later.text and support_texts.WRITE_MORE in later.text
    await forum.server.wait_until(lambda: len(group.bot_posts()) >= 3)
    assert len(group.topics) == 1
    resumed = await chat.press("Reprendre")
    assert texts.HELP_RESUME in resumed.text
    assert await forum.services.support.mode(3023) is None
    # Back at the step: the provisional password is the step's again.
    await chat.say_secret("Xq7-Tb4k-Wpz")
    assert len(group.bot_posts()) == 3


async def test_a_secret_typed_in_help_is_deleted_at_once(team: BotHarness) -> None:
    """Issue 22.3: the provisional password typed in help was « Je n'ai pas trouvé de réponse
    toute prête »; it is deleted at once, neither matched nor relayed, and « Reprendre » is
    offered to type it at the right step."""
    chat = Chat(team, 3024, "Léa")
    await chat.walk_to_provisional("lea.martin")
    await chat.press("Je bloque")
    told = await chat.say_secret("Xq7-Tb4k-Wpz")
    assert told.text == support_texts.SECRET_IN_HELP
    assert any("Reprendre" in label for label in chat.labels(told))
    chat.assert_secrets_deleted()
    await team.settle()
    assert group_of(team).bot_posts() == []
    await chat.press("Reprendre")
    accepted = await chat.say_secret("Xq7-Tb4k-Wpz")
    assert "Conditions Générales" in " ".join(m.text for m in await chat.replies()) or accepted


async def test_quick_answers_offer_what_works_and_a_weak_match_the_list(
    harness: BotHarness,
) -> None:
    """Issue 22.4: « je n'ai pas d'adresse mail » matched « Je n'ai pas reçu l'e-mail », whose
    « Renvoyer l'e-mail » failed at that step: a weak match shows the list, and an answer
    offers only the actions that work at the person's step."""
    chat = Chat(harness, 3025, "Léa")
    await chat.walk_to_provisional("lea.martin")
    await chat.press("Je bloque")
    listed = await chat.say("je n'ai pas d'adresse mail")
    assert listed.text == support_texts.WEAK_MATCH
    assert "Je n'ai pas reçu l'e-mail" in chat.labels(listed)
    answer = await chat.press("Je n'ai pas reçu l'e-mail")
    assert "Spam" in answer.text
    assert support_texts.BUTTON_ACTIONS["renvoyer"] not in chat.labels(answer)


async def test_a_passphrase_in_a_sentence_is_not_relayed(team: BotHarness) -> None:
    """Issue 29.3: a passphrase written inside a sentence reached the staff group."""
    passphrase = "Mon chien dort 3 fois"  # not the example: refused (issue 22.8)
    chat = Chat(team, 3026, "Léa")
    await chat.walk_to_password("lea.martin", "Xq7-Tb4k-Wpz", "lea@example.org")
    await chat.say_secret(passphrase)
    done = await chat.say_secret(passphrase)
    assert "activé" in done.text
    await chat.say("/aide")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    refused = await chat.say_secret(f"mon mot de passe c'est {passphrase} et ça marche pas")
    assert refused.text == support_texts.PASSWORD_NOT_SENT
    chat.assert_secrets_deleted()
    await team.settle()
    assert group_of(team).bot_posts() == []


async def test_the_cap_comes_before_any_hashing(team: BotHarness) -> None:
    """Issue 29.4: every message was checked against the password hashes before the
    per-minute cap. Over the cap, no hash is checked; a message costs a bounded number."""
    chat = Chat(team, 3027, "Léa")
    await chat.walk_to_cgu("lea.martin", "Xq7-Tb4k-Wpz")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    directory = team.services.support.directory
    calls: list[str] = []
    real = directory.check_provisional

    async def counted(account_id: int | None, password: str) -> bool:
        calls.append(password)
        return await real(account_id, password)

    directory.check_provisional = counted  # type: ignore[method-assign]
    long = "Il y a un Souci avec le lien 2 fois de suite aujourd'hui et hier encore " * 3
    for n in range(8):
        await chat.say(f"{long} {n}")
    limit = team.settings.support_max_messages_per_minute
    assert 0 < len(calls) <= limit * 8
    spent = await team.services.support.repository.hash_checks_since(
        3027, team.clock.now.replace(year=2000)
    )
    assert spent == len(calls)
    flooded = await chat.say("Encore un Message 2")
    assert flooded.text == support_texts.FLOOD
    assert len(calls) == spent


async def test_a_new_password_typed_to_the_team_is_asked_about(team: BotHarness) -> None:
    """Messages stay with the team (issue 22.2): at the new password step, a message that as a
    whole could be that password (a passphrase, nothing to compare it with yet) is asked
    about rather than relayed; a plain question is relayed."""
    chat = Chat(team, 3028, "Léa")
    await chat.walk_to_password("lea.martin", "Xq7-Tb4k-Wpz", "lea@example.org")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    asked = await chat.say("Mon chat dort 2 fois")
    assert asked.text.startswith("🔒 Ce message contient-il un mot de passe ?")
    sent = await chat.say("il ne marche pas")
    assert "demande n° 1" in sent.text
    [post] = await posts(team, 1)
    assert "Mon chat dort" not in post.text
