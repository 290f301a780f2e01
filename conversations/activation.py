"""The activation conversation: one ConversationHandler whose states are :class:`Step`.

Handlers are thin: they read the update, call :class:`bot.activation.ActivationService`, which
saves the new step before anything is sent, and render a text of :mod:`bot.texts`. The step
saved in the database is the conversation's state (see :mod:`bot.persistence`), so a restarted
bot resumes every chat where its user was.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import texts
from bot.activation import FLOW_ACTIVATION, ActivationService, Outcome, Result, Step
from bot.mail import mask_email
from conversations.common import (
    edit_or_send,
    mark_choice,
    remove_secret_message,
    send,
    service,
)
from storage.sessions import ConversationSession

logger = logging.getLogger(__name__)

END = ConversationHandler.END
State = Step | int
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[State | None]]

# Profiles offered on /start; the two staff profiles sign in elsewhere.
EXTERNAL_PROFILES = {
    "personnel_en": "personnel_education_nationale",
    "personnel_agri": "personnel_enseignement_agricole",
}


# --- keyboards ------------------------------------------------------------------------------


def _button(label: str, action: str, nonce: str) -> InlineKeyboardButton:
    """A button whose data carries the prompt's nonce: once the step moves on, it is stale."""
    return InlineKeyboardButton(label, callback_data=f"{action}:{nonce}")


def _keyboard(rows: list[list[tuple[str, str]]], nonce: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(label, a, nonce) for label, a in row] for row in rows])


def ent_button(svc: ActivationService) -> InlineKeyboardMarkup:
    """A URL button that opens the ENT."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(texts.BUTTON_OPEN_ENT, url=svc.school.ent_url)]]
    )


def profile_keyboard(nonce: str) -> InlineKeyboardMarkup:
    """One button a profile, one a row (long French labels on a phone)."""
    return _keyboard([[(label, f"p:{key}")] for key, label in texts.BUTTON_PROFILES.items()], nonce)


def prompt(
    svc: ActivationService, session: ConversationSession, *, full: bool = True
) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """The message(s) that ask for what the current step needs (``full=False``: without the
    long CGU text, which is already in the chat)."""
    nonce = session.prompt_nonce
    step = session.step
    if step == Step.PROFILE:
        return [(texts.welcome(svc.school), profile_keyboard(nonce))]
    if step == Step.IDENTIFIANT:
        return [(texts.ASK_IDENTIFIANT, None)]
    if step == Step.PROVISIONAL:
        return [(texts.ASK_PROVISIONAL, None)]
    if step == Step.CGU and not full:
        keyboard = _keyboard(
            [
                [(texts.BUTTON_CGU_ACCEPT, "cgu:ok")],
                [(texts.BUTTON_CGU_REFUSE, "cgu:no")],
                [(texts.BUTTON_CGU_READ_AGAIN, "cgu:again")],
            ],
            nonce,
        )
        return [(texts.CGU_QUESTION, keyboard)]
    if step == Step.CGU:
        messages: list[tuple[str, InlineKeyboardMarkup | None]] = [(texts.CGU_INTRO, None)]
        messages += [(chunk, None) for chunk in texts.cgu_chunks(svc.school)]
        keyboard = _keyboard(
            [[(texts.BUTTON_CGU_ACCEPT, "cgu:ok")], [(texts.BUTTON_CGU_REFUSE, "cgu:no")]], nonce
        )
        return [*messages, (texts.CGU_QUESTION, keyboard)]
    if step == Step.RECOVERY:
        keyboard = _keyboard(
            [
                [(texts.BUTTON_RECOVERY_EMAIL, "rec:email")],
                [(texts.BUTTON_RECOVERY_QUESTIONS, "rec:questions")],
            ],
            nonce,
        )
        return [(texts.CHOOSE_RECOVERY, keyboard)]
    if step == Step.EMAIL:
        keyboard = _keyboard([[(texts.BUTTON_SWITCH_TO_QUESTIONS, "em:questions")]], nonce)
        return [(texts.ASK_EMAIL, keyboard)]
    if step == Step.EMAIL_CONFIRM:
        return [(texts.confirm_email(session.email or ""), _email_confirm_keyboard(nonce))]
    if step == Step.CODE:
        return [(_email_sent_text(svc, session), _code_keyboard(nonce))]
    if step in (Step.QUESTION1, Step.QUESTION2):
        rows = [[(question, f"q:{index}")] for index, question in svc.available_questions(session)]
        title = texts.CHOOSE_QUESTION_1 if step == Step.QUESTION1 else texts.CHOOSE_QUESTION_2
        return [(title, _keyboard(rows, nonce))]
    if step in (Step.ANSWER1, Step.ANSWER2):
        question = session.question1 if step == Step.ANSWER1 else session.question2
        return [(texts.ask_answer(question or ""), None)]
    if step == Step.PASSWORD:
        return [(texts.password_rules(svc.password_policy), None)]
    if step == Step.PASSWORD_CONFIRM:
        return [(texts.ASK_PASSWORD_CONFIRMATION, None)]
    return [(texts.OUTSIDE_FLOW, None)]


def _email_confirm_keyboard(nonce: str) -> InlineKeyboardMarkup:
    return _keyboard(
        [[(texts.BUTTON_EMAIL_CONFIRM, "em:send")], [(texts.BUTTON_EMAIL_CHANGE, "em:change")]],
        nonce,
    )


def _code_keyboard(nonce: str) -> InlineKeyboardMarkup:
    return _keyboard(
        [
            [(texts.BUTTON_EMAIL_RESEND, "em:resend")],
            [(texts.BUTTON_EMAIL_CHANGE, "em:change")],
            [(texts.BUTTON_SWITCH_TO_QUESTIONS, "em:questions")],
        ],
        nonce,
    )


def _email_sent_text(svc: ActivationService, session: ConversationSession) -> str:
    hours = round(svc.settings.verification_ttl.total_seconds() / 3600)
    return texts.email_sent(session.email or "", svc.settings.code_length, hours)


async def show_step(
    update: Update,
    svc: ActivationService,
    session: ConversationSession,
    intro: str = "",
    *,
    full: bool = True,
) -> Step:
    """Send the prompt of the session's step (with ``intro`` before it) and return the step."""
    messages = prompt(svc, session, full=full)
    if intro:
        first_text, first_markup = messages[0]
        messages[0] = (intro + first_text, first_markup)
    for text, markup in messages:
        await send(update, text, markup)
    return Step(session.step)


