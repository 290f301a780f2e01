"""Plain formatting helpers shared by the catalogues (no text of their own beyond units)."""

from __future__ import annotations

from datetime import datetime, timedelta

TELEGRAM_TEXT_LIMIT = 4096


def duration(delay: timedelta) -> str:
    """A French, rounded-up duration: « 1 minute », « 3 minutes », « 2 heures »."""
    seconds = max(1, int(delay.total_seconds() + 0.999))
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = -(-seconds // 60)
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes > 1 else ''}"
    hours = -(-minutes // 60)
    return f"{hours} heures"


def when(moment: datetime | None) -> str:
    """A UTC moment for staff: « 2026-03-01 14:05 UTC », or « — »."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def aligned(fields: list[tuple[str, str]]) -> str:
    """« label : value » lines, the colons aligned (for a terminal or a <pre>)."""
    width = max(len(label) for label, _ in fields)
    return "\n".join(f"{label.ljust(width)} : {value}" for label, value in fields)


def split_for_telegram(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` characters, at the best boundary."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), 0) or max(window.rfind("\n"), 0) or window.rfind(" ")
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces
