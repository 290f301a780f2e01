"""Matching what a user typed against the school's quick answers: fuzzy (RapidFuzz) and
accent-insensitive, so « j'ai pas recu le mail » finds « Je n'ai pas reçu l'e-mail »."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from rapidfuzz import fuzz, process, utils

from bot.school import QuickAnswer

# Below this score (0-100) a message is not taken as one of the answers.
MATCH_CUTOFF = 82.0


def normalise(text: str) -> str:
    """Lower case, no accents, punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return str(utils.default_process(bare))


def best_match(
    text: str, answers: Sequence[QuickAnswer], cutoff: float = MATCH_CUTOFF
) -> int | None:
    """The index of the quick answer ``text`` is about, or None."""
    query = normalise(text)
    if len(query) < 3:
        return None
    choices: list[str] = []
    owners: list[int] = []
    for index, answer in enumerate(answers):
        for phrase in (answer.titre, *answer.mots_cles):
            choices.append(normalise(phrase))
            owners.append(index)
    found = process.extractOne(
        query, choices, scorer=fuzz.token_set_ratio, processor=None, score_cutoff=cutoff
    )
    return owners[found[2]] if found else None
