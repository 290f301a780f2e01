"""« 🆘 Je bloque »: quick answers, then a message to the school's team; the staff group's
answers and ``/fermer``. Rules are in :mod:`bot.support.service`."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import texts as chat_texts
from bot.procedures.kernel import Outcome
from bot.support.hours import back_at
from bot.support.quick_answers import best_match
from bot.support.service import Sent, SupportService, ticket_number_of
from bot.texts import support as texts
from conversations.buttons import parse_button
from conversations.common import (
    current_session,
    keyboard,
    mark_choice,
    remove_secret_message,
    send,
    show_current_step,
    stuck_row,
    text_of,
)
from conversations.context import BotContext
from storage.sessions import ConversationSession

PREFIX = "sos"
ANY_NONCE = "0"


def support(context: BotContext) -> SupportService:
    """The support service of the running bot."""
    return context.services.support


def _nonce(session: ConversationSession | None) -> str:
    return session.prompt_nonce if session and session.prompt_nonce else ANY_NONCE


def _resume_row(session: ConversationSession | None) -> list[tuple[str, str]]:
    if session is None:
        return [(texts.BUTTON_DONE, f"{PREFIX}:back")]
    return [(texts.BUTTON_RESUME, f"{PREFIX}:back")]


async def show_menu(update: Update, context: BotContext) -> None:
    """The quick answers, one button each, then « Écrire à l'équipe » and « Reprendre »."""
    user = update.effective_user
    assert user is not None
    await support(context).set_mode(user.id, "menu")
    session = await current_session(update, context)
    answers = context.services.school.quick_answers
    rows = [[(answer.titre, f"{PREFIX}:qa.{index}")] for index, answer in enumerate(answers)]
    rows += [[(texts.BUTTON_WRITE_TEAM, f"{PREFIX}:write")], _resume_row(session)]
    await send(update, texts.MENU, keyboard(rows, _nonce(session)))


async def show_answer(update: Update, context: BotContext, index: int) -> None:
    """One quick answer, its action button, « Ça ne m'a pas aidé », « Reprendre »."""
    answers = context.services.school.quick_answers
    if not 0 <= index < len(answers):
        await show_menu(update, context)
        return
    answer = answers[index]
    session = await current_session(update, context)
    rows: list[list[tuple[str, str]]] = []
    if answer.action:
        rows.append([(texts.BUTTON_ACTIONS[answer.action], f"{PREFIX}:act.{index}")])
    rows += [[(texts.BUTTON_NOT_HELPED, f"{PREFIX}:write")], _resume_row(session)]
    await send(update, f"<b>{answer.titre}</b>\n\n{answer.texte}", keyboard(rows, _nonce(session)))


async def write_to_team(update: Update, context: BotContext) -> None:
    """« Écrire à l'équipe »: the next message goes to the team (no team: the contacts)."""
    user = update.effective_user
    assert user is not None
    session = await current_session(update, context)
    markup = keyboard([_resume_row(session)], _nonce(session))
    if support(context).chat_id is None:
        await support(context).set_mode(user.id, None)
        await send(update, chat_texts.help_text(context.services.school), markup)
        return
    await support(context).set_mode(user.id, "compose")
    await send(update, texts.ASK_MESSAGE, markup)


async def resume(update: Update, context: BotContext, intro: str = "") -> None:
    """Leave help: the procedure's step again, as it was."""
    user = update.effective_user
    assert user is not None
    await support(context).set_mode(user.id, None)
    session = await current_session(update, context)
    if session is None:
        await send(update, intro + texts.DONE)
        return
    await show_current_step(update, context, session, intro + chat_texts.HELP_RESUME + "\n\n")


async def run_action(update: Update, context: BotContext, index: int) -> None:
    """The action button of a quick answer."""
    answers = context.services.school.quick_answers
    action = answers[index].action if 0 <= index < len(answers) else ""
    session = await current_session(update, context)
    if action == "contacts":
        markup = keyboard(
            [[(texts.BUTTON_WRITE_TEAM, f"{PREFIX}:write")], _resume_row(session)],
            _nonce(session),
        )
        await send(update, chat_texts.help_text(context.services.school), markup)
    elif action == "recommencer":
        from conversations.activation import on_start

        user = update.effective_user
        assert user is not None
        await support(context).set_mode(user.id, None)
        await on_start(update, context)
    elif action == "renvoyer":
        await _resend(update, context, session)
    else:
        await show_menu(update, context)


