"""A domain that looks like a typo of a common one gets a suggestion; others do not."""

from __future__ import annotations

import pytest

from bot.procedures.parts.address_typo import suggested_address


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("lea@gmial.com", "lea@gmail.com"),
        ("lea@gmail.con", "lea@gmail.com"),
        ("Lea.Martin@HOTMIAL.FR", "Lea.Martin@hotmail.fr"),
        ("x@ornage.fr", "x@orange.fr"),
        ("x@gmail.com", None),
        ("x@example.org", None),
        ("x@lycee-exemple.fr", None),
    ],
)
def test_suggestions(typed: str, suggested: str | None) -> None:
    assert suggested_address(typed) == suggested
