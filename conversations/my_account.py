"""« Mon compte » changes in Telegram (buttons of /moncompte): its own parts only.

Its steps are read by the handlers every procedure shares (:mod:`conversations.steps`), from
its description (:data:`bot.procedures.my_account.DESCRIPTION`); the rules live in
:class:`bot.procedures.my_account.MyAccountService`. Here: the /moncompte buttons that open a
change, the new address with its progress message, and its e-mail's link.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot import texts
from bot.outbox.mail import mask_email
from bot.procedures.description import Description
from bot.procedures.kernel import Outcome, Result
from bot.procedures.my_account import (
    DESCRIPTION,
    Change,
    MyAccountService,
    MyAccountStep,
    code_choices,
    email_sent_text,
    prompt,
)
from conversations.buttons import button_data, parse_button
from conversations.common import (
    END,
    State,
    button_handler,
    edit_or_send,
    mark_choice,
    markup_of,
    on_email_button,
    refuse_typed,
    render_link_failure,
    reprompt,
    send,
    show_prompts,
    stuck_markup,
    text_of,
    with_session,
)
from conversations.context import BotContext
from conversations.router import Procedure
from conversations.steps import telegram_procedure
from storage.sessions import ConversationSession


def my_account_service(context: BotContext) -> MyAccountService:
    """The « Mon compte » changes service of this application."""
    return context.services.my_account


def change_button_data(change: Change, account_id: int, nonce: str) -> str:
    """Callback data of the /moncompte buttons that start a change (``mc:email.42:<nonce>``,
    the nonce of the menu shown; checked on arrival)."""
    return button_data("mc", change.value, nonce, account_id)


def _code_keyboard(nonce: str) -> InlineKeyboardMarkup | None:
    return markup_of(code_choices(), nonce)


async def show_step(
    update: Update, svc: MyAccountService, session: ConversationSession, intro: str = ""
) -> State:
    """Send the prompt of the session's step and return the step."""
    return await show_prompts(update, prompt(svc, session), session, intro)


async def _not_linked(update: Update) -> State:
    await send(update, texts.ACCOUNT_NOT_LINKED)
    return END


# --- entry: a button of /moncompte ----------------------------------------------------------


async def on_change_button(update: Update, context: BotContext) -> State | None:
    """« Changer d'adresse e-mail » / « Changer mes questions secrètes » for one account; the
    account in the data must be linked to this user, or nothing starts."""
    svc = my_account_service(context)
    query = update.callback_query
    user, chat = update.effective_user, update.effective_chat
    assert query is not None and user is not None and chat is not None
    data = parse_button(query.data, "mc")
    menus = context.services.account
    menu = await menus.menu(user.id, data.nonce) if data else None
    if data is None or menu is None or menu.cgu_version is not None:
        await query.answer(texts.STALE_BUTTON)
        await send(update, texts.MENU_STALE)
        return None
    changes = {change.value: change for change in Change}
    session = None
    if data.action in changes and data.number is not None:
        session = await svc.start_change(user.id, chat.id, data.number, changes[data.action])
    if session is None:
        await query.answer(texts.STALE_BUTTON)
        await send(update, texts.ACCOUNT_NOT_LINKED)
        return None
    await query.answer()
    await mark_choice(query)
    return await show_step(update, svc, session)


async def render_link(update: Update, context: BotContext, result: Result) -> State | None:
    """The e-mail's link (``/start <token>``) was this procedure's: say what it did; None if
    there is nothing of this procedure to say (the caller answers)."""
    svc = my_account_service(context)
    if result.outcome == Outcome.CHANGED and result.email:
        await send(update, texts.my_email_changed(mask_email(result.email)))
        return END
    if result.outcome == Outcome.REFUSED:
        return await _not_linked(update)
    user = update.effective_user
    if result.outcome != Outcome.EXPIRED or user is None:
        return None
    session = await svc.session_of(user.id)
    if session is None:
        return None
    return await show_step(update, svc, session, texts.MY_EMAIL_EXPIRED)


# --- proof of identity ------------------------------------------------------------------------


# --- new e-mail -------------------------------------------------------------------------------


