"""Which catalogue the chat texts are read from.

``bot.texts`` is the French chat catalogue and the reference: handlers and procedures read
``texts.NAME`` when they answer, never a copy. Another language is one module with the same
names (say ``bot/texts/chat_en.py``), listed in :data:`CATALOGUES`; :func:`select` puts its
texts in place of the French ones at start-up, a name it lacks keeps its French text, and
:func:`missing` lists those names (for that catalogue's tests).
"""

from __future__ import annotations

import importlib
import types
from typing import Any

DEFAULT = "fr"
# Language → module of its chat catalogue.
CATALOGUES: dict[str, str] = {DEFAULT: "bot.texts"}

_french: dict[str, Any] = {}


def _texts() -> types.ModuleType:
    return importlib.import_module("bot.texts")


def _is_text(name: str, value: object) -> bool:
    """A text of the catalogue: a public constant, or a function defined in bot.texts itself."""
    if name.startswith("_") or isinstance(value, types.ModuleType | type):
        return False
    if callable(value):
        return getattr(value, "__module__", None) == "bot.texts"
    return isinstance(value, str | dict | tuple | list)


def reference() -> dict[str, Any]:
    """The French texts by name (taken once, before any other catalogue is selected)."""
    if not _french:
        _french.update(
            (name, value) for name, value in vars(_texts()).items() if _is_text(name, value)
        )
    return _french


def missing(language: str) -> list[str]:
    """Names of the French catalogue that the catalogue of ``language`` does not define."""
    catalogue = importlib.import_module(CATALOGUES[language])
    return sorted(name for name in reference() if not hasattr(catalogue, name))


def select(language: str) -> None:
    """Read the chat texts from the catalogue of ``language`` (``ValueError`` if there is none)."""
    if language not in CATALOGUES:
        raise ValueError(f"no catalogue for {language!r}: {', '.join(sorted(CATALOGUES))}")
    texts = _texts()
    french = reference()
    catalogue = importlib.import_module(CATALOGUES[language])
    for name, value in french.items():
        chosen = value if catalogue is texts else getattr(catalogue, name, value)
        setattr(texts, name, chosen)
