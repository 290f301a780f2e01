"""One set of Telegram handlers per kind of input, for every procedure: a text (read as a
secret and deleted at once where the step's input is secret), a choice (a button of the
current prompt only). They call the procedure's service through
:class:`bot.procedures.reply.StepService` and say its :class:`bot.procedures.reply.Reply`.

A procedure is registered in Telegram from its description alone
(:func:`telegram_procedure`); a procedure with parts of its own in Telegram (the e-mail
address with its progress message, a letter's QR code) gives their handlers, tried first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.procedures.description import Description, StepSpec
from bot.procedures.reply import Reply, StepService, Via
from bot.procedures.view import InputKind
from conversations.common import (
    END,
    State,
    begin,
    button_handler,
    mark_choice,
    markup_of,
    read_secret,
    refuse_typed,
    reprompt,
    screened,
    send,
    show_current_step,
    show_prompts,
    text_of,
    with_session,
)
from conversations.context import BotContext
from conversations.router import LinkHandler, Procedure, StepShower
from storage.sessions import ConversationSession

# What a typed step reads: a text in a private chat, not a command.
TYPED = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
TYPED_INPUTS = (InputKind.TEXT, InputKind.SECRET, InputKind.EMAIL_LINK)


def service_of(flow: str) -> Callable[[BotContext], Any]:
    """How a handler finds the service of the procedure ``flow``."""

    def get(context: BotContext) -> Any:
        return context.services.by_flow[flow]

    return get


def via(context: BotContext) -> Via:
    """Telegram, as a procedure sees it (its e-mails link back to this bot)."""
    return Via(context.bot.username)


async def say(
    update: Update,
    context: BotContext,
    session: ConversationSession,
    reply: Reply,
    *,
    typed: str = "",
    deleted: bool = False,
) -> State:
    """Say ``reply`` in the chat (see :class:`Reply` for the order)."""
    nonce = session.prompt_nonce
    if reply.say:
        await send(update, reply.say, markup_of(reply.say_rows, nonce))
    if reply.begin is not None:
        return await begin(update, context, *reply.begin)
    if reply.done:
        return END
    if reply.refusal:
        markup = markup_of(reply.rows, nonce)
        if reply.fitting:
            return await refuse_typed(
                update, context, session, typed, reply.refusal, markup, deleted=deleted
            )
        await reprompt(update, session, reply.refusal, markup)
        return session.step
    if not reply.show:
        return session.step
    return await show_current_step(update, context, session, reply.intro, full=True)


def text_handler(description: Description, step: StepSpec) -> MessageHandler[Any, Any]:
    """A text typed at ``step``: a secret is deleted first (the person is told so at the
    procedure's first secret step) and, at a screened step, held back if it reads like a
    question."""
    get = service_of(description.name)
    tell = step.name == description.first_secret_step

    async def on_text(
        update: Update, context: BotContext, svc: StepService, session: ConversationSession
    ) -> State:
        if step.input.secret:
            typed = await read_secret(update, svc.steps, session, tell=tell)
        else:
            typed = text_of(update)
        reply = await svc.submit_text(session, typed, via(context))
        return await say(update, context, session, reply, typed=typed, deleted=step.input.secret)

    handler = with_session(get)(on_text)
    return MessageHandler(TYPED, screened(get)(handler) if step.screen else handler)


def choice_handler(description: Description, prefix: str) -> CallbackQueryHandler[Any, Any]:
    """A button ``prefix:arg`` of the current prompt (others get the stale answer): marked as
    chosen unless the step keeps its choices where they are."""

    async def on_choice(
        update: Update,
        context: BotContext,
        svc: StepService,
        session: ConversationSession,
        arg: str,
    ) -> State:
        reply = await svc.choose(session, f"{prefix}:{arg}", via(context))
        if reply.show or reply.done or reply.refusal or reply.begin is not None:
            await mark_choice(update.callback_query)
        return await say(update, context, session, reply)

    return button_handler(prefix, service_of(description.name), on_choice)


def shower(description: Description) -> StepShower:
    """How any procedure shows its current step again: its prompts, rendered."""

    async def show_current(
        update: Update, context: BotContext, session: ConversationSession, intro: str, full: bool
    ) -> State:
        svc = context.services.by_flow[description.name]
        return await show_prompts(update, description.prompt(svc, session, full), session, intro)

    return show_current


def _handles(handlers: Sequence[BaseHandler[Any, Any, Any]], prefix: str) -> bool:
    """Whether one of a step's own handlers takes the buttons ``prefix:…``."""
    for handler in handlers:
        if not isinstance(handler, CallbackQueryHandler):
            continue
        pattern = handler.pattern
        if isinstance(pattern, re.Pattern) and pattern.match(f"{prefix}:x:0"):
            return True
    return False


def telegram_procedure(
    description: Description,
    *,
    own: Mapping[str, Sequence[BaseHandler[Any, Any, Any]]] | None = None,
    entry_points: Sequence[BaseHandler[Any, Any, Any]] = (),
    on_link: LinkHandler | None = None,
) -> Procedure:
    """A procedure in Telegram from its description: each step's own handlers (``own``)
    first, then one handler per kind of input it takes and per prefix of its choices."""
    own = own or {}
    states: dict[str, list[BaseHandler[Any, Any, Any]]] = {}
    for step in description.steps:
        handlers = list(own.get(step.name, ()))
        typed_here = any(isinstance(handler, MessageHandler) for handler in handlers)
        if step.input in TYPED_INPUTS and not typed_here:
            handlers.append(text_handler(description, step))
        for prefix in step.choices:
            if not _handles(handlers, prefix):
                handlers.append(choice_handler(description, prefix))
        states[step.name] = handlers
    return Procedure(description, states, shower(description), entry_points, on_link)
