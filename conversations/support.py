"""« 🆘 Je bloque »: quick answers, then a message to the school's team (text, photo or
document; edits mirrored); the staff group's answers, their edits, and ``/fermer``,
``/compte``, ``/debloquer``, ``/renvoyer`` in a ticket. Rules are in :mod:`bot.support.service`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import texts as chat_texts
from bot.config.hours import back_at
from bot.procedures.kernel import Outcome
from bot.staff import report as report_layout
from bot.support.quick_answers import match
from bot.support.service import (
    Mirrored,
    Sent,
    Submission,
    SupportService,
    ticket_number_of,
)
from bot.texts import staff as staff_texts
from bot.texts import support as texts
from conversations.buttons import parse_button
from conversations.common import (
    current_session,
    keyboard,
    mark_choice,
    remove_secret_message,
    school_of_user,
    send,
    show_current_step,
    stuck_row,
)
from conversations.context import BotContext
from storage.sessions import ConversationSession
from storage.support import RelaySource, Ticket

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
    answers = (await school_of_user(update, context)).quick_answers
    rows = [[(answer.titre, f"{PREFIX}:qa.{index}")] for index, answer in enumerate(answers)]
    rows += [[(texts.BUTTON_WRITE_TEAM, f"{PREFIX}:write")], _resume_row(session)]
    await send(update, texts.MENU, keyboard(rows, _nonce(session)))


async def show_answer(update: Update, context: BotContext, index: int) -> None:
    """One quick answer, its action button, « Ça ne m'a pas aidé », « Reprendre »."""
    answers = (await school_of_user(update, context)).quick_answers
    if not 0 <= index < len(answers):
        await show_menu(update, context)
        return
    answer = answers[index]
    session = await current_session(update, context)
    rows: list[list[tuple[str, str]]] = []
    if answer.action and _action_works(context, session, answer.action):
        rows.append([(texts.BUTTON_ACTIONS[answer.action], f"{PREFIX}:act.{index}")])
    rows += [[(texts.BUTTON_NOT_HELPED, f"{PREFIX}:write")], _resume_row(session)]
    await send(update, f"<b>{answer.titre}</b>\n\n{answer.texte}", keyboard(rows, _nonce(session)))


def _action_works(context: BotContext, session: ConversationSession | None, action: str) -> bool:
    """Whether a quick answer's action can be done at the person's step: an e-mail is resent
    only where one was sent by the open procedure (others always can)."""
    if action == "renvoyer":
        return (
            session is not None
            and session.code_sent_at is not None
            and _procedure_of(context, session) is not None
        )
    return True


async def show_list(update: Update, context: BotContext, intro: str) -> None:
    """The quick answers again, under ``intro`` (a message that was only nearly one)."""
    session = await current_session(update, context)
    answers = (await school_of_user(update, context)).quick_answers
    rows = [[(answer.titre, f"{PREFIX}:qa.{index}")] for index, answer in enumerate(answers)]
    rows += [[(texts.BUTTON_WRITE_TEAM, f"{PREFIX}:write")], _resume_row(session)]
    await send(update, intro, keyboard(rows, _nonce(session)))


async def write_to_team(update: Update, context: BotContext) -> None:
    """« Écrire à l'équipe »: the next message goes to the team (no team: the contacts)."""
    user = update.effective_user
    assert user is not None
    session = await current_session(update, context)
    markup = keyboard([_resume_row(session)], _nonce(session))
    if await _no_team(update, context):
        await support(context).set_mode(user.id, None)
        await send(update, chat_texts.help_text(await school_of_user(update, context)), markup)
        return
    await support(context).set_mode(user.id, "compose")
    await send(update, texts.ASK_MESSAGE + await _outside_hours(update, context), markup)


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
    answers = (await school_of_user(update, context)).quick_answers
    action = answers[index].action if 0 <= index < len(answers) else ""
    session = await current_session(update, context)
    if action == "contacts":
        markup = keyboard(
            [[(texts.BUTTON_WRITE_TEAM, f"{PREFIX}:write")], _resume_row(session)],
            _nonce(session),
        )
        await send(update, chat_texts.help_text(await school_of_user(update, context)), markup)
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


