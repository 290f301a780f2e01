"""« Mon compte » (/moncompte) and the gate that asks for changed CGU to be accepted.

Both work outside the procedures' ConversationHandler: the gate runs before it (a user with
outdated CGU accepts them before anything else), « Mon compte » next to it.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    TypeHandler,
    filters,
)

from bot import texts
from bot.outbox.mail import mask_email
from bot.procedures.linked_accounts import AccountService
from bot.procedures.my_account import Change
from conversations.buttons import button_data, parse_button
from conversations.common import current_session, mark_choice, send, show_current_step
from conversations.context import BotApp, BotContext
from conversations.my_account import change_button_data
from storage.accounts import Account
from storage.menus import MenuPrompt

logger = logging.getLogger(__name__)


def account_service(context: BotContext) -> AccountService:
    """The « Mon compte » service of this application."""
    return context.services.account


def _buttons(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def _answer_query(update: Update, text: str | None = None) -> None:
    """Acknowledge the pressed button (a query too old to be acknowledged is let go: the
    chat gets the answer anyway)."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text)
    except TelegramError:
        logger.debug("callback query not acknowledged (too old or already acknowledged)")


async def _answer_stale(update: Update) -> None:
    """A button of an older menu, or forged data: the alert, then a word in the chat."""
    await _answer_query(update, texts.STALE_BUTTON)
    await send(update, texts.MENU_STALE)


async def cgu_gate(update: Update, context: BotContext) -> None:
    """Before anything else: a user whose linked account accepted older CGU accepts the new."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != chat.PRIVATE:
        return
    message = update.effective_message
    if message is not None and message.text and message.text.split(maxsplit=1)[:1] == ["/aide"]:
        return
    svc = account_service(context)
    query = update.callback_query
    if query is not None and (query.data or "").startswith("cgunew:"):
        await _on_cgu_answer(update, svc)
        raise ApplicationHandlerStop
    if not await svc.outdated_cgu(user.id):
        return
    await _answer_query(update)
    await _show_new_cgu(update, svc)
    raise ApplicationHandlerStop


async def _show_new_cgu(update: Update, svc: AccountService, intro: str = "") -> None:
    assert update.effective_user is not None
    # One establishment's text at a time (a parent's second establishment comes next).
    school = await svc.cgu_to_accept(update.effective_user.id) or svc.ports.school
    nonce = await svc.show_menu(update.effective_user.id, cgu=school)
    await send(update, intro or texts.CGU_CHANGED_INTRO)
    for chunk in texts.cgu_chunks(school):
        await send(update, chunk)
    await send(
        update,
        texts.CGU_QUESTION,
        _buttons(
            [
                [(texts.BUTTON_CGU_ACCEPT, button_data("cgunew", "ok", nonce))],
                [(texts.BUTTON_CGU_REFUSE, button_data("cgunew", "no", nonce))],
            ]
        ),
    )


async def _on_cgu_answer(update: Update, svc: AccountService) -> None:
    """« J'accepte » / « Je refuse » under the changed CGU: only the buttons of the last text
    shown count, and acceptance is of exactly the version that was shown."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    data = parse_button(query.data, "cgunew")
    menu = await svc.menu(user.id, data.nonce) if data else None
    if data is None or menu is None or menu.cgu_version is None or data.arg not in ("ok", "no"):
        if await svc.outdated_cgu(user.id):
            await _answer_query(update)
            await _show_new_cgu(update, svc, texts.STALE_BUTTON + "\n\n" + texts.CGU_CHANGED_INTRO)
        else:
            await _answer_stale(update)
        return
    await _answer_query(update)
    await mark_choice(query)
    if data.arg != "ok":
        await send(update, texts.CGU_CHANGED_REFUSED)
        return
    if await svc.accept_current_cgu(user.id, menu.cgu_version):
        await send(update, texts.CGU_CHANGED_ACCEPTED)
        if await svc.outdated_cgu(user.id):
            # Another establishment's accounts (a parent): their own text next.
            await _show_new_cgu(update, svc)
    else:
        await _show_new_cgu(update, svc, texts.CGU_CHANGED_AGAIN)


def _summary(account: Account) -> tuple[str, str, str, str | None, bool, str]:
    """What « Mon compte » shows of an account (the e-mail masked)."""
    return (
        account.identifiant,
        texts.PROFIL_LABELS.get(account.profil, account.profil),
        account.etablissement,
        mask_email(account.email) if account.email and account.email_verified else None,
        bool(account.secret_answer2_hash),
        account.activated_at.strftime("%d/%m/%Y") if account.activated_at else "—",
    )


