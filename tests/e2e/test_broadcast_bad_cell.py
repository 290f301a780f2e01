"""One bad cell never stops every campaign (issue 29.2): a row that cannot be built is marked
failed with its reason and its campaign goes on to its end; a line break in an account's
``etablissement`` (imported by an earlier version) no longer breaks the e-mail's subject; one
campaign waiting for a retry never holds the next; ``--objet`` refuses a line break."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from test_broadcast import broadcast_cli, campaign, cli_env, finished, link, reminders

from bot.sandbox.bot_api_server import Fault
from bot.sandbox.mailbox import free_port
from bot.texts import broadcast as texts
from storage.broadcasts import Audience, Channel

from conftest import BotHarness
from test_recovery import activate_by_email


def _set_etablissement(database_path: Path, identifiant: str, value: str) -> None:
    with contextlib.closing(sqlite3.connect(database_path)) as connection:
        connection.execute(
            "UPDATE accounts SET etablissement = ? WHERE identifiant = ?", (value, identifiant)
        )
        connection.commit()


async def with_email_channel(harness: BotHarness) -> None:
    port = free_port()
    await harness.stop()
    harness.settings = harness.settings.model_copy(
        update={
            "broadcast_unsubscribe_url": f"http://127.0.0.1:{port}/desinscription",
            "broadcast_unsubscribe_port": port,
            "broadcast_poll_seconds": 0.2,
        }
    )
    await harness.start()


async def test_a_row_that_cannot_be_built_fails_alone_and_nothing_waits_behind_it(
    harness: BotHarness,
) -> None:
    await activate_by_email(harness, 7301, "paul.durand", "Rm2-Hv8n-Zcw")  # x@example.org
    await link(harness.settings.database_path, {"nora.petit": 7302})
    nora = harness.server.user(7302)
    # A line break in the establishment, as the import let through before.
    await asyncio.to_thread(
        _set_etablissement, harness.settings.database_path, "paul.durand", "Lycée\r\nde Test"
    )
    await with_email_channel(harness)
    worker = harness.services.broadcast
    repository = worker.repository
    mails_before = len(harness.mailbox.mails)

    # A subject with a line break (recorded without the command line's check): every row of it
    # fails with its reason, the campaign ends, and the next ones go.
    broken = await repository.create(
        Audience(channels=(Channel.EMAIL,)),
        "Rappel {prenom}",
        "Objet\r\nBcc: intrus@example.org",
        "test",
        datetime.now(UTC),
        send_now=True,
    )
    by_mail = await campaign(harness, "Rappel par e-mail {prenom}", channels=(Channel.EMAIL,))
    by_telegram = await campaign(harness, "Rappel Telegram {prenom}")
    worker.wake()

    stats = await finished(repository, broken)
    assert (stats.state, stats.failed, stats.sent, stats.pending) == ("terminee", 1, 0, 0)
    row = await harness.services.database.fetch_one(
        "SELECT status, last_error FROM broadcast_deliveries WHERE campaign_id = ?", (broken,)
    )
    assert row is not None and row[0] == "failed" and row[1].startswith("ValueError")
    assert (await finished(repository, by_mail)).sent == 1
    assert (await finished(repository, by_telegram)).sent == 2  # Paul and Nora
    assert reminders(nora) == ["Rappel Telegram Nora"]
    await harness.mailbox.wait_for(mails_before + 1)
    mail = harness.mailbox.mails[-1]
    assert mail.subject == "Rappel : Lycée de Test"
    assert "intrus" not in " ".join(harness.mailbox.mails[-1].recipients)


async def test_a_campaign_waiting_for_a_retry_does_not_hold_the_next(
    harness: BotHarness,
) -> None:
    await harness.stop()
    harness.settings = harness.settings.model_copy(
        update={"broadcast_retry_first_seconds": 3.0, "broadcast_poll_seconds": 0.2}
    )
    await harness.start()
    await link(harness.settings.database_path, {"paul.durand": 7401, "nora.petit": 7402})
    server = harness.server
    paul, nora = server.user(7401), server.user(7402)
    server.inject(Fault("server_error", chat_id=7401, methods=frozenset({"sendmessage"}), times=5))
    repository = harness.services.broadcast.repository
    first = await campaign(harness, "Rappel 1 {prenom}", profils=("maitre_apprentissage",))
    await server.wait_for_event(lambda e: e.chat_id == 7401 and e.outcome == "500")
    second = await campaign(harness, "Rappel 2 {prenom}", profils=("parent",))
    done = await finished(repository, second, timeout=10)
    assert done.sent == 1 and reminders(nora) == ["Rappel 2 Nora"]
    assert (await repository.stats(first, datetime.now(UTC))).state == "en_cours"  # type: ignore[union-attr]
    assert (await finished(repository, first)).sent == 1
    assert reminders(paul) == ["Rappel 1 Paul"]


async def test_the_subject_refuses_a_line_break(harness: BotHarness, tmp_path: Path) -> None:
    message = tmp_path / "rappel.txt"
    message.write_text("Rappel {prenom}")
    code, _, err = await broadcast_cli(
        cli_env(harness.settings),
        "new",
        "--message",
        str(message),
        "--objet",
        "Rappel\nBcc: intrus@example.org",
        "--yes",
    )
    assert code == 2 and texts.SUBJECT_ON_ONE_LINE in err
