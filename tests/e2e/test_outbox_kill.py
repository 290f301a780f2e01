"""Outbox Telegram messages across a SIGKILL of the real ``run_bot.py``: a message whose request
had left when the bot was killed is « incertain » at the next start and never sent again; the
messages that were only waiting in the limiter's queue (one a second a chat) leave after the
restart, each once; a card before a copy, once recorded, is not posted again."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from test_support_kill import FORUM_CHAT, forum_env, to_the_team

from bot.sandbox.bot_api_server import Fault, LocalBotApi, SandboxGroup
from bot.sandbox.mailbox import Mailbox

from test_kill_restart import PROJECT, BotProcess, real_bot_env, turn

STAFF_ID = 9001
TEAM_CHAT = -100777


async def wait_for(condition: object, timeout: float = 20) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met")


async def outbox_json(env: dict[str, str]) -> dict[str, object]:
    """``run_bot.py outbox --json`` on the bot's database, as staff run it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "run_bot.py",
        "outbox",
        "--json",
        cwd=PROJECT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    figures: dict[str, object] = json.loads(out)
    return figures


def relayed(group: SandboxGroup, fragment: str) -> int:
    """How many of the bot's posts in the staff group hold ``fragment``."""
    return sum(1 for post in group.bot_posts() if fragment in post.text)


async def test_a_sigkill_mid_send_never_sends_twice_and_the_queued_ones_leave_once(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    group = bot_api.group(TEAM_CHAT, "Équipe ENT")
    env = await real_bot_env(
        tmp_path,
        bot_api,
        mailbox,
        SUPPORT_CHAT_ID=str(TEAM_CHAT),
        STAFF_TELEGRAM_IDS=str(STAFF_ID),
        OUTBOX_RETRY_FIRST_SECONDS="0.1",
        OUTBOX_RETRY_MAX_SECONDS="0.5",
        TELEGRAM_TIMEOUT_SECONDS="15",  # the bot waits for the slow answer: killed meanwhile
    )
    process = BotProcess(env)
    await process.start()
    try:
        user = bot_api.user(4501, first_name="Nora")
        await turn(user, user.send_text("/aide"), "Besoin d'aide")
        await turn(user, user.press("Je bloque"), "Quel est le problème")
        await turn(user, user.press("Écrire à l'équipe"), "Écrivez votre message")
        # Telegram takes 5 s to carry out the first post to the team (and answers then): the
        # bot is killed while that request is out. The next three posts, owed to the same
        # chat, wait in the limiter's queue behind it (one message a second a chat).
        bot_api.inject(
            Fault("slow", chat_id=TEAM_CHAT, methods=frozenset({"sendmessage"}), delay=5.0)
        )
        await turn(user, user.send_text("Premier message"), "demande n° 1")
        await wait_for(
            lambda: any(
                method == "sendMessage" and str(params.get("chat_id")) == str(TEAM_CHAT)
                for method, params in bot_api.requests_log
            )
        )
        for n in (2, 3, 4):
            await turn(user, user.send_text(f"Message numéro {n}"), "demande n° 1")
        await process.kill()
        assert relayed(group, "Premier message") == 0, "killed while the first post was out"
        # Telegram carries the first post out after all (its answer never reaches the bot).
        await wait_for(lambda: relayed(group, "Premier message") == 1)
        assert not any(relayed(group, f"Message numéro {n}") for n in (2, 3, 4))

        process = BotProcess(env)
        await process.start()
        await wait_for(lambda: all(relayed(group, f"Message numéro {n}") for n in (2, 3, 4)))
        await asyncio.sleep(1.5)  # a second copy of the first post would leave meanwhile
        assert relayed(group, "Premier message") == 1
        assert [relayed(group, f"Message numéro {n}") for n in (2, 3, 4)] == [1, 1, 1]
        figures = await outbox_json(env)
        assert figures["uncertain"] == 1 and figures["pending"] == 0
        assert str(figures["last_error"]).startswith("Incertain:")
    finally:
        await process.stop()


async def test_a_sigkill_mid_copy_to_a_topic_never_copies_twice_nor_posts_the_card_again(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    env = await forum_env(tmp_path, bot_api, mailbox)
    env["TELEGRAM_TIMEOUT_SECONDS"] = "15"
    group = bot_api.group(FORUM_CHAT)
    process = BotProcess(env)
    await process.start()
    try:
        user = bot_api.user(4502, first_name="Léa")
        await to_the_team(user)
        # The ticket's card goes first (its own row records it), then the photo's copy, which
        # Telegram carries out 5 s later: the bot is killed while that request is out.
        bot_api.inject(Fault("slow", methods=frozenset({"copymessage"}), delay=5.0))
        await turn(user, user.send_photo("mon écran"), "demande n° 1")
        await wait_for(lambda: any(m == "copyMessage" for m, _ in bot_api.requests_log))
        await process.kill()
        assert [m.kind for m in group.bot_posts()] == ["text"], "killed while the copy was out"
        await wait_for(lambda: len(group.bot_posts()) == 2)

        process = BotProcess(env)
        await process.start()
        await asyncio.sleep(3)  # a second card or copy would leave meanwhile
        card, photo = group.bot_posts()
        assert card.text.startswith("🆘 Demande #1 · Léa")
        assert photo.kind == "photo" and "mon écran" in photo.text
        assert len(group.topics) == 1
        assert (await outbox_json(env))["uncertain"] == 1
    finally:
        await process.stop()
