"""Support relays end to end: photos and documents copied both ways (copyMessage), edits
mirrored, the password screen on captions and edits, the staff commands of a ticket, and the
topic's life (a fresh card when recreated, its title edited, a cut-short creation never doubled)
through the real Application, the local Bot API server, a real SMTP server and SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from bot.sandbox.bot_api_server import SandboxGroup
from bot.sandbox.telegram_html import parse_html
from bot.staff import report as report_layout
from bot.texts import support as support_texts

from chat import Chat
from conftest import BotHarness, last_code

STAFF_ID = 9001
OUTSIDER_ID = 4242
TEAM_CHAT = -100777
FORUM_CHAT = -100888


async def _restart_with_team(harness: BotHarness, chat_id: int, *, forum: bool) -> BotHarness:
    await harness.stop()
    harness.settings = harness.settings.model_copy(
        update={
            "staff_telegram_ids": [STAFF_ID],
            "support_chat_id": chat_id,
            "support_forum_topics": forum,
        }
    )
    harness.server.group(chat_id, "Équipe ENT", is_forum=forum)
    await harness.start()
    return harness


@pytest_asyncio.fixture
async def forum(harness: BotHarness) -> AsyncIterator[BotHarness]:
    """The bot with a staff group whose forum topics are on."""
    yield await _restart_with_team(harness, FORUM_CHAT, forum=True)


@pytest_asyncio.fixture
async def team(harness: BotHarness) -> AsyncIterator[BotHarness]:
    """The bot with a staff group without topics (reply mode)."""
    yield await _restart_with_team(harness, TEAM_CHAT, forum=False)


async def write_to_team(chat: Chat) -> None:
    """/aide, « Je bloque », « Écrire à l'équipe »: the next message goes to the team."""
    await chat.say("/aide")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")


async def send_photo(chat: Chat, caption: str = "") -> int:
    chat._start_turn()
    return await chat.user.send_photo(caption=caption)


async def user_sees(chat: Chat, fragment: str) -> Any:
    """The bot's message to ``chat`` holding ``fragment``, once the outbox delivered it."""

    def found() -> Any:
        return next(
            (m for m in chat.user.visible_messages() if m.from_bot and fragment in m.text), None
        )

    await chat.harness.server.wait_until(lambda: found() is not None)
    return found()


async def only_topic(harness: BotHarness, group: SandboxGroup, posts: int) -> int:
    """The group's one topic, once it holds ``posts`` posts of the bot."""
    await harness.server.wait_until(lambda: len(group.bot_posts()) >= posts)
    await harness.settle()
    [thread] = list(group.topics)
    return thread


def copies(harness: BotHarness, chat_id: int) -> list[Any]:
    return harness.server.events_of(chat_id, "copyMessage")


async def test_photo_relayed_both_ways_without_staff_name(forum: BotHarness) -> None:
    group = forum.server.group(FORUM_CHAT)
    chat = Chat(forum, 3101, "Léa")
    await write_to_team(chat)
    await send_photo(chat, "Voici l'écran d'erreur")
    sent = await chat.last()
    assert "demande n° 1" in sent.text
    thread = await only_topic(forum, group, 2)
    card, photo = group.bot_posts(thread)
    assert card.text.startswith("🆘 Demande #1 · Léa")
    assert photo.kind == "photo" and photo.media is not None
    assert photo.text.startswith("✉️ Demande #1 · Léa") and "Voici l'écran d'erreur" in photo.text
    assert [e.outcome for e in copies(forum, FORUM_CHAT)] == ["ok"]

    staff = forum.server.user(STAFF_ID, first_name="Camille")
    await group.post_media(staff, "photo", "Touchez ce bouton-ci", thread_id=thread)
    answer = await user_sees(chat, "Touchez ce bouton-ci")
    assert answer.kind == "photo"
    assert answer.text.startswith("💬 L'équipe de Lycée de Test")
    assert "Camille" not in answer.text and answer.author is None
    assert [e.outcome for e in copies(forum, 3101)] == ["ok"]
    ticket = await forum.services.support.repository.get(1)
    assert ticket.first_response_at is not None
    # Staff correct the caption: the user's copy is corrected (editMessageCaption).
    [staff_photo] = [m for m in group.messages if m.author and m.kind == "photo"]
    await group.edit(staff_photo.message_id, "Touchez plutôt celui-là")
    await forum.server.wait_until(lambda: "plutôt celui-là" in answer.text)
    assert answer.edited and answer.text.startswith("💬 L'équipe de Lycée de Test")


