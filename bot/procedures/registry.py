"""The registry of procedures: one line a procedure, and everything that lists procedures is
derived from it (the channels' handlers, the command menu, the staff labels of steps, the
services by procedure, the mail templates)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from bot.procedures import activation, my_account, recovery
from bot.procedures.description import Description, DuplicateStepError, EntryCommand

if TYPE_CHECKING:
    from bot.procedures.reply import CommandService, StepService

    def _every_service_answers_the_channels(
        a: activation.ActivationService, r: recovery.RecoveryService, m: my_account.MyAccountService
    ) -> tuple[list[CommandService], list[StepService]]:
        """Checked by mypy: each procedure's service is a :class:`StepService` (a
        :class:`CommandService` if it has entry commands)."""
        return [a, r], [a, r, m]


# The registry's lines: one a procedure.
PROCEDURES: tuple[Description, ...] = (
    activation.DESCRIPTION,
    recovery.DESCRIPTION,
    my_account.DESCRIPTION,
)


class Registry:
    """Procedures whose names, steps and commands are unique across all of them, and whose
    every step has a staff label (refused at start-up otherwise: :class:`DuplicateStepError`)."""

    def __init__(self, descriptions: Sequence[Description] = PROCEDURES) -> None:
        self._by_name: dict[str, Description] = {}
        self._by_step: dict[str, Description] = {}
        commands: dict[str, Description] = {}
        for description in descriptions:
            name = description.name
            if name in self._by_name:
                raise DuplicateStepError(f"procedure {name!r} is registered twice")
            self._by_name[name] = description
            for step in description.step_names:
                other = self._by_step.get(step)
                if other is not None:
                    raise DuplicateStepError(
                        f"step {step!r} of procedure {name!r} is already a step of {other.name!r}"
                    )
                self._by_step[step] = description
            for entry in description.commands:
                if entry.command in commands:
                    raise DuplicateStepError(f"command {entry.command!r} is registered twice")
                commands[entry.command] = description

    def check_labels(self) -> None:
        """Every step has a staff label (read from the catalogues: call once they are chosen)."""
        for description in self:
            unlabelled = set(description.step_names) - set(description.staff_labels())
            if unlabelled:
                raise DuplicateStepError(
                    f"steps {sorted(unlabelled)} of procedure {description.name!r} "
                    "have no staff label"
                )

    def with_lines(self, *extra: Description) -> Registry:
        """This registry with more lines after its own (a procedure of the tests)."""
        return Registry([*self, *extra])

    def __iter__(self) -> Iterator[Description]:
        return iter(self._by_name.values())

    def get(self, name: str) -> Description | None:
        """The procedure called ``name``, if registered."""
        return self._by_name.get(name)

    def of_step(self, step: str) -> Description | None:
        """The procedure that has ``step``."""
        return self._by_step.get(step)

    def staff_label(self, step: str) -> str | None:
        """What staff read for ``step``, if a procedure labels it."""
        description = self._by_step.get(step)
        return description.staff_labels().get(step) if description else None

    def staff_labels(self) -> Mapping[str, str]:
        """Every step's staff label, procedure after procedure."""
        return {step: label for d in self for step, label in d.staff_labels().items()}

    def commands(self) -> list[tuple[EntryCommand, Description]]:
        """Every entry command with its procedure, in registration order."""
        return [(entry, d) for d in self for entry in d.commands]

    def command(self, name: str) -> tuple[EntryCommand, Description] | None:
        """The entry command ``/name`` with its procedure, if a procedure has it."""
        for entry, description in self.commands():
            if entry.command == name:
                return entry, description
        return None

    def entry_of_payload(self, payload: str) -> tuple[EntryCommand, Description] | None:
        """The entry command a ``/start`` payload stands for, if any."""
        for entry, description in self.commands():
            if payload in entry.payloads:
                return entry, description
        return None

    def mail_templates(self) -> tuple[frozenset[str], frozenset[str]]:
        """The outbox templates the procedures send: code e-mails, notices."""
        codes = frozenset(t for d in self for t in d.code_mails)
        notices = frozenset(t for d in self for t in d.notices)
        return codes, notices
