"""The activation in Telegram: its own parts only.

Its steps are read by the handlers every procedure shares (:mod:`conversations.steps`), from
its description (:data:`bot.procedures.activation.DESCRIPTION`); here are what only Telegram
does for it: /start (the welcome, a payload: a letter's QR code or an e-mail's link), the
« Reprendre / Tout recommencer » buttons, the address typed with its progress message edited
into the outcome of the send.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, MessageHandler, filters

from bot import texts
from bot.procedures.activation import (
    DESCRIPTION,
    START_PAYLOAD_LETTER,
    ActivationService,
    Step,
    change_identifiant_choices,
    code_choices,
    email_sent_text,
    establishment_of_payload,
    prompt,
)
from bot.procedures.description import Description
from bot.procedures.kernel import Outcome, Result
from conversations.buttons import parse_button
from conversations.common import (
    State,
    ask_before_replacing,
    begin,
    button_handler,
    current_session,
    edit_or_send,
    entry_handler,
    keyboard,
    mark_choice,
    markup_of,
    on_email_button,
    on_stale_button,
    refuse_typed,
    render_link_failure,
    send,
    service,
    show_current_step,
    show_prompts,
    stuck_markup,
    text_of,
    verify_link_then_show,
    with_session,
)
from conversations.context import BotContext
from conversations.router import Procedure
from conversations.steps import telegram_procedure
from storage.sessions import ConversationSession

logger = logging.getLogger(__name__)

# --- what the person sees (the procedure's prompts, rendered) ---------------------------------


def change_identifiant_keyboard(nonce: str) -> InlineKeyboardMarkup | None:
    """The way back from the provisional password to the identifier."""
    return markup_of(change_identifiant_choices(), nonce)


def _code_keyboard(nonce: str) -> InlineKeyboardMarkup | None:
    return markup_of(code_choices(), nonce)


async def show_step(
    update: Update,
    svc: ActivationService,
    session: ConversationSession,
    intro: str = "",
    *,
    full: bool = True,
) -> str:
    """Send the prompt of the session's step (with ``intro`` before it) and return the step."""
    return await show_prompts(update, prompt(svc, session, full=full), session, intro)


# --- entry points ---------------------------------------------------------------------------


async def on_start(update: Update, context: BotContext) -> State | None:
    """/start: welcome and profiles; in the middle of a procedure, offer to resume."""
    kept = await ask_before_replacing(update, context, "profil")
    if kept is not None:
        return kept
    return await _begin(update, context, Step.PROFILE)


async def _begin(update: Update, context: BotContext, step: Step) -> State | None:
    """A new activation at ``step`` (replacing any open procedure)."""
    svc = service(context)
    user, chat = update.effective_user, update.effective_chat
    assert user and chat
    session = await svc.begin(user.id, chat.id, step)
    return await show_step(update, svc, session)


async def on_start_with_payload(update: Update, context: BotContext) -> State | None:
    """/start <token>: a payload that stands for an entry command (``/start activer``, the link
    of staff letters, is /activer), a letter's QR code, or the link of an e-mail, handled by the
    procedure whose session sent it."""
    token = (context.args or [""])[0]
    uai = establishment_of_payload(token)
    if uai is not None:
        return await on_establishment_link(update, context, uai)
    entry = context.procedures.registry.entry_of_payload(token)
    if entry is not None:
        command, description = entry
        return await entry_handler(command, description.name)(update, context)
    if token.startswith(START_PAYLOAD_LETTER):
        return await on_letter(update, context, token)
    flow = await service(context).flow_of_link(token)
    procedure = context.procedures.get(flow) if flow else None
    if procedure is None or procedure.on_link is None:
        return await render_link_failure(update, context, Result(Outcome.INVALID))
    return await procedure.on_link(update, context, token)


async def on_establishment_link(update: Update, context: BotContext, uai: str) -> State | None:
    """``/start activer_<UAI>`` (a region's letter): /activer, with the school's name first
    and its content until the account is known."""
    kept = await ask_before_replacing(update, context, "activer")
    if kept is not None:
        return kept
    svc = service(context)
    user, chat = update.effective_user, update.effective_chat
    assert user and chat
    session = await svc.begin_in_establishment(user.id, chat.id, uai)
    return await show_step(
        update, svc, session, texts.establishment_intro(svc.ports.school_for(session))
    )


async def on_letter(update: Update, context: BotContext, token: str) -> State | None:
    """A letter's QR code: straight to that letter's provisional password (over a procedure in
    progress, the user is asked first)."""
    kept = await ask_before_replacing(update, context, "activer")
    if kept is not None:
        return kept
    svc = service(context)
    user, chat = update.effective_user, update.effective_chat
    assert user and chat
    session, result = await svc.begin_from_letter(user.id, chat.id, token)
    if result.outcome != Outcome.OK or result.account is None:
        return await show_step(update, svc, session, texts.LETTER_LINK_UNKNOWN)
    text = texts.letter_recognised(result.account.identifiant)
    nonce = session.prompt_nonce
    await send(update, text, stuck_markup(change_identifiant_keyboard(nonce), nonce))
    return session.step