async def _session_or_end(update: Update, svc: ActivationService) -> ConversationSession | None:
    user = update.effective_user
    return await svc.session_of(user.id) if user else None


def _with_session(
    handler: Callable[
        [Update, ContextTypes.DEFAULT_TYPE, ActivationService, ConversationSession],
        Awaitable[State | None],
    ],
) -> Handler:
    """Load the user's session; without one (purged, cancelled elsewhere) the conversation ends."""

    async def wrapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State | None:
        svc = service(context)
        session = await _session_or_end(update, svc)
        if session is None:
            if update.callback_query:
                await update.callback_query.answer(texts.STALE_BUTTON)
            await send(update, texts.OUTSIDE_FLOW)
            return END
        return await handler(update, context, svc, session)

    return wrapped


def _button_handler(
    prefix: str,
    handler: Callable[
        [Update, ContextTypes.DEFAULT_TYPE, ActivationService, ConversationSession, str],
        Awaitable[State | None],
    ],
) -> CallbackQueryHandler:
    """Buttons ``prefix:arg:nonce`` of the current prompt only; anything else is stale."""

    async def guarded(
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        svc: ActivationService,
        session: ConversationSession,
    ) -> State | None:
        query = update.callback_query
        assert query is not None
        parts = (query.data or "").split(":")
        if len(parts) != 3 or parts[2] != session.prompt_nonce:
            return await on_stale_button(update, context)
        await query.answer()
        return await handler(update, context, svc, session, parts[1])

    return CallbackQueryHandler(_with_session(guarded), pattern=rf"^{prefix}:")


# --- entry points ---------------------------------------------------------------------------


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State | None:
    """/start: welcome and profiles; in the middle of a procedure, offer to resume."""
    svc = service(context)
    user, chat = update.effective_user, update.effective_chat
    assert user and chat
    session = await svc.session_of(user.id)
    if session is not None and session.step != Step.PROFILE:
        keyboard = _keyboard(
            [[(texts.BUTTON_RESUME, "resume:go")], [(texts.BUTTON_RESTART, "restart:go")]],
            session.prompt_nonce,
        )
        await send(update, texts.RESUME_OR_RESTART, keyboard)
        return Step(session.step)
    session = await svc.begin(user.id, chat.id, Step.PROFILE)
    return await show_step(update, svc, session)


