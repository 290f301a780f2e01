"""What a user can see and do about their linked accounts, and the CGU they accepted.

Plain service functions over the repositories (no Telegram in here).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.procedures.kernel import ProcedurePorts
from bot.school import SchoolConfig
from storage.accounts import Account
from storage.menus import MenuPrompt, MenuRepository


@dataclass
class AccountService:
    """« Mon compte » and re-acceptance of changed CGU, over the procedures' ports."""

    ports: ProcedurePorts
    menus: MenuRepository

    async def linked_accounts(self, telegram_user_id: int) -> list[Account]:
        """Active accounts linked to this Telegram user."""
        return await self.ports.directory.linked_to(telegram_user_id)

    async def outdated_cgu(self, telegram_user_id: int) -> list[Account]:
        """Linked accounts whose accepted CGU are not the current text of their establishment
        (each account's own: a parent's children may be in two establishments)."""
        return [
            account
            for account in await self.linked_accounts(telegram_user_id)
            if account.cgu_version != self.ports.school_for(account).cgu_version
        ]

    async def cgu_to_accept(self, telegram_user_id: int) -> SchoolConfig | None:
        """The CGU to show next: those of the first linked account whose accepted CGU are
        outdated (one establishment's text at a time); None if all are current."""
        outdated = await self.outdated_cgu(telegram_user_id)
        return self.ports.school_for(outdated[0]) if outdated else None

    async def show_menu(self, telegram_user_id: int, *, cgu: SchoolConfig | None = None) -> str:
        """The nonce of a menu about to be shown (the previous menu's buttons go stale); for
        the changed CGU (``cgu``: the establishment's text shown), the exact version shown is
        kept with it."""
        version = cgu.cgu_version if cgu is not None else None
        return await self.menus.show(telegram_user_id, self.ports.clock(), cgu_version=version)

    async def menu(self, telegram_user_id: int, nonce: str) -> MenuPrompt | None:
        """The menu a button belongs to, if it is the last one shown to this user."""
        return await self.menus.current(telegram_user_id, nonce)

    async def accept_current_cgu(self, telegram_user_id: int, shown_version: str | None) -> bool:
        """Accept the CGU shown for every linked account whose current text they are; False if
        the text shown to the user (``shown_version``, kept with the menu) is no account's
        current one."""
        concerned = [
            account
            for account in await self.linked_accounts(telegram_user_id)
            if self.ports.school_for(account).cgu_version == shown_version
        ]
        if shown_version is None or not concerned:
            return False
        now = self.ports.clock()
        for account in concerned:
            if account.cgu_version != shown_version:
                await self.ports.accounts.accept_cgu(
                    account.id, shown_version, telegram_user_id, now
                )
        return True

    async def unlink(self, telegram_user_id: int) -> int:
        """Forget the link between this Telegram user and their accounts."""
        return await self.ports.accounts.unlink(telegram_user_id, self.ports.clock())

    async def linked_account(self, telegram_user_id: int, account_id: int) -> Account | None:
        """The account of a button, if it is linked to this user (the data is never trusted)."""
        for account in await self.linked_accounts(telegram_user_id):
            if account.id == account_id:
                return account
        return None

    async def unlink_account(self, telegram_user_id: int, account_id: int) -> bool:
        """Unlink one account from this Telegram user; a change to it in progress ends."""
        done = await self.ports.accounts.unlink_account(
            account_id, telegram_user_id, self.ports.clock()
        )
        session = await self.ports.sessions.get(telegram_user_id)
        if done and session is not None and session.account_id == account_id:
            await self.ports.sessions.delete(telegram_user_id)
        return done

    async def delete_my_data(self, telegram_user_id: int) -> None:
        """Remove what the bot keeps about this Telegram user: links, open procedure, menus.
        The throttle's records (identifiers tried, failures) are security records: they stay
        for their time (24 hours), or the cap on identifiers could be reset at will."""
        await self.unlink(telegram_user_id)
        await self.ports.sessions.delete(telegram_user_id)
        await self.menus.forget(telegram_user_id)
        await self.ports.records.audit(
            "data_deleted", None, f"telegram:{telegram_user_id}", self.ports.clock()
        )
