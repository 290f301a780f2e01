"""What reads like a question is not taken for a secret; what a typed step was told instead of
its input (a thank-you, a question, a long plea) is recognised."""

from __future__ import annotations

import pytest

from bot.config.password_policy import PasswordPolicy
from bot.procedures.parts.secret_screen import (
    Reading,
    could_be_a_secret,
    looks_like_a_password,
    looks_like_a_question,
    reading_of,
)


@pytest.mark.parametrize(
    "text",
    [
        "je comprends pas",
        "Je ne comprends pas",
        "aide",
        "AIDE SVP",
        "comment on fait",
        "c'est quoi ?",
        "je sais pas",
        "ça marche pas",
        "je suis bloqué",
        "Quel mot de passe",
        "?",
        "Aide !",
        "Merci beaucoup !",
    ],
)
def test_questions_and_calls_for_help(text: str) -> None:
    assert looks_like_a_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "Velo-Rouge-Soleil-42",
        "Mon chat dort 2 fois !",
        "Paul aime 3 vélos !",
        "Tours",
        "Maidenhead-1987",  # « aide » inside a word is not a call for help
        "Rex",
        "Comté2024!",
        # Issue 22.6: « ? » is one of the most common symbols of a password.
        "Soleil?2026",
        "?Velo-Rouge-9",
        "Pourquoi?Pas!42",
        "Bloqué2024!",
        "Comment-Allez-Vous-7",
        "Mon chat dort 2 fois ?",
        "merci",  # one word: an answer like any other
    ],
)
def test_answers_and_passwords(text: str) -> None:
    assert not looks_like_a_question(text)


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("Merci beaucoup !", Reading.THANKS),
        ("merci", Reading.THANKS),
        ("Super, merci 🙏", Reading.THANKS),
        ("Je vous remercie", Reading.THANKS),
        ("c'est quoi une adresse personnelle ?", Reading.QUESTION),
        ("je comprends pas", Reading.QUESTION),
        ("aide", Reading.QUESTION),
        ("?", Reading.QUESTION),
        (
            "Bonjour, j'ai essayé plusieurs fois avec mon fils mais nous n'y arrivons pas, "
            "pouvez-vous nous rappeler s'il vous plaît",
            Reading.PLEA,
        ),
        ("lea.martin@mail.fr", None),
        ("pas une adresse", None),
        ("Soleil?2026", None),
        ("12345678", None),
        ("merci2024", None),  # a password attempt, not a thank-you
    ],
)
def test_what_a_typed_step_was_told(text: str, reading: Reading | None) -> None:
    assert reading_of(text) == reading


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("MEDOR", True),
        ("lyon", True),
        ("Mon chien Médor", True),
        ("Velo-Rouge-Soleil-42", True),
        ("Merci beaucoup !", False),
        ("je ne sais plus quoi faire", False),
        ("/aide", False),
        ("ok", False),
        ("   ", False),
    ],
)
def test_what_could_be_a_secret_typed_again(text: str, secret: bool) -> None:
    assert could_be_a_secret(text) is secret


@pytest.mark.parametrize(
    ("text", "shaped"),
    [
        ("Velo-Rouge-Soleil-42", True),
        ("Girafe?Bleue7", True),
        ("12345678", True),
        ("bonjour", False),
        ("Mon chat dort 2 fois !", False),  # a sentence: not told from a message
        ("lea.martin@mail.fr", False),
        ("1234", False),
        ("/start", False),
    ],
)
def test_what_looks_like_a_password_outside_a_procedure(text: str, shaped: bool) -> None:
    assert looks_like_a_password(text, PasswordPolicy(), code_length=8) is shaped
