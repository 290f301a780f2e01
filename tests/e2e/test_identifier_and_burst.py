"""The identifier prompt keeps no typed text, and the throttle holds against a burst: the real
Application over HTTP through the local Bot API server, a real SQLite file."""

from __future__ import annotations

from bot import texts

from chat import Chat
from conftest import BotHarness

BURST = 40
REFUSED = "Je n'ai pas pu activer un compte avec ces informations"


def database_bytes(harness: BotHarness) -> bytes:
    """The SQLite file and its journals, as they are on disk."""
    database = harness.settings.database_path
    paths = [p for p in database.parent.iterdir() if p.name.startswith(database.name)]
    return b"".join(path.read_bytes() for path in paths)


async def test_text_typed_at_an_identifier_prompt_is_deleted_and_not_kept(
    harness: BotHarness,
) -> None:
    # A password typed by mistake at the activation's identifier prompt, then at /motdepasse's.
    typed = ["Mot2Passe-Tape-Par-Erreur", "Autre9Secret-Tape-Ici"]
    chat = Chat(harness, 5001)
    await chat.say("/activer")
    await chat.say_secret(typed[0])
    unknown = [m.text for m in await chat.replies()]
    assert unknown[0] == texts.SECRET_DELETED
    recovery = Chat(harness, 5002)
    await recovery.say("/motdepasse")
    await recovery.say_secret(typed[1])
    assert (await recovery.replies())[0].text == texts.SECRET_DELETED

    # A real identifier gets the same replies: nothing tells whether it exists.
    known = Chat(harness, 5003)
    await known.say("/activer")
    await known.say_secret("lea.martin")
    assert [m.text for m in await known.replies()] == unknown

    for each in (chat, recovery, known):
        each.assert_secrets_deleted()
    await harness.stop()
    blob = database_bytes(harness)
    for text in typed:
        for form in (text, text.casefold()):
            assert form.encode() not in blob, "the typed text is in the database file"


async def test_a_burst_of_forty_guesses_is_evaluated_at_most_five_times(
    harness: BotHarness,
) -> None:
    """40 Telegram users send a wrong provisional password for one identifier at once."""
    chats = [Chat(harness, 6000 + index) for index in range(BURST)]
    for chat in chats:
        await chat.walk_to_provisional("lea.martin")
    for index, chat in enumerate(chats):
        chat._start_turn()
        await chat.user.send_text(f"Faux-{index}-Essai")
    await harness.settle(timeout=60)
    for chat in chats:
        assert any(REFUSED in m.text for m in await chat.replies())

    services = harness.services.ports
    key = services.identifiant_key("lea.martin")
    window = services.clock() - services.throttle_policy.window
    checked, refused = await services.throttle.failure_counts(key, window)
    assert checked <= services.throttle_policy.failures_before_delay
    assert checked + refused == BURST
    assert (await services.throttle.counters(key, window)).locked_at is not None

    # Locked: even the right password is refused now.
    late = Chat(harness, 6999)
    await late.walk_to_provisional("lea.martin")
    await late.say_secret("Xq7-Tb4k-Wpz")
    assert any(REFUSED in m.text for m in await late.replies())
