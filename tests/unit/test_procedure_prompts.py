"""What a person sees at each step of each procedure, as plain data (no Telegram): a text, rows
of choices whose actions a channel sends back, and the kind of input the step takes."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from enum import StrEnum

import pytest

from bot.procedures import activation, my_account, recovery
from bot.procedures.view import Choice, InputKind, LinkChoice, Prompt
from storage.sessions import ConversationSession

from conftest import ServiceFactory

ACTION = re.compile(r"[a-z]+:[A-Za-z0-9_.\-]+")


def _session(svc: object, step: str) -> ConversationSession:
    session: ConversationSession = svc.steps.new_session(1, 1, step)  # type: ignore[attr-defined]
    session.question1, session.question2 = "Ton premier animal ?", "Ta ville natale ?"
    session.email, session.identifiant = "lea@example.org", "lea.martin"
    return session


def _check(prompts: list[Prompt]) -> None:
    assert prompts and all(p.text.strip() for p in prompts)
    for prompt in prompts:
        for row in prompt.rows:
            for choice in row:
                if isinstance(choice, LinkChoice):
                    assert choice.url.startswith("http")
                else:
                    assert isinstance(choice, Choice) and ACTION.fullmatch(choice.action)
                    assert choice.label.strip()
    # Only the last message of a step asks for something.
    assert all(p.input == InputKind.NONE for p in prompts[:-1])


CASES: list[tuple[type, type[StrEnum], Callable[..., list[Prompt]]]] = [
    (activation.ActivationService, activation.Step, activation.prompt),
    (recovery.RecoveryService, recovery.RecoveryStep, recovery.prompt),
    (my_account.MyAccountService, my_account.MyAccountStep, my_account.prompt),
]


@pytest.mark.parametrize(("cls", "steps", "prompt"), CASES, ids=["activation", "recovery", "mc"])
async def test_every_step_renders_without_telegram(
    make_service: ServiceFactory,
    cls: type,
    steps: type[StrEnum],
    prompt: Callable[..., list[Prompt]],
) -> None:
    svc = await make_service(cls)
    for step in steps:
        prompts = prompt(svc, _session(svc, step))
        _check(prompts)
        assert prompts[-1].input != InputKind.NONE, step


async def test_the_cgu_come_in_chunks_then_one_question(make_service: ServiceFactory) -> None:
    svc = await make_service(activation.ActivationService)
    session = _session(svc, activation.Step.CGU)
    full = activation.prompt(svc, session)
    short = activation.prompt(svc, session, full=False)
    assert len(full) > 2 and len(short) == 1
    assert [c.action for row in full[-1].rows for c in row] == ["cgu:ok", "cgu:no"]  # type: ignore[union-attr]


def test_the_view_loads_nothing_of_the_bot() -> None:
    code = (
        "import sys, bot.procedures.view; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('bot', 'telegram')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['bot', 'bot.procedures', 'bot.procedures.view']"