def _procedure_of(context: BotContext, session: ConversationSession | None) -> Any:
    """The service of the session's procedure (the caller checks it sends e-mails)."""
    return context.services.by_flow.get(session.flow) if session else None


async def resend_verification(
    context: BotContext, session: ConversationSession | None
) -> Outcome | None:
    """Send the e-mail of the open procedure again, where one was sent (the procedure's own
    rules: cooldown, limits); None when there is none to resend."""
    svc = _procedure_of(context, session)
    if session is None or session.code_sent_at is None:
        return None
    if not hasattr(svc, "send_verification"):
        return None
    result = await svc.send_verification(session, context.bot.username, resend=True)
    return Outcome(result.outcome)


async def _resend(update: Update, context: BotContext, session: ConversationSession | None) -> None:
    """Send the e-mail of the open procedure again, where one was sent."""
    outcome = await resend_verification(context, session)
    sent = outcome in (Outcome.OK, Outcome.SENT, Outcome.QUEUED)
    await resume(update, context, (texts.RESENT if sent else texts.CANNOT_RESEND) + "\n\n")


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
    elif data.action in ("pwyes", "pwno") and data.number is not None:
        await on_password_answer(update, context, data.number, data.action == "pwyes")
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
    if is_media(message):  # a photo or document is for the team (no team: the contacts)
        if await _no_team(update, context):
            await write_to_team(update, context)
        else:
            await submit(update, context)
        return
    if not message.text:
        await send(update, texts.NOT_TEXT)
        return
    mode = await support(context).mode(user.id)
    if mode != "compose":
        session, account_ids, _ = await _user_facts(update, context)
        if await support(context).shaped_like_a_secret(message.text, session, account_ids):
            # A password typed here by mistake: neither matched nor relayed, deleted at once.
            await remove_secret_message(update)
            markup = keyboard([_resume_row(session)], _nonce(session))
            await send(update, texts.SECRET_IN_HELP, markup)
            return
        found = match(message.text, (await school_of_user(update, context)).quick_answers)
        if found is not None and found.strong:
            await show_answer(update, context, found.index)
            return
        if found is not None:
            await show_list(update, context, texts.WEAK_MATCH)
            return
        if await _no_team(update, context):
            await send(update, texts.NO_MATCH_NO_TEAM)
            await write_to_team(update, context)
            return
    await submit(update, context)


async def _outside_hours(update: Update, context: BotContext) -> str:
    """Outside the team's opening hours: when it will answer (a line to add), else ""."""
    horaires = (await school_of_user(update, context)).horaires
    now = context.services.clock()
    back = back_at(horaires, now)
    if back is None or horaires is None:
        return ""
    return "\n\n" + texts.outside_hours(back, horaires.local(now))


def is_media(message: Message) -> bool:
    """A photo or a document (what is relayed besides text)."""
    return bool(message.photo) or message.document is not None


def words_of(message: Message) -> str:
    """A message's text, or a photo's or document's caption ('' if none)."""
    return message.text or message.caption or ""


async def _no_team(update: Update, context: BotContext) -> bool:
    """Whether the person has no staff group to write to (their establishment's, or the
    region's)."""
    user = update.effective_user
    assert user is not None
    _, account_ids, _ = await _user_facts(update, context)
    return await support(context).staff_chat_of(user.id, account_ids) is None


async def _user_facts(
    update: Update, context: BotContext
) -> tuple[ConversationSession | None, list[int], str | None]:
    """The user's session, their proven accounts and the staff label of their step."""
    user = update.effective_user
    assert user is not None
    session = await current_session(update, context)
    account_ids = [a.id for a in await context.services.ports.accounts.linked_to(user.id)]
    if session is not None and session.account_id is not None:
        account_ids.insert(0, session.account_id)
    label = context.procedures.staff_label(session.step) if session else None
    return session, account_ids, label


