"""What a typed step was told instead of what it asked.

At a step that takes a secret (a password, a secret answer), a message that reads like a
sentence asking for help or thanking (« je comprends pas », « comment on fait ? », « Merci
beaucoup ! ») is not taken as the secret: the step is kept and the user says whether it really
was the secret. If so, the next message at that step is taken as it is. A single word is never
held back, except a bare call for help (« aide », « ? »): « ? » is one of the most common
symbols of a password (« Soleil?2026 »).

At any typed step, :func:`reading_of` tells a thank-you, a question or a long plea from an
input the step could not take, so that the answer fits what the person said."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum

from bot.config.password_policy import PasswordPolicy
from bot.procedures.kernel import Steps
from bot.security import strip_accents
from storage.sessions import ConversationSession

_TAKE_NEXT = "take_next_as_secret"
# Words of someone asking, not answering (compared without accents or case, as whole words,
# in a message of several words).
_ASKING = re.compile(
    r"\b("
    r"aide|aidez|aider|help|sos|svp|stp|comment|pourquoi|quoi|combien|quand|"
    r"est-ce|qu'est|"
    r"compren\w*|compri\w*|comprend|"
    r"(?:je\s+)?(?:ne\s+)?sai[st]\s+pas|"
    r"bloque\w*|probleme\w*|"
    r"(?:ne\s+)?(?:marche|fonctionne)\s+pas|arrive\s+pas|"
    r"quel(?:le)?s?\s+(?:mot|reponse|adresse|code)"
    r")\b"
)
_THANKING = re.compile(r"\b(merci+|remerci\w*|thanks?|thx)\b")
# One word alone that is a call for help (a secret answer is never just this).
_HELP_WORDS = frozenset({"aide", "aidez", "aidezmoi", "help", "sos"})
# No secret is shorter (a secret answer has 3 characters at least, a password 8).
MIN_SECRET_LENGTH = 3
# A message of this many words is a plea, whatever it says.
PLEA_WORDS = 12


class Reading(StrEnum):
    """What a message that is not the step's input reads like."""

    THANKS = "thanks"
    QUESTION = "question"
    PLEA = "plea"


def _fold(text: str) -> str:
    return strip_accents(text).casefold()


def _lone_call_for_help(word: str) -> bool:
    """« aide », « SOS ! », « ? », « ?? »: one word that only asks."""
    bare = re.sub(r"\W", "", word)
    return bare in _HELP_WORDS or (not bare and "?" in word)


def looks_like_a_question(text: str) -> bool:
    """Whether ``text``, typed at a secret step, reads like a sentence asking for help or
    thanking rather than a secret: several words with a question or help word (or a thank-you),
    or a bare call for help. Never a single word otherwise (« Soleil?2026 »)."""
    folded = _fold(text)
    words = folded.split()
    if len(words) <= 1:
        return bool(words) and _lone_call_for_help(words[0])
    return _ASKING.search(folded) is not None or _THANKING.search(folded) is not None


def reading_of(text: str) -> Reading | None:
    """What ``text`` reads like when a typed step could not take it (an address, a code…):
    a thank-you, a question, a long plea; None for anything else (a typo, a wrong input)."""
    folded = _fold(text)
    words = folded.split()
    if not words:
        return None
    asking = _ASKING.search(folded) is not None or (
        len(words) == 1 and _lone_call_for_help(words[0])
    )
    if len(words) >= PLEA_WORDS:
        return Reading.PLEA
    if _THANKING.search(folded) is not None and not asking:
        return Reading.THANKS
    if asking or (len(words) > 1 and folded.rstrip().endswith("?")):
        return Reading.QUESTION
    return None


def could_be_a_secret(text: str) -> bool:
    """Whether ``text``, typed just after a secret step where nothing typed is expected, could
    be that secret typed again (a password, an answer, a code): anything but a command, a word
    shorter than any secret (« ok ») or what reads like a thank-you, a question or a plea."""
    stripped = text.strip()
    return (
        len(stripped) >= MIN_SECRET_LENGTH
        and not stripped.startswith("/")
        and reading_of(stripped) is None
    )


def looks_like_a_password(text: str, policy: PasswordPolicy, code_length: int) -> bool:
    """Whether ``text``, typed outside any procedure, has the shape of a password or a code:
    one word of the rule's length and kinds of characters, or a code's digits. The last secret
    of a procedure typed again after it ended (its answer lost) has no step left to know it."""
    stripped = text.strip()
    if not stripped or any(ch.isspace() for ch in stripped) or stripped.startswith("/"):
        return False
    if re.fullmatch(rf"\d{{{code_length}}}", stripped) is not None:
        return True
    return (
        policy.min_length <= len(stripped) <= policy.max_length
        and len(policy.kinds(stripped)) >= policy.min_kinds
    )


@dataclass
class SecretScreen:
    """Holds back, at a secret step, what reads like a question (see the module)."""

    steps: Steps

    async def holds_back(self, session: ConversationSession, text: str) -> bool:
        """True if ``text`` must not be taken as the secret (the step stays as it is); False
        if it may, which uses up a « it really was my secret » said before."""
        data = json.loads(session.flow_data or "{}")
        if data.pop(_TAKE_NEXT, False):
            session.flow_data = json.dumps(data)
            await self.steps.save(session)
            return False
        return looks_like_a_question(text)

    async def take_next(self, session: ConversationSession) -> None:
        """The user said it really was the secret: the next message at this step is taken as
        it is."""
        data = json.loads(session.flow_data or "{}")
        data[_TAKE_NEXT] = True
        session.flow_data = json.dumps(data)
        await self.steps.save(session)
