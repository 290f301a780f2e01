"""Imports run one way, with no cycle, between modules and between the layers' folders, lazy
imports included (docs/architecture.md, « Layers »). The graph is the one
``scripts/import_cycles.py`` prints."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "import_cycles", ROOT / "scripts/import_cycles.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and annotations look it up
    spec.loader.exec_module(module)
    return module


import_cycles = _load_script()
GRAPH = import_cycles.module_graph(ROOT)
FOLDERS = import_cycles.folder_graph(GRAPH)

# Every folder, bottom first: a folder imports only folders of a lower tier (so, transitively,
# never one of its own tier or above). A new folder must be placed here.
TIERS: tuple[tuple[str, ...], ...] = (
    ("storage", "bot"),
    ("bot.security",),
    ("bot.config",),
    ("bot.texts", "bot.settings"),
    ("bot.school", "bot.telegram_api", "bot.web"),
    ("bot.region",),
    ("bot.outbox",),
    ("bot.directory",),
    ("bot.procedures",),
    ("bot.staff",),
    ("bot.support", "bot.broadcast"),
    ("bot.mail_in",),
    ("bot.services",),
    ("conversations", "bot.ops"),
    ("bot.app",),
    ("bot.sandbox",),
    ("bot.cli",),
)
TIER = {folder: level for level, folders in enumerate(TIERS) for folder in folders}

# Modules that must run without python-telegram-bot: loading one of them in a fresh
# interpreter must not load ``telegram``.
WITHOUT_TELEGRAM = (
    "storage",
    "bot.security",
    "bot.config",
    "bot.settings",
    "bot.school",
    "bot.region",
    "bot.staff.rights",
    "bot.directory",
    "bot.procedures",
    "bot.support.service",
    "bot.support.reminders",
    "bot.support.quick_answers",
    "bot.support.figures",
    "bot.mail_in.rules",
    "bot.mail_in.service",
    "bot.mail_in.reader",
    "bot.web",
)


def test_no_cycle_between_modules() -> None:
    assert import_cycles.cycles(GRAPH) == []


def test_no_cycle_between_folders() -> None:
    assert import_cycles.cycles(FOLDERS) == []


def test_every_folder_has_its_tier() -> None:
    assert sorted(set(FOLDERS) - set(TIER)) == []


@pytest.mark.parametrize("folder", sorted(TIER))
def test_a_folder_imports_only_the_tiers_below_it(folder: str) -> None:
    wrong = [
        f"{module} imports {target}"
        for module in sorted(GRAPH)
        if import_cycles.folder_of(module) == folder
        for target in sorted(GRAPH[module])
        if import_cycles.folder_of(target) != folder
        and TIER[import_cycles.folder_of(target)] >= TIER[folder]
    ]
    assert not wrong, "\n".join(wrong)


def test_the_storage_never_reaches_the_bot() -> None:
    """Transitively: no module of storage/ loads one of bot/ or conversations/."""
    wrong = {
        module: sorted(m for m in import_cycles.reachable(GRAPH, module) if m != module)
        for module in GRAPH
        if module.startswith("storage")
        and any(not m.startswith("storage") for m in import_cycles.reachable(GRAPH, module))
    }
    assert wrong == {}


def _modules_under(prefix: str) -> list[str]:
    return sorted(m for m in GRAPH if m == prefix or m.startswith(prefix + "."))


@pytest.mark.parametrize("prefix", WITHOUT_TELEGRAM)
def test_loading_a_module_never_loads_python_telegram_bot(prefix: str) -> None:
    """In a fresh interpreter, lazy imports and PEP 562 look-ups included (what the static
    graph cannot see). ``ldap`` may be missing: those modules are then skipped."""
    modules = _modules_under(prefix)
    assert modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ModuleNotFoundError as error:\n"
        "        if error.name != 'ldap':\n"
        "            raise\n"
        "    if 'telegram' in sys.modules:\n"
        "        print(name)\n"
        "        break\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "", f"{done.stdout.strip()} loads python-telegram-bot"


def test_the_script_sees_lazy_relative_and_type_checking_imports(tmp_path: Path) -> None:
    """A cycle made only of an import inside a function, a relative import and one under
    ``if TYPE_CHECKING:`` is still a cycle; loading ``bot.c.d`` runs ``bot/c/__init__.py``."""
    (tmp_path / "bot" / "c").mkdir(parents=True)
    (tmp_path / "bot" / "__init__.py").write_text("")
    (tmp_path / "bot" / "a.py").write_text("def f():\n    from bot import b\n")
    (tmp_path / "bot" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c.d import X\n"
    )
    (tmp_path / "bot" / "c" / "__init__.py").write_text("import bot.a\n")
    (tmp_path / "bot" / "c" / "d.py").write_text("X = 1\n")
    graph = import_cycles.module_graph(tmp_path)
    assert graph["bot.a"] == {"bot.b"}
    assert graph["bot.b"] == {"bot.c", "bot.c.d"}
    assert import_cycles.cycles(graph) == [["bot.a", "bot.b", "bot.c"]]
    assert import_cycles.cycles(import_cycles.folder_graph(graph)) == [["bot.a", "bot.b", "bot.c"]]
