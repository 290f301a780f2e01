"""Telegram's HTML parse mode, as the local Bot API server checks it."""

from __future__ import annotations

import pytest

from bot.sandbox.telegram_html import EntityParseError, parse_html, utf16_length


def test_plain_text_and_entities_with_utf16_offsets() -> None:
    text, entities = parse_html("🎉 <b>Compte activé</b> : <code>lea.martin</code>")
    assert text == "🎉 Compte activé : lea.martin"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 13},
        {"type": "code", "offset": 19, "length": 10},
    ]


def test_nesting_links_and_escapes() -> None:
    text, entities = parse_html(
        '<b>a <i>b</i></b> <a href="https://ent.example.org">x</a> &lt;&amp;'
    )
    assert text == "a b x <&"
    assert {"type": "italic", "offset": 2, "length": 1} in entities
    assert {"type": "text_link", "url": "https://ent.example.org", "offset": 4, "length": 1} in (
        entities
    )


def test_pre_with_language() -> None:
    _, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert entities == [{"type": "pre", "language": "python", "offset": 0, "length": 5}]


@pytest.mark.parametrize(
    "source",
    [
        "<b>open",
        "<b>x</i>",
        "</b>",
        "<div>x</div>",
        "<a>x</a>",
        '<span class="x">y</span>',
        "&nbsp;",
    ],
)
def test_invalid_html_is_refused(source: str) -> None:
    with pytest.raises(EntityParseError):
        parse_html(source)


def test_utf16_length() -> None:
    assert utf16_length("é") == 1 and utf16_length("🎉") == 2