async def submit(update: Update, context: BotContext) -> None:
    """Relay the message to the team (through the outbox)."""
    user = update.effective_user
    message = update.effective_message
    assert user is not None and update.effective_chat is not None and message is not None
    session, account_ids, label = await _user_facts(update, context)
    result = await support(context).submit(
        telegram_user_id=user.id,
        chat_id=update.effective_chat.id,
        first_name=user.first_name,
        text=words_of(message),
        session=session,
        step_label=label,
        account_ids=account_ids,
        message_id=message.message_id,
        media=is_media(message),
    )
    markup = keyboard([_resume_row(session)], _nonce(session))
    if result.outcome == Sent.PASSWORD:
        await remove_secret_message(update)
        await send(update, texts.PASSWORD_NOT_SENT, markup)
    elif result.outcome == Sent.ASK:
        await ask_password(update, session, message.message_id)
    else:
        await _after_submit(update, context, session, result)


async def ask_password(
    update: Update, session: ConversationSession | None, message_id: int
) -> None:
    """« Ce message contient-il un mot de passe ? » Oui (deleted) / Non (relayed)."""
    nonce = _nonce(session)
    rows = [
        [
            (texts.BUTTON_YES_PASSWORD, f"{PREFIX}:pwyes.{message_id}"),
            (texts.BUTTON_NO_PASSWORD, f"{PREFIX}:pwno.{message_id}"),
        ]
    ]
    await send(update, texts.ASK_PASSWORD, keyboard(rows, nonce))


async def on_password_answer(
    update: Update, context: BotContext, message_id: int, is_password: bool
) -> None:
    """The person's answer about a held message: Oui, it is deleted; Non, it is relayed."""
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    session, account_ids, label = await _user_facts(update, context)
    markup = keyboard([_resume_row(session)], _nonce(session))
    if is_password:
        held = support(context).release(user.id, message_id)
        sent_at = held.held_at if held is not None else context.services.clock()
        await delete_message(context, chat.id, message_id, sent_at)
        await send(update, texts.PASSWORD_ERASED, markup)
        return
    result = await support(context).relay_held(
        telegram_user_id=user.id,
        message_id=message_id,
        first_name=user.first_name,
        session=session,
        step_label=label,
        account_ids=account_ids,
    )
    if result.outcome == Sent.GONE:
        await send(update, texts.HELD_GONE, markup)
    else:
        await _after_submit(update, context, session, result)


async def delete_message(
    context: BotContext, chat_id: int, message_id: int, sent_at: datetime
) -> None:
    """Delete a message the person said holds a password (owed to the outbox if it fails)."""
    try:
        await context.bot.delete_message(chat_id, message_id)
    except TelegramError:
        await context.services.outbox.owe_deletion(chat_id, message_id, sent_at)


async def _after_submit(
    update: Update, context: BotContext, session: ConversationSession | None, result: Submission
) -> None:
    """What the person reads once a message went to the team (or could not)."""
    user = update.effective_user
    assert user is not None
    markup = keyboard([_resume_row(session)], _nonce(session))
    if result.outcome == Sent.FLOOD:
        await send(update, texts.FLOOD, markup)
    elif result.outcome == Sent.NO_TEAM:
        await write_to_team(update, context)
    elif session is not None:
        # Still with the team: people write in several short messages, and each one goes to
        # the team until they touch « Reprendre » (or type a command).
        await support(context).set_mode(user.id, "compose")
        text = (
            texts.SENT.format(number=result.ticket)
            + "\n"
            + texts.WRITE_MORE
            + await _outside_hours(update, context)
        )
        await send(update, text, markup)
    else:
        # Outside any procedure, whatever is typed next goes to the open ticket.
        await support(context).set_mode(user.id, None)
        await send(
            update,
            texts.SENT.format(number=result.ticket)
            + "\n"
            + texts.HOW_TO_REPLY_OUTSIDE
            + await _outside_hours(update, context),
        )


async def overlay(update: Update, context: BotContext, session: ConversationSession | None) -> bool:
    """Before the procedure's step: a text in help mode (or, outside any procedure, to an open
    ticket) is support's. A command leaves help. True when the update was handled."""
    user = update.effective_user
    if user is not None and update.edited_message is not None:
        return await on_user_edit(update, context)
    query = update.callback_query
    if user is not None and query is not None:
        # A button of the procedure: the person went back to it, and leaves help.
        procedure_button = not (query.data or "").startswith(f"{PREFIX}:")
        if procedure_button and await support(context).mode(user.id) is not None:
            await support(context).set_mode(user.id, None)
        return False
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
        if not message.text and not is_media(message):
            await send(update, texts.NOT_TEXT)
        else:
            await submit(update, context)
        return True
    return False


