"""Staff commands in Telegram: ``/stats`` (the activation funnel, text and chart, and the
support figures) and
``/compte ID`` (an account, as ``run_bot.py accounts show``).

Only the Telegram ids of ``STAFF_TELEGRAM_IDS`` reach these handlers (a ``filters.User``):
anyone else's ``/stats`` falls through to the usual handlers and gets the usual answer to an
unknown command, with no hint that staff commands exist. Not in the public commands menu.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.staff import report as report_layout
from bot.staff.chart import funnel_chart_png
from bot.staff.service import StaffService
from bot.support.figures import support_figures
from bot.texts import staff as staff_texts
from conversations.common import send
from conversations.context import BotContext


def staff_service(context: BotContext) -> StaffService:
    """The staff service of the running bot."""
    return context.services.staff


async def on_stats(update: Update, context: BotContext) -> None:
    """/stats: the funnel as text, then as a chart."""
    user = update.effective_user
    assert user is not None
    rights = staff_service(context).rights_of(user.id)
    funnel = await staff_service(context).funnel(acting_as=rights)
    await send(update, report_layout.funnel_html(funnel))
    services = context.services
    # The tickets of the staff member's establishments only (none without rights).
    figures = await support_figures(
        services.support.repository,
        services.school.horaires,
        services.clock(),
        scope=rights.scope if rights is not None else frozenset(),
    )
    await send(
        update,
        staff_texts.staff_support_html(
            figures.open_tickets,
            figures.median_first_response,
            figures.answered,
            figures.window.days,
            figures.opening_hours,
        ),
    )
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_action(ChatAction.UPLOAD_PHOTO)
    png = await asyncio.to_thread(funnel_chart_png, funnel)
    await chat.send_photo(png, caption=staff_texts.STAFF_CHART_CAPTION)


async def on_compte(update: Update, context: BotContext) -> None:
    """/compte ID: what ``accounts show ID`` prints."""
    if not context.args:
        await send(update, staff_texts.STAFF_COMPTE_USAGE)
        return
    identifiant = context.args[0]
    user = update.effective_user
    assert user is not None
    rights = staff_service(context).rights_of(user.id)
    report = await staff_service(context).report(identifiant, acting_as=rights)
    if report is None:
        await send(update, staff_texts.staff_unknown_account_html(identifiant))
        return
    await send(update, report_layout.account_html(report))


def staff_handlers(staff_ids: Iterable[int]) -> list[BaseHandler[Update, BotContext, None]]:
    """The staff commands, for these Telegram user ids only, in private chats."""
    allowed = filters.User(user_id=list(staff_ids)) & filters.ChatType.PRIVATE
    return [
        CommandHandler("stats", on_stats, filters=allowed),
        CommandHandler("compte", on_compte, filters=allowed),
    ]
