"""What an input did, as plain data any channel says (no Telegram): the services answer
``submit_text`` and ``choose`` with a :class:`Reply` whose words come from the catalogue."""

from __future__ import annotations

from bot import texts
from bot.procedures.activation import ActivationService, Step
from bot.procedures.recovery import FLOW_RECOVERY, RecoveryService, RecoveryStep
from bot.procedures.reply import Reply, Via

from conftest import ServiceFactory

VIA = Via("ent_test_bot")


async def test_a_typed_identifier_that_is_not_one_is_refused_with_a_fitting_word(
    make_service: ServiceFactory,
) -> None:
    svc: RecoveryService = await make_service(RecoveryService)
    session = await svc.begin(1, 1, RecoveryStep.IDENTIFIANT)
    reply = await svc.submit_text(session, "x" * 500, VIA)
    assert reply.refusal == texts.IDENTIFIANT_INVALID and reply.fitting
    assert session.step == RecoveryStep.IDENTIFIANT


async def test_the_full_rule_keeps_the_step_and_its_choices(make_service: ServiceFactory) -> None:
    svc: RecoveryService = await make_service(RecoveryService)
    session = await svc.begin(1, 1, RecoveryStep.PASSWORD)
    reply = await svc.choose(session, "pw:rule", VIA)
    assert reply.say and not reply.show and not reply.refusal


async def test_a_profile_choice_moves_on_and_forgot_begins_the_recovery(
    make_service: ServiceFactory,
) -> None:
    svc: ActivationService = await make_service(ActivationService)
    session = await svc.begin(1, 1, Step.PROFILE)
    assert await svc.choose(session, "p:apprenti", VIA) == Reply()
    assert session.step == Step.IDENTIFIANT
    session = await svc.begin(1, 1, Step.PROFILE)
    reply = await svc.choose(session, "p:forgot", VIA)
    assert reply.begin == (FLOW_RECOVERY, RecoveryStep.IDENTIFIANT)


async def test_an_external_profile_ends_with_the_ent_link(make_service: ServiceFactory) -> None:
    svc: ActivationService = await make_service(ActivationService)
    session = await svc.begin(1, 1, Step.PROFILE)
    reply = await svc.choose(session, "p:personnel_en", VIA)
    assert reply.done and reply.say_rows and await svc.session_of(1) is None