async def on_start_with_payload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State | None:
    """/start <token>: the link of the verification e-mail."""
    svc = service(context)
    user = update.effective_user
    assert user
    token = (context.args or [""])[0]
    result = await svc.verify_link(user.id, token)
    session = await svc.session_of(user.id)
    if result.outcome == Outcome.OK and session:
        return await show_step(update, svc, session, texts.EMAIL_VERIFIED)
    if result.outcome == Outcome.EXPIRED and session:
        return await show_step(update, svc, session, texts.VERIFICATION_EXPIRED)
    text = texts.LINK_OTHER_ACCOUNT if result.outcome == Outcome.OTHER_USER else texts.LINK_INVALID
    await send(update, text)
    if session is not None:
        return await show_step(update, svc, session)
    return END


async def on_activer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State | None:
    """/activer: straight to the identifier question (a new procedure)."""
    svc = service(context)
    user, chat = update.effective_user, update.effective_chat
    assert user and chat
    session = await svc.begin(user.id, chat.id, Step.IDENTIFIANT)
    return await show_step(update, svc, session)


@_with_session
async def on_resume_or_restart(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """The buttons of the « resume or restart » question."""
    query = update.callback_query
    assert query is not None
    action, _, nonce = (query.data or "").partition(":go:")
    if nonce != session.prompt_nonce:
        return await on_stale_button(update, context)
    await query.answer()
    await mark_choice(query)
    if action == "restart":
        session = await svc.begin(session.telegram_user_id, session.chat_id, Step.PROFILE)
    return await show_step(update, svc, session)


# --- step handlers --------------------------------------------------------------------------


async def _on_profile(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: ActivationService,
    session: ConversationSession,
    profil: str,
) -> State | None:
    await mark_choice(update.callback_query)
    if profil in EXTERNAL_PROFILES:
        await svc.cancel(session.telegram_user_id)
        instructions = svc.school.connexion_externe.get(
            EXTERNAL_PROFILES[profil], texts.EXTERNAL_PROFILE_DEFAULT
        )
        await send(update, texts.external_profile(svc.school, instructions), ent_button(svc))
        return END
    if profil not in texts.BUTTON_PROFILES:
        return await show_step(update, svc, session)
    await svc.choose_profile(session, profil)
    return await show_step(update, svc, session)


@_with_session
async def on_identifiant(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """The identifier from the letter."""
    result = await svc.submit_identifiant(session, _text(update))
    if result.outcome == Outcome.INVALID:
        await send(update, texts.IDENTIFIANT_INVALID)
        return Step.IDENTIFIANT
    return await show_step(update, svc, session)


@_with_session
async def on_provisional(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """The provisional password: deleted from the chat, then checked."""
    password = _text(update)
    await remove_secret_message(update)
    result = await svc.submit_provisional(session, password)
    if result.outcome == Outcome.TOO_MANY_IDENTIFIANTS:
        await send(update, texts.TOO_MANY_IDENTIFIANTS)
        await svc.cancel(session.telegram_user_id)
        return END
    if result.outcome == Outcome.REFUSED:
        await send(update, texts.CREDENTIALS_REFUSED)
        return Step.IDENTIFIANT
    return await show_step(update, svc, session)


async def _on_cgu(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: ActivationService,
    session: ConversationSession,
    choice: str,
) -> State | None:
    await mark_choice(update.callback_query)
    if choice == "ok":
        await svc.accept_cgu(session)
        return await show_step(update, svc, session)
    if choice == "again":
        await svc.show_cgu_again(session)
        return await show_step(update, svc, session)
    keyboard = _keyboard([[(texts.BUTTON_CGU_READ_AGAIN, "cgu:again")]], session.prompt_nonce)
    await send(update, texts.CGU_REFUSED, keyboard)
    return Step.CGU


async def _on_recovery(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: ActivationService,
    session: ConversationSession,
    choice: str,
) -> State | None:
    await mark_choice(update.callback_query)
    if choice == "email":
        await svc.choose_email(session)
    else:
        await svc.choose_questions(session)
    return await show_step(update, svc, session)


@_with_session
async def on_email(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """The personal e-mail address: checked, then shown back for confirmation."""
    result = await svc.submit_email(session, _text(update))
    if result.outcome == Outcome.INVALID:
        await send(update, texts.EMAIL_INVALID)
        return Step.EMAIL
    return await show_step(update, svc, session)


async def _on_email_button(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: ActivationService,
    session: ConversationSession,
    action: str,
) -> State | None:
    query = update.callback_query
    if action == "questions":
        await mark_choice(query)
        await svc.choose_questions(session)
        return await show_step(update, svc, session)
    if action == "change":
        await mark_choice(query)
        await svc.change_email(session)
        return await show_step(update, svc, session)
    if action not in ("send", "resend"):
        return await on_stale_button(update, context)
    if action == "send":
        await mark_choice(query)
    progress = await send(update, texts.EMAIL_SENDING)
    result = await svc.send_verification(session, context.bot.username, resend=action == "resend")
    return await _render_sending(update, svc, session, result, progress)


async def _render_sending(
    update: Update,
    svc: ActivationService,
    session: ConversationSession,
    result: Result,
    progress: Message | None,
) -> State | None:
    if result.outcome == Outcome.SENT:
        await edit_or_send(
            update, progress, _email_sent_text(svc, session), _code_keyboard(session.prompt_nonce)
        )
        return Step.CODE
    if result.outcome == Outcome.SEND_FAILED:
        await edit_or_send(update, progress, texts.EMAIL_SEND_FAILED)
        return await show_step(update, svc, session)
    if result.outcome == Outcome.EXPIRED:
        await edit_or_send(update, progress, texts.VERIFICATION_EXPIRED.strip())
        return await show_step(update, svc, session)
    if result.outcome == Outcome.TOO_SOON and result.retry_after is not None:
        await edit_or_send(update, progress, texts.resend_too_soon(result.retry_after))
    else:
        await edit_or_send(update, progress, texts.RESEND_LIMIT)
    return Step(session.step)


@_with_session
async def on_code(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """A code typed in the chat: deleted, then checked."""
    text = _text(update)
    await remove_secret_message(update)
    result = await svc.submit_code(session, text)
    if result.outcome == Outcome.OK:
        return await show_step(update, svc, session, texts.EMAIL_VERIFIED)
    if result.outcome == Outcome.EXPIRED:
        return await show_step(update, svc, session, texts.VERIFICATION_EXPIRED)
    if result.outcome == Outcome.INVALID:
        await send(update, texts.CODE_FORMAT.format(length=svc.settings.code_length))
    elif result.outcome == Outcome.LOCKED:
        await send(update, texts.CODE_LOCKED)
    elif result.retry_after is not None:
        await send(update, texts.wait_before_retry(result.retry_after))
    else:
        await send(update, texts.CODE_WRONG)
    return Step.CODE


async def _on_question(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: ActivationService,
    session: ConversationSession,
    index: str,
) -> State | None:
    await mark_choice(update.callback_query)
    await svc.choose_question(session, int(index) if index.isdigit() else -1)
    return await show_step(update, svc, session)


@_with_session
async def on_answer(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """The answer to a secret question: deleted, normalised, hashed."""
    text = _text(update)
    await remove_secret_message(update)
    result = await svc.submit_answer(session, text)
    if result.outcome == Outcome.TOO_SHORT:
        await send(update, texts.ANSWER_TOO_SHORT)
        return Step(session.step)
    if result.outcome == Outcome.TOO_LONG:
        await send(update, texts.ANSWER_TOO_LONG)
        return Step(session.step)
    intro = texts.QUESTIONS_DONE if session.step == Step.PASSWORD else ""
    return await show_step(update, svc, session, intro)


@_with_session
async def on_password(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """The new password: deleted, checked against the rule, hashed."""
    password = _text(update)
    await remove_secret_message(update)
    result = await svc.submit_password(session, password)
    if result.outcome == Outcome.REFUSED:
        await send(update, texts.password_refused(result.rules, svc.password_policy))
        return Step.PASSWORD
    return await show_step(update, svc, session)


@_with_session
async def on_password_confirmation(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """The password typed again: the account is activated."""
    password = _text(update)
    await remove_secret_message(update)
    result = await svc.confirm_password(session, password)
    if result.outcome == Outcome.MISMATCH:
        await send(update, texts.PASSWORD_MISMATCH)
        return Step.PASSWORD
    if result.outcome == Outcome.ACTIVATED and result.account:
        masked = mask_email(result.email) if result.email else None
        text = texts.activated(svc.school, result.account.identifiant, masked)
        await send(update, text, ent_button(svc))
        return END
    if result.outcome == Outcome.TAKEN:
        await send(update, texts.ALREADY_ACTIVATED_ELSEWHERE)
        return END
    return await show_step(update, svc, session)


# --- anything else, at any step -------------------------------------------------------------


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State | None:
    """/aide: the contacts, then the current step again."""
    svc = service(context)
    await send(update, texts.help_text(svc.school))
    session = await _session_or_end(update, svc)
    if session is None:
        return END
    return await show_step(update, svc, session, texts.HELP_RESUME + "\n\n", full=False)


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State | None:
    """/annuler: leave the procedure, whatever the step."""
    svc = service(context)
    user = update.effective_user
    assert user
    had_one = await svc.cancel(user.id)
    await send(update, texts.CANCELLED if had_one else texts.NOTHING_TO_CANCEL)
    return END


async def on_stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State | None:
    """A button of an earlier message, or forged data: nothing happens but the current step."""
    svc = service(context)
    query = update.callback_query
    if query is not None:
        try:
            await query.answer(texts.STALE_BUTTON)
        except TelegramError:
            logger.debug("callback query could not be answered")
    session = await _session_or_end(update, svc)
    if session is None:
        await send(update, texts.OUTSIDE_FLOW)
        return END
    return await show_step(update, svc, session, texts.STALE_BUTTON_RESUME + "\n\n", full=False)


async def on_unexpected(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State | None:
    """A sticker, a photo, a text where a button is expected, an unknown command…"""
    svc = service(context)
    session = await _session_or_end(update, svc)
    message = update.effective_message
    if message is not None and message.text and message.text.startswith("/"):
        intro = texts.UNKNOWN_COMMAND
    elif message is not None and message.text:
        intro = texts.USE_BUTTONS
    else:
        intro = texts.NOT_TEXT
    if session is None:
        await send(update, intro + "\n\n" + texts.OUTSIDE_FLOW)
        return END
    return await show_step(update, svc, session, intro + "\n\n", full=False)


def _text(update: Update) -> str:
    message = update.effective_message
    return message.text if message and message.text else ""


def build_activation_handler() -> ConversationHandler:
    """The activation ConversationHandler (persistent: its states come from the database)."""
    private = filters.ChatType.PRIVATE
    text = private & filters.TEXT & ~filters.COMMAND
    start_with_payload = CommandHandler("start", on_start_with_payload, filters=private, has_args=1)
    start = CommandHandler("start", on_start, filters=private)
    activer = CommandHandler("activer", on_activer, filters=private)
    # Buttons are checked against the nonce of the session's current prompt, so tracking
    # callback queries per message (per_message=True) is not needed: silence PTB's reminder.
    warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
    email_buttons = _button_handler("em", _on_email_button)
    question_buttons = _button_handler("q", _on_question)
    return ConversationHandler(
        name=FLOW_ACTIVATION,
        persistent=True,
        entry_points=[start_with_payload, start, activer],
        states={
            Step.PROFILE: [_button_handler("p", _on_profile)],
            Step.IDENTIFIANT: [MessageHandler(text, on_identifiant)],
            Step.PROVISIONAL: [MessageHandler(text, on_provisional)],
            Step.CGU: [_button_handler("cgu", _on_cgu)],
            Step.RECOVERY: [_button_handler("rec", _on_recovery)],
            Step.EMAIL: [MessageHandler(text, on_email), email_buttons],
            Step.EMAIL_CONFIRM: [email_buttons],
            Step.CODE: [MessageHandler(text, on_code), email_buttons],
            Step.QUESTION1: [question_buttons],
            Step.ANSWER1: [MessageHandler(text, on_answer)],
            Step.QUESTION2: [question_buttons],
            Step.ANSWER2: [MessageHandler(text, on_answer)],
            Step.PASSWORD: [MessageHandler(text, on_password)],
            Step.PASSWORD_CONFIRM: [MessageHandler(text, on_password_confirmation)],
        },
        fallbacks=[
            start_with_payload,
            start,
            activer,
            CommandHandler("aide", on_help, filters=private),
            CommandHandler("annuler", on_cancel, filters=private),
            CallbackQueryHandler(on_resume_or_restart, pattern=r"^(resume|restart):go:"),
            CallbackQueryHandler(on_stale_button),
            MessageHandler(private, on_unexpected),
        ],
        allow_reentry=True,
    )
