"""Staff broadcasts end to end: campaigns recorded by the real command line (or the repository),
sent by the running bot through the local Bot API server — to exactly the segment, with the
opt-out button, 403 marking « bloqué », injected 429s losing nothing, and a SIGKILL of the real
``run_bot.py`` mid-campaign giving no duplicate and skipping nobody."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.sandbox.bot_api_server import Fault, FloodLimits, LocalBotApi, SandboxUser
from bot.sandbox.mailbox import Mailbox
from bot.school import load_school_config
from bot.security import KeyedHasher, SecretHasher, load_or_create_server_secret
from bot.settings import Settings
from bot.staff.accounts_import import import_accounts
from bot.texts import broadcast as texts
from storage.accounts import SqliteAccountDirectory
from storage.broadcasts import Audience, BroadcastRepository, CampaignStats, Segment
from storage.db import Database

from chat import Chat
from conftest import BotHarness, harness_settings
from support import ACCOUNTS, DATA, write_accounts_csv
from test_kill_restart import PROJECT, BotProcess, real_bot_env
from test_recovery import activate_by_email

JSON_KEYS = {
    "id",
    "state",
    "recipients",
    "sent",
    "blocked",
    "failed",
    "uncertain",
    "pending",
    "rate_per_s",
}


async def broadcast_cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """``python run_bot.py broadcast …`` as staff run it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "run_bot.py",
        "broadcast",
        *args,
        cwd=PROJECT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode or 0, out.decode(), err.decode()


def cli_env(settings: Settings) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_"))},
        "DATABASE_PATH": str(settings.database_path),
        "SERVER_SECRET_FILE": str(settings.server_secret_file),
    }


async def link(database_path: Path, users: dict[str, int]) -> None:
    """Accounts already activated (current CGU accepted) and linked to these Telegram users (in
    a thread: the bot may be running in this event loop)."""
    await asyncio.to_thread(_link, database_path, users)


def _link(database_path: Path, users: dict[str, int]) -> None:
    cgu = load_school_config(DATA / "school.toml").cgu_version
    with contextlib.closing(sqlite3.connect(database_path)) as connection:
        connection.executemany(
            "UPDATE accounts SET status = 'active', telegram_user_id = ?, cgu_version = ? "
            "WHERE identifiant = ?",
            [(user, cgu, identifiant) for identifiant, user in users.items()],
        )
        connection.commit()


async def campaign(harness: BotHarness, text: str, **audience: object) -> int:
    """Record a campaign as the command line does, and wake the running bot."""
    worker = harness.services.broadcast
    number: int = await worker.repository.create(
        Audience(**audience),  # type: ignore[arg-type]
        text,
        "",
        "test",
        datetime.now(UTC),
        send_now=True,
    )
    worker.wake()
    return number


async def finished(
    repository: BroadcastRepository, number: int, timeout: float = 20
) -> CampaignStats:
    async with asyncio.timeout(timeout):
        while True:
            stats = await repository.stats(number, datetime.now(UTC))
            assert stats is not None
            if stats.state in ("terminee", "annulee"):
                return stats
            await asyncio.sleep(0.05)


def reminders(user: SandboxUser) -> list[str]:
    """The reminders a user received (every test campaign's text starts with « Rappel »)."""
    return [m.text for m in user.messages if m.from_bot and m.text.startswith("Rappel")]


def has_opt_out_button(user: SandboxUser) -> bool:
    return any(
        texts.OPT_OUT_BUTTON in button.get("text", "")
        for message in user.messages
        for row in message.buttons
        for button in row
    )


