"""``run_bot.py init``: the files an installation needs, never overwriting one — the school
file and its CGU text (from the shipped example), the server key (0600) and the database
(0600, migrated) — then what to edit next."""

from __future__ import annotations

import os
from pathlib import Path

from bot.ops.startup import check_server_secret
from bot.security import load_or_create_server_secret
from bot.settings import PROJECT_ROOT, Settings
from bot.texts import ops as ops_texts
from storage.db import Database

EXAMPLE_SCHOOL = PROJECT_ROOT / "config" / "school.example.toml"
EXAMPLE_CGU = PROJECT_ROOT / "config" / "cgu.example.txt"
CGU_NAME = "cgu.txt"


def _create_text(path: Path, text: str) -> bool:
    """Write ``text`` to a new ``path`` (its folder made if needed); False if it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        return False
    return True


def create_school_file(school: Path) -> tuple[bool, Path | None, bool]:
    """The school file from the example, with the example CGU copied beside it as
    ``cgu.txt``; (school created, CGU path, CGU created). An existing file is kept (no CGU
    path then: it names its own)."""
    if school.exists():
        return False, None, False
    cgu = school.parent / CGU_NAME
    cgu_created = _create_text(cgu, EXAMPLE_CGU.read_text(encoding="utf-8"))
    text = EXAMPLE_SCHOOL.read_text(encoding="utf-8").replace(
        'cgu = "cgu.example.txt"', f'cgu = "{CGU_NAME}"'
    )
    return _create_text(school, text), cgu, cgu_created


async def init_command(settings: Settings) -> int:
    """Create what is missing, print what was made or kept and what to edit next (0)."""
    school_created, cgu, cgu_created = create_school_file(settings.school_config)
    check_server_secret(settings)  # a new key beside accounts would void their codes
    secret_created = not settings.server_secret_file.exists()
    load_or_create_server_secret(settings.server_secret_file)
    database_created = not settings.database_path.exists()
    database = await Database.open(settings.database_path)
    await database.close()
    lines = [
        ops_texts.init_line(ops_texts.INIT_SCHOOL, str(settings.school_config), school_created)
    ]
    if cgu is not None:
        lines.append(ops_texts.init_line(ops_texts.INIT_CGU, str(cgu), cgu_created))
    lines += [
        ops_texts.init_line(
            ops_texts.INIT_SECRET, str(settings.server_secret_file), secret_created
        ),
        ops_texts.init_line(ops_texts.INIT_DATABASE, str(settings.database_path), database_created),
    ]
    home = settings.ent_bot_home or Path(os.getcwd())
    cgu_text = str(cgu) if cgu is not None else ops_texts.INIT_CGU_NAMED
    print(ops_texts.init_summary(str(home), lines, str(settings.school_config), cgu_text))
    return 0
