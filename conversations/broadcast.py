"""What users do about reminders: the « Ne plus recevoir de rappels » and « Reprendre »
buttons, and who blocked the bot (``my_chat_member``) or writes to it again (any update: they
no longer block it)."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from telegram import ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.broadcast.diffusion import SEGMENTS, DiffusionService, Refused
from bot.broadcast.worker import OPT_OUT_DATA, OPT_OUT_PREFIX, RESUME_DATA
from bot.services import staff_ids_of
from bot.texts import broadcast as texts
from conversations.buttons import parse_button
from conversations.common import (
    current_session,
    on_stale_button,
    send,
    show_current_step,
    text_of,
)
from conversations.context import SERVICES_KEY, BotApp, BotContext


class PrefixButtonHandler(CallbackQueryHandler[Any, Any]):
    """A button whose data starts with ``prefix``. (PTB's pattern lets a callback query with
    empty data reach every pattern handler; this one does not take it.)"""

    def __init__(self, callback: Any, prefix: str) -> None:
        super().__init__(callback, pattern=f"^{re.escape(prefix)}")
        self.prefix = prefix

    def check_update(self, update: object) -> bool | object | None:
        """Only data that starts with the prefix."""
        if not isinstance(update, Update) or update.callback_query is None:
            return None
        if not (update.callback_query.data or "").startswith(self.prefix):
            return None
        return super().check_update(update)


# Before the CGU gate (-2) and the group commands (-1): every update counts.
SEEN_GROUP = -3


async def on_any_update(update: Update, context: BotContext) -> None:
    """A user who writes to the bot no longer blocks it."""
    if update.my_chat_member is not None:
        return  # told by on_my_chat_member
    user = update.effective_user
    if user is not None:
        await context.services.broadcast.seen(user.id)


async def on_my_chat_member(update: Update, context: BotContext) -> None:
    """The user blocked the bot (``kicked``) or started it again."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    if change.new_chat_member.status == ChatMember.BANNED:
        await context.services.broadcast.blocked_by(change.from_user.id)
    else:
        await context.services.broadcast.seen(change.from_user.id)


async def on_opt_out(update: Update, context: BotContext) -> None:
    """« Ne plus recevoir de rappels »: kept, respected by every later campaign. Handled before
    the CGU gate (saying no to reminders needs no consent) and nothing else sees it."""
    query = update.callback_query
    if query is None:
        return
    await context.services.broadcast.seen(query.from_user.id)
    await query.answer()
    if parse_button(query.data, OPT_OUT_PREFIX) is not None:
        await context.services.broadcast.opt_out(query.from_user.id)
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(reply_markup=None)
        if query.message is not None:
            await context.bot.send_message(chat_id=query.message.chat.id, text=texts.OPT_OUT_DONE)
    raise ApplicationHandlerStop


async def on_resume(update: Update, context: BotContext) -> None:
    """« Reprendre » of an automatic reminder: the step where the user stopped."""
    query = update.callback_query
    if query is None:
        return
    await context.services.broadcast.seen(query.from_user.id)
    await query.answer()
    session = await current_session(update, context)
    if session is None:
        await send(update, texts.NOTHING_TO_RESUME)
    else:
        await show_current_step(update, context, session, "")
    raise ApplicationHandlerStop


# --- /diffusion (staff) -------------------------------------------------------------------------

DIFF_PREFIX = "diff"
# Before everything: a staff member's text is a campaign's message while a draft waits for it.
DRAFT_TEXT_GROUP = -4


def diffusion(context: BotContext) -> DiffusionService:
    """The rules of /diffusion over the running bot's broadcasts."""
    services = context.services
    return DiffusionService(
        services.broadcast.repository,
        services.clock,
        email_enabled=services.broadcast.email is not None,
        quiet=services.settings.quiet_hours_window,
        rights_of=services.staff.rights_of,
    )


def _keyboard(rows: list[list[tuple[str, str]]], nonce: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=f"{DIFF_PREFIX}:{arg}:{nonce}")
                for label, arg in row
            ]
            for row in rows
        ]
    )


def _abandon_row() -> list[tuple[str, str]]:
    return [(texts.BUTTON_ABANDON, "stop")]


async def on_diffusion(update: Update, context: BotContext) -> None:
    """/diffusion: choose the segment."""
    assert update.effective_user is not None
    draft = await diffusion(context).start(update.effective_user.id)
    rows = [
        [(texts.SEGMENT_LABELS[segment.value], f"seg.{i}")] for i, segment in enumerate(SEGMENTS)
    ]
    await send(update, texts.DIFF_CHOOSE_SEGMENT, _keyboard([*rows, _abandon_row()], draft.nonce))


