"""The ``broadcast`` command line as staff meet it (issues 22.13 and 22.14): ``--wait`` with no bot
running says nothing will move and stops; an empty Telegram audience points at ``--canal
email`` when e-mail reaches someone; a cancelled campaign shows its unsent rows as such."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from test_broadcast import broadcast_cli, cli_env

from bot.security import SecretHasher
from bot.staff.accounts_import import import_accounts
from bot.texts import broadcast as texts
from storage.accounts import SqliteAccountDirectory

from conftest import BotHarness


async def _record(harness: BotHarness, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    message = tmp_path / "rappel.txt"
    message.write_text("Rappel {prenom}")
    return await broadcast_cli(
        cli_env(harness.settings), "new", "--message", str(message), "--yes", *args
    )


def _link(database: Path, identifiant: str, user_id: int) -> None:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute(
            "UPDATE accounts SET status = 'active', telegram_user_id = ? WHERE identifiant = ?",
            (user_id, identifiant),
        )
        connection.commit()


async def test_wait_with_no_bot_running_says_so_and_stops(
    harness: BotHarness, tmp_path: Path
) -> None:
    await harness.stop()  # its last heartbeat gets old
    _link(harness.settings.database_path, "paul.durand", 8801)
    env = {**cli_env(harness.settings), "BROADCAST_HEARTBEAT_SECONDS": "0.2"}
    message = tmp_path / "rappel.txt"
    message.write_text("Rappel {prenom}")
    code, out, err = await broadcast_cli(
        env, "new", "--message", str(message), "--segment", "actives", "--yes", "--json"
    )
    assert code == 0, err
    number = json.loads(out)["id"]
    started = time.monotonic()
    code, out, err = await broadcast_cli(env, "status", str(number), "--wait", "--json")
    assert code == 3, err
    assert texts.wait_no_bot(number) in err
    assert json.loads(out)["state"] == "en_attente"
    assert time.monotonic() - started < 20
    code, out, err = await broadcast_cli(
        env, "new", "--message", str(message), "--segment", "actives", "--yes", "--wait"
    )
    assert code == 3 and texts.wait_no_bot(number + 1) in err


async def test_an_empty_telegram_audience_points_at_the_email_channel(
    harness: BotHarness, tmp_path: Path
) -> None:
    with_contact = tmp_path / "contacts.csv"
    with_contact.write_text(
        "identifiant;mot_de_passe_provisoire;profil;prenom;nom;etablissement;email_contact\n"
        "nora.petit;Gd5-Js3y-Fex;parent;Nora;Petit;Lycée de Test;parent@example.org\n",
        encoding="utf-8",
    )
    await import_accounts(
        with_contact,
        SqliteAccountDirectory(harness.services.database),
        SecretHasher(harness.settings.argon2),
        harness.services.ports.keyed,
        datetime.now(UTC),
    )
    code, _, err = await _record(harness, tmp_path, "--segment", "a_activer")
    assert code == 1 and texts.NO_RECIPIENT in err
    assert texts.no_recipient_hint(1, email_open=False) in err
    assert "--canal email" in err


async def test_a_cancelled_campaign_shows_its_unsent_rows_as_such(
    harness: BotHarness, tmp_path: Path
) -> None:
    await harness.stop()  # nothing leaves: the campaign stays « en attente »
    _link(harness.settings.database_path, "paul.durand", 8802)
    code, out, err = await _record(harness, tmp_path, "--segment", "actives", "--json")
    assert code == 0, err
    number = json.loads(out)["id"]
    env = cli_env(harness.settings)
    code, out, _ = await broadcast_cli(env, "cancel", str(number))
    assert code == 0
    code, out, _ = await broadcast_cli(env, "status", str(number))
    assert code == 0
    assert "annulée" in out and "en attente" not in out
    assert "non envoyés (campagne annulée) : 1" in out


async def test_nobody_to_activate_on_telegram_nor_by_email_says_why(
    harness: BotHarness, tmp_path: Path
) -> None:
    code, _, err = await _record(harness, tmp_path, "--segment", "a_activer")
    assert code == 1 and texts.NO_RECIPIENT in err
    assert texts.NO_RECIPIENT_TELEGRAM in err and "--canal email" in err
