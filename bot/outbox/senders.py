"""How outbox items leave: e-mails through the SMTP :class:`~bot.outbox.mail.Mailer`, Telegram calls
through one :class:`TelegramSender`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.outbox.delivery import DeliveryError as DeliveryError
from bot.outbox.mail import MailDeliveryError, Mailer, OutgoingMail
from bot.outbox.seeds import code_from_seed, token_from_seed
from bot.outbox.templates import (
    DELETE_MESSAGE,
    MAIL_UAI,
    RELAY_COPY,
    RELAY_DELETE,
    RELAY_EDIT,
    STAFF_NOTICE,
    TOPIC_POST,
)
from bot.region import Region
from bot.school import SchoolConfig
from bot.security import KeyedHasher
from bot.telegram_api.limiter import BACKGROUND, InFlightMark, leaving_once, outcome_unknown
from bot.texts import mail as mail_templates
from bot.texts import support as support_texts
from storage.outbox import UNCERTAIN as UNCERTAIN
from storage.outbox import OutboxItem, OutboxKind

logger = logging.getLogger(__name__)

R = TypeVar("R")


class TopicResolver(Protocol):
    """Finds (or creates, or reopens) a user's topic of the staff group, and keeps the ids of
    the copies the outbox sent (so that an edit reaches the copy)."""

    async def open_topic(
        self, bot: Bot, chat_id: int, user_id: int, title: str, *, rename: bool = True
    ) -> tuple[int | None, bool]:
        """(the topic's ``message_thread_id``, whether it was created just now); None for the
        thread when a creation was cut short (a topic may exist: none is created again).
        ``rename=False``: an existing topic keeps its title."""
        ...

    async def forget(self, user_id: int) -> None:
        """The topic is gone (deleted by staff): the next post creates another."""
        ...

    async def copied(self, relay_id: int, chat_id: int, message_id: int) -> None:
        """The copy of relay ``relay_id`` is message ``message_id`` of ``chat_id``."""
        ...

    async def copy_of(self, relay_id: int) -> tuple[int | None, int | None] | None:
        """(chat id, message id) of the relay's copy, (None, None) while it is not sent yet;
        None if the relay is unknown (purged)."""
        ...

    async def posted_before(self, relay_id: int, message_id: int) -> None:
        """The post before the relay's copy (a new ticket's card) is sent."""
        ...

    async def before_posted(self, relay_id: int) -> bool:
        """Whether an earlier attempt sent the post before the relay's copy."""
        ...


