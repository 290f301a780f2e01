"""After five failed tries in a chat, the chat is told to wait, and until when (issue 22,
point 10): the same reply whatever the identifier (unknown, wrong password, active, locked), so it
tells nothing about the identifier; after the wait, the right provisional password works.
The real Application, a real SQLite file."""

from __future__ import annotations

from datetime import timedelta

from bot import texts

from chat import Chat
from conftest import BotHarness
from support import GOOD_PASSWORD

LEA = ("lea.martin", "Xq7-Tb4k-Wpz")
REFUSED = "Je n'ai pas pu activer un compte avec ces informations"


async def fail_five_times(chat: Chat, identifiant: str) -> None:
    await chat.walk_to_provisional(identifiant)
    for n in range(5):
        assert REFUSED in (await chat.say_secret(f"Faux-Essai-{n}")).text


async def test_the_chat_is_told_to_wait_and_then_the_right_password_works(
    harness: BotHarness,
) -> None:
    # paul.durand is active (activated from another chat): its refusals look like the others'
    activated = Chat(harness, 8100)
    await activated.walk_to_password("paul.durand", "Rm2-Hv8n-Zcw")
    await activated.say_secret(GOOD_PASSWORD)
    assert "activé" in (await activated.say_secret(GOOD_PASSWORD)).text

    # sam.roux is locked (staff-only lock)
    ports = harness.services.activation.ports
    await ports.throttle.record_failure(
        ports.identifiant_key("sam.roux"), harness.clock(), lock=True
    )

    sixth = {}
    for user, (identifiant, right) in {
        8101: LEA,
        8102: ("personne.inconnue", "Xq7-Tb4k-Wpz"),
        8103: ("paul.durand", "Rm2-Hv8n-Zcw"),
        8104: ("sam.roux", "Nt9-Bw6q-Kyv"),
    }.items():
        chat = Chat(harness, user)
        await fail_five_times(chat, identifiant)
        sixth[identifiant] = (await chat.say_secret(right)).text
    assert len(set(sixth.values())) == 1, sixth
    told = sixth["lea.martin"]
    assert REFUSED not in told and "Vérifiez" not in told
    assert told.startswith(texts.chat_must_wait(timedelta(minutes=1))[:40]) and "1 minute" in told
    chat = Chat(harness, 8101)
    harness.clock.advance(seconds=61)
    await chat.say_secret(LEA[1])
    assert any("Conditions Générales" in m.text for m in await chat.replies())
