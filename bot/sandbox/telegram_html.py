"""Telegram's HTML parse mode: the supported tags, checked like the Bot API does, turned into
plain text and MessageEntity dicts (offsets and lengths in UTF-16 code units)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; the message is Telegram's reason."""


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    entity: dict[str, Any]
    start: int


@dataclass
class _Parser(HTMLParser):
    text_parts: list[str] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    stack: list[_Open] = field(default_factory=list)
    length: int = 0

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def _offset(self) -> str:
        line, column = self.getpos()
        return f"line {line}, column {column}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        entity: dict[str, Any]
        if tag == "a":
            href = attributes.get("href")
            if not href:
                raise EntityParseError(
                    f'Can\'t find "href" attribute of tag "a" at {self._offset()}'
                )
            entity = {"type": "text_link", "url": href}
        elif tag == "span":
            if attributes.get("class") != "tg-spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at {self._offset()}'
                )
            entity = {"type": "spoiler"}
        elif tag in SIMPLE_TAGS:
            entity = {"type": SIMPLE_TAGS[tag]}
            if tag == "blockquote" and "expandable" in attributes:
                entity = {"type": "expandable_blockquote"}
            if tag == "code" and self.stack and self.stack[-1].tag == "pre":
                language = (attributes.get("class") or "").removeprefix("language-")
                if language:
                    self.stack[-1].entity["language"] = language
                entity = {"type": "__inner_code__"}
            if tag == "tg-emoji":
                entity["custom_emoji_id"] = attributes.get("emoji-id", "")
        else:
            raise EntityParseError(f'Unsupported start tag "{tag}" at {self._offset()}')
        self.stack.append(_Open(tag, entity, self.length))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise EntityParseError(f'Unsupported start tag "{tag}/" at {self._offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise EntityParseError(f'Unexpected end tag "{tag}" at {self._offset()}')
        opened = self.stack.pop()
        if opened.tag != tag:
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{opened.tag}"')
        length = self.length - opened.start
        if opened.entity["type"] != "__inner_code__" and length > 0:
            self.entities.append({**opened.entity, "offset": opened.start, "length": length})

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        self.length += utf16_length(data)

    def handle_comment(self, data: str) -> None:
        raise EntityParseError(f"Unexpected comment at {self._offset()}")


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities of a Telegram-HTML text; :class:`EntityParseError` if invalid."""
    _check_ampersands(source)
    parser = _Parser()
    parser.feed(source)
    parser.close()
    if parser.stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{parser.stack[-1].tag}"'
        )
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.text_parts), entities


def _check_ampersands(source: str) -> None:
    """Telegram accepts the named entities &lt; &gt; &amp; &quot; and numeric ones; a lone
    "&" stays text, another known named entity is an error."""
    index = source.find("&")
    while index != -1:
        end = source.find(";", index)
        name = source[index + 1 : end] if end != -1 else ""
        known_elsewhere = name.isalpha() and html.unescape(f"&{name};") != f"&{name};"
        if known_elsewhere and name not in ("lt", "gt", "amp", "quot"):
            raise EntityParseError(f'Unsupported HTML entity "&{name};"')
        index = source.find("&", index + 1)