async def test_document_relayed_in_reply_mode(team: BotHarness) -> None:
    group = team.server.group(TEAM_CHAT)
    chat = Chat(team, 3102, "Sam")
    await write_to_team(chat)
    chat._start_turn()
    await chat.user.send_document("releve.pdf", "Mon relevé")
    assert "demande n° 1" in (await chat.last()).text
    await team.server.wait_until(lambda: len(group.bot_posts()) >= 2)
    card, document = group.bot_posts()
    assert card.text.startswith("🆘 Demande #1 · Sam")
    assert document.kind == "document" and document.media["file_name"] == "releve.pdf"
    assert document.text.startswith("✉️ Demande #1 · Sam") and "Mon relevé" in document.text

    # Staff answer with a document, replying to the copy (its caption carries the number).
    staff = team.server.user(STAFF_ID, first_name="Camille")
    await group.post_media(staff, "document", "Le formulaire", reply_to=document.message_id)
    answer = await user_sees(chat, "Le formulaire")
    assert answer.kind == "document" and "L'équipe de Lycée de Test" in answer.text
    assert "Camille" not in answer.text


async def test_a_caption_holding_a_password_is_not_relayed(forum: BotHarness) -> None:
    group = forum.server.group(FORUM_CHAT)
    chat = Chat(forum, 3103, "Léa")
    await chat.walk_to_cgu("lea.martin", "Xq7-Tb4k-Wpz")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    message_id = await send_photo(chat, "mon code Xq7-Tb4k-Wpz ne marche pas")
    chat.secret_message_ids.append(message_id)
    refused = await chat.last()
    assert refused.text == support_texts.PASSWORD_NOT_SENT
    chat.assert_secrets_deleted()
    await forum.settle()
    assert group.bot_posts() == [] and copies(forum, FORUM_CHAT) == []
    assert await forum.services.support.repository.open_ticket(3103) is None


async def test_edits_are_mirrored_both_ways(forum: BotHarness) -> None:
    group = forum.server.group(FORUM_CHAT)
    chat = Chat(forum, 3104, "Nora")
    await write_to_team(chat)
    first = await chat.send("Je n'ai pas recu le courier")
    await chat.last()
    second = await chat.send("Et le lien ne marche pas")
    await chat.last()
    photo = await send_photo(chat, "capture")
    await chat.last()
    thread = await only_topic(forum, group, 3)
    card_post, text_post, photo_post = group.bot_posts(thread)

    # The user corrects a message, the first one (which carries the card) and a caption.
    await chat.user.edit(second, "Et le lien du mail ne marche pas")
    await chat.user.edit(first, "Je n'ai pas reçu le courrier")
    await chat.user.edit(photo, "capture de l'écran")
    await forum.server.wait_until(
        lambda: text_post.edited and card_post.edited and photo_post.edited
    )
    assert text_post.text.startswith("✉️ Demande #1 · Nora")
    assert text_post.text.endswith("Et le lien du mail ne marche pas")
    assert card_post.text.startswith("🆘 Demande #1 · Nora")
    assert card_post.text.endswith("Je n'ai pas reçu le courrier")
    assert photo_post.text.endswith("capture de l'écran")
    assert forum.server.events_of(FORUM_CHAT, "editMessageCaption")[0].outcome == "ok"
    # An edit is not a new message: nothing more in the topic, nothing said to the user.
    assert len(group.bot_posts(thread)) == 3

    staff = forum.server.user(STAFF_ID, first_name="Camille")
    answer_id = await group.post(staff, "Regardez vos spams", thread_id=thread)
    answer = await user_sees(chat, "Regardez vos spams")
    await group.edit(answer_id, "Regardez vos courriers indésirables")
    await forum.server.wait_until(lambda: "indésirables" in answer.text)
    assert answer.edited and "L'équipe de Lycée de Test" in answer.text
    assert "Camille" not in answer.text
    assert len([m for m in chat.user.visible_messages() if "L'équipe de" in m.text]) == 1


