"""At a step that takes a secret (a password, a secret answer), a message that reads like a
question or a call for help (« je comprends pas », « aide », a « ? ») is not taken as the
secret: the step is kept and the user says whether it really was the secret. If so, the next
message at that step is taken as it is."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bot.procedures.kernel import Steps
from bot.security import strip_accents
from storage.sessions import ConversationSession

_TAKE_NEXT = "take_next_as_secret"
# Words of someone asking, not answering (compared without accents or case, as whole words).
_ASKING = re.compile(
    r"\b("
    r"aide|aidez|aider|help|sos|comment|pourquoi|quoi|"
    r"compren\w*|compri\w*|comprend|"
    r"(?:je\s+)?(?:ne\s+)?sai[st]\s+pas|"
    r"bloque\w*|probleme\w*|"
    r"(?:ne\s+)?(?:marche|fonctionne)\s+pas|arrive\s+pas|"
    r"quel(?:le)?s?\s+(?:mot|reponse)"
    r")\b"
)


def looks_like_a_question(text: str) -> bool:
    """Whether ``text`` reads like a question or a call for help rather than a secret."""
    folded = strip_accents(text).casefold()
    return "?" in folded or _ASKING.search(folded) is not None


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