async def on_user_edit(update: Update, context: BotContext) -> bool:
    """A user edited a message: if it was relayed to the team, its copy is edited too (or
    deleted, with the user's message, if it now holds a password). False if it was not
    relayed (the edit is none of support's)."""
    user = update.effective_user
    message = update.edited_message
    assert user is not None and message is not None
    session, account_ids, label = await _user_facts(update, context)
    outcome = await support(context).mirror_user_edit(
        chat_id=message.chat_id,
        message_id=message.message_id,
        first_name=user.first_name,
        text=words_of(message),
        session=session,
        step_label=label,
        account_ids=account_ids,
    )
    if outcome == Mirrored.NOT_RELAYED:
        return False
    if outcome == Mirrored.PASSWORD:
        await remove_secret_message(update)
        await send(update, texts.EDIT_PASSWORD)
    return True


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
    first_line = words_of(replied).split("\n", 1)[0]
    return ticket_number_of(first_line)


async def on_staff_reply(update: Update, context: BotContext) -> None:
    """A staff message about a ticket (in its topic, or replying to one of its posts): copied
    to the user (a text sent anew, a photo or document with copyMessage). Other messages of
    the group are the staff's own talk."""
    number = await _ticket_of(update, context)
    message = update.effective_message
    if number is None or message is None or not (message.text or is_media(message)):
        raise ApplicationHandlerStop
    source = RelaySource(message.chat_id, message.message_id, is_media(message))
    staff = message.from_user.first_name if message.from_user else None
    # Only a ticket posted to this group: another establishment's is « unknown » here.
    ticket = await support(context).ticket_in(number, message.chat_id)
    answered = ticket is not None and await support(context).answer(
        ticket.id, words_of(message), source, staff_first_name=staff
    )
    if not answered:
        await message.reply_text(texts.STAFF_UNKNOWN_TICKET)
    raise ApplicationHandlerStop


async def on_staff_edit(update: Update, context: BotContext) -> None:
    """A message of the group was edited: if it was an answer relayed to a user, their copy
    is edited too."""
    message = update.edited_message
    if message is not None:
        staff = message.from_user.first_name if message.from_user else None
        await support(context).mirror_staff_edit(
            message.chat_id, message.message_id, words_of(message), staff_first_name=staff
        )
    raise ApplicationHandlerStop


async def _staff_ticket(update: Update, context: BotContext) -> Ticket | None:
    """The open ticket a staff command is about; says why when there is none."""
    message = update.effective_message
    assert message is not None
    number = await _ticket_of(update, context)
    ticket = await support(context).ticket_in(number, message.chat_id)
    if number is None:
        await message.reply_text(texts.STAFF_COMMAND_WHERE)
    elif ticket is None or ticket.state != "open":
        await message.reply_text(texts.STAFF_UNKNOWN_TICKET)
        return None
    return ticket


async def _identifiant_of(context: BotContext, ticket: Ticket) -> str | None:
    """The ticket's user's identifier, as far as the bot knows it."""
    ports = context.services.ports
    user_id = ticket.telegram_user_id
    session = await ports.sessions.get(user_id)
    linked = [a.id for a in await ports.accounts.linked_to(user_id)]
    return await support(context).identifiant_of(ticket, session, linked)


async def on_account(update: Update, context: BotContext) -> None:
    """/compte in a ticket's topic (or in reply to one of its posts): the account card of
    its user, as ``/compte ID`` shows it."""
    message = update.effective_message
    assert message is not None
    staff = update.effective_user
    assert staff is not None
    ticket = await _staff_ticket(update, context)
    if ticket is not None:
        identifiant = await _identifiant_of(context, ticket)
        rights = context.services.staff.rights_of(staff.id)
        report = (
            await context.services.staff.report(identifiant, acting_as=rights)
            if identifiant
            else None
        )
        if identifiant is None:
            await message.reply_text(texts.STAFF_TICKET_NO_ACCOUNT)
        elif report is None:
            await message.reply_text(staff_texts.staff_unknown_account_html(identifiant))
        else:
            await message.reply_text(report_layout.account_html(report))
    raise ApplicationHandlerStop


