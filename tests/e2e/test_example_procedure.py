"""A procedure added with its description, its service, its texts and one registry line works
in Telegram end to end, with no edit to the Telegram adapter (issue 23)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import example_procedure as example
import pytest_asyncio

from bot import texts
from bot.app import build_application, start_bot
from bot.procedures.registry import Registry
from conversations.context import REGISTRY_KEY

from chat import Chat
from conftest import BotHarness


@pytest_asyncio.fixture
async def bot(harness: BotHarness) -> AsyncIterator[BotHarness]:
    """The harness's bot again, with the example procedure's registry line."""
    await harness.stop()
    registry = Registry().with_lines(example.DESCRIPTION)  # the one registry line
    harness.app = build_application(harness.settings, clock=harness.clock, registry=registry)
    await start_bot(harness.app, poll_timeout=1)
    yield harness


async def test_the_example_procedure_runs_from_its_description(bot: BotHarness) -> None:
    chat = Chat(bot, 7001)
    asked = await chat.say("/exemple")
    assert example.ASK_COLOUR in asked.text
    assert chat.labels(asked) == [*example.COLOURS.values(), "🆘 Je bloque"]

    named = await chat.press("Vert")
    assert example.ASK_NAME in named.text
    chosen = [m for m in chat.user.visible_messages() if example.ASK_COLOUR in m.text][-1]
    assert "Vert" in chosen.text and not chosen.buttons  # the choice is written, buttons gone

    done = await chat.say("Léa")
    assert done.text == example.THANKS.format(name="Léa", colour="vert")
    assert await bot.services.by_flow["exemple"].session_of(7001) is None


async def test_a_refused_text_and_the_shared_commands(bot: BotHarness) -> None:
    chat = Chat(bot, 7002)
    await chat.say("/exemple")
    await chat.press("Bleu")
    refused = await chat.say("x" * 40)
    assert example.NAME_REFUSED in refused.text and "🆘 Je bloque" in chat.labels(refused)
    # /aide shows the step again; an old button is stale; /annuler leaves.
    helped = await chat.say("/aide")
    assert example.ASK_NAME in helped.text
    await chat.press_data(refused.message_id, "exc:vert:000000")
    assert example.ASK_NAME in (await chat.last()).text
    assert (await chat.say("/annuler")).text == texts.CANCELLED
    assert await bot.services.by_flow["exemple"].session_of(7002) is None


async def test_what_lists_procedures_lists_it(bot: BotHarness) -> None:
    commands = [c["command"] for c in bot.server.commands]
    assert commands[-1] == "exemple" and {"activer", "motdepasse"} <= set(commands)
    assert bot.app is not None
    assert bot.app.bot_data[REGISTRY_KEY].staff_label("ex_prenom") == "exemple : prénom"
    # Another procedure started over it asks nothing at its fresh first step.
    chat = Chat(bot, 7003)
    await chat.say("/exemple")
    assert "Tapez votre identifiant" in (await chat.say("/activer")).text
    assert (await bot.services.activation.session_of(7003)) is not None