async def test_a_campaign_reaches_exactly_its_segment(harness: BotHarness, tmp_path: Path) -> None:
    await activate_by_email(harness, 6001, "paul.durand", "Rm2-Hv8n-Zcw")  # actives
    lea = Chat(harness, 6002)
    await lea.walk_to_email_sent("lea.martin", "Xq7-Tb4k-Wpz", "lea@example.org")  # en_cours
    stranger = Chat(harness, 6003)
    await stranger.say("/activer")
    await stranger.say("sam.roux")  # typed an identifier, proved nothing: not « started »

    message = tmp_path / "rappel.txt"
    message.write_text("Rappel : {prenom} ({etablissement}), finissez votre activation {0} !")
    code, out, err = await broadcast_cli(
        cli_env(harness.settings),
        "new",
        "--message",
        str(message),
        "--segment",
        "en_cours",
        "--yes",
        "--json",
        "--maintenant",
    )
    assert code == 0, err
    stats = json.loads(out)
    assert set(stats) == JSON_KEYS
    assert (stats["state"], stats["recipients"]) == ("en_attente", 1)
    assert "Rappel : Léa (Lycée de Test), finissez votre activation {0} !" in err  # the preview
    repository = harness.services.broadcast.repository
    await finished(repository, stats["id"])
    assert reminders(lea.user) == ["Rappel : Léa (Lycée de Test), finissez votre activation {0} !"]
    assert has_opt_out_button(lea.user)
    assert reminders(harness.server.user(6001)) == reminders(stranger.user) == []

    number = await campaign(harness, "Rappel aux comptes actifs, {prenom}", segment=Segment.ACTIVES)
    await finished(repository, number)
    assert reminders(harness.server.user(6001)) == ["Rappel aux comptes actifs, Paul"]
    assert len(reminders(lea.user)) == 1

    code, out, err = await broadcast_cli(cli_env(harness.settings), "status", str(number), "--json")
    assert code == 0, err
    final = json.loads(out)
    assert set(final) == JSON_KEYS
    assert (final["state"], final["sent"], final["pending"]) == ("terminee", 1, 0)
    code, out, _ = await broadcast_cli(cli_env(harness.settings), "list", "--json")
    assert [c["id"] for c in json.loads(out)] == [number, stats["id"]]
    code, _, err = await broadcast_cli(
        cli_env(harness.settings), "new", "--message", str(message), "--profil", "inconnu", "--yes"
    )
    assert code == 1 and texts.NO_RECIPIENT in err
    code, _, err = await broadcast_cli(
        cli_env(harness.settings), "new", "--message", str(message), "--canal", "email", "--yes"
    )
    assert code == 2 and "BROADCAST_UNSUBSCRIBE_URL" in err  # no unsubscribe link: no e-mail
    message.write_text("Bonjour {nom}")
    code, _, err = await broadcast_cli(cli_env(harness.settings), "new", "--message", str(message))
    assert code == 2 and "{nom}" in err


async def test_blocked_opt_out_and_429(harness: BotHarness, bot_api: LocalBotApi) -> None:
    await link(
        harness.settings.database_path,
        {"paul.durand": 7001, "sam.roux": 7002, "nora.petit": 7003},
    )
    paul, sam, nora = (bot_api.user(i) for i in (7001, 7002, 7003))
    sam.blocked = True  # blocked the bot without the bot being told: its send gets 403
    bot_api.inject(Fault("retry_after", chat_id=7001, methods=frozenset({"sendmessage"}), times=2))
    repository = harness.services.broadcast.repository

    stats = await finished(repository, await campaign(harness, "Rappel 1 {prenom}"))
    assert (stats.sent, stats.blocked, stats.failed, stats.uncertain) == (2, 1, 0, 0)
    assert reminders(paul) == ["Rappel 1 Paul"]  # two 429s, one message
    assert [e.outcome for e in bot_api.events_of(7001, "sendMessage")] == ["429", "429", "ok"]
    assert reminders(nora) == ["Rappel 1 Nora"]

    chat = Chat(harness, 7003)
    answer = await chat.press("Ne plus recevoir")
    assert answer.text == texts.OPT_OUT_DONE
    assert not has_opt_out_button(nora)  # the button is gone once used
    stats = await finished(repository, await campaign(harness, "Rappel 2 {prenom}"))
    assert stats.recipients == 1  # sam blocked, nora opted out
    assert reminders(paul)[-1] == "Rappel 2 Paul" and len(reminders(nora)) == 1

    sam.blocked = False
    await Chat(harness, 7002).say("/start")  # writes again: no longer blocked
    paul.block_bot()  # told by my_chat_member
    await harness.settle()
    stats = await finished(repository, await campaign(harness, "Rappel 3 {prenom}"))
    assert stats.recipients == 1
    assert reminders(sam) == ["Rappel 3 Sam"] and len(reminders(paul)) == 2
    assert await repository.blocked_ids() == {7001}


