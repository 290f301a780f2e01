"""What a user can see and do about their linked accounts, and the CGU they accepted.

Plain service functions over the repositories (no Telegram in here).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.activation import ActivationService
from storage.accounts import Account


@dataclass
class AccountService:
    """« Mon compte » and re-acceptance of changed CGU, over the activation's repositories."""

    base: ActivationService

    async def linked_accounts(self, telegram_user_id: int) -> list[Account]:
        """Active accounts linked to this Telegram user."""
        return await self.base.directory.linked_to(telegram_user_id)

    async def outdated_cgu(self, telegram_user_id: int) -> list[Account]:
        """Linked accounts whose accepted CGU are not the current text."""
        current = self.base.school.cgu_version
        return [
            account
            for account in await self.linked_accounts(telegram_user_id)
            if account.cgu_version != current
        ]

    async def accept_current_cgu(self, telegram_user_id: int, version_prefix: str) -> bool:
        """Accept the current CGU for every linked account; False if the text changed since
        the user was shown it (``version_prefix`` from the button)."""
        current = self.base.school.cgu_version
        if not current.startswith(version_prefix):
            return False
        now = self.base.clock()
        for account in await self.outdated_cgu(telegram_user_id):
            await self.base.accounts.accept_cgu(account.id, current, telegram_user_id, now)
        return True

    async def unlink(self, telegram_user_id: int) -> int:
        """Forget the link between this Telegram user and their accounts."""
        return await self.base.accounts.unlink(telegram_user_id, self.base.clock())

    async def linked_account(self, telegram_user_id: int, account_id: int) -> Account | None:
        """The account of a button, if it is linked to this user (the data is never trusted)."""
        for account in await self.linked_accounts(telegram_user_id):
            if account.id == account_id:
                return account
        return None

    async def unlink_account(self, telegram_user_id: int, account_id: int) -> bool:
        """Unlink one account from this Telegram user; a change to it in progress ends."""
        done = await self.base.accounts.unlink_account(
            account_id, telegram_user_id, self.base.clock()
        )
        session = await self.base.sessions.get(telegram_user_id)
        if done and session is not None and session.account_id == account_id:
            await self.base.sessions.delete(telegram_user_id)
        return done

    async def delete_my_data(self, telegram_user_id: int) -> None:
        """Remove what the bot keeps about this Telegram user: links, open procedure, tries."""
        await self.unlink(telegram_user_id)
        await self.base.sessions.delete(telegram_user_id)
        await self.base.throttle.forget_user(telegram_user_id)
        await self.base.records.audit(
            "data_deleted", None, f"telegram:{telegram_user_id}", self.base.clock()
        )