async def test_an_edit_adding_a_password_deletes_the_copy(forum: BotHarness) -> None:
    group = forum.server.group(FORUM_CHAT)
    chat = Chat(forum, 3105, "Léa")
    await chat.walk_to_cgu("lea.martin", "Xq7-Tb4k-Wpz")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    message_id = await chat.send("il ne marche pas")
    await chat.last()
    thread = await only_topic(forum, group, 1)
    [post] = group.bot_posts(thread)
    chat._start_turn()
    await chat.user.edit(message_id, "il ne marche pas : Xq7-Tb4k-Wpz")
    chat.secret_message_ids.append(message_id)
    told = await chat.last()
    assert told.text == support_texts.EDIT_PASSWORD
    chat.assert_secrets_deleted()
    await forum.server.wait_until(lambda: post.deleted)
    assert "Xq7-Tb4k-Wpz" not in post.text
    assert forum.server.events_of(FORUM_CHAT, "editMessageText") == []


async def test_staff_commands_in_a_topic(forum: BotHarness) -> None:
    group = forum.server.group(FORUM_CHAT)
    chat = Chat(forum, 3106, "Léa")
    await chat.walk_to_email_sent("lea.martin", "Xq7-Tb4k-Wpz", "lea@example.org")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    await chat.say("Je ne trouve pas le code")
    thread = await only_topic(forum, group, 1)
    staff = forum.server.user(STAFF_ID, first_name="Camille")

    def replies() -> list[Any]:
        return [m for m in group.bot_posts(thread) if not m.text.startswith("🆘 Demande")]

    await group.post(staff, "/compte", thread_id=thread)
    await forum.server.wait_until(lambda: len(replies()) >= 1)
    [card] = replies()
    report = await forum.services.staff.report("lea.martin")
    assert card.text == parse_html(report_layout.account_html(report))[0]  # as /compte ID

    mails = len(forum.mailbox.mails)
    forum.clock.advance(seconds=61)  # past the resend cooldown
    await group.post(staff, "/renvoyer", thread_id=thread)
    await forum.server.wait_until(lambda: len(replies()) >= 2)
    assert replies()[-1].text == support_texts.STAFF_RESENT
    await forum.mailbox.wait_for(mails + 1)
    assert list(forum.mailbox.mails[-1].recipients) == ["lea@example.org"]
    await user_sees(chat, "L'équipe vous a renvoyé l'e-mail")

    await group.post(staff, "/debloquer", thread_id=thread)
    await forum.server.wait_until(lambda: len(replies()) >= 3)
    assert "lea.martin" in replies()[-1].text and "rien à faire" in replies()[-1].text


async def test_debloquer_lifts_the_lock_audited_and_renvoyer_without_email(
    forum: BotHarness,
) -> None:
    group = forum.server.group(FORUM_CHAT)
    chat = Chat(forum, 3107, "Sam")
    await chat.walk_to_provisional("sam.roux")
    await chat.say_secret("Mauvais-Code-1")  # one failure counted for the identifier
    await chat.walk_to_cgu("sam.roux", "Nt9-Bw6q-Kyv")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    await chat.say("Mon mot de passe est refusé")
    thread = await only_topic(forum, group, 1)
    staff = forum.server.user(STAFF_ID, first_name="Camille")

    await group.post(staff, "/debloquer", thread_id=thread)
    await forum.server.wait_until(lambda: len(group.bot_posts(thread)) >= 2)
    assert "sam.roux" in group.bot_posts(thread)[-1].text
    assert "oublié" in group.bot_posts(thread)[-1].text
    history = await forum.services.staff.history("sam.roux")
    assert [(e.event, e.actor) for e in history][-1] == ("unlock", f"telegram:{STAFF_ID}")

    await group.post(staff, "/renvoyer", thread_id=thread)
    await forum.server.wait_until(lambda: len(group.bot_posts(thread)) >= 3)
    assert group.bot_posts(thread)[-1].text == support_texts.STAFF_NOTHING_TO_RESEND


async def test_non_staff_members_are_refused_the_staff_commands(forum: BotHarness) -> None:
    group = forum.server.group(FORUM_CHAT)
    chat = Chat(forum, 3108, "Sam")
    await chat.walk_to_provisional("sam.roux")
    await chat.say_secret("Mauvais-Code-1")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    await chat.say("bonjour")
    thread = await only_topic(forum, group, 1)
    outsider = forum.server.user(OUTSIDER_ID, first_name="Intrus")
    for command in ("/compte", "/debloquer", "/renvoyer", "/fermer"):
        before = len(group.bot_posts(thread))
        await group.post(outsider, command, thread_id=thread)
        await forum.server.wait_until(lambda n=before: len(group.bot_posts(thread)) > n)
        assert group.bot_posts(thread)[-1].text == support_texts.STAFF_ONLY
    assert "sam.roux" not in " ".join(m.text for m in group.bot_posts(thread)[1:])
    history = await forum.services.staff.history("sam.roux")
    assert "unlock" not in [e.event for e in history]
    ticket = await forum.services.support.repository.get(1)
    assert ticket.state == "open"