EXTRA = [
    (f"eleve.{i:03d}", "Xq7-Tb4k-Wpz", "eleve", f"Élève{i}", "Test", "Lycée de Test")
    for i in range(60)
]


async def test_sigkill_mid_campaign_no_duplicate_nobody_skipped(
    tmp_path: Path, bot_api: LocalBotApi, mailbox: Mailbox
) -> None:
    env = await real_bot_env(
        tmp_path,
        bot_api,
        mailbox,
        BROADCAST_RATE_PER_SECOND="20",
        BROADCAST_POLL_SECONDS="0.1",
        BROADCAST_HEARTBEAT_SECONDS="0.3",
    )
    settings = harness_settings(tmp_path, bot_api, mailbox.port)
    database = await Database.open(settings.database_path)
    try:
        await import_accounts(
            write_accounts_csv(tmp_path / "extra.csv", ACCOUNTS + EXTRA),
            SqliteAccountDirectory(database),
            SecretHasher(settings.argon2),
            KeyedHasher(load_or_create_server_secret(settings.server_secret_file)),
            datetime.now(UTC),
        )
    finally:
        await database.close()
    ids = {f"eleve.{i:03d}": 8000 + i for i in range(60)}
    await link(settings.database_path, ids)
    users = [bot_api.user(user_id) for user_id in ids.values()]
    bot_api.enforce_limits(FloodLimits())
    message = tmp_path / "rappel.txt"
    message.write_text("Rappel {prenom}")

    process = BotProcess(env)
    await process.start()
    try:
        code, out, err = await broadcast_cli(
            env,
            "new",
            "--message",
            str(message),
            "--segment",
            "actives",
            "--yes",
            "--json",
            "--maintenant",
        )
        assert code == 0, err
        number = json.loads(out)["id"]
        await bot_api.wait_for_event(
            lambda e: len(bot_api.events_of(method="sendMessage")) >= 15, timeout=20
        )
        await process.kill()
        await asyncio.sleep(1.0)  # the heartbeat gets old
        code, out, err = await broadcast_cli(env, "status", str(number), "--json")
        assert code == 0 and "aucun bot ne tourne" in err
        assert json.loads(out)["pending"] > 0

        await process.start()
        code, out, err = await broadcast_cli(env, "status", str(number), "--wait", "--json")
        assert code == 0, err
    finally:
        await process.stop()
    stats = json.loads(out)
    assert stats["state"] == "terminee" and stats["recipients"] == 60
    assert stats["sent"] + stats["uncertain"] == 60 and stats["failed"] == stats["pending"] == 0
    assert stats["uncertain"] <= 4  # at most the sends in flight at the kill
    with contextlib.closing(sqlite3.connect(settings.database_path)) as connection:
        ledger = dict(
            connection.execute(
                "SELECT recipient, status FROM broadcast_deliveries WHERE campaign_id = ?",
                (number,),
            ).fetchall()
        )
    for user in users:
        got = len(reminders(user))
        assert got <= 1, f"user {user.id} got the reminder {got} times"
        if ledger[str(user.id)] == "sent":
            assert got == 1, f"user {user.id} skipped"


async def test_quiet_hours_hold_a_campaign_until_the_morning(
    harness: BotHarness, bot_api: LocalBotApi
) -> None:
    await link(harness.settings.database_path, {"paul.durand": 7101})
    bot_api.user(7101, first_name="Paul")
    harness.clock.now = datetime(2026, 12, 1, 20, 30, tzinfo=UTC)  # 21:30 in Paris
    worker = harness.services.broadcast
    repository = worker.repository
    held = await repository.create(Audience(), "Rappel du soir", "", "test", harness.clock())
    worker.wake()
    now = await campaign(harness, "Rappel maintenant")  # --maintenant
    done = await finished(repository, now)
    assert reminders(bot_api.user(7101)) == ["Rappel maintenant"], done
    stats = await repository.stats(held, harness.clock())
    assert stats is not None and (stats.state, stats.pending) == ("en_attente", 1)

    harness.clock.now = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)  # 08:00 in Paris
    worker.wake()
    await finished(repository, held)
    assert reminders(bot_api.user(7101)) == ["Rappel maintenant", "Rappel du soir"]


