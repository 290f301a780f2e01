"""« Mot de passe oublié » (/motdepasse, or the button of /start): its states and handlers.

Registered in :mod:`conversations.flows`; the rules live in
:class:`bot.procedures.recovery.RecoveryService`.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot import texts
from bot.procedures.description import Description
from bot.procedures.kernel import Outcome
from bot.procedures.recovery import (
    DESCRIPTION,
    RecoveryService,
    RecoveryStep,
    prompt,
    resend_choices,
    rule_choices,
)
from bot.texts import ldap as ldap_texts
from conversations.common import (
    END,
    State,
    button_handler,
    mark_choice,
    markup_of,
    read_secret,
    recovery_service,
    refuse_typed,
    reprompt,
    screened,
    send,
    show_prompts,
    verify_link_then_show,
    with_session,
)
from conversations.context import BotContext
from conversations.router import Procedure
from storage.sessions import ConversationSession


async def show_step(
    update: Update,
    svc: RecoveryService,
    session: ConversationSession,
    intro: str = "",
    *,
    full: bool = True,
) -> State:
    """Send the prompt of the session's step and return the step."""
    return await show_prompts(update, prompt(svc, session), session, intro)


async def show_current(
    update: Update,
    context: BotContext,
    session: ConversationSession,
    intro: str,
    full: bool,
) -> State:
    """The recovery's way to show its current step (registered in :mod:`conversations.flows`)."""
    return await show_step(update, recovery_service(context), session, intro, full=full)


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
        resend = markup_of(resend_choices(), session.prompt_nonce)
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
        rule = markup_of(rule_choices(), session.prompt_nonce)
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


def procedure(description: Description = DESCRIPTION) -> Procedure:
    """« Mot de passe oublié » in Telegram: its description and its handlers."""
    return Procedure(description, states(), show_current, on_link=on_link)


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
