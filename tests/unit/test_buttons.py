"""The one parser of button data (forged data comes from the user's client)."""

from __future__ import annotations

from conversations.buttons import ButtonData, button_data, parse_button, small_int


def test_well_formed_data_is_parsed() -> None:
    assert parse_button("q:2:ab12cd") == ButtonData("q", "2", "ab12cd")
    parsed = parse_button(button_data("acct", "show", "ab12cd", 42), "acct")
    assert parsed is not None and parsed.action == "show" and parsed.number == 42
    assert parse_button("acct:delete:ab12cd", "acct").number is None  # type: ignore[union-attr]


def test_malformed_or_forged_data_is_refused() -> None:
    for data in (
        None,
        "",
        "cgunew:",
        "cgunew:ok",
        "cgunew:ok:",
        "::",
        "q:①:ab12cd",
        "q:2:ab12cd:extra",
        "q:2:" + "a" * 70,
        "q: 2:ab",
        "q:\u30002:ab",
    ):
        assert parse_button(data) is None, data
    assert parse_button("q:2:ab12cd", "acct") is None


def test_numbers_are_ascii_digits_only() -> None:
    assert small_int("007") == 7
    for text in ("①", "٣", "𝟠", "²", "-1", "", " 1", "1" * 19):
        assert small_int(text) is None, text
    assert parse_button("acct:show.①:ab12cd") is None
    assert parse_button("acct:show.x1:ab12cd").number is None  # type: ignore[union-attr]