async def test_email_channel_one_connection_and_one_click_unsubscribe(
    harness: BotHarness, tmp_path: Path
) -> None:
    import email
    import email.policy

    import httpx

    from bot.sandbox.mailbox import free_port
    from storage.broadcasts import Channel

    await activate_by_email(harness, 7201, "paul.durand", "Rm2-Hv8n-Zcw")  # verified address
    path = tmp_path / "contacts.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(
            "identifiant;mot_de_passe_provisoire;profil;prenom;nom;etablissement;email_contact\n"
            "nora.petit;Gd5-Js3y-Fex;parent;Nora;Petit;Lycée de Test;Parent.Petit@Example.org\n"
            "sam.roux;Nt9-Bw6q-Kyv;eleve;Sam;Roux;Lycée de Test;pas-une-adresse\n"
        )
    database = harness.services.database
    report = await import_accounts(
        path,
        SqliteAccountDirectory(database),
        SecretHasher(harness.settings.argon2),
        harness.services.ports.keyed,
        datetime.now(UTC),
    )
    assert [reason for _, reason in report.rejected] == [texts.EMAIL_CONTACT_INVALID]

    port = free_port()
    await harness.stop()
    harness.settings = harness.settings.model_copy(
        update={
            "broadcast_unsubscribe_url": f"http://127.0.0.1:{port}/desinscription",
            "broadcast_unsubscribe_port": port,
        }
    )
    await harness.start()
    mails_before = len(harness.mailbox.mails)
    repository = harness.services.broadcast.repository
    emails = (Channel.EMAIL,)
    number = await campaign(harness, "Rappel : bonjour {prenom}", channels=emails)
    stats = await finished(repository, number)
    assert (stats.recipients, stats.sent) == (2, 2)
    await harness.mailbox.wait_for(mails_before + 2)
    mails = harness.mailbox.mails[mails_before:]
    assert sorted(m.recipients[0] for m in mails) == ["parent.petit@example.org", "x@example.org"]
    assert len(set(harness.mailbox.peers[mails_before:])) == 1  # one SMTP connection
    nora = next(i for i, m in enumerate(mails) if m.recipients[0].startswith("parent"))
    assert "Rappel : bonjour Nora" in mails[nora].text
    raw = email.message_from_bytes(
        harness.mailbox.raw[mails_before + nora], policy=email.policy.default
    )
    assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(raw["List-Unsubscribe"]).strip().strip("<>")
    assert link.startswith(f"http://127.0.0.1:{port}/desinscription/") and link in mails[nora].text

    async with httpx.AsyncClient() as client:
        page = await client.get(link)  # a link scanner: nothing happens
        assert page.status_code == 200 and texts.UNSUBSCRIBE_PAGE_BUTTON in page.text
        assert not await repository.opted_out(Channel.EMAIL, "parent.petit@example.org")
        forged = await client.post(link[:-4] + "0000", data={"List-Unsubscribe": "One-Click"})
        assert forged.status_code == 200  # the same page: it tells nothing
        assert not await repository.opted_out(Channel.EMAIL, "parent.petit@example.org")
        done = await client.post(link, data={"List-Unsubscribe": "One-Click"})  # RFC 8058
        assert done.status_code == 200 and "C'est noté" in done.text
    assert await repository.opted_out(Channel.EMAIL, "parent.petit@example.org")

    stats = await finished(repository, await campaign(harness, "Rappel 2", channels=emails))
    assert stats.recipients == 1
    await harness.mailbox.wait_for(mails_before + 3)
    assert harness.mailbox.mails[-1].recipients == ("x@example.org",)


