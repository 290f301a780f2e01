"""The directory port: the accounts the bot activates and their passwords.

Secrets cross this port in clear, never as hashes: the directory decides how to check and keep
them (the SQLite directory hashes with argon2id; an LDAP directory binds and lets the server
hash). What only the bot knows — the Telegram link, sessions, secret answers' hashes, CGU
acceptance, audit trail, throttle — stays in SQLite whatever the directory
(:class:`storage.accounts.SqliteAccountDirectory`, :mod:`storage.throttle`, …).

Callers never hold the SQLite write lock (:meth:`storage.db.Database.transaction`) while they
call a directory: a remote directory may be slow, and the SQLite one takes the lock itself.
An account is named by its id in the bot's database (the LDAP directory maps it to a DN).

Any method may raise :class:`DirectoryUnavailable`; :meth:`Directory.activate` and
:meth:`Directory.set_password` may raise :class:`PasswordRejected`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol

from storage.accounts import Account, ActivationRecord
from storage.staff import ExportAccount, Scope, StaffAccount


class DirectoryUnavailable(Exception):
    """The directory cannot be reached or did not answer in time (nothing was checked nor
    written): the user is asked to try again in a few minutes, no attempt is counted."""


class DirectoryRule(StrEnum):
    """Why the directory's own password policy refused a new password (ppolicy error codes)."""

    TOO_SHORT = "too_short"
    QUALITY = "quality"
    IN_HISTORY = "in_history"
    TOO_YOUNG = "too_young"
    OTHER = "other"


class PasswordRejected(Exception):
    """The directory refused the new password under its own policy (nothing changed): the user
    chooses another."""

    def __init__(self, rule: DirectoryRule) -> None:
        super().__init__(rule.value)
        self.rule = rule


class Directory(Protocol):
    """Read accounts, check and set their passwords, write their recovery address and status."""

    # --- reading -------------------------------------------------------------------------

    async def find(self, identifiant: str) -> Account | None:
        """The account of this identifier as typed (compared without case or surrounding
        spaces), if any."""
        ...

    async def get(self, account_id: int) -> Account | None:
        """The account with this id, if any."""
        ...

    async def linked_to(self, telegram_user_id: int) -> list[Account]:
        """Active accounts linked to this Telegram user."""
        ...

    async def staff_find(self, identifiant_norm: str, scope: Scope = None) -> StaffAccount | None:
        """The account of this normalised identifier as staff see it, if any (and of one of
        ``scope``'s establishments: another's is unknown)."""
        ...

    async def staff_export(self, scope: Scope = None) -> list[ExportAccount]:
        """Every account (of ``scope``) for the staff export, by identifier (plain tuples:
        see :data:`storage.staff.ExportAccount`)."""
        ...

    async def staff_to_activate(
        self, profil: str | None = None, etablissement: str | None = None, scope: Scope = None
    ) -> list[StaffAccount]:
        """Accounts (of ``scope``) still to activate, optionally of one profile and one
        establishment."""
        ...

    # --- checking secrets ----------------------------------------------------------------

    async def check_provisional(self, account_id: int | None, password: str) -> bool:
        """Whether ``password`` is the provisional password of this account, still to
        activate. With no account (unknown identifier), or one that is not to activate, the
        same work is done and the answer is False: no enumeration by timing."""
        ...

    async def check_password(self, account_id: int | None, password: str) -> bool:
        """Whether ``password`` is the current password of this active account (same work and
        False for no account or an account that is not active)."""
        ...

    # --- writing -------------------------------------------------------------------------

    async def activate(self, account_id: int, password: str, record: ActivationRecord) -> bool:
        """Set the account's own password, its status (active) and its verified recovery
        address, if it is still to activate; False if somebody else activated it first."""
        ...

    async def set_password(self, account_id: int, password: str, actor: str, now: datetime) -> bool:
        """Replace the password of an active account (recovery); False if it is not active."""
        ...

    async def replace_email(
        self, account_id: int, telegram_user_id: int, email: str, now: datetime, details: str
    ) -> bool:
        """Write the verified recovery address of an active account linked to this Telegram
        user (audited ``email_verified``); False if it is not linked to them any more."""
        ...
