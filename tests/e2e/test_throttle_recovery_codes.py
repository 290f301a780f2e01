"""Wrong codes in « Mot de passe oublié » (issue 29, point 5): the replies never depend on
whether the identifier names an account, or an account with a verified address. The real
Application, real SMTP, a real SQLite file."""

from __future__ import annotations

from chat import Chat
from conftest import BotHarness
from test_recovery import activate_by_email, activate_by_questions

WRONG_CODES = 8


async def wrong_codes(harness: BotHarness, user: int, identifiant: str) -> list[str]:
    """Ask a recovery code by e-mail for ``identifiant``, type wrong codes; the replies."""
    chat = Chat(harness, user)
    await chat.say("/motdepasse")
    await chat.say(identifiant)
    await chat.press("adresse e-mail")
    await harness.services.outbox.drain()
    replies = []
    for n in range(WRONG_CODES):
        await chat.say_secret(f"{10000000 + n}")
        replies.append("\n".join(m.text for m in await chat.replies()))
    return replies


async def test_wrong_codes_get_the_same_replies_whatever_the_identifier(
    harness: BotHarness,
) -> None:
    await activate_by_email(harness, 7301, "lea.martin", "Xq7-Tb4k-Wpz")
    await activate_by_questions(harness, 7302, "nora.petit", "Gd5-Js3y-Fex")
    seen = {
        identifiant: await wrong_codes(harness, 7310 + index, identifiant)
        for index, identifiant in enumerate(
            ["personne.inconnue", "nora.petit", "autre.inconnu", "lea.martin"]
        )
    }
    assert "pas le bon" in seen["lea.martin"][0]
    assert len({tuple(replies) for replies in seen.values()}) == 1, seen
