"""What users do about reminders: the « Ne plus recevoir de rappels » and « Reprendre »
buttons, and who blocked the bot (``my_chat_member``) or writes to it again (any update: they
no longer block it)."""

from __future__ import annotations

import contextlib

from telegram import ChatMember, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChatMemberHandler,
    TypeHandler,
)

from bot.broadcast.worker import OPT_OUT_DATA, OPT_OUT_PREFIX, RESUME_DATA
from bot.texts import broadcast as texts
from conversations.buttons import parse_button
from conversations.common import current_session, send, show_current_step
from conversations.context import BotContext

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


def add_broadcast_handlers(application: Application) -> None:
    """The handlers above, in one group before all others. In a group only the first matching
    handler runs: ``my_chat_member``, the reminders' buttons, then every other update."""
    application.add_handler(
        ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER), group=SEEN_GROUP
    )
    application.add_handler(
        CallbackQueryHandler(on_opt_out, pattern=f"^{OPT_OUT_DATA}"), group=SEEN_GROUP
    )
    application.add_handler(
        CallbackQueryHandler(on_resume, pattern=f"^{RESUME_DATA}$"), group=SEEN_GROUP
    )
    application.add_handler(TypeHandler(Update, on_any_update), group=SEEN_GROUP)
