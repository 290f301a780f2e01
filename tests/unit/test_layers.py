"""Imports run one way: handlers → procedures → ports → storage, the texts a leaf
(docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each layer, and what it must never import (at module level or inside a function).
FORBIDDEN = {
    "storage": ("bot", "conversations", "telegram"),
    "bot/directory": ("bot.procedures", "bot.staff", "bot.app", "conversations", "telegram"),
    "bot/procedures": (
        "bot.staff",
        "bot.app",
        "bot.cli",
        "bot.sandbox",
        "conversations",
        "telegram",
    ),
    "bot/outbox": ("bot.procedures", "bot.staff", "bot.app", "conversations"),
    "bot/texts": (
        "bot.procedures",
        "bot.staff",
        "bot.outbox",
        "bot.app",
        "bot.cli",
        "bot.sandbox",
        "conversations",
        "telegram",
    ),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_never_imports_the_layers_above_it(layer: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for name in sorted(_imports(path))
        if any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN[layer])
    ]
    assert not wrong, "\n".join(wrong)