async def _resend(update: Update, context: BotContext, session: ConversationSession | None) -> None:
    """Send the e-mail of the open procedure again, where one was sent."""
    services = context.services
    procedures: dict[str, Any] = {
        services.activation.steps.flow: services.activation,
        services.recovery.steps.flow: services.recovery,
        services.my_account.steps.flow: services.my_account,
    }
    svc = procedures.get(session.flow) if session else None
    if session is None or svc is None or session.code_sent_at is None:
        await resume(update, context, texts.CANNOT_RESEND + "\n\n")
        return
    result = await svc.send_verification(session, context.bot.username, resend=True)
    intro = texts.RESENT if result.outcome == Outcome.OK else texts.CANNOT_RESEND
    await resume(update, context, intro + "\n\n")


async def on_button(update: Update, context: BotContext) -> None:
    """Every ``sos:`` button. They never move a procedure's step themselves, so they are
    honoured on any prompt (their nonce is not checked)."""
    query = update.callback_query
    assert query is not None
    data = parse_button(query.data, PREFIX)
    await query.answer()
    if data is None:
        await show_menu(update, context)
        return
    if data.action != "open":
        await mark_choice(query)
    if data.action == "open":
        await show_menu(update, context)
    elif data.action == "qa" and data.number is not None:
        await show_answer(update, context, data.number)
    elif data.action == "act" and data.number is not None:
        await run_action(update, context, data.number)
    elif data.action == "write":
        await write_to_team(update, context)
    else:
        await resume(update, context)


async def on_help_stuck(update: Update, context: BotContext) -> None:
    """The « 🆘 Je bloque » offer under /aide."""
    session = await current_session(update, context)
    await send(update, texts.MENU, keyboard([stuck_row()], _nonce(session)))


async def on_text(update: Update, context: BotContext) -> None:
    """A message typed in help: matched against the quick answers first (menu), else sent to
    the team."""
    user = update.effective_user
    message = update.effective_message
    assert user is not None and message is not None
    if not message.text:
        await send(update, texts.NOT_TEXT)
        return
    mode = await support(context).mode(user.id)
    if mode != "compose":
        index = best_match(message.text, context.services.school.quick_answers)
        if index is not None:
            await show_answer(update, context, index)
            return
        if support(context).chat_id is None:
            await send(update, texts.NO_MATCH_NO_TEAM)
            await write_to_team(update, context)
            return
    await submit(update, context)


def _outside_hours(context: BotContext) -> str:
    """Outside the team's opening hours: when it will answer (a line to add), else ""."""
    horaires = context.services.school.horaires
    now = context.services.clock()
    back = back_at(horaires, now)
    if back is None or horaires is None:
        return ""
    return "\n\n" + texts.outside_hours(back, horaires.local(now))


async def submit(update: Update, context: BotContext) -> None:
    """Relay the message to the team (through the outbox)."""
    user = update.effective_user
    assert user is not None and update.effective_chat is not None
    session = await current_session(update, context)
    account_ids = [a.id for a in await context.services.ports.accounts.linked_to(user.id)]
    if session is not None and session.account_id is not None:
        account_ids.insert(0, session.account_id)
    label = context.procedures.staff_label(session.step) if session else None
    result = await support(context).submit(
        telegram_user_id=user.id,
        chat_id=update.effective_chat.id,
        first_name=user.first_name,
        text=text_of(update),
        session=session,
        step_label=label,
        account_ids=account_ids,
    )
    markup = keyboard([_resume_row(session)], _nonce(session))
    if result.outcome == Sent.PASSWORD:
        await remove_secret_message(update)
        await send(update, texts.PASSWORD_NOT_SENT, markup)
    elif result.outcome == Sent.FLOOD:
        await send(update, texts.FLOOD, markup)
    elif result.outcome == Sent.NO_TEAM:
        await write_to_team(update, context)
    elif session is not None:
        # Back to the step at once: what is typed next is the step's, never the team's (a new
        # password typed to the step must not reach the group).
        await support(context).set_mode(user.id, None)
        intro = (
            texts.SENT.format(number=result.ticket)
            + _outside_hours(context)
            + "\n\n"
            + chat_texts.HELP_RESUME
        )
        await show_current_step(update, context, session, intro + "\n\n")
    else:
        # Outside any procedure, whatever is typed next goes to the open ticket.
        await support(context).set_mode(user.id, None)
        await send(
            update,
            texts.SENT.format(number=result.ticket)
            + "\n"
            + texts.HOW_TO_REPLY_OUTSIDE
            + _outside_hours(context),
        )


