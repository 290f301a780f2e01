"""Broadcast recipients computed in SQL (segments, filters, opt-outs, blocked users), the ledger
written with the campaign, and the placeholders' safety."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.broadcast.message import render, render_html, unknown_placeholders
from bot.security import KeyedHasher, SecretHasher
from bot.staff.accounts_import import import_accounts
from storage.accounts import SqliteAccountDirectory
from storage.broadcasts import Audience, BroadcastRepository, Channel, Segment
from storage.db import Database, to_db_time

from support import ACCOUNTS, MutableClock, write_accounts_csv

EXTRA = [
    ("zoe.blanc", "Pq4-Lm8n-Wer", "eleve", "Zoé", "Blanc", "Lycée de Test"),
    ("max.noir", "Tr5-Gh2k-Pol", "eleve", "Max", "Noir", "Collège Autre"),
]


async def setup_people(
    database: Database, hasher: SecretHasher, keyed: KeyedHasher, clock: MutableClock, tmp: Path
) -> BroadcastRepository:
    """lea: activation under way (user 101); paul: active (102); nora: never started; sam:
    active (104) but opted out; zoe: active (105) but blocked the bot; max: active (106),
    another school."""
    csv = write_accounts_csv(tmp / "accounts.csv", ACCOUNTS + EXTRA)
    await import_accounts(csv, SqliteAccountDirectory(database), hasher, keyed, clock())
    now = to_db_time(clock())
    async with database.transaction() as connection:
        for name, user in (
            ("paul.durand", 102),
            ("sam.roux", 104),
            ("zoe.blanc", 105),
            ("max.noir", 106),
        ):
            await connection.execute(
                "UPDATE accounts SET status = 'active', telegram_user_id = ? WHERE identifiant = ?",
                (user, name),
            )
        await connection.execute(
            "INSERT INTO conversation_sessions (telegram_user_id, chat_id, flow, step, "
            "account_id, started_at, updated_at) SELECT 101, 101, 'activation', "
            "'waiting_email_code', id, ?, ? FROM accounts WHERE identifiant = 'lea.martin'",
            (now, now),
        )
    repository = BroadcastRepository(database)
    await repository.opt_out(Channel.TELEGRAM, "104", clock())
    await repository.block(105, clock())
    return repository


@pytest.fixture
async def repository(
    database: Database,
    hasher: SecretHasher,
    keyed: KeyedHasher,
    clock: MutableClock,
    tmp_path: Path,
) -> BroadcastRepository:
    return await setup_people(database, hasher, keyed, clock, tmp_path)


async def reached(repository: BroadcastRepository, **audience: object) -> list[str]:
    return sorted(r.recipient for r in await repository.recipients(Audience(**audience)))  # type: ignore[arg-type]


async def test_segments(repository: BroadcastRepository) -> None:
    assert await reached(repository, segment=Segment.EN_COURS) == ["101"]
    assert await reached(repository, segment=Segment.ACTIVES) == ["102", "106"]
    assert await reached(repository, segment=Segment.TOUS) == ["101", "102", "106"]
    # Never started: nobody known on Telegram (reachable by e-mail only).
    assert await reached(repository, segment=Segment.A_ACTIVER) == []


async def test_filters(repository: BroadcastRepository) -> None:
    assert await reached(repository, profils=("eleve",)) == ["106"]
    assert await reached(repository, profils=("eleve", "apprenti")) == ["101", "106"]
    assert await reached(repository, etablissement="collège autre") == ["106"]
    assert await reached(repository, segment=Segment.EN_COURS, etablissement="Collège Autre") == []


async def test_placeholder_values_come_from_the_first_account(
    repository: BroadcastRepository,
) -> None:
    found = await repository.recipients(Audience(segment=Segment.EN_COURS))
    assert [(r.prenom, r.etablissement) for r in found] == [("Léa", "Lycée de Test")]


async def test_ledger_written_with_the_campaign(
    repository: BroadcastRepository, clock: MutableClock, database: Database
) -> None:
    number = await repository.create(Audience(), "Bonjour {prenom}", "", "test", clock())
    stats = await repository.stats(number, clock())
    assert stats is not None
    assert (stats.state, stats.recipients, stats.pending) == ("en_attente", 3, 3)
    rows = await repository.pending(number, 10)
    assert sorted(r.recipient for r in rows) == ["101", "102", "106"]
    with pytest.raises(sqlite3.IntegrityError):  # one row per campaign × recipient × channel
        async with database.transaction() as connection:
            await connection.execute(
                "INSERT INTO broadcast_deliveries (campaign_id, channel, recipient) "
                "VALUES (?, 'telegram', '101')",
                (number,),
            )
    assert await repository.cancel(number, clock())
    assert not await repository.cancel(number, clock())
    assert await repository.next_campaign() is None
    assert await repository.purge(clock()) == 0  # finished now: kept
    clock.advance(days=31)
    assert await repository.purge(clock() - timedelta(days=30)) == 1
    assert await repository.stats(number, clock()) is None
    assert await repository.pending(number, 10) == []
    assert await repository.opted_out(Channel.TELEGRAM, "104")  # opt-outs stay


def test_placeholders() -> None:
    assert render("Bonjour {prenom} ({etablissement})", "Léa", "Lycée") == "Bonjour Léa (Lycée)"
    assert render("{prenom}{prenom}", "A", "B") == "AA"
    for hostile in ("{0}", "{prenom.__class__}", "{etablissement!r}", "{}", "{{prenom}}", "{"):
        assert render(hostile, "Léa", "Lycée") in (hostile, "{Léa}")
    assert unknown_placeholders("Bonjour {nom} {prenom} {0} { x } {nom.x}") == ["nom"]
    assert unknown_placeholders("Accolade seule { et } puis {prenom}") == []
    assert render_html("<b>{prenom}</b> & co", "<i>x</i>", "") == (
        "&lt;b&gt;&lt;i&gt;x&lt;/i&gt;&lt;/b&gt; &amp; co"
    )


@given(st.text().filter(lambda t: "{prenom}" not in t and "{etablissement}" not in t))
def test_text_without_placeholders_is_unchanged(text: str) -> None:
    assert render(text, "{etablissement}", "{prenom}") == text


async def test_diffusion_draft_steps_and_stale_nonces(
    repository: BroadcastRepository, clock: MutableClock
) -> None:
    from bot.broadcast.diffusion import DiffusionService, Preview, Refused

    service = DiffusionService(repository, clock, email_enabled=True, quiet=None)
    draft = await service.start(9001)
    assert await service.choose_segment(9001, "wrong", 2) is None  # stale or forged
    assert await service.choose_segment(9001, draft.nonce, 99) is None
    draft2 = await service.choose_segment(9001, draft.nonce, 2)  # actives
    assert draft2 is not None and draft2.step == "canal"
    assert await service.choose_segment(9001, draft.nonce, 2) is None  # used once
    assert not await service.waiting_for_text(9001)
    assert await service.choose_channel(9001, draft2.nonce, 0) is not None  # telegram
    assert await service.waiting_for_text(9001)
    assert await service.write(9001, "Bonjour {nom}") == Refused(["nom"])
    preview = await service.write(9001, "Bonjour {prenom}")
    assert isinstance(preview, Preview) and preview.counts == {"telegram": 2}
    assert preview.sample == "Bonjour Paul"
    assert await service.confirm(9001, "wrong", now=False) is None
    number = await service.confirm(9001, preview.draft.nonce, now=True)
    assert number is not None and await repository.draft(9001) is None
    assert [c.id for c in await repository.open_campaigns()] == [number]
    assert await repository.set_paused(number, True)
    assert await repository.open_campaigns() == []  # a paused campaign waits
    assert await repository.set_paused(number, False)
    assert [c.id for c in await repository.open_campaigns()] == [number]
