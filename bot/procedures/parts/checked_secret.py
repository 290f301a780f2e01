"""A secret guessed under the throttle: the attempt is reserved before the check, wrong guesses
count even while refused, and staff are told once when a guess locks an identifier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import texts
from bot.procedures.kernel import Check, Outcome, ProcedurePorts, Result
from bot.procedures.throttle import guarded_check


@dataclass
class CheckedSecret:
    """The throttle's verdict on guesses of secrets (passwords, codes, answers)."""

    ports: ProcedurePorts

    async def judge(
        self,
        key: str,
        check: Check,
        now: datetime,
        *,
        account_id: int | None,
        chat: str | None = None,
    ) -> Result:
        """OK, WRONG, THROTTLED or LOCKED for a guess of a secret bound to the throttle key
        ``key`` (:func:`bot.procedures.throttle.guarded_check`); WAIT if the tries of ``chat``
        (:func:`bot.procedures.throttle.chat_key`) are in their delay. Staff are told when this
        guess locks ``account_id``'s identifier."""
        ports = self.ports
        attempt = await guarded_check(
            ports.throttle, ports.throttle_policy, key, now, check, chat=chat
        )
        if attempt.chat_wait is not None:
            return Result(Outcome.WAIT, retry_after=attempt.chat_wait)
        if attempt.newly_locked:
            await self.tell_staff_locked(account_id)
        if attempt.accepted:
            return Result(Outcome.OK)
        if attempt.locked:
            return Result(Outcome.LOCKED)
        if attempt.retry_after is not None:
            return Result(Outcome.THROTTLED, retry_after=attempt.retry_after)
        return Result(Outcome.WRONG)

    async def tell_staff_locked(self, account_id: int | None) -> None:
        """An identifier just reached the staff-only lock: tell staff in Telegram (the
        identifier if it names an account; never what was typed)."""
        ports = self.ports
        account = await ports.directory.get(account_id) if account_id is not None else None
        text = texts.staff_account_locked(
            account.identifiant if account else None, ports.throttle_policy.failures_before_lock
        )
        await ports.outbox.tell_staff(ports.settings.staff_telegram_ids, text)
