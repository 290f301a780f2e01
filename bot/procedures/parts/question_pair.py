"""Two secret questions, picked from the school's list, and their answers, normalised (case,
accents, spaces) and argon2id-hashed. Each answer is typed twice, so that a typo cannot lock
its owner out of the forgotten-password procedure later; the procedure says what happens once
both are set."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.procedures.kernel import Outcome, ProcedurePorts, Result, Steps
from bot.security import is_pending_digest, normalise_answer
from storage.sessions import ConversationSession


@dataclass(frozen=True)
class QuestionSteps:
    """The four steps of a question pair, named by the procedure (steps are unique)."""

    question1: str
    answer1: str
    answer1_confirm: str
    question2: str
    answer2: str
    answer2_confirm: str


@dataclass
class QuestionPair:
    """Pick question 1, answer it, pick question 2 (another one), answer it."""

    ports: ProcedurePorts
    steps: Steps
    names: QuestionSteps
    on_chosen: Callable[[ConversationSession], Awaitable[Result]]

    async def start(self, session: ConversationSession) -> None:
        """Forget any earlier pair and ask the first question."""
        session.question1 = session.answer1_hash = None
        session.question2 = session.answer2_hash = None
        await self.steps.go(session, self.names.question1)

    def available_questions(self, session: ConversationSession) -> list[tuple[int, str]]:
        """(index, question) the user may still choose."""
        return [
            (index, question)
            # The region's list for everyone (see bot.region: the decoys of « Mot de passe
            # oublié » are drawn from it).
            for index, question in enumerate(self.ports.school.secret_questions)
            if question != session.question1
        ]

    async def choose_question(self, session: ConversationSession, index: int) -> Result:
        """Pick question 1 or 2 by its index in the configured list."""
        allowed = dict(self.available_questions(session))
        if index not in allowed:
            return Result(Outcome.INVALID)
        if session.step == self.names.question1:
            session.question1 = allowed[index]
            await self.steps.go(session, self.names.answer1)
        else:
            session.question2 = allowed[index]
            await self.steps.go(session, self.names.answer2)
        return Result(Outcome.OK)

    async def submit_answer(self, session: ConversationSession, text: str) -> Result:
        """An answer (normalised, kept as a pending digest, then asked again) or its second
        typing (compared with the digest: MISMATCH asks the answer again; the same: argon2id-
        hashed, the one hash kept); after the second answer's confirmation, the procedure's
        ``on_chosen``."""
        names = self.names
        if session.step in (names.answer1_confirm, names.answer2_confirm):
            return await self._confirm(session, text)
        answer = normalise_answer(text)
        settings = self.ports.settings
        if len(answer) < settings.min_answer_length:
            return Result(Outcome.TOO_SHORT)
        if len(answer) > settings.max_answer_length:
            return Result(Outcome.TOO_LONG)
        hashed = self.ports.keyed.pending(answer, purpose="answer")
        if session.step == names.answer1:
            session.answer1_hash = hashed
            await self.steps.go(session, names.answer1_confirm)
        else:
            session.answer2_hash = hashed
            await self.steps.go(session, names.answer2_confirm)
        return Result(Outcome.OK)

    async def _confirm(self, session: ConversationSession, text: str) -> Result:
        names = self.names
        first = session.step == names.answer1_confirm
        stored = session.answer1_hash if first else session.answer2_hash
        answer = normalise_answer(text)
        if is_pending_digest(stored):
            same = self.ports.keyed.matches_pending(answer, stored, purpose="answer")
        else:  # a session of an earlier version kept the argon2id hash already
            same = stored is not None and await self.ports.hasher.verify(stored, answer)
        if same and is_pending_digest(stored):
            hashed = await self.ports.hasher.hash(answer)
            if first:
                session.answer1_hash = hashed
            else:
                session.answer2_hash = hashed
        if not same:
            if first:
                session.answer1_hash = None
            else:
                session.answer2_hash = None
            await self.steps.go(session, names.answer1 if first else names.answer2)
            return Result(Outcome.MISMATCH)
        if first:
            await self.steps.go(session, names.question2)
            return Result(Outcome.OK)
        return await self.on_chosen(session)
