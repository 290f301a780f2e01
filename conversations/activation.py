"""The activation conversation: its states (:class:`bot.procedures.activation.Step`) and handlers.

Handlers are thin: they read the update, call
:class:`bot.procedures.activation.ActivationService`, which saves the new step before anything
is sent, and render a text of :mod:`bot.texts`. The states are registered in
:mod:`conversations.flows`; the router sends each update to the handlers of the step saved in
the database, so a restarted bot resumes every chat.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, MessageHandler, filters

from bot import texts
from bot.outbox.mail import mask_email
from bot.procedures.activation import (
    DESCRIPTION,
    START_PAYLOAD_LETTER,
    ActivationService,
    Step,
    change_identifiant_choices,
    code_choices,
    email_sent_text,
    ent_choice,
    prompt,
)
from bot.procedures.description import Description
from bot.procedures.kernel import Outcome, Result
from bot.texts import ldap as ldap_texts
from conversations import recovery
from conversations.buttons import parse_button, small_int
from conversations.common import (
    END,
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
    read_secret,
    refuse_typed,
    render_link_failure,
    reprompt,
    screened,
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
from storage.sessions import ConversationSession

logger = logging.getLogger(__name__)

# Profiles offered on /start; the two staff profiles sign in elsewhere.
EXTERNAL_PROFILES = {
    "personnel_en": "personnel_education_nationale",
    "personnel_agri": "personnel_enseignement_agricole",
}


# --- what the person sees (the procedure's prompts, rendered) ---------------------------------


def ent_button(svc: ActivationService) -> InlineKeyboardMarkup | None:
    """A URL button that opens the ENT."""
    return markup_of(ent_choice(svc), "0")


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


async def show_current(
    update: Update,
    context: BotContext,
    session: ConversationSession,
    intro: str,
    full: bool,
) -> State:
    """The activation's way to show its current step (registered in :mod:`conversations.flows`)."""
    return await show_step(update, service(context), session, intro, full=full)


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


# --- step handlers --------------------------------------------------------------------------


async def _on_profile(
    update: Update,
    context: BotContext,
    svc: ActivationService,
    session: ConversationSession,
    profil: str,
) -> State | None:
    await mark_choice(update.callback_query)
    if profil in EXTERNAL_PROFILES:
        await svc.cancel(session.telegram_user_id)
        instructions = svc.ports.school.connexion_externe.get(
            EXTERNAL_PROFILES[profil], texts.EXTERNAL_PROFILE_DEFAULT
        )
        await send(update, texts.external_profile(svc.ports.school, instructions), ent_button(svc))
        return END
    if profil == "forgot":
        return await recovery.begin_recovery(update, context)
    if profil not in texts.BUTTON_PROFILES:
        return await show_step(update, svc, session)
    await svc.choose_profile(session, profil)
    return await show_step(update, svc, session)


