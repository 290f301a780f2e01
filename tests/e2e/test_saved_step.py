"""The step saved in SQLite is the only truth: when the bot's answer cannot be sent after a step
was saved, the user's next input is handled by the saved step (python-telegram-bot's
ConversationHandler kept its old in-memory state, and a provisional password typed as asked was
taken for an identifier)."""

from __future__ import annotations

import pytest

from bot.procedures.activation import Step
from bot.sandbox.bot_api_server import Fault
from storage.accounts import AccountStatus

from chat import Chat
from conftest import BotHarness, last_code
from support import GOOD_PASSWORD

IDENTIFIANT, PROVISIONAL = "sam.roux", "Nt9-Bw6q-Kyv"
ANSWERS = ("Une réponse", "Une autre réponse")


async def _step(harness: BotHarness, user_id: int) -> str | None:
    session = await harness.services.activation.ports.sessions.get(user_id)
    return session.step if session else None


async def _press(harness: BotHarness, chat: Chat, action: str) -> None:
    """Press the button ``action`` of the current prompt, as on a prompt that did arrive: its
    data carries the nonce saved with the step."""
    session = await harness.services.activation.ports.sessions.get(chat.user_id)
    assert session is not None
    any_message = chat.user.messages[-1].message_id
    await chat.press_data(any_message, f"{action}:{session.prompt_nonce}")


async def _act(harness: BotHarness, chat: Chat, step: str, by_email: bool) -> None:
    """What the user does at ``step``, as the prompt of that step asks."""
    if step == Step.IDENTIFIANT:
        await chat.send(IDENTIFIANT)
    elif step == Step.PROVISIONAL:
        chat.secret_message_ids.append(await chat.send(PROVISIONAL))
    elif step == Step.CGU:
        await _press(harness, chat, "cgu:ok")
    elif step == Step.RECOVERY:
        await _press(harness, chat, "rec:email" if by_email else "rec:questions")
    elif step == Step.EMAIL:
        # Looks like a typo (gmial.com): shown back first, so the confirmation step is walked.
        await chat.send("sam@gmial.com")
    elif step == Step.EMAIL_CONFIRM:
        await _press(harness, chat, "em:send")
    elif step == Step.CODE:
        await harness.mailbox.wait_for(1)
        chat.secret_message_ids.append(await chat.send(last_code(harness.mailbox)))
    elif step in (Step.QUESTION1, Step.QUESTION2):
        session = await harness.services.activation.ports.sessions.get(chat.user_id)
        assert session is not None
        index, _ = harness.services.activation.available_questions(session)[0]
        await _press(harness, chat, f"q:{index}")
    elif step in (Step.ANSWER1, Step.ANSWER2, Step.ANSWER1_CONFIRM, Step.ANSWER2_CONFIRM):
        first = step in (Step.ANSWER1, Step.ANSWER1_CONFIRM)
        answer = ANSWERS[0] if first else ANSWERS[1]
        chat.secret_message_ids.append(await chat.send(answer))
    elif step in (Step.PASSWORD, Step.PASSWORD_CONFIRM):
        chat.secret_message_ids.append(await chat.send(GOOD_PASSWORD))
    else:  # pragma: no cover - a step this walk does not know
        raise AssertionError(f"unexpected step {step}")


@pytest.mark.parametrize("by_email", [True, False], ids=["e-mail", "questions"])
async def test_a_failed_answer_at_every_step_never_misroutes_the_next_input(
    harness: BotHarness, by_email: bool
) -> None:
    chat = Chat(harness, 5100 if by_email else 5101)
    await chat.say("/activer")
    failed_at: set[str] = set()
    transitions: list[tuple[str, str | None, bool]] = []
    for _ in range(40):
        step = await _step(harness, chat.user_id)
        if step is None:
            break
        fail = step not in failed_at
        if fail:  # every answer to this input fails to reach the chat
            failed_at.add(step)
            fault = Fault(
                "server_error",
                chat_id=chat.user_id,
                methods=frozenset({"sendmessage"}),
                times=None,
                status=400,
            )
            harness.server.inject(fault)
        await _act(harness, chat, step, by_email)
        await harness.settle()
        harness.server.clear_faults()
        transitions.append((step, await _step(harness, chat.user_id), fail))
    account = await harness.services.activation.ports.directory.find(IDENTIFIANT)
    assert account is not None and account.status == AccountStatus.ACTIVE, transitions
    # An input after a failed answer was handled by the saved step: every input the user gave
    # without an injected failure moved the procedure on.
    assert all(after != before for before, after, fail in transitions if not fail), transitions
    expected = {Step.IDENTIFIANT, Step.PROVISIONAL, Step.CGU, Step.RECOVERY, Step.PASSWORD}
    expected |= (
        {Step.EMAIL, Step.EMAIL_CONFIRM, Step.CODE}
        if by_email
        else {
            Step.QUESTION1,
            Step.ANSWER1,
            Step.ANSWER1_CONFIRM,
            Step.QUESTION2,
            Step.ANSWER2,
            Step.ANSWER2_CONFIRM,
        }
    )
    assert expected <= failed_at
    chat.assert_secrets_deleted()
    session_bytes = harness.settings.database_path.read_bytes()
    assert PROVISIONAL.encode() not in session_bytes
