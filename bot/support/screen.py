"""Could a message to the school's team hold a password? Plain rules, tested without Telegram.

Two questions, kept apart. :func:`password_pieces` lists what the bot compares with the
passwords it can check (the account's hashes, a procedure's pending digests): words and sliding
groups of words (a passphrase « Mon chat dort 2 fois » inside a sentence), those a password
could be, the likeliest first, a bounded number. :func:`looks_like_a_secret` says whether a word
has the shape of a password the bot cannot check (someone else's, a new one not saved yet):
then the person is asked, never refused. Words, names and identifiers (« Re-bonjour »,
« Jean-Pierre2 », « lea.dupont12 ») do not have that shape.

This is the support's own predicate (:mod:`bot.procedures.parts.secret_screen` answers
another question: whether what was typed at a secret step reads like a question)."""

from __future__ import annotations

import re
from collections.abc import Collection

from bot.security import normalise_identifiant

# A password is 8 to 128 characters long (the policy's bounds), a provisional one too.
MIN_LENGTH = 8
MAX_LENGTH = 128
# Groups of up to this many words are compared (a passphrase of six words or fewer).
MAX_GROUP_WORDS = 6
# At most this many pieces of one message are compared with password hashes.
MAX_PIECES = 8
# What is stripped around a word (punctuation that closes or opens a sentence).
_EDGES = ".,;:!?«»\"'()[]"
# A word as people and schools write words and names: letters, each part lower case,
# Capitalised or UPPER CASE, parts joined by a hyphen, an apostrophe or a dot, and up to four
# digits at the end (« Re-bonjour », « aujourd'hui », « Jean-Pierre2 », « lea.dupont12 »).
_PART = r"(?:[^\W\d_][^\W\d_A-Z]*|[^\W\d_a-z]+)"
_NATURAL = re.compile(rf"{_PART}(?:[-'’.]{_PART})*\d{{0,4}}")


def words(text: str) -> list[str]:
    """The words of ``text``, without the punctuation around them."""
    return [w for w in (raw.strip(_EDGES) for raw in text.split()) if w]


def kinds(piece: str) -> int:
    """How many kinds of characters ``piece`` mixes (lower case, upper case, digits, others)."""
    return sum(
        (
            any(c.islower() for c in piece),
            any(c.isupper() for c in piece),
            any(c.isdigit() for c in piece),
            any(not c.isalnum() for c in piece),
        )
    )


def could_be_a_password(piece: str) -> bool:
    """Whether the password rule would take ``piece``: 8 to 128 characters, and three kinds of
    characters unless it is 12 long or more (a passphrase)."""
    return MIN_LENGTH <= len(piece) <= MAX_LENGTH and (kinds(piece) >= 3 or len(piece) >= 12)


def password_pieces(text: str, limit: int = MAX_PIECES) -> list[str]:
    """The pieces of ``text`` to compare with password hashes, the likeliest first, at most
    ``limit``: its words and groups of up to :data:`MAX_GROUP_WORDS` words (kept as typed: a
    passphrase is compared with its own spaces), those that :func:`could_be_a_password`.
    Likeliest: more kinds of characters, then a single word, then shorter."""
    raw = text.split()
    found: dict[str, tuple[int, int, int]] = {}
    for size in range(1, MAX_GROUP_WORDS + 1):
        for start in range(len(raw) - size + 1):
            group = " ".join(raw[start : start + size])
            for piece in dict.fromkeys((group, group.strip(_EDGES))):
                if piece and piece not in found and could_be_a_password(piece):
                    found[piece] = (-kinds(piece), size, len(piece))
    return sorted(found, key=lambda piece: found[piece])[:limit]


def looks_like_a_secret(word: str, own: Collection[str] = ()) -> bool:
    """Whether one word has the shape of a password: 8 characters or more, three kinds of
    characters, not an address nor a link, not a word or a name as people write them, and not
    one of ``own`` (the person's identifiers, normalised)."""
    word = word.strip(_EDGES)
    if not MIN_LENGTH <= len(word) <= MAX_LENGTH or "@" in word or "://" in word:
        return False
    if kinds(word) < 3 or _NATURAL.fullmatch(word):
        return False
    return normalise_identifiant(word) not in own


def has_a_secret_shape(text: str, own: Collection[str] = ()) -> bool:
    """Whether a word of ``text`` :func:`looks_like_a_secret`."""
    return any(looks_like_a_secret(word, own) for word in words(text))


def secret_shaped_words(text: str, own: Collection[str] = ()) -> list[str]:
    """The words of ``text`` that :func:`looks_like_a_secret`, once each."""
    return list(dict.fromkeys(w for w in words(text) if looks_like_a_secret(w, own)))


def reads_like_a_whole_password(text: str) -> bool:
    """Whether the whole of ``text`` could be a new password typed for the step rather than a
    message: six words at most, no question mark, what the password rule would take, and
    three kinds of characters besides spaces (« Mon chat dort 2 fois », not « il ne marche
    pas »). Asked about only where a new password is expected (nothing to compare it with)."""
    whole = text.strip()
    if "?" in whole or len(whole.split()) > MAX_GROUP_WORDS or not could_be_a_password(whole):
        return False
    return kinds("".join(whole.split())) >= 3
