"""Matching what a user typed against the school's quick answers: fuzzy (RapidFuzz) and
accent-insensitive, so « j'ai pas recu le mail » finds « Je n'ai pas reçu l'e-mail ». A match is
strong only if every word that carries meaning in the message is one of the answer's words (or
close to one): « je n'ai pas d'adresse mail » shares « pas … mail » with « pas de mail », but
« adresse » is no word of that answer, so it is a weak match, which offers the list."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from bot.school import QuickAnswer

# Below this score (0-100) a message is not taken as one of the answers.
MATCH_CUTOFF = 82.0
# From this score, a message near an answer (but not surely it) is shown the list of answers.
WEAK_CUTOFF = 70.0
# A word of the message is one of the answer's if they are this close (« recois », « recu »).
WORD_CUTOFF = 60.0
# Words that carry no meaning of their own here (normalised: no accents, lower case).
_STOPWORDS = (
    "a ai as au aux c ca ce d de des du elle en est et il j je l la le les m ma me mes mon n "
    "ne nous on ou pas plus pour qu que s se sur t tu un une vous y suis encore toujours"
)
STOPWORDS = frozenset(_STOPWORDS.split(" "))


@dataclass(frozen=True)
class Match:
    """The quick answer a message is about, and whether surely (else: show the list)."""

    index: int
    strong: bool


def normalise(text: str) -> str:
    """Lower case, no accents, punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return str(utils.default_process(bare))


def _covered(query: str, answer: QuickAnswer) -> bool:
    """Whether each meaningful word of ``query`` is (close to) a word of ``answer``."""
    vocabulary = {
        w for phrase in (answer.titre, *answer.mots_cles) for w in normalise(phrase).split()
    }
    for word in query.split():
        if word in STOPWORDS:
            continue
        if (
            process.extractOne(word, vocabulary, scorer=fuzz.ratio, score_cutoff=WORD_CUTOFF)
            is None
        ):
            return False
    return True


def match(text: str, answers: Sequence[QuickAnswer]) -> Match | None:
    """The quick answer ``text`` is about (strong), or nearly (weak), or None."""
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
        query, choices, scorer=fuzz.token_set_ratio, processor=None, score_cutoff=WEAK_CUTOFF
    )
    if found is None:
        return None
    index = owners[found[2]]
    strong = found[1] >= MATCH_CUTOFF and _covered(query, answers[index])
    return Match(index, strong)


def best_match(
    text: str, answers: Sequence[QuickAnswer], cutoff: float = MATCH_CUTOFF
) -> int | None:
    """The index of the quick answer ``text`` is surely about, or None."""
    found = match(text, answers)
    return found.index if found is not None and found.strong else None