async def test_the_topic_title_follows_what_becomes_known(forum: BotHarness) -> None:
    group = forum.server.group(FORUM_CHAT)
    chat = Chat(forum, 3109, "Léa")
    await write_to_team(chat)
    await chat.say("bonjour, je voudrais activer mon compte")
    thread = await only_topic(forum, group, 1)
    assert group.topics[thread]["name"] == "Léa · #1"
    # She proves her account, then writes again: the title now says who she is.
    await chat.walk_to_cgu("lea.martin", "Xq7-Tb4k-Wpz")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    await chat.say("le mot de passe du courrier ne marche pas")
    await forum.server.wait_until(lambda: group.topics[thread]["name"] != "Léa · #1")
    assert group.topics[thread]["name"] == "Léa M. · apprenti · Lycée de Test · #1"
    assert list(group.topics) == [thread]
    assert [e.outcome for e in forum.server.events_of(FORUM_CHAT, "editForumTopic")] == ["ok"]
    # Nothing changed since: no other edit.
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    await chat.say("toujours bloquée")
    await forum.server.wait_until(lambda: len(group.bot_posts(thread)) >= 3)
    assert len(forum.server.events_of(FORUM_CHAT, "editForumTopic")) == 1


async def test_a_creation_cut_short_never_makes_a_second_topic(forum: BotHarness) -> None:
    """The bot was killed between createForumTopic and saving its row: the intent it wrote
    first says a topic may exist. Posts go to General (answer by replying), none is created,
    until staff close the ticket; the next ticket gets its topic."""
    group = forum.server.group(FORUM_CHAT)
    support = forum.services.support
    await support.repository.begin_topic(3110, FORUM_CHAT, forum.clock())
    chat = Chat(forum, 3110, "Sam")
    await write_to_team(chat)
    await chat.say("bonjour")
    await forum.server.wait_until(lambda: len(group.bot_posts()) >= 1)
    await forum.settle()
    [post] = group.bot_posts()
    assert group.topics == {} and post.thread_id is None
    assert forum.server.events_of(FORUM_CHAT, "createForumTopic") == []
    assert post.text.startswith("🆘 Demande #1 · Sam") and "peut-être pas été créé" in post.text

    staff = forum.server.user(STAFF_ID, first_name="Camille")
    await group.post(staff, "Nous regardons", post.message_id)
    await user_sees(chat, "Nous regardons")
    await group.post(staff, "/fermer", post.message_id)
    await user_sees(chat, "est close")
    await write_to_team(chat)
    await chat.say("encore moi")
    await forum.server.wait_until(lambda: len(group.topics) == 1)


async def test_the_in_line_re_prompts_offer_je_bloque(harness: BotHarness) -> None:
    """A refusal that asks again inside a procedure ends with « 🆘 Je bloque », like every
    prompt: identifier or password refused, a wrong e-mail address, a wrong code, the e-mail
    sent (the code step), two passwords that differ."""
    chat = Chat(harness, 3120, "Léa")
    await chat.walk_to_provisional("lea.martin")
    refused = await chat.say_secret("Mauvais-Code-1")
    assert refused.text.startswith("❌ Je n'ai pas pu activer un compte")
    assert support_texts.BUTTON_STUCK in chat.labels(refused)
    assert len(chat.labels(refused)) >= 2  # its own buttons are kept
    await chat.say_secret("Xq7-Tb4k-Wpz")
    await chat.press("J'accepte")
    await chat.press("e-mail")
    invalid = await chat.say("pas une adresse")
    assert "ne semble pas valide" in invalid.text
    assert support_texts.BUTTON_STUCK in chat.labels(invalid)
    count = len(harness.mailbox.mails)
    sent = await chat.say("lea@example.org")
    await harness.mailbox.wait_for(count + 1)
    assert support_texts.BUTTON_STUCK in chat.labels(sent)
    wrong = await chat.say_secret("00000000")
    assert wrong.text.startswith("❌ Ce code n'est pas le bon")
    assert support_texts.BUTTON_STUCK in chat.labels(wrong)
    # « Je bloque » under a refusal opens the help, and the step is kept.
    menu = await chat.press("Je bloque")
    assert "Quel est le problème" in menu.text
    await chat.press("Reprendre")
    await chat.say_secret(last_code(harness.mailbox))
    await chat.say_secret("Velo-Rouge-Soleil-42")
    mismatch = await chat.say_secret("Velo-Rouge-Soleil-43")
    assert mismatch.text.startswith("❌ Les deux mots de passe ne sont pas identiques")
    assert support_texts.BUTTON_STUCK in chat.labels(mismatch)


