"""What every conversation shares: sending, secret-message removal, help outside a procedure."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot import texts
from bot.activation import ActivationService

logger = logging.getLogger(__name__)

SERVICES_KEY = "services"


def service(context: ContextTypes.DEFAULT_TYPE) -> ActivationService:
    """The activation service of this application (opened at start-up)."""
    return context.application.bot_data[SERVICES_KEY].activation


async def send(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send ``text`` (HTML) to the chat of ``update``."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup)


async def edit_or_send(
    update: Update, message: Message | None, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace a progress message in place; send a new one if it cannot be edited."""
    if message is not None:
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except BadRequest:
            logger.debug("progress message could not be edited; sending a new one")
    await send(update, text, markup)


async def mark_choice(query: CallbackQuery | None) -> None:
    """Once a button is pressed, its keyboard goes and the choice is written under the question
    (screen readers and later reading show what was chosen)."""
    if query is None or query.message is None or not isinstance(query.message, Message):
        return
    label = ""
    markup = query.message.reply_markup
    if markup is not None:
        for row in markup.inline_keyboard:
            for button in row:
                if button.callback_data == query.data:
                    label = button.text
    try:
        if label and query.message.text:
            await query.edit_message_text(
                texts.choice_made(query.message.text_html, label), reply_markup=None
            )
        else:
            await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest:
        logger.debug("choice could not be marked on the message")


async def remove_secret_message(update: Update) -> None:
    """Delete the user's message that holds a secret, and say so."""
    message = update.effective_message
    if message is None:
        return
    try:
        await message.delete()
    except TelegramError:
        logger.warning("a message holding a secret could not be deleted (chat %s)", message.chat_id)
        return
    await send(update, texts.SECRET_DELETED)


async def on_help_outside(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/aide when no procedure is open."""
    await send(update, texts.help_text(service(context).school))


async def on_cancel_outside(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/annuler when no procedure is open."""
    await send(update, texts.NOTHING_TO_CANCEL)


async def on_outside_flow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anything else when no procedure is open: say what the bot is for."""
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(texts.STALE_BUTTON)
        except TelegramError:
            logger.debug("callback query could not be answered")
    await send(update, texts.OUTSIDE_FLOW)


async def on_group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Commands in a group: the bot only works in private chats."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(texts.PRIVATE_ONLY)
