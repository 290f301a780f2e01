"""Services of the procedures over a real database, for the unit tests (no Telegram)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.config.password_policy import PasswordPolicy
from bot.directory.sqlite import SqliteDirectory
from bot.outbox.mail import MailDeliveryError, OutgoingMail
from bot.procedures.kernel import ProcedurePorts
from bot.procedures.throttle import ThrottlePolicy
from bot.school import SchoolConfig
from bot.security import KeyedHasher, SecretHasher
from bot.staff.accounts_import import import_accounts
from storage.accounts import SqliteAccountDirectory
from storage.db import Database
from storage.records import RecordRepository
from storage.sessions import SessionRepository
from storage.throttle import ThrottleRepository

from support import MutableClock, write_accounts_csv


class RecordingMailer:
    """Keeps the mails instead of sending them; can be told to fail."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []
        self.fail = False
        self.arrived = asyncio.Event()

    async def send(self, mail: OutgoingMail) -> None:
        if self.fail:
            raise MailDeliveryError("refused")
        self.sent.append(mail)
        self.arrived.set()

    def last_code(self) -> str:
        match = re.search(r"\b(\d{8})\b", self.sent[-1].text)
        assert match
        return match.group(1)

    def last_token(self) -> str:
        match = re.search(r"start=([A-Za-z0-9_-]+)", self.sent[-1].text)
        assert match
        return match.group(1)


S = TypeVar("S")


async def build_service(
    cls: Callable[[ProcedurePorts], S],
    database: Database,
    hasher: SecretHasher,
    keyed: KeyedHasher,
    school: SchoolConfig,
    clock: MutableClock,
    tmp_path: Path,
) -> S:
    """A service of class ``cls`` over a real database with the test accounts imported."""
    directory = SqliteAccountDirectory(database)
    await import_accounts(
        write_accounts_csv(tmp_path / "accounts.csv"), directory, hasher, keyed, clock()
    )
    ports = ProcedurePorts(
        directory=SqliteDirectory(database, hasher),
        accounts=directory,
        sessions=SessionRepository(database),
        throttle=ThrottleRepository(database),
        records=RecordRepository(database),
        hasher=hasher,
        keyed=keyed,
        mailer=RecordingMailer(),  # type: ignore[arg-type]
        school=school,
        password_policy=PasswordPolicy(),
        throttle_policy=ThrottlePolicy(),
        clock=clock,
    )
    return cls(ports)