async def test_staff_commands_in_reply_mode_reply_to_a_relayed_message(team: BotHarness) -> None:
    group = team.server.group(TEAM_CHAT)
    chat = Chat(team, 3121, "Léa")
    await chat.walk_to_cgu("lea.martin", "Xq7-Tb4k-Wpz")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    await send_photo(chat, "la page des conditions")
    await chat.last()
    await team.server.wait_until(lambda: len(group.bot_posts()) >= 2)
    _, photo = group.bot_posts()
    staff = team.server.user(STAFF_ID, first_name="Camille")
    await group.post(staff, "/compte", photo.message_id)
    await team.server.wait_until(lambda: len(group.bot_posts()) >= 3)
    report = await team.services.staff.report("lea.martin")
    assert group.bot_posts()[-1].text == parse_html(report_layout.account_html(report))[0]
    # Not in reply to a ticket's post: where to use it.
    await group.post(staff, "/renvoyer")
    await team.server.wait_until(lambda: len(group.bot_posts()) >= 4)
    assert group.bot_posts()[-1].text == support_texts.STAFF_COMMAND_WHERE


async def test_the_quick_answer_resend_says_the_email_left(harness: BotHarness) -> None:
    chat = Chat(harness, 3122, "Léa")
    await chat.walk_to_email_sent("lea.martin", "Xq7-Tb4k-Wpz", "lea@example.org")
    count = len(harness.mailbox.mails)
    harness.clock.advance(seconds=61)  # past the resend cooldown
    await chat.press("Je bloque")
    await chat.press("Je n'ai pas reçu l'e-mail")
    resent = await chat.press("Renvoyer l'e-mail")
    await harness.mailbox.wait_for(count + 1)
    assert resent.text.startswith(support_texts.RESENT)  # was « cannot resend » on main


async def test_a_caption_the_bot_cannot_check_is_asked_about_then_copied(
    forum: BotHarness,
) -> None:
    """A photo's caption goes through the same screen: a word shaped like a password that is
    not the account's is asked about; « Non » copies the photo with its caption."""
    group = forum.server.group(FORUM_CHAT)
    chat = Chat(forum, 3110, "Léa")
    await chat.walk_to_cgu("lea.martin", "Xq7-Tb4k-Wpz")
    await chat.press("Je bloque")
    await chat.press("Écrire à l'équipe")
    await send_photo(chat, "la référence Kp9-Wq2z-Xav du courrier")
    asked = await chat.last()
    assert asked.text.startswith("🔒 Ce message contient-il un mot de passe ?")
    await forum.settle()
    assert copies(forum, FORUM_CHAT) == []
    sent = await chat.press("Non, envoyez-le")
    assert "demande n° 1" in sent.text
    thread = await only_topic(forum, group, 2)
    _, photo = group.bot_posts(thread)
    assert photo.kind == "photo" and "Kp9-Wq2z-Xav" in photo.text


async def test_an_edit_with_ordinary_words_is_mirrored(forum: BotHarness) -> None:
    """Issue 22.1 on edits: « Re-bonjour » or a name are no password; the copy is edited."""
    group = forum.server.group(FORUM_CHAT)
    chat = Chat(forum, 3111, "Léa")
    await write_to_team(chat)
    message_id = await chat.send("bonjour")
    await chat.last()
    thread = await only_topic(forum, group, 1)
    [post] = group.bot_posts(thread)  # the card, with the first message
    await chat.user.edit(message_id, "Re-bonjour, c'est pour Jean-Pierre2")
    await forum.server.wait_until(lambda: post.edited)
    assert post.text.endswith("Re-bonjour, c'est pour Jean-Pierre2") and not post.deleted
