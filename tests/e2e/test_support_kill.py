"""Support relays across a SIGKILL of the real ``run_bot.py``: a photo's copy owed to the staff
group is an outbox item written before it is sent, so it leaves after the restart; a kill
between createForumTopic and the row that saves its id never gives the user a second topic."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.sandbox.bot_api_server import Fault, LocalBotApi, SandboxUser
from bot.sandbox.mailbox import Mailbox
from bot.texts import support as support_texts

from test_kill_restart import BotProcess, real_bot_env, turn

STAFF_ID = 9001
FORUM_CHAT = -100888


async def forum_env(tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox) -> dict[str, str]:
    bot_api.group(FORUM_CHAT, "Équipe ENT", is_forum=True)
    return await real_bot_env(
        tmp_path,
        bot_api,
        mailbox,
        SUPPORT_CHAT_ID=str(FORUM_CHAT),
        SUPPORT_FORUM_TOPICS="true",
        STAFF_TELEGRAM_IDS=str(STAFF_ID),
        OUTBOX_RETRY_FIRST_SECONDS="0.1",
        OUTBOX_RETRY_MAX_SECONDS="0.5",
    )


async def wait_for(condition: object, timeout: float = 20) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met")


async def to_the_team(user: SandboxUser) -> None:
    """/aide → « Je bloque » → « Écrire à l'équipe », each answered by the real bot."""
    await turn(user, user.send_text("/aide"), "Besoin d'aide")
    await turn(user, user.press("Je bloque"), "Quel est le problème")
    await turn(user, user.press("Écrire à l'équipe"), "Écrivez votre message")


async def test_a_photo_owed_to_the_team_leaves_after_a_sigkill(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    env = await forum_env(tmp_path, bot_api, mailbox)
    group = bot_api.group(FORUM_CHAT)
    process = BotProcess(env)
    await process.start()
    try:
        user = bot_api.user(4401, first_name="Léa")
        await to_the_team(user)
        # Telegram fails every copy: the item stays in the outbox, retried.
        bot_api.inject(Fault("server_error", methods=frozenset({"copymessage"}), times=None))
        await turn(user, user.send_photo("mon écran"), "demande n° 1")
        await wait_for(lambda: bot_api.events_of(FORUM_CHAT, "copyMessage"))
        await process.kill()
        bot_api.clear_faults()
        assert [m.kind for m in group.bot_posts()] == ["text"]  # the card only

        process = BotProcess(env)
        await process.start()
        await wait_for(lambda: len(group.bot_posts()) == 2)
        await asyncio.sleep(0.5)
        card, photo = group.bot_posts()  # the card is not posted again
        assert card.text.startswith("🆘 Demande #1 · Léa")
        assert photo.kind == "photo" and "mon écran" in photo.text
        assert len(group.topics) == 1
    finally:
        await process.stop()


async def test_a_sigkill_during_create_forum_topic_never_makes_a_second_topic(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    env = await forum_env(tmp_path, bot_api, mailbox)
    group = bot_api.group(FORUM_CHAT)
    process = BotProcess(env)
    await process.start()
    try:
        user = bot_api.user(4402, first_name="Sam")
        await to_the_team(user)
        # Telegram is slow to answer createForumTopic: the bot is killed while it waits, and
        # the topic is created all the same (it never learns its id).
        bot_api.inject(Fault("slow", methods=frozenset({"createforumtopic"}), delay=1.5))
        await turn(user, user.send_text("bonjour"), "demande n° 1")
        await wait_for(lambda: any(m == "createForumTopic" for m, _ in bot_api.requests_log))
        await process.kill()
        await wait_for(lambda: len(group.topics) == 1)

        process = BotProcess(env)
        await process.start()
        await wait_for(lambda: len(group.bot_posts()) == 1)
        await asyncio.sleep(0.5)
        assert len(group.topics) == 1  # not a second one
        [post] = group.bot_posts()
        assert post.thread_id is None and post.text.startswith("🆘 Demande #1 · Sam")
        assert "peut-être pas été créé" in post.text
        assert support_texts.STAFF_TOPIC_UNCERTAIN.startswith("<i>⚠️")
    finally:
        await process.stop()
