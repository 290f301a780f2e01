"""The registry of procedures: names and steps are unique, checked when the bot is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import build_application
from bot.settings import Settings
from conversations.flows import procedures
from conversations.router import DuplicateStepError, Procedure, ProcedureRegistry

from support import CHEAP_ARGON2, DATA


async def _show(*args: object) -> None:
    return None


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
    duplicate = Procedure("autre", {"identifiant": []}, _show, staff_labels={"identifiant": "x"})
    with pytest.raises(DuplicateStepError, match="identifiant"):
        build_application(settings, extra_procedures=[duplicate])


def test_a_procedure_registered_twice_is_refused() -> None:
    one = Procedure("p", {"a": []}, _show, staff_labels={"a": "a"})
    with pytest.raises(DuplicateStepError, match="twice"):
        ProcedureRegistry([one, Procedure("p", {"b": []}, _show, staff_labels={"b": "b"})])


def test_a_new_procedure_with_its_own_steps_is_accepted(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    extra = Procedure("autre", {"autre_etape": []}, _show, staff_labels={"autre_etape": "autre"})
    application = build_application(settings, extra_procedures=[extra])
    assert application is not None


def test_a_step_without_a_staff_label_is_refused() -> None:
    with pytest.raises(DuplicateStepError, match="no staff label"):
        ProcedureRegistry([Procedure("p", {"a": [], "b": []}, _show, staff_labels={"a": "a"})])


def test_every_step_of_the_bot_has_a_staff_label() -> None:
    registry = ProcedureRegistry(procedures())
    for procedure in registry:
        for step in procedure.states:
            assert registry.staff_label(step), step
