"""The built-in directory: accounts and argon2id password hashes in the bot's SQLite file.

Hashing runs in :class:`bot.security.SecretHasher`'s thread pool, always before a write
transaction opens, never inside one. A successful check upgrades a hash made with other argon2
parameters (argon2-cffi's ``check_needs_rehash``).
"""

from __future__ import annotations

from datetime import datetime

from bot.security import SecretHasher, normalise_identifiant
from storage.accounts import (
    Account,
    AccountStatus,
    ActivationRecord,
    PasswordColumn,
    SqliteAccountDirectory,
)
from storage.db import Database
from storage.staff import ExportAccount, Scope, StaffAccount, StaffRepository


class SqliteDirectory:
    """:class:`bot.directory.port.Directory` over the ``accounts`` table."""

    def __init__(self, database: Database, hasher: SecretHasher) -> None:
        self.store = SqliteAccountDirectory(database)
        self.staff = StaffRepository(database)
        self.hasher = hasher

    # --- reading -------------------------------------------------------------------------

    async def find(self, identifiant: str) -> Account | None:
        """The account of this identifier as typed, if any."""
        return await self.store.find(normalise_identifiant(identifiant))

    async def get(self, account_id: int) -> Account | None:
        """The account with this id, if any."""
        return await self.store.get(account_id)

    async def linked_to(self, telegram_user_id: int) -> list[Account]:
        """Active accounts linked to this Telegram user."""
        return await self.store.linked_to(telegram_user_id)

    async def staff_find(self, identifiant_norm: str, scope: Scope = None) -> StaffAccount | None:
        """The account of this normalised identifier as staff see it, if any (in ``scope``)."""
        return await self.staff.find(identifiant_norm, scope)

    async def staff_export(self, scope: Scope = None) -> list[ExportAccount]:
        """Every account (of ``scope``) for the staff export, by identifier."""
        return await self.staff.export_accounts(scope)

    async def staff_to_activate(
        self, profil: str | None = None, etablissement: str | None = None, scope: Scope = None
    ) -> list[StaffAccount]:
        """Accounts (of ``scope``) still to activate, optionally of one profile and one
        establishment."""
        return await self.staff.to_activate(profil, etablissement, scope)

    # --- checking secrets ----------------------------------------------------------------

    async def check_provisional(self, account_id: int | None, password: str) -> bool:
        """Whether ``password`` is the provisional password of this account to activate
        (a dummy verify when there is none)."""
        return await self._check(
            account_id, password, AccountStatus.TO_ACTIVATE, "provisional_password_hash"
        )

    async def check_password(self, account_id: int | None, password: str) -> bool:
        """Whether ``password`` is the current password of this active account (a dummy
        verify when there is none)."""
        return await self._check(account_id, password, AccountStatus.ACTIVE, "password_hash")

    async def _check(
        self,
        account_id: int | None,
        password: str,
        status: AccountStatus,
        column: PasswordColumn,
    ) -> bool:
        # The same query and the same argon2 work whether the account exists or not.
        stored = await self.store.password_hashes(-1 if account_id is None else account_id)
        hashed = None
        if stored is not None and stored.status == status:
            hashed = (
                stored.provisional_password_hash
                if column == "provisional_password_hash"
                else stored.password_hash
            )
        if not await self.hasher.verify(hashed, password):
            return False
        if account_id is not None and hashed is not None and self.hasher.needs_rehash(hashed):
            upgraded = await self.hasher.hash(password)
            await self.store.upgrade_hash(account_id, column, hashed, upgraded)
        return True

    # --- writing -------------------------------------------------------------------------

    async def activate(self, account_id: int, password: str, record: ActivationRecord) -> bool:
        """Hash the password, then activate in one transaction (exactly one chat wins)."""
        hashed = await self.hasher.hash(password)
        return await self.store.complete_activation(account_id, record, hashed)

    async def set_password(self, account_id: int, password: str, actor: str, now: datetime) -> bool:
        """Hash the password, then replace it if the account is active (audited)."""
        hashed = await self.hasher.hash(password)
        return await self.store.set_password(account_id, hashed, actor, now)

    async def replace_email(
        self, account_id: int, telegram_user_id: int, email: str, now: datetime, details: str
    ) -> bool:
        """Write the verified recovery address (see the port)."""
        return await self.store.replace_email(account_id, telegram_user_id, email, now, details)
