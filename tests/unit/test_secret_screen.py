"""What reads like a question is not taken for a secret."""

from __future__ import annotations

import pytest

from bot.procedures.parts.secret_screen import looks_like_a_question


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
    ],
)
def test_answers_and_passwords(text: str) -> None:
    assert not looks_like_a_question(text)