async def on_link(update: Update, context: BotContext, token: str) -> State | None:
    """The link of the activation's e-mail: the address is verified."""
    return await verify_link_then_show(
        update, context, service(context), token, texts.EMAIL_VERIFIED
    )


async def on_resume_or_restart(update: Update, context: BotContext) -> State | None:
    """The buttons of the « resume or restart » question (any procedure)."""
    query = update.callback_query
    assert query is not None
    session = await current_session(update, context)
    data = parse_button(query.data)
    if session is None or data is None or data.nonce != session.prompt_nonce:
        return await on_stale_button(update, context)
    await query.answer()
    await mark_choice(query)
    if data.prefix == "restart":
        entry = context.procedures.registry.command(data.arg)
        if entry is None:  # « profil »: /start
            return await _begin(update, context, Step.PROFILE)
        command, description = entry
        return await begin(update, context, description.name, command.step)
    return await show_current_step(update, context, session, full=True)


# --- the address and its e-mail ------------------------------------------------------------


@with_session(service)
async def on_email(
    update: Update,
    context: BotContext,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """The personal e-mail address: checked, then sent to at once (one that looks like a typo
    is shown back with the likely one first)."""
    typed = text_of(update)
    result = await svc.submit_email(session, typed)
    if result.outcome == Outcome.INVALID:
        choices = keyboard(
            [[(texts.BUTTON_SWITCH_TO_QUESTIONS, "em:questions")]], session.prompt_nonce
        )
        return await refuse_typed(update, context, session, typed, texts.EMAIL_INVALID, choices)
    if result.outcome == Outcome.DOMAIN_REFUSED:
        choices = keyboard(
            [[(texts.BUTTON_SWITCH_TO_QUESTIONS, "em:questions")]], session.prompt_nonce
        )
        return await refuse_typed(
            update, context, session, typed, texts.EMAIL_DOMAIN_REFUSED, choices
        )
    if session.step == Step.EMAIL_CONFIRM:
        return await show_step(update, svc, session)
    progress = await send(update, texts.EMAIL_SENDING)
    sent = await svc.send_verification(session, context.bot.username)
    return await _render_sending(update, svc, session, sent, progress)


async def _on_email_button(
    update: Update,
    context: BotContext,
    svc: ActivationService,
    session: ConversationSession,
    action: str,
) -> State | None:
    if action == "questions":
        await mark_choice(update.callback_query)
        await svc.choose_questions(session)
        return await show_step(update, svc, session)
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
    svc: ActivationService,
    session: ConversationSession,
    result: Result,
    progress: Message | None,
) -> State | None:
    if result.outcome in (Outcome.SENT, Outcome.QUEUED):
        text = email_sent_text(svc, session)
        if result.outcome == Outcome.QUEUED:
            hours = round(svc.ports.settings.verification_ttl.total_seconds() / 3600)
            text = texts.email_queued(session.email or "", svc.ports.settings.code_length, hours)
        markup = stuck_markup(_code_keyboard(session.prompt_nonce), session.prompt_nonce)
        await edit_or_send(update, progress, text, markup)
        return Step.CODE
    if result.outcome == Outcome.EXPIRED:
        await edit_or_send(update, progress, texts.VERIFICATION_EXPIRED.strip())
        return await show_step(update, svc, session)
    if session.step != Step.CODE:  # the address was not sent to: show its buttons again
        if result.outcome == Outcome.TOO_SOON and result.retry_after is not None:
            await edit_or_send(update, progress, texts.resend_too_soon(result.retry_after))
        else:
            await edit_or_send(update, progress, texts.RESEND_LIMIT)
        return await show_step(update, svc, session)
    markup = stuck_markup(None, session.prompt_nonce)
    if result.outcome == Outcome.TOO_SOON and result.retry_after is not None:
        await edit_or_send(update, progress, texts.resend_too_soon(result.retry_after), markup)
    else:
        await edit_or_send(update, progress, texts.RESEND_LIMIT, markup)
    return Step(session.step)


def procedure(description: Description = DESCRIPTION) -> Procedure:
    """The activation in Telegram: its description, with its own parts (the address and its
    progress message)."""
    text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    email_buttons = button_handler("em", service, _on_email_button)
    own: dict[str, list[BaseHandler[Any, Any, Any]]] = {
        Step.EMAIL: [MessageHandler(text, on_email), email_buttons],
        Step.EMAIL_CONFIRM: [email_buttons],
        Step.CODE: [email_buttons],
    }
    return telegram_procedure(description, own=own, on_link=on_link)
