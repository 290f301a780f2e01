"""The mailbox an address reaches, for counting code e-mails, and the person's count of code
e-mails (issue 29, point 6)."""

from __future__ import annotations

import pytest

from bot.procedures.activation import ActivationService, Step
from bot.procedures.kernel import Outcome
from bot.procedures.parts.mails import counting_mailbox
from bot.procedures.recovery import RecoveryService

from conftest import ServiceFactory
from support import GOOD_PASSWORD, MutableClock
from test_activation_service import at_step


@pytest.mark.parametrize(
    ("address", "mailbox"),
    [
        ("victim@example.org", "victim@example.org"),
        ("Victim+1@Example.org", "victim@example.org"),
        ("victim+a+b@example.org", "victim@example.org"),
        # dots count at providers not known to ignore them
        ("v.ictim@example.org", "v.ictim@example.org"),
        ("V.I.C.T.I.M+x@gmail.com", "victim@gmail.com"),
        ("v.ictim@googlemail.com", "victim@gmail.com"),
        # a local part that is only a tag stays what it is
        ("+x@example.org", "+x@example.org"),
        ("  lea@example.org ", "lea@example.org"),
    ],
)
def test_counting_mailbox(address: str, mailbox: str) -> None:
    assert counting_mailbox(address) == mailbox


async def test_every_recovery_request_counts_for_the_person_whatever_the_identifier(
    make_service: ServiceFactory, clock: MutableClock
) -> None:
    """A person's count of code e-mails says nothing about the identifiers they asked for:
    a request for an identifier with an address and one for an unknown identifier count
    alike, so the person's cap is reached at the same request either way."""
    activation: ActivationService = await make_service(ActivationService)
    session = await at_step(activation, 1, Step.PASSWORD)  # lea.martin, lea@example.org
    await activation.submit_password(session, GOOD_PASSWORD)
    assert (await activation.confirm_password(session, GOOD_PASSWORD)).outcome == (
        Outcome.ACTIVATED
    )
    recovery = RecoveryService(activation.ports)
    cap = activation.ports.settings.max_mails_per_person
    outcomes = {}
    for user, identifiant in ((10, "lea.martin"), (11, "personne.inconnue")):
        for _ in range(cap):
            clock.advance(seconds=61)
            asked = await recovery.start(user, user)
            await recovery.submit_recovery_identifiant(asked, identifiant)
            assert (await recovery.choose_email_method(asked, "b")).outcome == Outcome.SENT
        clock.advance(seconds=61)
        own = await at_step(activation, user, Step.EMAIL_CONFIRM, "paul.durand", "Rm2-Hv8n-Zcw")
        outcomes[identifiant] = (await activation.send_verification(own, "b")).outcome
    assert outcomes == {
        "lea.martin": Outcome.RESEND_LIMIT,
        "personne.inconnue": Outcome.RESEND_LIMIT,
    }