async def on_unlock(update: Update, context: BotContext) -> None:
    """/debloquer in a ticket's topic: lift the lock of its user's account (audited, the
    staff member's Telegram id as the actor)."""
    message = update.effective_message
    staff = update.effective_user
    assert message is not None and staff is not None
    ticket = await _staff_ticket(update, context)
    if ticket is not None:
        identifiant = await _identifiant_of(context, ticket)
        before = None
        if identifiant is not None:
            before = await context.services.staff.unlock(
                identifiant,
                f"telegram:{staff.id}",
                acting_as=context.services.staff.rights_of(staff.id),
            )
        if identifiant is None or before is None:
            await message.reply_text(texts.STAFF_TICKET_NO_ACCOUNT)
        else:
            done = staff_texts.staff_unlock_done(
                identifiant, before.locked, before.failures_last_24h
            )
            await message.reply_text(texts.escape(done))
    raise ApplicationHandlerStop


async def on_resend(update: Update, context: BotContext) -> None:
    """/renvoyer in a ticket's topic: the verification e-mail of its user's open procedure
    sent again (the procedure's rules apply); the user is told."""
    message = update.effective_message
    assert message is not None
    ticket = await _staff_ticket(update, context)
    if ticket is not None:
        session = await context.services.ports.sessions.get(ticket.telegram_user_id)
        outcome = await resend_verification(context, session)
        if outcome is None:
            await message.reply_text(texts.STAFF_NOTHING_TO_RESEND)
        elif outcome in (Outcome.OK, Outcome.SENT, Outcome.QUEUED):
            await support(context).tell_user(ticket, texts.RESENT_BY_TEAM)
            await message.reply_text(texts.STAFF_RESENT)
        else:
            await message.reply_text(texts.STAFF_RESEND_REFUSED)
    raise ApplicationHandlerStop


async def on_not_staff(update: Update, context: BotContext) -> None:
    """A staff command by a member of the group who is not staff: a kind refusal."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(texts.STAFF_ONLY)
    raise ApplicationHandlerStop


async def on_close(update: Update, context: BotContext) -> None:
    """/fermer in a ticket's topic or in reply to one of its posts (staff only)."""
    number = await _ticket_of(update, context)
    message = update.effective_message
    assert message is not None
    ticket = await support(context).ticket_in(number, message.chat_id)
    if number is None:
        await message.reply_text(texts.STAFF_REPLY_TO_TICKET)
    elif ticket is not None and await support(context).close(ticket.id):
        await message.reply_text(texts.STAFF_CLOSED.format(number=ticket.id))
        if support(context).is_forum(message.chat_id):
            await context.services.topics.close(context.bot, ticket.telegram_user_id)
    else:
        await message.reply_text(texts.STAFF_UNKNOWN_TICKET)
    raise ApplicationHandlerStop


def staff_group_handlers(
    chat_ids: int | Sequence[int] | None, staff_ids: list[int]
) -> list[BaseHandler[Any, Any, Any]]:
    """Handlers of the staff groups (the region's and each establishment's): edits mirrored,
    answers (any member), and /fermer, /compte, /debloquer, /renvoyer (staff ids only; others
    get a kind refusal). A ticket is acted on only from the group it was posted to."""
    chats = [chat_ids] if isinstance(chat_ids, int) else list(chat_ids or ())
    if not chats:
        return []
    group = filters.Chat(chat_id=chats)
    staff = filters.User(user_id=staff_ids)
    new = filters.UpdateType.MESSAGE
    relayed = filters.TEXT | filters.PHOTO | filters.Document.ALL
    return [
        MessageHandler(group & filters.UpdateType.EDITED_MESSAGE, on_staff_edit),
        CommandHandler("fermer", on_close, filters=group & staff & new),
        CommandHandler("compte", on_account, filters=group & staff & new),
        CommandHandler("debloquer", on_unlock, filters=group & staff & new),
        CommandHandler("renvoyer", on_resend, filters=group & staff & new),
        CommandHandler(STAFF_COMMANDS, on_not_staff, filters=group & ~staff & new),
        MessageHandler(group & new & relayed & ~filters.COMMAND, on_staff_reply),
    ]


# The commands of a ticket, for staff only.
STAFF_COMMANDS = ("fermer", "compte", "debloquer", "renvoyer")