@with_session(service)
async def on_identifiant(
    update: Update,
    context: BotContext,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """The identifier from the letter: deleted from the chat like a secret (a password typed
    here by mistake must not stay), then only its reference is kept."""
    typed = await read_secret(update, svc.steps, session, tell=True)
    result = await svc.submit_identifiant(session, typed)
    if result.outcome == Outcome.INVALID:
        return await refuse_typed(
            update, context, session, typed, texts.IDENTIFIANT_INVALID, deleted=True
        )
    return await show_step(update, svc, session)


@screened(service)
@with_session(service)
async def on_provisional(
    update: Update,
    context: BotContext,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """The provisional password: deleted from the chat, then checked."""
    password = await read_secret(update, svc.steps, session)
    result = await svc.submit_provisional(session, password)
    if result.outcome == Outcome.TOO_MANY_IDENTIFIANTS:
        await send(update, texts.TOO_MANY_IDENTIFIANTS)
        await svc.cancel(session.telegram_user_id)
        return END
    if result.outcome in (Outcome.REFUSED, Outcome.WAIT):
        text = (
            texts.chat_must_wait(result.retry_after)
            if result.outcome == Outcome.WAIT and result.retry_after is not None
            else texts.credentials_refused(svc.ports.settings.educonnect_url)
        )
        await reprompt(update, session, text, change_identifiant_keyboard(session.prompt_nonce))
        return Step.PROVISIONAL
    if result.outcome == Outcome.ALREADY_ACTIVE and result.account:
        text = texts.already_active(svc.ports.school, result.account.identifiant)
        await send(update, text, ent_button(svc))
        return END
    return await show_step(update, svc, session)


async def _on_full_rule(
    update: Update,
    context: BotContext,
    svc: ActivationService,
    session: ConversationSession,
    action: str,
) -> State | None:
    """« Voir la règle complète » at the password step (the step stays)."""
    await send(update, texts.password_rule_full(svc.ports.password_policy))
    return session.step


async def _on_change_identifiant(
    update: Update,
    context: BotContext,
    svc: ActivationService,
    session: ConversationSession,
    action: str,
) -> State | None:
    await mark_choice(update.callback_query)
    if action != "change":
        return await show_step(update, svc, session)
    await svc.change_identifiant(session)
    return await show_step(update, svc, session)


async def _on_cgu(
    update: Update,
    context: BotContext,
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
    buttons = keyboard([[(texts.BUTTON_CGU_READ_AGAIN, "cgu:again")]], session.prompt_nonce)
    await reprompt(update, session, texts.CGU_REFUSED, buttons)
    return Step.CGU


async def _on_recovery(
    update: Update,
    context: BotContext,
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


@with_session(service)
async def on_code(
    update: Update,
    context: BotContext,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """A code typed in the chat: deleted, then checked."""
    text = await read_secret(update, svc.steps, session)
    result = await svc.submit_code(session, text)
    if result.outcome == Outcome.OK:
        return await show_step(update, svc, session, texts.EMAIL_VERIFIED)
    if result.outcome == Outcome.EXPIRED:
        return await show_step(update, svc, session, texts.VERIFICATION_EXPIRED)
    if result.outcome == Outcome.INVALID:
        length = svc.ports.settings.code_length
        refusal = texts.CODE_FORMAT.format(length=length)
        choices = _code_keyboard(session.prompt_nonce)
        return await refuse_typed(update, context, session, text, refusal, choices, deleted=True)
    if result.outcome == Outcome.LOCKED:
        await reprompt(update, session, texts.CODE_LOCKED)
    elif result.retry_after is not None:
        await reprompt(update, session, texts.wait_before_retry(result.retry_after))
    else:
        await reprompt(update, session, texts.CODE_WRONG)
    return Step.CODE


async def _on_question(
    update: Update,
    context: BotContext,
    svc: ActivationService,
    session: ConversationSession,
    index: str,
) -> State | None:
    await mark_choice(update.callback_query)
    number = small_int(index)
    await svc.choose_question(session, -1 if number is None else number)
    return await show_step(update, svc, session)


@screened(service)
@with_session(service)
async def on_answer(
    update: Update,
    context: BotContext,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """An answer to a secret question (held back if it reads like a question)."""
    return await _answer(update, context, svc, session)


async def _answer(
    update: Update,
    context: BotContext,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """The answer to a secret question: deleted, normalised, hashed."""
    text = await read_secret(update, svc.steps, session)
    result = await svc.submit_answer(session, text)
    if result.outcome == Outcome.TOO_SHORT:
        await reprompt(update, session, texts.ANSWER_TOO_SHORT)
        return Step(session.step)
    if result.outcome == Outcome.TOO_LONG:
        await reprompt(update, session, texts.ANSWER_TOO_LONG)
        return Step(session.step)
    if result.outcome == Outcome.MISMATCH:
        return await show_step(update, svc, session, texts.ANSWERS_DIFFER)
    intro = texts.QUESTIONS_DONE if session.step == Step.PASSWORD else ""
    return await show_step(update, svc, session, intro)


@with_session(service)
async def on_answer_confirmation(
    update: Update,
    context: BotContext,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """The answer typed a second time: compared with the first (a question typed here is not
    held back: nothing is stored from it)."""
    return await _answer(update, context, svc, session)


@screened(service)
@with_session(service)
async def on_password(
    update: Update,
    context: BotContext,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """The new password: deleted, checked against the rule, hashed."""
    password = await read_secret(update, svc.steps, session)
    result = await svc.submit_password(session, password)
    if result.outcome == Outcome.REFUSED:
        # A thank-you or a question refused anyway gets a word that fits it; a refusal keeps
        # « Voir la règle complète » on the newest message.
        refused = texts.password_refused(result.rules, svc.ports.password_policy)
        rule = keyboard([[(texts.BUTTON_FULL_PASSWORD_RULE, "pw:rule")]], session.prompt_nonce)
        return await refuse_typed(update, context, session, password, refused, rule, deleted=True)
    return await show_step(update, svc, session)


@with_session(service)
async def on_password_confirmation(
    update: Update,
    context: BotContext,
    svc: ActivationService,
    session: ConversationSession,
) -> State | None:
    """The password typed again: the account is activated."""
    password = await read_secret(update, svc.steps, session)
    result = await svc.confirm_password(session, password)
    if result.outcome == Outcome.MISMATCH:
        await reprompt(update, session, texts.PASSWORD_MISMATCH)
        return Step.PASSWORD
    if result.outcome == Outcome.ACTIVATED and result.account:
        masked = mask_email(result.email) if result.email else None
        text = texts.activated(svc.ports.school, result.account.identifiant, masked)
        await send(update, text, ent_button(svc))
        return END
    if result.outcome == Outcome.TAKEN:
        await send(update, texts.ALREADY_ACTIVATED_ELSEWHERE)
        return END
    if result.outcome == Outcome.DIRECTORY_REFUSED and result.directory_rule:
        refused = ldap_texts.directory_password_refused(result.directory_rule)
        await reprompt(update, session, refused)
        return Step.PASSWORD
    return await show_step(update, svc, session)


def procedure(description: Description = DESCRIPTION) -> Procedure:
    """The activation in Telegram: its description and its handlers."""
    return Procedure(description, states(), show_current, on_link=on_link)


def states() -> dict[str, list[BaseHandler[Any, Any, Any]]]:
    """The activation's steps and their handlers."""
    text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    email_buttons = button_handler("em", service, _on_email_button)
    question_buttons = button_handler("q", service, _on_question)
    return {
        Step.PROFILE: [button_handler("p", service, _on_profile)],
        Step.IDENTIFIANT: [MessageHandler(text, on_identifiant)],
        Step.PROVISIONAL: [
            MessageHandler(text, on_provisional),
            button_handler("id", service, _on_change_identifiant),
        ],
        Step.CGU: [button_handler("cgu", service, _on_cgu)],
        Step.RECOVERY: [button_handler("rec", service, _on_recovery)],
        Step.EMAIL: [MessageHandler(text, on_email), email_buttons],
        Step.EMAIL_CONFIRM: [email_buttons],
        Step.CODE: [MessageHandler(text, on_code), email_buttons],
        Step.QUESTION1: [question_buttons],
        Step.ANSWER1: [MessageHandler(text, on_answer)],
        Step.ANSWER1_CONFIRM: [MessageHandler(text, on_answer_confirmation)],
        Step.QUESTION2: [question_buttons],
        Step.ANSWER2: [MessageHandler(text, on_answer)],
        Step.ANSWER2_CONFIRM: [MessageHandler(text, on_answer_confirmation)],
        Step.PASSWORD: [
            MessageHandler(text, on_password),
            button_handler("pw", service, _on_full_rule),
        ],
        Step.PASSWORD_CONFIRM: [MessageHandler(text, on_password_confirmation)],
    }