async def overlay(update: Update, context: BotContext, session: ConversationSession | None) -> bool:
    """Before the procedure's step: a text in help mode (or, outside any procedure, to an open
    ticket) is support's. A command leaves help. True when the update was handled."""
    user = update.effective_user
    message = update.message  # an edit is not a new message to the team
    if user is None or message is None:
        return False
    svc = support(context)
    mode = await svc.mode(user.id)
    if message.text and message.text.startswith("/"):
        if mode is not None:
            await svc.set_mode(user.id, None)
        return False
    if mode is not None:
        await on_text(update, context)
        return True
    if session is None and await svc.has_open_ticket(user.id):
        # A reply to the team, outside any procedure: relayed as it is (not matched).
        if not message.text:
            await send(update, texts.NOT_TEXT)
        else:
            await submit(update, context)
        return True
    return False


def user_handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The ``sos:`` buttons, tried before any procedure's handlers."""
    return [CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:")]


# --- the staff group ---------------------------------------------------------------------


async def _ticket_of(update: Update, context: BotContext) -> int | None:
    """The ticket a staff message is about: its topic's user's open ticket (forum), or the
    number in the first line of the bot's post it replies to."""
    message = update.effective_message
    if message is None:
        return None
    if message.is_topic_message and message.message_thread_id:
        repository = support(context).repository
        user_id = await repository.user_of_topic(message.chat_id, message.message_thread_id)
        if user_id is not None:
            ticket = await repository.open_ticket(user_id)
            return ticket.id if ticket else 0
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
        return None
    first_line = (replied.text or "").split("\n", 1)[0]
    return ticket_number_of(first_line)


async def on_staff_reply(update: Update, context: BotContext) -> None:
    """A staff message about a ticket (in its topic, or replying to one of its posts): copied
    to the user. Other messages of the group are the staff's own talk."""
    number = await _ticket_of(update, context)
    message = update.effective_message
    if number is None or message is None or not message.text:
        raise ApplicationHandlerStop
    if not number or not await support(context).answer(number, message.text):
        await message.reply_text(texts.STAFF_UNKNOWN_TICKET)
    raise ApplicationHandlerStop


async def on_close(update: Update, context: BotContext) -> None:
    """/fermer in a ticket's topic or in reply to one of its posts (staff only)."""
    number = await _ticket_of(update, context)
    message = update.effective_message
    assert message is not None
    ticket = await support(context).repository.get(number) if number else None
    if number is None:
        await message.reply_text(texts.STAFF_REPLY_TO_TICKET)
    elif ticket is not None and await support(context).close(ticket.id):
        await message.reply_text(texts.STAFF_CLOSED.format(number=ticket.id))
        if support(context).topics:
            await context.services.topics.close(context.bot, ticket.telegram_user_id)
    else:
        await message.reply_text(texts.STAFF_UNKNOWN_TICKET)
    raise ApplicationHandlerStop


def staff_group_handlers(
    chat_id: int | None, staff_ids: list[int]
) -> list[BaseHandler[Any, Any, Any]]:
    """Handlers of the staff group: answers (any member) and /fermer (staff ids only)."""
    if chat_id is None:
        return []
    group = filters.Chat(chat_id=chat_id)
    staff = filters.User(user_id=staff_ids)
    return [
        CommandHandler("fermer", on_close, filters=group & staff),
        MessageHandler(group & filters.TEXT & ~filters.COMMAND, on_staff_reply),
    ]
