"""A tiny procedure for the tests, never shipped: a colour chosen, then a first name typed.

It is what adding a procedure takes: its description (steps and the input each takes, staff
labels, entry command), its service (the rules, over the shared ports), its texts, and one
registry line (``Registry().with_lines(DESCRIPTION)``, see ``test_example_procedure.py``).
Nothing of Telegram: the handlers every procedure shares read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum

from bot.procedures.description import Description, EntryCommand, StepSpec
from bot.procedures.kernel import ProcedurePorts, Steps
from bot.procedures.reply import Reply, Via, over, refused
from bot.procedures.view import InputKind, Prompt, rows_of
from storage.sessions import ConversationSession

FLOW_EXAMPLE = "exemple"

# Its texts (a shipped procedure keeps them in bot/texts/).
ASK_COLOUR = "Quelle couleur préfères-tu ?"
COLOURS = {"bleu": "🔵 Bleu", "vert": "🟢 Vert"}
ASK_NAME = "Et ton prénom ?"
NAME_REFUSED = "Un prénom de 1 à 30 lettres, s'il te plaît."
THANKS = "Merci {name} : le {colour} est noté."
MENU = "Une démarche d'exemple"
STAFF_LABELS = {"ex_couleur": "exemple : couleur", "ex_prenom": "exemple : prénom"}


class ExampleStep(StrEnum):
    """Its steps (unique across procedures)."""

    COLOUR = "ex_couleur"
    NAME = "ex_prenom"


@dataclass
class ExampleService:
    """The rules: a colour among two, then a first name of 1 to 30 characters."""

    ports: ProcedurePorts
    steps: Steps = field(init=False)

    def __post_init__(self) -> None:
        self.steps = Steps(self.ports, FLOW_EXAMPLE)

    async def session_of(self, telegram_user_id: int) -> ConversationSession | None:
        return await self.steps.session_of(telegram_user_id)

    async def cancel(self, telegram_user_id: int) -> bool:
        return await self.steps.cancel(telegram_user_id)

    async def begin(self, telegram_user_id: int, chat_id: int, step: str) -> ConversationSession:
        return await self.steps.begin(telegram_user_id, chat_id, step)

    async def choose(self, session: ConversationSession, action: str, via: Via) -> Reply:
        colour = action.removeprefix("exc:")
        if session.step == ExampleStep.COLOUR and colour in COLOURS:
            session.flow_data = json.dumps({"colour": colour})
            await self.steps.go(session, ExampleStep.NAME)
        return Reply()

    async def submit_text(self, session: ConversationSession, text: str, via: Via) -> Reply:
        name = text.strip()
        if not 1 <= len(name) <= 30:
            return refused(NAME_REFUSED, fitting=True)
        colour = json.loads(session.flow_data or "{}").get("colour", "")
        await self.steps.end(session)
        return over(THANKS.format(name=name, colour=colour))


def prompt(svc: ExampleService, session: ConversationSession, full: bool = True) -> list[Prompt]:
    """What the person sees at each step."""
    if session.step == ExampleStep.COLOUR:
        rows = rows_of(*((label, f"exc:{key}") for key, label in COLOURS.items()))
        return [Prompt(ASK_COLOUR, rows, InputKind.CHOICE)]
    return [Prompt(ASK_NAME, (), InputKind.TEXT)]


DESCRIPTION = Description(
    FLOW_EXAMPLE,
    steps=(
        StepSpec(ExampleStep.COLOUR, InputKind.CHOICE, fresh=True, choices=("exc",)),
        StepSpec(ExampleStep.NAME, InputKind.TEXT),
    ),
    service=ExampleService,
    prompt=prompt,
    staff_labels=lambda: STAFF_LABELS,
    commands=(EntryCommand("exemple", ExampleStep.COLOUR, lambda: MENU),),
)