async def on_diffusion_text(update: Update, context: BotContext) -> None:
    """The campaign's message, typed by a staff member whose draft waits for it."""
    user = update.effective_user
    if user is None or not await diffusion(context).waiting_for_text(user.id):
        return  # not for us: the other handlers go on
    result = await diffusion(context).write(user.id, text_of(update))
    if isinstance(result, Refused):
        await send(
            update,
            texts.diff_unknown_placeholders(result.unknown) if result.unknown else texts.DIFF_EMPTY,
        )
    elif result is not None and not result.counts:
        await send(update, texts.DIFF_NOBODY)
    elif result is not None:
        rows = [
            [(texts.BUTTON_SEND, "send")],
            [(texts.BUTTON_SEND_NOW, "now")],
            _abandon_row(),
        ]
        await send(
            update,
            texts.diff_preview(result.sample, result.counts, result.quiet_until),
            _keyboard(rows, result.draft.nonce),
        )
    raise ApplicationHandlerStop


async def on_diffusion_button(update: Update, context: BotContext) -> None:
    """The buttons of /diffusion and of a campaign's progress message (staff only: anyone
    else's press is a stale button)."""
    query = update.callback_query
    assert query is not None
    if query.from_user.id not in context.services.staff.staff_user_ids():
        await on_stale_button(update, context)
        return
    await query.answer()
    data = parse_button(query.data, DIFF_PREFIX)
    if data is None:
        return
    service, user_id = diffusion(context), query.from_user.id
    repository = context.services.broadcast.repository
    number = data.number
    if data.action == "seg" and number is not None:
        draft = await service.choose_segment(user_id, data.nonce, number)
        if draft is not None and draft.step == "canal":
            rows = [
                [(texts.CANAL_LABELS[channel], f"canal.{i}")]
                for i, channel in enumerate(service.channels())
            ]
            keyboard = _keyboard([*rows, _abandon_row()], draft.nonce)
            await send(update, texts.DIFF_CHOOSE_CANAL, keyboard)
            return
        if draft is not None:
            await send(update, texts.DIFF_WRITE)
            return
    elif data.action == "canal" and number is not None:
        if await service.choose_channel(user_id, data.nonce, number) is not None:
            await send(update, texts.DIFF_WRITE)
            return
    elif data.action in ("send", "now"):
        campaign = await service.confirm(user_id, data.nonce, now=data.action == "now")
        if campaign is not None:
            stats = await repository.stats(campaign, context.services.clock())
            total = stats.recipients if stats else 0
            message = await send(
                update, texts.diff_progress(campaign, 0, total, 0, None, paused=False)
            )
            if message is not None:
                await repository.set_progress(campaign, message.chat_id, message.message_id)
            context.services.broadcast.wake()
            return
    elif data.action == "stop":
        await service.abandon(user_id)
        await send(update, texts.DIFF_ABANDONED)
        return
    elif data.action in ("pause", "resume") and number is not None:
        await repository.set_paused(number, data.action == "pause")
        context.services.broadcast.wake()
        return
    elif data.action == "cancel" and number is not None:
        await repository.cancel(number, context.services.clock())
        return
    await send(update, texts.DIFF_STALE)


def add_broadcast_handlers(application: BotApp) -> None:
    """The handlers above, in one group before all others. In a group only the first matching
    handler runs: ``my_chat_member``, the reminders' buttons, then every other update."""
    application.add_handler(
        ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER), group=SEEN_GROUP
    )
    application.add_handler(PrefixButtonHandler(on_opt_out, OPT_OUT_DATA), group=SEEN_GROUP)
    application.add_handler(PrefixButtonHandler(on_resume, RESUME_DATA), group=SEEN_GROUP)
    application.add_handler(TypeHandler(Update, on_any_update), group=SEEN_GROUP)
    staff = filters.User(staff_ids_of(application.bot_data[SERVICES_KEY].settings))
    application.add_handler(
        MessageHandler(
            staff & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, on_diffusion_text
        ),
        group=DRAFT_TEXT_GROUP,
    )
    application.add_handler(
        CommandHandler("diffusion", on_diffusion, filters=staff & filters.ChatType.PRIVATE)
    )
    application.add_handler(PrefixButtonHandler(on_diffusion_button, f"{DIFF_PREFIX}:"))
