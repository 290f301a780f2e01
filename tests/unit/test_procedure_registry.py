"""The registry of procedures: names and steps are unique, checked when the bot is built, and
everything that lists procedures is derived from it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from bot.app import build_application, menu
from bot.procedures.description import Description, StepSpec
from bot.procedures.registry import PROCEDURES, Registry
from bot.procedures.view import InputKind, Prompt
from bot.settings import Settings
from bot.texts import COMMANDS
from bot.texts import mail as mail_templates
from bot.texts.staff import STAFF_STEPS
from conversations.flows import procedures
from conversations.router import DuplicateStepError, Procedure, ProcedureRegistry

from support import CHEAP_ARGON2, DATA


async def _show(*args: object) -> None:
    return None


def _prompt(svc: object, session: object, full: bool) -> list[Prompt]:
    return [Prompt("?")]


def _description(name: str, labels: Mapping[str, str], steps: tuple[str, ...] = ()) -> Description:
    return Description(
        name,
        tuple(StepSpec(step, InputKind.TEXT) for step in (steps or tuple(labels))),
        service=lambda ports: None,
        prompt=_prompt,
        staff_labels=lambda: labels,
    )


def _procedure(name: str, labels: Mapping[str, str], steps: tuple[str, ...] = ()) -> Procedure:
    description = _description(name, labels, steps)
    return Procedure(description, {step: [] for step in description.step_names}, _show)


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token="123:abc",
        database_path=tmp_path / "bot.sqlite3",
        server_secret_file=tmp_path / "server.key",
        school_config=DATA / "school.toml",
        **CHEAP_ARGON2,
    )


def test_the_bots_procedures_have_unique_steps() -> None:
    registry = ProcedureRegistry(procedures())
    names = [procedure.name for procedure in registry]
    assert names == ["activation", "recovery", "moncompte"]


def test_a_duplicate_step_is_refused_when_the_bot_is_built(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    duplicate = _procedure("autre", {"identifiant": "x"})
    with pytest.raises(DuplicateStepError, match="identifiant"):
        build_application(settings, extra_procedures=[duplicate])


def test_a_procedure_registered_twice_is_refused() -> None:
    one = _procedure("p", {"a": "a"})
    with pytest.raises(DuplicateStepError, match="twice"):
        ProcedureRegistry([one, _procedure("p", {"b": "b"})])


def test_a_new_procedure_with_its_own_steps_is_accepted(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    extra = _procedure("autre", {"autre_etape": "autre"})
    application = build_application(settings, extra_procedures=[extra])
    assert application is not None


def test_a_step_without_a_staff_label_is_refused() -> None:
    with pytest.raises(DuplicateStepError, match="no staff label"):
        ProcedureRegistry([_procedure("p", {"a": "a"}, steps=("a", "b"))])


def test_every_step_of_the_bot_has_a_staff_label() -> None:
    registry = ProcedureRegistry(procedures())
    for procedure in registry:
        for step in procedure.states:
            assert registry.staff_label(step), step


def test_secret_steps_are_the_steps_whose_input_is_secret() -> None:
    """Derived from the steps' input kinds, not listed by hand (the lists of before)."""
    by_name = {d.name: d for d in Registry()}
    assert by_name["recovery"].secret_steps == {
        "mdp_identifiant",
        "mdp_code",
        "mdp_reponse1",
        "mdp_reponse2",
        "mdp_nouveau",
        "mdp_confirmation",
    }
    assert by_name["moncompte"].secret_steps == {
        "mc_mot_de_passe",
        "mc_code",
        "mc_reponse1",
        "mc_reponse1_confirmation",
        "mc_reponse2",
        "mc_reponse2_confirmation",
    }
    activation = by_name["activation"]
    assert activation.secret_steps == set(activation.step_names) - {
        "profil",
        "cgu",
        "choix_secours",
        "email",
        "email_confirmation",
        "question1",
        "question2",
    }
    assert activation.fresh_steps == {"profil", "identifiant"}


def test_what_lists_procedures_is_derived_from_the_registry() -> None:
    registry = Registry()
    # The staff labels of every step, as the staff catalogue has them.
    assert {
        step: label for step, label in STAFF_STEPS.items() if registry.of_step(step)
    } == registry.staff_labels()
    # The mail templates the outbox renders are the procedures' own.
    assert registry.mail_templates() == (mail_templates.CODE_MAILS, mail_templates.NOTICES)
    # The command menu: the shared commands and the procedures' own, as before.
    assert menu(registry) == list(COMMANDS)
    without_recovery = Registry([d for d in PROCEDURES if d.name != "recovery"])
    assert "motdepasse" not in dict(menu(without_recovery))
    # /start activer is /activer.
    entry = registry.entry_of_payload("activer")
    assert entry is not None and entry[0].command == "activer"
