"""A campaign's message: two placeholders, ``{prenom}`` and ``{etablissement}``, and nothing
else — the text is never given to :meth:`str.format`, so a ``{`` cannot reach any other value."""

from __future__ import annotations

import re
from html import escape

from bot.texts.broadcast import PLACEHOLDERS as PLACEHOLDERS

_PLACEHOLDER = re.compile(r"\{(prenom|etablissement)\}")
# What staff probably meant as a placeholder: ``{word}``.
_LOOKS_LIKE_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def unknown_placeholders(template: str) -> list[str]:
    """The ``{word}`` of ``template`` that are not placeholders (to refuse the message)."""
    found = (match.group(1) for match in _LOOKS_LIKE_PLACEHOLDER.finditer(template))
    return sorted({word for word in found if word not in PLACEHOLDERS})


def render(template: str, prenom: str, etablissement: str) -> str:
    """The message as one recipient reads it (plain text)."""
    values = {"prenom": prenom, "etablissement": etablissement}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def render_html(template: str, prenom: str, etablissement: str) -> str:
    """The same, escaped for Telegram's HTML parse mode."""
    return escape(render(template, prenom, etablissement), quote=False)