@with_session(my_account_service)
async def on_email(
    update: Update,
    context: BotContext,
    svc: MyAccountService,
    session: ConversationSession,
) -> State:
    """The new address: checked, then shown back."""
    typed = text_of(update)
    result = await svc.submit_email(session, typed)
    if result.outcome == Outcome.REFUSED:
        return await _not_linked(update)
    if result.outcome == Outcome.INVALID:
        return await refuse_typed(update, context, session, typed, texts.EMAIL_INVALID)
    if result.outcome == Outcome.DOMAIN_REFUSED:
        return await refuse_typed(update, context, session, typed, texts.EMAIL_DOMAIN_REFUSED)
    if result.outcome == Outcome.SAME:
        await reprompt(update, session, texts.MY_EMAIL_SAME)
        return session.step
    return await show_step(update, svc, session)


async def _on_email_button(
    update: Update,
    context: BotContext,
    svc: MyAccountService,
    session: ConversationSession,
    action: str,
) -> State | None:
    return await on_email_button(
        update,
        context,
        svc,
        session,
        action,
        lambda: show_step(update, svc, session),
        lambda result, progress: _render_sending(update, svc, session, result, progress),
    )


async def _render_sending(
    update: Update,
    svc: MyAccountService,
    session: ConversationSession,
    result: Result,
    progress: Message | None,
) -> State:
    if result.outcome in (Outcome.SENT, Outcome.QUEUED):
        markup = stuck_markup(_code_keyboard(session.prompt_nonce), session.prompt_nonce)
        text = email_sent_text(svc, session)
        if result.outcome == Outcome.QUEUED:
            text = texts.my_email_queued(
                session.email or "", svc.ports.settings.code_length, svc.hours()
            )
        await edit_or_send(update, progress, text, markup)
        return session.step
    if result.outcome == Outcome.REFUSED:
        await edit_or_send(update, progress, texts.ACCOUNT_NOT_LINKED)
        return END
    if result.outcome in (Outcome.TOO_SOON, Outcome.RESEND_LIMIT):
        # Still at the code: the refusal is the prompt (with « Je bloque »); else the
        # address's buttons are shown again after it.
        waiting = session.step == MyAccountStep.CODE
        stuck = stuck_markup(None, session.prompt_nonce) if waiting else None
        if result.outcome == Outcome.TOO_SOON and result.retry_after is not None:
            await edit_or_send(update, progress, texts.resend_too_soon(result.retry_after), stuck)
        else:
            await edit_or_send(update, progress, texts.MY_RESEND_LIMIT, stuck)
        if not waiting:  # not sent: show the address's buttons again
            return await show_step(update, svc, session)
        return session.step
    intro = (
        texts.MY_EMAIL_EXPIRED.strip() if result.outcome == Outcome.EXPIRED else texts.EMAIL_INVALID
    )
    await edit_or_send(update, progress, intro)
    return await show_step(update, svc, session)


async def on_link(update: Update, context: BotContext, token: str) -> State | None:
    """The link of the new address's e-mail."""
    user = update.effective_user
    assert user
    result = await my_account_service(context).verify_link(user.id, token)
    state = await render_link(update, context, result)
    if state is not None:
        return state
    return await render_link_failure(update, context, result)


def procedure(description: Description = DESCRIPTION) -> Procedure:
    """« Mon compte » changes in Telegram: its description, with its own parts (the /moncompte
    buttons that open it, the new address and its progress message, its e-mail's link)."""
    text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    email_buttons = button_handler("mce", my_account_service, _on_email_button)
    own: dict[str, list[BaseHandler[Any, Any, Any]]] = {
        MyAccountStep.EMAIL: [MessageHandler(text, on_email)],
        MyAccountStep.EMAIL_CONFIRM: [email_buttons],
        MyAccountStep.CODE: [email_buttons],
    }
    return telegram_procedure(description, own=own, entry_points=entry_points(), on_link=on_link)


def entry_points() -> list[BaseHandler[Any, Any, Any]]:
    """The /moncompte buttons that open a change (entry points of the one handler)."""
    return [CallbackQueryHandler(on_change_button, pattern=r"^mc:")]
