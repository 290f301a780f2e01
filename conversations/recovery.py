"""« Mot de passe oublié » (/motdepasse, or the button of /start): its states and handlers.

Registered in :mod:`conversations.flows`; the rules live in
:class:`bot.procedures.recovery.RecoveryService`.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot import texts
from bot.procedures.kernel import Outcome
from bot.procedures.recovery import FLOW_RECOVERY, RecoveryService, RecoveryStep
from bot.texts import ldap as ldap_texts
from conversations.common import (
    END,
    State,
    ask_before_replacing,
    button_handler,
    keyboard,
    mark_choice,
    read_secret,
    recovery_service,
    refuse_typed,
    reprompt,
    screened,
    send,
    verify_link_then_show,
    with_session,
    with_stuck,
)
from conversations.context import BotContext
from conversations.router import Procedure
from storage.sessions import ConversationSession


def prompt(
    svc: RecoveryService, session: ConversationSession, *, full: bool = True
) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """The message that asks for what the current recovery step needs."""
    step, nonce = session.step, session.prompt_nonce
    if step == RecoveryStep.IDENTIFIANT:
        return [(texts.RECOVERY_ASK_IDENTIFIANT, None)]
    if step == RecoveryStep.METHOD:
        buttons = [
            [(texts.BUTTON_RECOVER_BY_EMAIL, "mdp:email")],
            [(texts.BUTTON_RECOVER_BY_QUESTIONS, "mdp:questions")],
        ]
        return [(texts.RECOVERY_CHOOSE_METHOD, keyboard(buttons, nonce))]
    if step == RecoveryStep.CODE:
        hours = round(svc.ports.settings.verification_ttl.total_seconds() / 3600)
        resend = keyboard([[(texts.BUTTON_EMAIL_RESEND, "mdp:email")]], nonce)
        return [(texts.recovery_code_sent(svc.ports.settings.code_length, hours), resend)]
    if step in (RecoveryStep.ANSWER1, RecoveryStep.ANSWER2):
        question = session.question1 if step == RecoveryStep.ANSWER1 else session.question2
        return [(texts.ask_answer(question or ""), None)]
    if step == RecoveryStep.PASSWORD:
        rule = keyboard([[(texts.BUTTON_FULL_PASSWORD_RULE, "pw:rule")]], session.prompt_nonce)
        return [(texts.recovery_password_rules(svc.ports.password_policy), rule)]
    return [(texts.ASK_PASSWORD_CONFIRMATION, None)]


async def show_step(
    update: Update,
    svc: RecoveryService,
    session: ConversationSession,
    intro: str = "",
    *,
    full: bool = True,
) -> State:
    """Send the prompt of the session's step and return the step."""
    messages = with_stuck(prompt(svc, session, full=full), session.prompt_nonce)
    first_text, first_markup = messages[0]
    messages[0] = (intro + first_text, first_markup)
    for text, markup in messages:
        await send(update, text, markup)
    return session.step


async def show_current(
    update: Update,
    context: BotContext,
    session: ConversationSession,
    intro: str,
    full: bool,
) -> State:
    """The recovery's way to show its current step (registered in :mod:`conversations.flows`)."""
    return await show_step(update, recovery_service(context), session, intro, full=full)


async def start_recovery(update: Update, context: BotContext) -> State:
    """/motdepasse (over a procedure in progress, the user is asked first)."""
    kept = await ask_before_replacing(update, context, "motdepasse")
    if kept is not None:
        return kept
    return await begin_recovery(update, context)


async def begin_recovery(update: Update, context: BotContext) -> State:
    """A new recovery at the identifier (replacing any open procedure)."""
    svc = recovery_service(context)
    user, chat = update.effective_user, update.effective_chat
    assert user and chat
    session = await svc.start(user.id, chat.id)
    return await show_step(update, svc, session)


@with_session(recovery_service)
async def on_identifiant(
    update: Update,
    context: BotContext,
    svc: RecoveryService,
    session: ConversationSession,
) -> State:
    """The identifier."""
    # Deleted like a secret (a password typed here by mistake must not stay).
    typed = await read_secret(update, svc.steps, session, tell=True)
    result = await svc.submit_recovery_identifiant(session, typed)
    if result.outcome == Outcome.INVALID:
        return await refuse_typed(
            update, context, session, typed, texts.IDENTIFIANT_INVALID, deleted=True
        )
    return await show_step(update, svc, session)


async def _on_method(
    update: Update,
    context: BotContext,
    svc: RecoveryService,
    session: ConversationSession,
    choice: str,
) -> State:
    await mark_choice(update.callback_query)
    if choice == "email":
        result = await svc.choose_email_method(session, context.bot.username)
    else:
        result = await svc.choose_questions_method(session)
    if result.outcome == Outcome.TOO_MANY_IDENTIFIANTS:
        await send(update, texts.TOO_MANY_IDENTIFIANTS)
        return END
    if result.outcome == Outcome.TOO_SOON and result.retry_after is not None:
        await reprompt(update, session, texts.resend_too_soon(result.retry_after))
        return session.step
    if result.outcome == Outcome.RESEND_LIMIT:
        await reprompt(update, session, texts.RESEND_LIMIT)
        return session.step
    return await show_step(update, svc, session)


