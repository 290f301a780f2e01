"""« Mot de passe oublié » by e-mail: does the answer take longer when an e-mail leaves?

    python bench/bench_recovery_timing.py [--trials 200]

The real bot against the local Bot API server and aiosmtpd. One account is activated with a
verified address; then, alternately, /motdepasse → its identifier → « par e-mail » (an e-mail is
written to the outbox and sent), and the same with an unknown identifier (nothing is sent). The
mail limits are lifted for the measure. Prints the median and quartiles of the time from the
button press to the answer, for each case.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_smtp_outage import TOKEN, turn

from bot.app import build_application, start_bot, stop_bot
from bot.cli import configure_logging
from bot.sandbox.bot_api_server import LocalBotApi, SandboxUser
from bot.sandbox.mailbox import Mailbox
from bot.security import KeyedHasher, SecretHasher, load_or_create_server_secret
from bot.settings import PROJECT_ROOT, Settings
from bot.staff.accounts_import import import_accounts
from storage.accounts import SqliteAccountDirectory
from storage.db import Database

ANSWER = "Si ce compte a une adresse e-mail de secours"


async def one_round(server: LocalBotApi, user: SandboxUser, identifiant: str) -> float:
    """Seconds from the press of « par e-mail » to the answer's arrival at the server."""
    await turn(user, user.send_text("/motdepasse"), ("identifiant",))
    await turn(user, user.send_text(identifiant), ("prouver",))
    arrived: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def listener(event: dict[str, Any]) -> None:
        message = event.get("message") or {}
        if (
            event.get("type") == "message"
            and event.get("user_id") == user.id
            and ANSWER in str(message.get("text", ""))
            and not arrived.done()
        ):
            arrived.set_result(time.perf_counter())

    server.add_listener(listener)
    try:
        start = time.perf_counter()
        await user.press("adresse e-mail")
        end = await asyncio.wait_for(arrived, 10)
    finally:
        server._listeners.remove(listener)
    # the procedure ends, so the next /motdepasse starts afresh (no « Reprendre » question)
    await turn(user, user.send_text("/annuler"), ("arrêté la démarche", "Il n'y a pas de démarche"))
    return end - start


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()
    configure_logging("WARNING")
    folder = Path(tempfile.mkdtemp(prefix="bench-recovery-"))
    server = LocalBotApi(bot_token=TOKEN, bot_username="bench_bot", bot_first_name="Bench")
    await server.start(host="127.0.0.1", port=0)
    mailbox = Mailbox()
    mailbox.start("127.0.0.1")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,
        telegram_api_url=server.root_url,
        database_path=folder / "bot.sqlite3",
        server_secret_file=folder / "server.key",
        school_config=PROJECT_ROOT / "tests" / "data" / "school.toml",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        argon2_time_cost=1,
        argon2_memory_cost=1024,
        argon2_parallelism=1,
        mail_address_cooldown_seconds=0,
        max_mails_per_address_per_day=10**6,
        max_mails_per_account_per_day=10**6,
        max_mails_per_user_per_day=10**6,
    )
    csv_path = folder / "accounts.csv"
    csv_path.write_text(
        "identifiant;mot_de_passe_provisoire;profil;prenom;nom;etablissement\n"
        "lea.martin;Xq7-Tb4k-Wpz;apprenti;Léa;Martin;Lycée\n",
        encoding="utf-8",
    )
    database = await Database.open(settings.database_path)
    await import_accounts(
        csv_path,
        SqliteAccountDirectory(database),
        SecretHasher(settings.argon2),
        KeyedHasher(load_or_create_server_secret(settings.server_secret_file)),
        datetime.now(UTC),
    )
    await database.close()
    application = build_application(settings)
    await start_bot(application, poll_timeout=1)
    try:
        lea = server.user(7001, first_name="Léa")
        await turn(lea, lea.send_text("/activer"), ("identifiant",))
        await turn(lea, lea.send_text("lea.martin"), ("provisoire",))
        await turn(lea, lea.send_text("Xq7-Tb4k-Wpz"), ("Acceptez-vous",))
        await turn(lea, lea.press("J'accepte"), ("Étape 3",))
        await turn(lea, lea.press("e-mail"), ("adresse e-mail personnelle",))
        await turn(lea, lea.send_text("lea@example.org"), ("C'est envoyé",))
        mail = await mailbox.wait_for(1)
        found = re.search(r"\b(\d{8})\b", mail.text)
        assert found
        code = found.group(1)
        await turn(lea, lea.send_text(code), ("Étape 4",))
        await turn(lea, lea.send_text("Velo-Rouge-Soleil-42"), ("deuxième fois",))
        await turn(lea, lea.send_text("Velo-Rouge-Soleil-42"), ("Compte activé",))
        user = server.user(7002, first_name="Bench")
        known: list[float] = []
        unknown: list[float] = []
        for trial in range(args.trials):
            if trial % 2:
                unknown.append(await one_round(server, user, "personne.inconnue"))
            else:
                known.append(await one_round(server, user, "lea.martin"))
            await asyncio.sleep(0.6)  # let the deferred e-mail leave between rounds
        await asyncio.sleep(1)
        sent = len(mailbox.mails) - 1
    finally:
        await stop_bot(application)
        mailbox.stop()
        await server.stop()
    for name, values in (("active account, e-mail sent", known), ("unknown identifier", unknown)):
        q1, median, q3 = statistics.quantiles(values, n=4)
        print(
            f"{name:28}: median {median * 1000:.1f} ms (quartiles {q1 * 1000:.1f}–"
            f"{q3 * 1000:.1f} ms) over {len(values)} trials"
        )
    print(f"e-mails sent by the rounds: {sent}")
    print(f"Mann-Whitney U, two-sided p ≈ {mann_whitney_p(known, unknown):.3f}")


def mann_whitney_p(a: list[float], b: list[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (normal approximation, no ties)."""
    ranked = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    rank_a = sum(rank for rank, (_, group) in enumerate(ranked, start=1) if group == 0)
    n1, n2 = len(a), len(b)
    u = rank_a - n1 * (n1 + 1) / 2
    mean, sd = n1 * n2 / 2, math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    return math.erfc(abs(u - mean) / sd / math.sqrt(2))


if __name__ == "__main__":
    asyncio.run(main())
