"""What staff read in the bot's log at start and at each purge is French: no « is polling for
updates », no ``PurgeReport(...)`` (issue 22.16)."""

from __future__ import annotations

import logging

import pytest

from bot.app import services_of

from conftest import BotHarness


async def test_start_and_purge_lines_are_french(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await harness.stop()
    await harness.start()
    assert harness.app is not None
    await services_of(harness.app).purge()
    lines = [
        record.getMessage()
        for record in caplog.records
        if record.name in ("bot.app", "bot.services")
    ]
    assert any("il reçoit les messages en interrogeant Telegram" in line for line in lines), lines
    purge = [line for line in lines if line.startswith("Purge :")][-1]
    assert "démarches abandonnées : " in purge and "campagnes oubliées : " in purge
    text = "\n".join(lines)
    assert "polling" not in text and "PurgeReport" not in text and "forgotten" not in text
