"""Purges of what the bot no longer needs."""

from __future__ import annotations

from datetime import timedelta

from storage.db import Database
from storage.maintenance import purge
from storage.sessions import ConversationSession, SessionRepository
from storage.throttle import ThrottleRepository

from support import MutableClock


async def test_purge_forgets_expired_codes_abandoned_sessions_and_old_failures(
    database: Database, clock: MutableClock
) -> None:
    sessions, throttle = SessionRepository(database), ThrottleRepository(database)
    now = clock()
    waiting = ConversationSession(
        1,
        1,
        "activation",
        "code",
        now,
        now,
        code_hash="c",
        token_hash="t",
        code_expires_at=now - timedelta(minutes=1),
    )
    old = ConversationSession(
        2, 2, "activation", "cgu", now - timedelta(days=40), now - timedelta(days=40)
    )
    fresh = ConversationSession(3, 3, "activation", "cgu", now, now)
    for session in (waiting, old, fresh):
        await sessions.save(session)
    await throttle.record_failure("k", now - timedelta(days=2), lock=False)
    await throttle.record_failure("locked", now - timedelta(days=2), lock=True)
    await throttle.record_identifiant_attempt(1, "k", now - timedelta(days=2))

    report = await purge(
        database,
        now,
        abandoned_before=now - timedelta(days=30),
        attempts_before=now - timedelta(days=1),
    )

    assert (report.expired_codes, report.abandoned_sessions) == (1, 1)
    kept = await sessions.get(1)
    assert kept is not None and kept.code_hash is None and kept.token_hash is None
    assert await sessions.get(2) is None and await sessions.get(3) is not None
    assert await throttle.identifiants_tried(1, now - timedelta(days=30)) == set()
    locked = await throttle.counters("locked", now - timedelta(days=30))
    assert locked.locked_at is not None
