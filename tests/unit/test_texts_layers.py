"""The texts package is a leaf: chat catalogue, staff texts, e-mail templates."""

from __future__ import annotations

import subprocess
import sys

from bot.settings import PROJECT_ROOT

IMPORT_ALL_TEXTS = """
import pkgutil, sys
import bot.texts
for module in pkgutil.walk_packages(bot.texts.__path__, "bot.texts."):
    __import__(module.name)
print("\\n".join(sorted(sys.modules)))
"""


def test_importing_the_texts_imports_neither_staff_nor_procedures() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL_TEXTS],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        check=True,
    )
    modules = result.stdout.split()
    assert "bot.texts.staff" in modules and "bot.texts.mail" in modules
    wrong = [
        name
        for name in modules
        if name.startswith(("bot.staff", "bot.procedures", "conversations", "bot.outbox"))
    ]
    assert not wrong, f"bot.texts must not import {wrong}"
