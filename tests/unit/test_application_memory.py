"""python-telegram-bot's id sets do not grow with the users (issue 15): without persistence, an
update no longer adds its user and chat ids to sets only a persistence flush empties."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from telegram import Chat, Message, Update, User

from bot.app import build_application
from bot.settings import Settings

from support import CHEAP_ARGON2, DATA


def test_updates_leave_no_ids_behind(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token="123:abc",
        database_path=tmp_path / "bot.sqlite3",
        server_secret_file=tmp_path / "server.key",
        school_config=DATA / "school.toml",
        **CHEAP_ARGON2,
    )
    application = build_application(settings)
    assert application.persistence is None
    assert settings.telegram_connection_pool_size == 32
    for n in range(1, 101):
        message = Message(
            n, datetime.now(UTC), Chat(n, "private"), from_user=User(n, "U", False), text="/start"
        )
        application._mark_for_persistence_update(update=Update(n, message=message))
    assert not application._user_ids_to_be_updated_in_persistence
    assert not application._chat_ids_to_be_updated_in_persistence
