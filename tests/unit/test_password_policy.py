"""The password rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import texts
from bot.config.password_policy import PasswordPolicy, PasswordRule, common_passwords, is_common

POLICY = PasswordPolicy()
EXAMPLES = texts.PASSWORD_EXAMPLES
PERSON = {"identifiant": "lea.martin", "first_name": "Léa", "last_name": "Martin"}


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("", PasswordRule.EMPTY),
        ("Ab1!", PasswordRule.TOO_SHORT),
        ("velorouge12", PasswordRule.NOT_ENOUGH_KINDS),
        ("A" * 127 + "b1!", PasswordRule.TOO_LONG),
        ("xLEA.MARTIN-9", PasswordRule.CONTAINS_IDENTIFIANT),
        ("Martin-Velo-99", PasswordRule.CONTAINS_LAST_NAME),
        ("Léa-Velo-Rouge-9", PasswordRule.CONTAINS_FIRST_NAME),
        ("Azerty123!", PasswordRule.COMMON_PASSWORD),
        ("P@ssw0rd!", PasswordRule.COMMON_PASSWORD),
        ("Motdepasse2025", PasswordRule.COMMON_PASSWORD),
        ("Velo\u200bRouge42!", PasswordRule.INVALID_CHARACTERS),
    ],
)
def test_each_rule(password: str, rule: PasswordRule) -> None:
    assert rule in POLICY.check(password, **PERSON)


@pytest.mark.parametrize(
    "password",
    ["Velo-Rouge-Soleil-42", "mon chat dort deux fois", "Tr0mp€tte!", "éléphant-9-Bleu"],
)
def test_good_passwords(password: str) -> None:
    assert POLICY.check(password, **PERSON) == []


def test_twelve_characters_need_no_mix() -> None:
    assert POLICY.check("velorougebleu", **PERSON) == []
    assert PasswordRule.NOT_ENOUGH_KINDS in PasswordPolicy(long_length=20).check("velorougebleu")


def test_kinds_are_unicode_aware() -> None:
    assert POLICY.kinds("éÉ1!") == {"lower", "upper", "digit", "other"}


def test_common_list_is_shipped_and_folded() -> None:
    words = common_passwords()
    assert len(words) > 500 and "azerty" in words and "motdepasse" in words
    assert all(word == word.casefold() for word in words)
    assert is_common("SOLEIL") and not is_common("Velo-Rouge-Soleil-42")


@given(st.text(min_size=0, max_size=200))
def test_check_never_crashes_and_is_stable(password: str) -> None:
    first = POLICY.check(password, **PERSON)
    assert first == POLICY.check(password, **PERSON)
    assert (first == []) == (not first)


def test_a_refusal_names_exactly_the_part_found() -> None:
    """« Paul aime 3 vélos ! » holds the first name only: the identifier « paul.durand » is not
    said to be in it, nor the last name."""
    person = {"identifiant": "paul.durand", "first_name": "Paul", "last_name": "Durand"}
    assert POLICY.check("Paul aime 3 vélos !", **person) == [PasswordRule.CONTAINS_FIRST_NAME]
    assert POLICY.check("Durand aime 3 vélos !", **person) == [PasswordRule.CONTAINS_LAST_NAME]
    assert POLICY.check("x-paul.durand-9!", **person) == [
        PasswordRule.CONTAINS_IDENTIFIANT,
        PasswordRule.CONTAINS_FIRST_NAME,
        PasswordRule.CONTAINS_LAST_NAME,
    ]
    pupil = {"identifiant": "pdurand7", "first_name": "Paul", "last_name": "Durand"}
    assert PasswordRule.CONTAINS_IDENTIFIANT in POLICY.check("Xy-pdurand7-!", **pupil)


@pytest.mark.parametrize(
    "password",
    [
        "Mon chat dort 2 fois !",
        "mon chat dort 2 fois",
        "MON CHAT DORT 2 FOIS !",
        "MonChatDort2Fois!",
        "Mon  chat dort 2 fois !!",
        "Mon-chat-dort-2-fois",
    ],
)
def test_the_example_the_bot_shows_is_refused(password: str) -> None:
    """Issue 22.8: the example of the prompt, and its variants in case, spaces and
    punctuation, would activate an account anyone reading the bot can guess."""
    assert PasswordRule.EXAMPLE in POLICY.check(password, **PERSON, examples=EXAMPLES)


def test_a_sentence_near_the_example_is_fine() -> None:
    assert POLICY.check("Mon chien dort 3 fois !", **PERSON, examples=EXAMPLES) == []


def test_the_examples_are_those_the_bot_shows() -> None:
    prompt = texts.password_rules(POLICY)
    assert all(example in prompt for example in texts.PASSWORD_EXAMPLES)
    assert "exemple" in texts.password_refused([PasswordRule.EXAMPLE], POLICY)
