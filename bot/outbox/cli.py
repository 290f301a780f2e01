"""``run_bot.py outbox [--json]``: what the outbox holds, for staff (never a secret)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from bot.settings import Settings
from bot.texts import staff as staff_texts
from storage.db import Database
from storage.outbox import OutboxRepository, OutboxStats


def stats_json(stats: OutboxStats) -> dict[str, object]:
    """The figures as JSON values (times in ISO 8601, UTC)."""
    values = asdict(stats)
    for name in ("oldest_pending_at", "last_error_at"):
        moment = values[name]
        values[name] = moment.isoformat() if moment else None
    return values


async def outbox_command(settings: Settings, *, as_json: bool) -> int:
    """Print the outbox's figures; 2 if there is no database (none is created)."""
    if not settings.database_path.exists():
        print(staff_texts.OUTBOX_NO_DATABASE.format(path=settings.database_path), file=sys.stderr)
        return 2
    database = await Database.open(settings.database_path)
    try:
        now = datetime.now(UTC)
        stats = await OutboxRepository(database).stats(now, now - timedelta(days=1))
    finally:
        await database.close()
    if as_json:
        print(json.dumps(stats_json(stats), ensure_ascii=False, indent=2))
    else:
        print(staff_texts.outbox_report_text(**asdict(stats)))
    return 0