@dataclass
class MailSender:
    """Writes an outbox e-mail from its template and parameters, then sends it."""

    mailer: Mailer
    school: SchoolConfig
    keyed: KeyedHasher
    # The establishments (issue 27): an e-mail naming one (``MAIL_UAI``) is in its words.
    region: Region | None = None

    def school_of(self, params: dict[str, Any]) -> SchoolConfig:
        """The school whose words an e-mail uses: its establishment's, else the region's."""
        uai = params.get(MAIL_UAI)
        found = (
            self.region.by_uai(uai) if self.region is not None and isinstance(uai, str) else None
        )
        return found.school if found is not None else self.school

    def render(self, item: OutboxItem) -> OutgoingMail:
        """The e-mail of ``item`` from its template (the code and the link are derived from
        its seed)."""
        params = item.params
        values: dict[str, object] = {
            "school": self.school_of(params),
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
        elif item.kind != OutboxKind.CODE_MAIL and item.template in mail_templates.ANSWERS:
            values.update(params.get("values") or {})
        else:
            raise DeliveryError("UnknownTemplate", permanent=True)
        rendered = mail_templates.render(item.template, **values)
        return OutgoingMail(
            to=str(params["to"]),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            in_reply_to=params.get("in_reply_to"),
            references=params.get("references"),
            auto_replied=item.template in mail_templates.ANSWERS,
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
    traffic its priority in the rate limiter).

    A call that creates a message and that a retry of the item would make again (a post, a
    copy) carries the item's ``mark`` (:class:`~bot.telegram_api.limiter.InFlightMark`): the
    row is marked in flight when the request leaves — in the limiter, after its queue — and
    cleared when an answer proves nothing was done; the worker never tries again an item left
    marked. A topic's creation and its first card are not marked: a retry never makes them
    again (the topic is found, or its intent is)."""

    def __init__(self, bot: Bot, topics: TopicResolver | None = None) -> None:
        self.bot = bot
        self.topics = topics
        # Background priority in the bot's limiter (slower lane than the replies), where the
        # bot has one (python-telegram-bot refuses rate_limit_args without a rate limiter).
        self._priority = BACKGROUND if isinstance(bot, ExtBot) and bot.rate_limiter else None

    def _rate_limit(self) -> dict[str, Any]:
        """The background priority, where the bot has a limiter."""
        return {} if self._priority is None else {"rate_limit_args": self._priority}

    async def _creating(
        self, mark: InFlightMark | None, method: Callable[..., Awaitable[R]], **kwargs: Any
    ) -> R:
        """``method(**kwargs)``, a call that creates a message, with ``mark`` told when its
        request leaves (by the limiter, after its queue; here when the bot has none)."""
        if self._priority is None:
            return await leaving_once(mark, lambda: method(**kwargs))
        args = self._priority if mark is None else {**self._priority, "mark": mark}
        return await method(**kwargs, rate_limit_args=args)

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

    async def send_message(
        self,
        chat_id: int,
        text: str,
        thread_id: int | None = None,
        mark: InFlightMark | None = None,
    ) -> int | None:
        """Send a text (HTML) to a chat (a topic of it with ``thread_id``); its message id.
        :class:`DeliveryError` if it cannot go, permanent if it may have gone (never twice)."""
        try:
            sent = await self._creating(
                mark, self.bot.send_message, chat_id=chat_id, text=text, message_thread_id=thread_id
            )
        except (BadRequest, Forbidden) as error:  # a chat the bot cannot write to
            raise DeliveryError(type(error).__name__, permanent=True) from None
        except TelegramError as error:
            raise _delivery_error(error, creates=True) from None
        return sent.message_id

    async def _post_before(
        self,
        chat_id: int,
        text: str,
        thread_id: int | None,
        params: dict[str, Any],
        mark: InFlightMark | None,
    ) -> None:
        """The post before a copy (a new ticket's card), once: one that may have gone (its
        outcome unknown) counts as posted, so that the copy itself still leaves. Once that is
        recorded, a retry would not post it again: the item's mark is cleared for the copy."""
        try:
            sent = await self.send_message(chat_id, text, thread_id, mark)
        except DeliveryError as error:
            if not error.kind.startswith(UNCERTAIN):
                raise
            sent = 0  # its id is unknown; never posted again
        await self._posted_before(params, sent)
        if mark is not None and params.get("relay_id") is not None:
            await mark.clear()

    async def send(self, item: OutboxItem, mark: InFlightMark | None = None) -> None:
        """Carry out a Telegram item; ``mark`` notes when a request that must not be repeated
        leaves (see the class)."""
        params = item.params
        if item.template == RELAY_EDIT and self.topics is not None:
            await self._mirror_edit(params)
            return
        if item.template == RELAY_DELETE and self.topics is not None:
            await self._delete_copy(params)
            return
        chat_id = int(params["chat_id"])
        if item.template == DELETE_MESSAGE:
            await self.delete_message(chat_id, int(params["message_id"]))
        elif item.template == STAFF_NOTICE:
            sent = await self.send_message(chat_id, str(params["text"]), mark=mark)
            await self._record(params, chat_id, sent)
        elif item.template == RELAY_COPY and self.topics is not None:
            if params.get("text") and not await self._before_posted(params):
                # A post before the copy (a new ticket's context card), once.
                await self._post_before(chat_id, str(params["text"]), None, params, mark)
            try:
                sent = await self._copy(chat_id, params["copy"], None, mark)
            except (BadRequest, Forbidden) as error:  # gone, or a chat the bot cannot write to
                raise DeliveryError(type(error).__name__, permanent=True) from None
            except TelegramError as error:
                raise _delivery_error(error, creates=True) from None
            await self._record(params, chat_id, sent)
        elif item.template == TOPIC_POST and self.topics is not None:
            await self._post_in_topic(chat_id, params, mark)
        else:
            raise DeliveryError("UnknownTemplate", permanent=True)

    async def _before_posted(self, params: dict[str, Any]) -> bool:
        relay_id = params.get("relay_id")
        return (
            self.topics is not None
            and relay_id is not None
            and await self.topics.before_posted(int(relay_id))
        )

    async def _posted_before(self, params: dict[str, Any], message_id: int | None) -> None:
        relay_id = params.get("relay_id")
        if self.topics is not None and relay_id is not None and message_id is not None:
            await self.topics.posted_before(int(relay_id), message_id)

    async def _record(self, params: dict[str, Any], chat_id: int, message_id: int | None) -> None:
        """Keep the id of a relay's copy (for its edits)."""
        relay_id = params.get("relay_id")
        if self.topics is not None and relay_id is not None and message_id is not None:
            await self.topics.copied(int(relay_id), chat_id, message_id)

    async def _copy(
        self,
        chat_id: int,
        copy: dict[str, Any],
        thread_id: int | None,
        mark: InFlightMark | None,
    ) -> int:
        """copyMessage with our caption (the original's own caption is replaced: Telegram keeps
        it only when no caption is given); raises :class:`BadRequest` and other Telegram errors
        as they come (the caller decides)."""
        sent = await self._creating(
            mark,
            self.bot.copy_message,
            chat_id=chat_id,
            from_chat_id=int(copy["from_chat_id"]),
            message_id=int(copy["message_id"]),
            message_thread_id=thread_id,
            caption=str(copy.get("caption") or ""),
        )
        return sent.message_id

    async def _post_in_topic(
        self, chat_id: int, params: dict[str, Any], mark: InFlightMark | None
    ) -> None:
        """A post in the user's topic, created (once) or reopened first; a topic staff
        deleted is forgotten and created again, its first post a fresh context card. A post
        is a text, a copy (photo, document), or both (a new ticket's card, then the copy)."""
        assert self.topics is not None
        user_id, title = int(params["user_id"]), str(params["title"])
        text = str(params.get("text") or "")
        copy: dict[str, Any] | None = params.get("copy")
        card = str(params.get("card") or "")
        for _ in range(2):
            try:
                thread, created = await self.topics.open_topic(
                    self.bot, chat_id, user_id, title, rename=not params.get("keep_title")
                )
            except TelegramError as error:
                raise _delivery_error(error) from None
            try:
                if thread is None:  # a creation was cut short: in General, never a 2nd topic
                    text = (text or card) + "\n\n" + support_texts.STAFF_TOPIC_UNCERTAIN
                elif created and card and not params.get("with_card"):
                    await self._card(chat_id, card, thread)
                sent: int | None = None
                if text and copy is None:
                    message = await self._creating(
                        mark,
                        self.bot.send_message,
                        chat_id=chat_id,
                        text=text,
                        message_thread_id=thread,
                    )
                    sent = message.message_id
                elif text and not await self._before_posted(params):
                    # A card before the copy: not sent again on a retry.
                    await self._post_before(chat_id, text, thread, params, mark)
                if copy is not None:
                    sent = await self._copy(chat_id, copy, thread, mark)
                await self._record(params, chat_id, sent)
                return
            except BadRequest as error:
                if "thread not found" not in str(error).lower():
                    raise DeliveryError(type(error).__name__, permanent=True) from None
                await self.topics.forget(user_id)
            except TelegramError as error:
                raise _delivery_error(error, creates=True) from None
        raise DeliveryError("TopicMissing")

    async def _card(self, chat_id: int, card: str, thread: int) -> None:
        """A new topic's context card; one whose outcome is unknown is not sent again, and the
        post goes on (a « thread not found » is raised as it comes)."""
        try:
            await self.bot.send_message(
                chat_id=chat_id, text=card, message_thread_id=thread, **self._rate_limit()
            )
        except BadRequest:
            raise
        except TelegramError as error:
            if not outcome_unknown(error):
                raise

    async def _copy_ref(self, params: dict[str, Any]) -> tuple[int, int]:
        """The copy of the item's relay; retried while the copy is not sent yet."""
        assert self.topics is not None
        found = await self.topics.copy_of(int(params["relay_id"]))
        if found is None:
            raise DeliveryError("UnknownRelay", permanent=True)
        chat_id, message_id = found
        if chat_id is None or message_id is None:
            raise DeliveryError("CopyNotSentYet")
        return chat_id, message_id

    async def _mirror_edit(self, params: dict[str, Any]) -> None:
        """editMessageText (a text) or editMessageCaption (a photo, a document) on the copy."""
        chat_id, message_id = await self._copy_ref(params)
        text = str(params["text"])
        try:
            if params.get("media"):
                await self.bot.edit_message_caption(
                    chat_id=chat_id, message_id=message_id, caption=text, **self._rate_limit()
                )
            else:
                await self.bot.edit_message_text(
                    text=text, chat_id=chat_id, message_id=message_id, **self._rate_limit()
                )
        except BadRequest as error:
            reason = str(error).lower()
            if "not modified" in reason or "not found" in reason:
                return  # the same already, or the copy is gone
            raise DeliveryError(type(error).__name__, permanent=True) from None
        except TelegramError as error:
            raise _delivery_error(error) from None

    async def _delete_copy(self, params: dict[str, Any]) -> None:
        chat_id, message_id = await self._copy_ref(params)
        await self.delete_message(chat_id, message_id)


def _delivery_error(error: TelegramError, *, creates: bool = False) -> DeliveryError:
    """A Telegram error as an attempt's failure (a 429 says how long to wait). A call that
    ``creates`` a message whose outcome is unknown (a timeout: Telegram may have delivered it)
    is given up as « incertain », never sent again (as the broadcasts' rows)."""
    if creates and outcome_unknown(error):
        return DeliveryError(UNCERTAIN + type(error).__name__, permanent=True)
    if isinstance(error, RetryAfter):
        wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return DeliveryError(type(error).__name__, retry_after=seconds)
    return DeliveryError(type(error).__name__)