async def test_automatic_reminders_once_per_procedure(harness: BotHarness) -> None:
    harness.clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # 10:00 in Paris
    worker = harness.services.broadcast
    lea = Chat(harness, 7301)
    await lea.walk_to_email_sent("lea.martin", "Xq7-Tb4k-Wpz", "lea@example.org")
    sam = Chat(harness, 7302)
    await sam.walk_to_cgu("sam.roux", "Nt9-Bw6q-Kyv")  # stops at the CGU
    link_text = texts.AUTO_LINK_EXPIRING.split("\n")[0]
    unfinished_text = texts.AUTO_UNFINISHED.split("\n")[0]

    harness.clock.advance(hours=23)  # lea's link: 25 hours left; nothing due yet
    await worker.scan_now()
    await harness.settle()
    assert _texts(lea.user, link_text) == []

    harness.clock.advance(hours=2)  # 23 hours left
    await worker.scan_now()
    await harness.settle()
    [reminder] = _texts(lea.user, link_text)
    assert Chat.labels(reminder) == [texts.BUTTON_RESEND, texts.OPT_OUT_BUTTON]
    mails = len(harness.mailbox.mails)
    await lea.user.press(texts.BUTTON_RESEND, reminder.message_id)  # the procedure's button
    await harness.mailbox.wait_for(mails + 1)

    harness.clock.advance(days=3)  # 10:00 in Paris: both left for 3 days
    await worker.scan_now()
    await harness.settle()
    [reminder] = _texts(sam.user, unfinished_text)
    assert Chat.labels(reminder) == [texts.BUTTON_RESUME, texts.OPT_OUT_BUTTON]
    answer = await sam.press("Reprendre")
    assert "Acceptez-vous" in answer.text  # the step where sam stopped

    await worker.scan_now()
    await harness.settle()
    repository = harness.services.broadcast.repository
    rows = await repository.database.fetch_all(
        "SELECT kind, telegram_user_id, status FROM auto_reminders"
    )
    assert sorted(tuple(r) for r in rows) == [
        ("inacheve", 7301, "sent"),
        ("inacheve", 7302, "sent"),
        ("lien_expire", 7301, "sent"),
    ]
    assert len(_texts(lea.user, link_text)) == 1  # once per procedure
    assert len(_texts(lea.user, unfinished_text)) == len(_texts(sam.user, unfinished_text)) == 1


def _texts(user: SandboxUser, start: str) -> list[Any]:
    """The bot's messages that start with ``start``."""
    return [m for m in user.messages if m.from_bot and m.text.startswith(start)]


async def test_diffusion_for_staff_only(harness: BotHarness, bot_api: LocalBotApi) -> None:
    await harness.stop()
    harness.settings = harness.settings.model_copy(update={"staff_telegram_ids": [9001]})
    await harness.start()
    await link(harness.settings.database_path, {"paul.durand": 7401})
    paul = Chat(harness, 7401, first_name="Paul")
    answer = await paul.say("/diffusion")
    assert texts.DIFF_CHOOSE_SEGMENT.split("\n")[0] not in answer.text  # unknown to others

    staff = Chat(harness, 9001, first_name="Équipe")
    menu = await staff.say("/diffusion")
    assert "Nouvelle diffusion" in menu.text
    forged = Chat.data_of(menu, "Comptes activés")
    await paul.press_data(answer.message_id, forged)  # forged by someone else: nothing happens
    await harness.settle()
    assert await harness.services.broadcast.repository.draft(7401) is None

    assert (await staff.press("Comptes activés")).text.startswith("Écrivez le message")
    refused = await staff.say("Rappel {prenom} {nom}")
    assert "{nom}" in refused.text
    preview = await staff.say("Rappel de l'équipe, {prenom}")
    assert "Rappel de l'équipe, Paul" in preview.text and "Telegram : 1" in preview.text
    await staff.press("Envoyer maintenant")
    progress = staff.user.last_bot_message()
    assert progress is not None and "Campagne n° 1" in progress.text
    async with asyncio.timeout(15):
        while "terminée" not in progress.text:  # edited in place, then the final report
            await bot_api._changed_wait(1)
    assert "envoyés : 1" in progress.text
    assert reminders(paul.user) == ["Rappel de l'équipe, Paul"]
