"""The password rule: plain functions, tested without Telegram.

Default (configurable): at least 8 characters and at least 3 of the 4 kinds (lower case, upper
case, digit, other) unless at least 12 characters; at most 128; not containing the identifier,
the first or last name; not a common password; not an example the bot shows (in any case,
spacing or punctuation: everyone reading the bot knows it). "Not the provisional password" is
checked by the caller, who holds its hash.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

from bot.security import strip_accents


class PasswordRule(StrEnum):
    """A rule a password broke (the catalogue says each one in French)."""

    EMPTY = "empty"
    INVALID_CHARACTERS = "invalid_characters"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    NOT_ENOUGH_KINDS = "not_enough_kinds"
    CONTAINS_IDENTIFIANT = "contains_identifiant"
    # Kept for rows and callers of earlier versions; the check names the part now.
    CONTAINS_NAME = "contains_name"
    CONTAINS_FIRST_NAME = "contains_first_name"
    CONTAINS_LAST_NAME = "contains_last_name"
    SAME_AS_PROVISIONAL = "same_as_provisional"
    COMMON_PASSWORD = "common_password"
    # The example of the prompt (« Mon chat dort 2 fois ! ») or a variant of it.
    EXAMPLE = "example"


# Parts of identifiers and names shorter than this are not looked for in passwords.
MIN_PERSONAL_PART = 3
_LEET = str.maketrans(
    {
        "@": "a",
        "4": "a",
        "3": "e",
        "1": "i",
        "!": "i",
        "0": "o",
        "$": "s",
        "5": "s",
        "7": "t",
        "+": "t",
    }
)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (folded: lower case, no accents)."""
    text = (resources.files("bot") / "data" / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _fold(text: str) -> str:
    return strip_accents(text).casefold()


def is_common(password: str) -> bool:
    """Whether the password, or its core without trailing digits and symbols, or its leetspeak
    reading, is in the list (« P@ssw0rd! », « Azerty123 » are common)."""
    folded = _fold(password)
    core = re.sub(r"[\d\W_]+$", "", folded)
    candidates = {
        folded,
        core,
        folded.translate(_LEET),
        core.translate(_LEET),
        re.sub(r"[\d\W_]+$", "", folded.translate(_LEET)),
    }
    words = common_passwords()
    return any(candidate in words for candidate in candidates if candidate)


def _letters_and_digits(text: str) -> str:
    return "".join(ch for ch in _fold(text) if ch.isalnum())


def is_an_example(password: str, examples: Iterable[str]) -> bool:
    """Whether the password is one of ``examples`` (those the bot shows), whatever its case,
    spaces and punctuation."""
    typed = _letters_and_digits(password)
    return any(typed == _letters_and_digits(example) for example in examples)


def _personal_parts(value: str) -> list[str]:
    return [
        part for part in re.split(r"[\s.\-_']+", _fold(value)) if len(part) >= MIN_PERSONAL_PART
    ]


def _personal_rules(
    password: str, identifiant: str, first_name: str, last_name: str
) -> list[PasswordRule]:
    """Which personal part the password contains, named exactly: a part of the identifier that
    is the first or last name (« paul » of « paul.durand ») is said as the first or last name,
    and the identifier only when the password holds the rest of it or all of it."""
    folded = _fold(password)
    first = _personal_parts(first_name)
    last = _personal_parts(last_name)
    rules: list[PasswordRule] = []
    ident = _fold(identifiant.strip())
    own_parts = [p for p in _personal_parts(identifiant) if p not in first and p not in last]
    if ident and (ident in folded or any(part in folded for part in own_parts)):
        rules.append(PasswordRule.CONTAINS_IDENTIFIANT)
    if any(part in folded for part in first):
        rules.append(PasswordRule.CONTAINS_FIRST_NAME)
    if any(part in folded for part in last):
        rules.append(PasswordRule.CONTAINS_LAST_NAME)
    return rules


@dataclass(frozen=True)
class PasswordPolicy:
    """The configurable password rule."""

    min_length: int = 8
    long_length: int = 12
    min_kinds: int = 3
    max_length: int = 128

    @staticmethod
    def kinds(password: str) -> set[str]:
        """Which kinds of characters the password has: lower, upper, digit, other."""
        found: set[str] = set()
        for ch in password:
            if ch.islower():
                found.add("lower")
            elif ch.isupper():
                found.add("upper")
            elif ch.isdigit():
                found.add("digit")
            else:
                found.add("other")
        return found

    def check(
        self,
        password: str,
        *,
        identifiant: str = "",
        first_name: str = "",
        last_name: str = "",
        examples: Iterable[str] = (),
    ) -> list[PasswordRule]:
        """Every rule the password breaks, in a stable order (empty list: it is fine).
        ``examples``: the example passwords the prompt shows (``bot.texts.PASSWORD_EXAMPLES``),
        refused."""
        if not password.strip():
            return [PasswordRule.EMPTY]
        broken: list[PasswordRule] = []
        if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in password):
            broken.append(PasswordRule.INVALID_CHARACTERS)
        length = len(password)
        if length < self.min_length:
            broken.append(PasswordRule.TOO_SHORT)
        if length > self.max_length:
            broken.append(PasswordRule.TOO_LONG)
        if length < self.long_length and len(self.kinds(password)) < self.min_kinds:
            broken.append(PasswordRule.NOT_ENOUGH_KINDS)
        broken.extend(_personal_rules(password, identifiant, first_name, last_name))
        if is_common(password):
            broken.append(PasswordRule.COMMON_PASSWORD)
        if is_an_example(password, examples):
            broken.append(PasswordRule.EXAMPLE)
        return broken