@with_session(recovery_service)
async def on_code(
    update: Update,
    context: BotContext,
    svc: RecoveryService,
    session: ConversationSession,
) -> State:
    """A code typed in the chat: deleted, then checked."""
    text = await read_secret(update, svc.steps, session)
    result = await svc.submit_recovery_code(session, text)
    if result.outcome == Outcome.OK:
        return await show_step(update, svc, session, texts.RECOVERY_VERIFIED)
    if result.outcome == Outcome.EXPIRED:
        await send(update, texts.RECOVERY_CODE_EXPIRED)
        return await show_step(update, svc, session)
    if result.outcome == Outcome.INVALID:
        length = svc.ports.settings.code_length
        refusal = texts.CODE_FORMAT.format(length=length)
        resend = keyboard([[(texts.BUTTON_EMAIL_RESEND, "mdp:email")]], session.prompt_nonce)
        return await refuse_typed(update, context, session, text, refusal, resend, deleted=True)
    if result.outcome == Outcome.LOCKED:
        await reprompt(update, session, texts.CODE_LOCKED)
    elif result.retry_after is not None:
        await reprompt(update, session, texts.wait_before_retry(result.retry_after))
    else:
        await reprompt(update, session, texts.CODE_WRONG)
    return session.step


@screened(recovery_service)
@with_session(recovery_service)
async def on_answer(
    update: Update,
    context: BotContext,
    svc: RecoveryService,
    session: ConversationSession,
) -> State:
    """An answer: deleted, checked (the verdict comes after both)."""
    text = await read_secret(update, svc.steps, session)
    result = await svc.submit_recovery_answer(session, text)
    if result.outcome == Outcome.WRONG:
        await send(update, texts.RECOVERY_ANSWERS_WRONG)
        return await show_step(update, svc, session)
    if result.outcome == Outcome.WAIT and result.retry_after is not None:
        await send(update, texts.recovery_answers_wait(result.retry_after))
        return await show_step(update, svc, session)
    intro = texts.RECOVERY_VERIFIED if session.step == RecoveryStep.PASSWORD else ""
    return await show_step(update, svc, session, intro)


@screened(recovery_service)
@with_session(recovery_service)
async def on_password(
    update: Update,
    context: BotContext,
    svc: RecoveryService,
    session: ConversationSession,
) -> State:
    """The new password: deleted, checked, hashed."""
    password = await read_secret(update, svc.steps, session)
    result = await svc.submit_recovery_password(session, password)
    if result.outcome == Outcome.REFUSED:
        # A thank-you or a question refused anyway gets a word that fits it; a refusal keeps
        # « Voir la règle complète » on the newest message.
        refused = texts.password_refused(result.rules, svc.ports.password_policy)
        rule = keyboard([[(texts.BUTTON_FULL_PASSWORD_RULE, "pw:rule")]], session.prompt_nonce)
        return await refuse_typed(update, context, session, password, refused, rule, deleted=True)
    if result.outcome == Outcome.INVALID:
        await send(update, texts.RECOVERY_FAILED)
        return END
    return await show_step(update, svc, session)


@with_session(recovery_service)
async def on_password_confirmation(
    update: Update,
    context: BotContext,
    svc: RecoveryService,
    session: ConversationSession,
) -> State:
    """The new password again: it replaces the old one."""
    password = await read_secret(update, svc.steps, session)
    result = await svc.confirm_recovery_password(session, password)
    if result.outcome == Outcome.MISMATCH:
        await reprompt(update, session, texts.PASSWORD_MISMATCH)
        return session.step
    if result.outcome == Outcome.ACTIVATED:
        await send(update, texts.RECOVERY_DONE)
        return END
    if result.outcome == Outcome.DIRECTORY_REFUSED and result.directory_rule:
        refused = ldap_texts.directory_password_refused(result.directory_rule)
        await reprompt(update, session, refused)
        return session.step
    await send(update, texts.RECOVERY_FAILED)
    return END


async def on_link(update: Update, context: BotContext, token: str) -> State | None:
    """The link of the recovery e-mail: the code is proven, on to the new password."""
    return await verify_link_then_show(
        update, context, recovery_service(context), token, texts.RECOVERY_VERIFIED
    )


def procedure() -> Procedure:
    """« Mot de passe oublié », for the registry of :mod:`conversations.flows`."""
    return Procedure(
        FLOW_RECOVERY,
        states(),
        show_current,
        on_link=on_link,
        staff_labels=texts.STAFF_STEPS_RECOVERY,
        fresh_steps=frozenset({RecoveryStep.IDENTIFIANT}),
        secret_steps=frozenset(
            {
                RecoveryStep.IDENTIFIANT,
                RecoveryStep.CODE,
                RecoveryStep.ANSWER1,
                RecoveryStep.ANSWER2,
                RecoveryStep.PASSWORD,
                RecoveryStep.PASSWORD_CONFIRM,
            }
        ),
    )


def states() -> dict[str, list[BaseHandler[Any, Any, Any]]]:
    """The recovery's steps and their handlers."""
    text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    method_buttons: CallbackQueryHandler[BotContext, State | None] = button_handler(
        "mdp", recovery_service, _on_method
    )
    return {
        RecoveryStep.IDENTIFIANT: [MessageHandler(text, on_identifiant)],
        RecoveryStep.METHOD: [method_buttons],
        RecoveryStep.CODE: [MessageHandler(text, on_code), method_buttons],
        RecoveryStep.ANSWER1: [MessageHandler(text, on_answer)],
        RecoveryStep.ANSWER2: [MessageHandler(text, on_answer)],
        RecoveryStep.PASSWORD: [
            MessageHandler(text, on_password),
            button_handler("pw", recovery_service, _on_full_rule),
        ],
        RecoveryStep.PASSWORD_CONFIRM: [MessageHandler(text, on_password_confirmation)],
    }


async def _on_full_rule(
    update: Update,
    context: BotContext,
    svc: RecoveryService,
    session: ConversationSession,
    action: str,
) -> State | None:
    """« Voir la règle complète » at the new password (the step stays)."""
    rule = texts.password_rule_full(svc.ports.password_policy, after_provisional=False)
    await send(update, rule)
    return session.step