def _actions(account: Account, nonce: str) -> InlineKeyboardMarkup:
    """What can be done about one account (its id in the data is checked on arrival)."""
    has_email = bool(account.email and account.email_verified)
    has_questions = bool(account.secret_answer2_hash)
    return _buttons(
        [
            [
                (
                    texts.BUTTON_CHANGE_EMAIL if has_email else texts.BUTTON_ADD_EMAIL,
                    change_button_data(Change.EMAIL, account.id, nonce),
                )
            ],
            [
                (
                    texts.BUTTON_CHANGE_QUESTIONS if has_questions else texts.BUTTON_SET_QUESTIONS,
                    change_button_data(Change.QUESTIONS, account.id, nonce),
                )
            ],
            [(texts.BUTTON_UNLINK, button_data("acct", "unlink", nonce, account.id))],
            [(texts.BUTTON_DELETE_DATA, button_data("acct", "delete", nonce))],
        ]
    )


async def on_my_account(update: Update, context: BotContext) -> None:
    """/moncompte: the linked accounts; with one, what can be done about it; with several,
    a button to pick one first."""
    svc = account_service(context)
    user = update.effective_user
    assert user is not None
    accounts = await svc.linked_accounts(user.id)
    if not accounts:
        session = await current_session(update, context)
        procedure = context.procedures.get(session.flow) if session else None
        if (
            session is not None
            and procedure is not None
            and session.step not in procedure.fresh_steps
        ):
            # In the middle of a procedure: its step again (advice to type /activer would
            # throw the progress away).
            await show_current_step(update, context, session, texts.MY_ACCOUNT_FINISH_FIRST)
            return
        await send(update, texts.NO_LINKED_ACCOUNT)
        return
    nonce = await svc.show_menu(user.id)
    if len(accounts) == 1:
        markup = _actions(accounts[0], nonce)
    else:
        rows = [
            [(texts.account_button(a.identifiant), button_data("acct", "show", nonce, a.id))]
            for a in accounts
        ]
        markup = _buttons(
            [*rows, [(texts.BUTTON_DELETE_DATA, button_data("acct", "delete", nonce))]]
        )
    await send(update, texts.my_accounts([_summary(account) for account in accounts]), markup)


async def on_account_button(update: Update, context: BotContext) -> None:
    """The buttons of « Mon compte » (``acct:<action>[.<account id>]:<nonce>``): only those
    of the last menu shown to this user count, and an account id is acted on only if that
    account is linked to this user."""
    svc = account_service(context)
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    data = parse_button(query.data, "acct")
    menu: MenuPrompt | None = await svc.menu(user.id, data.nonce) if data else None
    if data is None or menu is None or menu.cgu_version is not None:
        await _answer_stale(update)
        return
    await _answer_query(update)
    await mark_choice(query)
    account_id = data.number
    if data.action == "show":
        account = await svc.linked_account(user.id, account_id) if account_id else None
        if account is None:
            await send(update, texts.ACCOUNT_NOT_LINKED)
            return
        nonce = await svc.show_menu(user.id)
        await send(update, texts.my_accounts([_summary(account)]), _actions(account, nonce))
    elif data.action == "unlink":
        done = account_id is not None and await svc.unlink_account(user.id, account_id)
        await send(update, texts.UNLINKED if done else texts.ACCOUNT_NOT_LINKED)
    elif data.action == "delete":
        nonce = await svc.show_menu(user.id)
        await send(
            update,
            texts.CONFIRM_DELETE,
            _buttons(
                [
                    [
                        (texts.BUTTON_CONFIRM_DELETE, button_data("acct", "delete_yes", nonce)),
                        (texts.BUTTON_KEEP, button_data("acct", "keep", nonce)),
                    ]
                ]
            ),
        )
    elif data.action == "delete_yes":
        await svc.delete_my_data(user.id)
        await context.services.support.repository.forget_user(user.id)
        await send(update, texts.DATA_DELETED)
    elif data.action == "keep":
        await send(update, texts.KEPT)
    else:
        await send(update, texts.MENU_STALE)


def add_account_handlers(application: BotApp, *, gate_group: int = -2) -> None:
    """The CGU gate (before everything) and « Mon compte » (before the procedures)."""
    application.add_handler(TypeHandler(Update, cgu_gate), group=gate_group)


def account_handlers() -> list[BaseHandler[Update, BotContext, Any]]:
    """« Mon compte » handlers, to add before the procedures' ConversationHandler."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("moncompte", on_my_account, filters=private),
        CallbackQueryHandler(on_account_button, pattern=r"^acct:"),
    ]
