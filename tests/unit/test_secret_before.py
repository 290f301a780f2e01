"""A secret read at a step is known (its keyed digest) at the step after, and only there: the
same secret typed again there is deleted whatever reads it (issue 29.7)."""

from __future__ import annotations

from bot.procedures.activation import ActivationService, Step
from bot.procedures.kernel import is_secret_before, secret_before

LEA, LEA_PROVISIONAL = "lea.martin", "Xq7-Tb4k-Wpz"


async def test_the_secret_of_a_step_is_known_at_the_next_one_only(
    service: ActivationService,
) -> None:
    session = await service.begin(7001, 7001, Step.IDENTIFIANT)
    await service.submit_identifiant(session, LEA)
    service.steps.note_secret(session, LEA_PROVISIONAL)
    await service.submit_provisional(session, LEA_PROVISIONAL)
    saved = await service.session_of(7001)
    assert saved is not None and saved.step == Step.CGU
    # Saved with the step it caused, as a keyed digest, never in clear.
    assert LEA_PROVISIONAL not in saved.flow_data
    assert is_secret_before(service.ports, saved, f" {LEA_PROVISIONAL} ")
    assert not is_secret_before(service.ports, saved, "Xq7-Tb4k-Wpy")
    # The step after that forgets it.
    await service.accept_cgu(saved)
    again = await service.session_of(7001)
    assert again is not None and again.step != Step.CGU
    assert secret_before(again) is None


async def test_a_step_left_without_a_secret_keeps_no_marker(service: ActivationService) -> None:
    session = await service.begin(7002, 7002, Step.IDENTIFIANT)
    await service.submit_identifiant(session, LEA)  # not noted: no marker at the next step
    saved = await service.session_of(7002)
    assert saved is not None and secret_before(saved) is None
