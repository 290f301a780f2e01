"""How outbox items leave: e-mails through the SMTP :class:`~bot.outbox.mail.Mailer`, Telegram calls
through one :class:`TelegramSender`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.outbox.mail import MailDeliveryError, Mailer, OutgoingMail
from bot.outbox.seeds import code_from_seed, token_from_seed
from bot.school import SchoolConfig
from bot.security import KeyedHasher
from bot.telegram_api.limiter import BACKGROUND
from bot.texts import mail as mail_templates
from storage.outbox import OutboxItem, OutboxKind

logger = logging.getLogger(__name__)

# Templates of outbox e-mails (the ``template`` column).
VERIFICATION = "verification"
RECOVERY = "recovery"
EMAIL_CHANGE = "email_change"
PASSWORD_CHANGED = "password_changed"
EMAIL_CHANGED = "email_changed"
DELETE_MESSAGE = "delete_message"
# Telegram messages to staff (e.g. an account just locked).
STAFF_NOTICE = "staff_notice"
# A message in a user's forum topic of the staff group (support with topics).
TOPIC_POST = "topic_post"


class TopicResolver(Protocol):
    """Finds (or creates, or reopens) a user's topic of the staff group."""

    async def thread_for(self, bot: Bot, chat_id: int, user_id: int, title: str) -> int:
        """The topic's ``message_thread_id``."""
        ...

    async def forget(self, user_id: int) -> None:
        """The topic is gone (deleted by staff): the next post creates another."""
        ...


class DeliveryError(Exception):
    """One attempt failed. ``kind`` names the cause without any secret or address;
    ``permanent`` means that retrying cannot help; ``retry_after`` is a wait asked for."""

    def __init__(
        self, kind: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(kind)
        self.kind = kind
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass
class MailSender:
    """Writes an outbox e-mail from its template and parameters, then sends it."""

    mailer: Mailer
    school: SchoolConfig
    keyed: KeyedHasher

    def render(self, item: OutboxItem) -> OutgoingMail:
        """The e-mail of ``item`` from its template (the code and the link are derived from
        its seed)."""
        params = item.params
        values: dict[str, object] = {
            "school": self.school,
            "prenom": str(params.get("prenom") or ""),
        }
        if item.kind == OutboxKind.CODE_MAIL and item.template in mail_templates.CODE_MAILS:
            if item.seed is None:
                raise DeliveryError("NoSeed", permanent=True)
            token = token_from_seed(self.keyed, item.seed)
            values["code"] = code_from_seed(self.keyed, item.seed, int(params["code_length"]))
            values["link"] = f"https://t.me/{params['bot_username']}?start={token}"
            values["hours"] = int(params["hours"])
        elif item.kind != OutboxKind.CODE_MAIL and item.template in mail_templates.NOTICES:
            values["masked_new"] = str(params.get("masked_new") or "")
        else:
            raise DeliveryError("UnknownTemplate", permanent=True)
        rendered = mail_templates.render(item.template, **values)
        return OutgoingMail(
            to=str(params["to"]), subject=rendered.subject, text=rendered.text, html=rendered.html
        )

    async def send(self, item: OutboxItem) -> None:
        """Render and send; :class:`DeliveryError` on failure."""
        mail = self.render(item)
        try:
            await self.mailer.send(mail)
        except MailDeliveryError as error:
            raise DeliveryError(error.kind) from None


class TelegramSender:
    """Every Telegram call the outbox makes goes through here (one place to give background
    traffic its priority in the rate limiter)."""

    def __init__(self, bot: Bot, topics: TopicResolver | None = None) -> None:
        self.bot = bot
        self.topics = topics
        # Background priority in the bot's limiter (slower lane than the replies), where the
        # bot has one (python-telegram-bot refuses rate_limit_args without a rate limiter).
        self._priority = BACKGROUND if isinstance(bot, ExtBot) and bot.rate_limiter else None

    def _rate_limit(self) -> dict[str, Any]:
        """The background priority, where the bot has a limiter."""
        return {} if self._priority is None else {"rate_limit_args": self._priority}

    async def delete_message(self, chat_id: int, message_id: int) -> None:
        """Delete a message; gone already counts as done; :class:`DeliveryError` otherwise."""
        try:
            await self.bot.delete_message(
                chat_id=chat_id, message_id=message_id, **self._rate_limit()
            )
        except BadRequest as error:
            if "not found" in str(error).lower():
                return
            raise DeliveryError(type(error).__name__, permanent=True) from None
        except TelegramError as error:
            raise _delivery_error(error) from None

    async def send_message(self, chat_id: int, text: str, thread_id: int | None = None) -> None:
        """Send a text (HTML) to a chat (a topic of it with ``thread_id``);
        :class:`DeliveryError` if it cannot go."""
        try:
            await self.bot.send_message(
                chat_id=chat_id, text=text, message_thread_id=thread_id, **self._rate_limit()
            )
        except (BadRequest, Forbidden) as error:  # a chat the bot cannot write to
            raise DeliveryError(type(error).__name__, permanent=True) from None
        except TelegramError as error:
            raise _delivery_error(error) from None

    async def send(self, item: OutboxItem) -> None:
        """Carry out a Telegram item."""
        chat_id = int(item.params["chat_id"])
        if item.template == DELETE_MESSAGE:
            await self.delete_message(chat_id, int(item.params["message_id"]))
        elif item.template == STAFF_NOTICE:
            await self.send_message(chat_id, str(item.params["text"]))
        elif item.template == TOPIC_POST and self.topics is not None:
            await self._post_in_topic(chat_id, item.params)
        else:
            raise DeliveryError("UnknownTemplate", permanent=True)

    async def _post_in_topic(self, chat_id: int, params: dict[str, Any]) -> None:
        """A post in the user's topic, created (once) or reopened first; a topic staff
        deleted is forgotten and created again."""
        assert self.topics is not None
        user_id, title, text = int(params["user_id"]), str(params["title"]), str(params["text"])
        for _ in range(2):
            try:
                thread = await self.topics.thread_for(self.bot, chat_id, user_id, title)
            except TelegramError as error:
                raise _delivery_error(error) from None
            try:
                await self.bot.send_message(
                    chat_id=chat_id, text=text, message_thread_id=thread, **self._rate_limit()
                )
                return
            except BadRequest as error:
                if "thread not found" not in str(error).lower():
                    raise DeliveryError(type(error).__name__, permanent=True) from None
                await self.topics.forget(user_id)
            except TelegramError as error:
                raise _delivery_error(error) from None
        raise DeliveryError("TopicMissing")


def _delivery_error(error: TelegramError) -> DeliveryError:
    """A Telegram error as an attempt's failure (a 429 says how long to wait)."""
    if isinstance(error, RetryAfter):
        wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return DeliveryError(type(error).__name__, retry_after=seconds)
    return DeliveryError(type(error).__name__)
