"""What every conversation shares: sending, secret-message removal, help outside a procedure."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ConversationHandler

from bot import texts
from bot.outbox.worker import outbox_of
from bot.procedures.activation import ActivationService
from bot.procedures.description import EntryCommand
from bot.procedures.kernel import (
    EmailProcedure,
    Outcome,
    ProcedureService,
    Result,
    Steps,
    is_secret_before,
    secret_before,
)
from bot.procedures.parts.secret_screen import (
    SecretScreen,
    could_be_a_secret,
    looks_like_a_password,
    reading_of,
)
from bot.procedures.recovery import RecoveryService
from bot.procedures.view import LinkChoice, Prompt, Row
from bot.school import SchoolConfig
from bot.services import services_of
from bot.texts import support as support_texts
from conversations.buttons import parse_button
from conversations.context import BotContext
from storage.sessions import ConversationSession

if TYPE_CHECKING:
    from bot.services import BotServices

logger = logging.getLogger(__name__)


END = ConversationHandler.END
State = str | int
SessionHandler = Callable[[Update, BotContext, Any, ConversationSession], Awaitable[State | None]]
ButtonHandler = Callable[
    [Update, BotContext, Any, ConversationSession, str], Awaitable[State | None]
]
Handler = Callable[[Update, BotContext], Coroutine[Any, Any, State | None]]


def services(application: Application[Any, Any, Any, Any, Any, Any]) -> BotServices:
    """The services of this application (opened at start-up)."""
    return services_of(application)


def service(context: BotContext) -> ActivationService:
    """The activation service of this application (opened at start-up)."""
    return context.services.activation


def recovery_service(context: BotContext) -> RecoveryService:
    """The password-recovery service of this application."""
    return context.services.recovery


def button(label: str, action: str, nonce: str) -> InlineKeyboardButton:
    """A button whose data carries the prompt's nonce: once the step moves on, it is stale."""
    return InlineKeyboardButton(label, callback_data=f"{action}:{nonce}")


def keyboard(rows: Sequence[Sequence[tuple[str, str]]], nonce: str) -> InlineKeyboardMarkup:
    """Inline keyboard of (label, action) rows, all carrying ``nonce``."""
    return InlineKeyboardMarkup([[button(label, a, nonce) for label, a in row] for row in rows])


def markup_of(rows: Sequence[Row], nonce: str) -> InlineKeyboardMarkup | None:
    """A prompt's choices as an inline keyboard: a :class:`Choice` is a button whose data
    carries ``nonce``, a :class:`LinkChoice` opens its address; None without a choice."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(c.label, url=c.url)
                if isinstance(c, LinkChoice)
                else button(c.label, c.action, nonce)
                for c in row
            ]
            for row in rows
        ]
    )


def render(prompts: Sequence[Prompt], nonce: str) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """A step's prompts as Telegram messages, the last one ending with « 🆘 Je bloque »."""
    return with_stuck([(p.text, markup_of(p.rows, nonce)) for p in prompts], nonce)


async def show_prompts(
    update: Update, prompts: Sequence[Prompt], session: ConversationSession, intro: str = ""
) -> str:
    """Send a step's prompts (``intro`` before the first) and return the step."""
    if intro and prompts:
        prompts = [prompts[0].with_intro(intro), *prompts[1:]]
    for text, markup in render(prompts, session.prompt_nonce):
        await send(update, text, markup)
    return session.step


def stuck_row() -> list[tuple[str, str]]:
    """The « 🆘 Je bloque » row (:mod:`conversations.support`)."""
    return [(support_texts.BUTTON_STUCK, "sos:open")]


def with_stuck(
    messages: list[tuple[str, InlineKeyboardMarkup | None]], nonce: str
) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """A procedure's prompt messages, the last one ending with « 🆘 Je bloque »."""
    if not messages:
        return messages
    text, markup = messages[-1]
    rows = list(markup.inline_keyboard) if markup is not None else []
    rows.append(tuple(button(label, action, nonce) for label, action in stuck_row()))
    return [*messages[:-1], (text, InlineKeyboardMarkup(rows))]


def stuck_markup(markup: InlineKeyboardMarkup | None, nonce: str | None) -> InlineKeyboardMarkup:
    """``markup`` (or none) with the « 🆘 Je bloque » row under it."""
    [(_, marked)] = with_stuck([("", markup)], nonce or "0")
    assert marked is not None
    return marked


async def reprompt(
    update: Update,
    session: ConversationSession,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """A re-ask inside a procedure (a refusal, the step stays): with « 🆘 Je bloque » like
    every prompt of its ``show_step``."""
    return await send(update, text, stuck_markup(markup, session.prompt_nonce))


def text_of(update: Update) -> str:
    """The text of the update's message ('' if none)."""
    message = update.effective_message
    return message.text if message and message.text else ""


def with_session(
    get_service: Callable[[BotContext], ProcedureService],
) -> Callable[[SessionHandler], Handler]:
    """Give the handler the user's session of the service's procedure; without one (purged,
    cancelled, another procedure begun), the conversation ends with a word of explanation."""

    def decorate(handler: SessionHandler) -> Handler:
        async def wrapped(update: Update, context: BotContext) -> State | None:
            svc = get_service(context)
            user = update.effective_user
            session = await svc.session_of(user.id) if user else None
            if session is None:
                if update.callback_query:
                    await update.callback_query.answer(texts.STALE_BUTTON)
                await send(update, texts.OUTSIDE_FLOW)
                return END
            return await handler(update, context, svc, session)

        return wrapped

    return decorate


def button_handler(
    prefix: str,
    get_service: Callable[[BotContext], ProcedureService],
    handler: ButtonHandler,
) -> CallbackQueryHandler[BotContext, State | None]:
    """Buttons ``prefix:arg:nonce`` of the current prompt only; others get the stale answer."""

    async def guarded(
        update: Update,
        context: BotContext,
        svc: Any,
        session: ConversationSession,
    ) -> State | None:
        query = update.callback_query
        assert query is not None
        data = parse_button(query.data)
        if data is None or data.nonce != session.prompt_nonce:
            return await on_stale_button(update, context)
        await query.answer()
        return await handler(update, context, svc, session, data.arg)

    return CallbackQueryHandler(with_session(get_service)(guarded), pattern=rf"^{prefix}:")


def screened(
    get_service: Callable[[BotContext], ProcedureService],
) -> Callable[[Handler], Handler]:
    """For a step that takes a secret: a message that reads like a question, a call for help or
    a thank-you is deleted and not taken as the secret, with a word that fits it; the user says
    whether it really was it (:class:`bot.procedures.parts.secret_screen.SecretScreen`)."""

    def decorate(handler: Handler) -> Handler:
        async def wrapped(update: Update, context: BotContext) -> State | None:
            svc = get_service(context)
            user = update.effective_user
            session = await svc.session_of(user.id) if user else None
            if session is not None and await SecretScreen(svc.steps).holds_back(
                session, text_of(update)
            ):
                await remove_secret_message(update)
                # Help is reprompt's « 🆘 Je bloque », the same button as under every prompt.
                buttons = keyboard(
                    [[(texts.BUTTON_SECRET_IT_WAS, "sec:yes")]], session.prompt_nonce
                )
                reading = reading_of(text_of(update))
                held = texts.SECRET_HELD_BACK.get(
                    reading.value if reading else "", texts.SECRET_LOOKS_LIKE_A_QUESTION
                )
                await reprompt(update, session, held, buttons)
                return session.step
            return await handler(update, context)

        return wrapped

    return decorate


async def on_secret_check(update: Update, context: BotContext) -> State | None:
    """The buttons of :func:`screened`: it really was the secret (type it again, it will be
    taken as it is), or help."""
    query = update.callback_query
    assert query is not None
    session = await current_session(update, context)
    data = parse_button(query.data)
    if session is None or data is None or data.nonce != session.prompt_nonce:
        return await on_stale_button(update, context)
    await query.answer()
    await mark_choice(query)
    if data.arg == "help":  # « J'ai besoin d'aide », only on messages sent by older versions
        return await on_help(update, context)
    await SecretScreen(Steps(context.services.ports, session.flow)).take_next(session)
    await reprompt(update, session, texts.SECRET_TYPE_AGAIN)
    return session.step


# --- the current step of any procedure --------------------------------------------------------


async def current_session(update: Update, context: BotContext) -> ConversationSession | None:
    """The user's open session, whatever the procedure."""
    user = update.effective_user
    return await service(context).ports.sessions.get(user.id) if user else None


async def show_current_step(
    update: Update,
    context: BotContext,
    session: ConversationSession,
    intro: str = "",
    *,
    full: bool = False,
) -> State:
    """Show the step the user is at again (through its procedure in the registry)."""
    procedure = context.procedures.get(session.flow)
    if procedure is None:  # a procedure this version of the bot no longer has
        await send(update, intro + texts.OUTSIDE_FLOW)
        return END
    return await procedure.show_current(update, context, session, intro, full)


async def ask_before_replacing(update: Update, context: BotContext, restart: str) -> State | None:
    """A command that would start another procedure over one in progress asks first:
    « Reprendre » or « Tout recommencer » (which starts ``restart``: ``profil``, ``activer`` or
    ``motdepasse``). Returns the step kept, or None when nothing would be lost."""
    session = await current_session(update, context)
    if session is None:
        return None
    procedure = context.procedures.get(session.flow)
    if procedure is None or session.step in procedure.fresh_steps:
        return None
    choices = keyboard(
        [[(texts.BUTTON_RESUME, "resume:go")], [(texts.BUTTON_RESTART, f"restart:{restart}")]],
        session.prompt_nonce,
    )
    await send(update, texts.RESUME_OR_RESTART, choices)
    return session.step


async def begin(update: Update, context: BotContext, flow: str, step: str) -> State:
    """A new session of the procedure ``flow`` at ``step`` (replacing any open procedure),
    its prompt shown."""
    svc = context.services.by_flow[flow]
    user, chat = update.effective_user, update.effective_chat
    assert user and chat
    session = await svc.begin(user.id, chat.id, step)
    return await show_current_step(update, context, session, full=True)


def entry_handler(entry: EntryCommand, flow: str) -> Handler:
    """The handler of an entry command of a procedure's description (``/motdepasse``): over a
    procedure in progress, the user is asked first."""

    async def on_entry(update: Update, context: BotContext) -> State | None:
        kept = await ask_before_replacing(update, context, entry.command)
        if kept is not None:
            return kept
        return await begin(update, context, flow, entry.step)

    return on_entry


async def verify_link_then_show(
    update: Update, context: BotContext, svc: ProcedureService, token: str, intro: str
) -> State | None:
    """A link that proves an address (``/start <token>``) for ``svc``'s procedure: proven, the
    procedure's next step is shown after ``intro``; otherwise what every procedure says."""
    user = update.effective_user
    assert user
    result = await svc.verify_link(user.id, token)
    session = await svc.session_of(user.id)
    if result.outcome == Outcome.OK and session:
        return await show_current_step(update, context, session, intro, full=True)
    return await render_link_failure(update, context, result)


async def render_link_failure(update: Update, context: BotContext, result: Result) -> State | None:
    """What every procedure says of a link it could not accept: expired (its step again),
    opened from another Telegram account, or unknown; then the current step, if any."""
    session = await current_session(update, context)
    if result.outcome == Outcome.EXPIRED and session:
        return await show_current_step(
            update, context, session, texts.VERIFICATION_EXPIRED, full=True
        )
    text = texts.LINK_OTHER_ACCOUNT if result.outcome == Outcome.OTHER_USER else texts.LINK_INVALID
    await send(update, text)
    if session is not None:
        return await show_current_step(update, context, session, full=True)
    return END


async def school_of_user(update: Update, context: BotContext) -> SchoolConfig:
    """The school content of the person writing: their establishment's once their account is
    known, the region's before (:meth:`ProcedurePorts.school_of_user`)."""
    user = update.effective_user
    ports = service(context).ports
    return await ports.school_of_user(user.id) if user is not None else ports.school


async def on_help(update: Update, context: BotContext) -> State | None:
    """/aide: the contacts, then the current step again (its prompt has « 🆘 Je bloque »)."""
    await send(update, texts.help_text(await school_of_user(update, context)))
    session = await current_session(update, context)
    if session is None:
        return END
    return await show_current_step(update, context, session, texts.HELP_RESUME + "\n\n")


async def on_cancel(update: Update, context: BotContext) -> State | None:
    """/annuler: leave the procedure, whatever the step."""
    user = update.effective_user
    assert user
    had_one = await service(context).cancel(user.id)
    await send(update, texts.CANCELLED if had_one else texts.NOTHING_TO_CANCEL)
    return END


async def on_stale_button(update: Update, context: BotContext) -> State | None:
    """A button of an earlier message, or forged data: nothing happens but the current step."""
    query = update.callback_query
    if query is not None:
        try:
            await query.answer(texts.STALE_BUTTON)
        except TelegramError:
            logger.debug("callback query not acknowledged (too old or already acknowledged)")
    session = await current_session(update, context)
    if session is None:
        await send(update, texts.OUTSIDE_FLOW)
        return END
    return await show_current_step(update, context, session, texts.STALE_BUTTON_RESUME + "\n\n")


async def on_email_button(
    update: Update,
    context: BotContext,
    svc: EmailProcedure,
    session: ConversationSession,
    action: str,
    show_step: Callable[[], Awaitable[State | None]],
    render_sending: Callable[[Result, Message | None], Awaitable[State | None]],
) -> State | None:
    """The buttons every e-mail step shares: type another address, send, send again. The
    procedure shows its step with ``show_step`` and the outcome of a send with
    ``render_sending``."""
    query = update.callback_query
    if action == "change":
        await mark_choice(query)
        await svc.change_email(session)
        return await show_step()
    if action not in ("send", "resend", "fix"):
        return await on_stale_button(update, context)
    if action == "fix":  # « Oui, corriger »: the suggested address, sent at once
        await svc.use_suggested_address(session)
        action = "send"
    if action == "send":
        await mark_choice(query)
    progress = await send(update, texts.EMAIL_SENDING)
    result = await svc.send_verification(session, context.bot.username, resend=action == "resend")
    return await render_sending(result, progress)


async def on_unexpected(update: Update, context: BotContext) -> State | None:
    """A sticker, a photo, a text where a button is expected, an unknown command… A text just
    after a secret step that could be that secret is deleted (issue 22.7); a thank-you or a
    question gets a word that fits it."""
    session = await current_session(update, context)
    message = update.effective_message
    if message is not None and message.text and message.text.startswith("/"):
        intro = texts.UNKNOWN_COMMAND
    elif message is not None and message.text:
        intro = texts.USE_BUTTONS
        reading = reading_of(message.text)
        if session is not None and secret_before(session) and could_be_a_secret(message.text):
            # Just after a secret step: it may be that secret, typed again.
            await remove_secret_message(update)
            intro = texts.SECRET_MAYBE_AT_BUTTONS + "\n\n" + texts.USE_BUTTONS
        elif reading is not None:
            intro = texts.KIND_ANSWERS[reading.value]
    else:
        intro = texts.NOT_TEXT
    if session is None:
        await send(update, intro + "\n\n" + texts.OUTSIDE_FLOW)
        return END
    return await show_current_step(update, context, session, intro + "\n\n")


async def send(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send ``text`` (HTML) to the chat of ``update``."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup)


async def edit_or_send(
    update: Update, message: Message | None, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace a progress message in place; send a new one if it cannot be edited."""
    if message is not None:
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except BadRequest:
            logger.debug("progress message could not be edited; sending a new one")
    await send(update, text, markup)


async def mark_choice(query: CallbackQuery | None) -> None:
    """Once a button is pressed, its keyboard goes and the choice is written under the question
    (screen readers and later reading show what was chosen)."""
    if query is None or query.message is None or not isinstance(query.message, Message):
        return
    label = ""
    markup = query.message.reply_markup
    if markup is not None:
        for row in markup.inline_keyboard:
            for button in row:
                if button.callback_data == query.data:
                    label = button.text
    try:
        if label and query.message.text:
            await query.edit_message_text(
                texts.choice_made(query.message.text_html, label), reply_markup=None
            )
        else:
            await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest:
        logger.debug("choice could not be marked on the message")


async def read_secret(
    update: Update,
    steps: Steps | None = None,
    session: ConversationSession | None = None,
    *,
    tell: bool = False,
) -> str:
    """The text of a message that holds a secret (password, answer, code); the message is
    deleted from the chat before anything else happens. ``tell``: say so (once a procedure,
    at its first secret; the prompts say it too). With ``steps`` and ``session``, the session
    notes it (its keyed digest, saved with the step it causes): the same secret typed again at
    the next step is deleted there too (:func:`on_secret_typed_again`)."""
    secret = text_of(update)
    if steps is not None and session is not None and secret.strip():
        steps.note_secret(session, secret)
    await remove_secret_message(update, tell=tell)
    return secret


async def on_secret_typed_again(
    update: Update, context: BotContext, session: ConversationSession | None
) -> bool:
    """Tried by the router before anything else: the very secret read at the step before,
    typed again at a step that does not read secrets (its answer may never have arrived, or the
    bot restarted in between), is deleted and the current step shown, whatever would have read
    it (an address step, buttons, the help mode). True if it was."""
    message = update.effective_message
    if session is None or update.callback_query is not None or message is None:
        return False
    if not message.text or message.text.startswith("/") or secret_before(session) is None:
        return False
    procedure = context.procedures.get(session.flow)
    if procedure is None or session.step in procedure.secret_steps:
        return False  # its own handler reads it as a secret and deletes it
    if not is_secret_before(context.services.ports, session, message.text):
        return False
    await remove_secret_message(update)
    if await context.services.support.mode(session.telegram_user_id) is not None:
        # In help: never a message to the team, and the help goes on.
        await send(update, texts.SECRET_TYPED_AGAIN_IN_HELP)
        return True
    await show_current_step(update, context, session, texts.SECRET_TYPED_AGAIN + "\n\n")
    return True


async def refuse_typed(
    update: Update,
    context: BotContext,
    session: ConversationSession,
    text: str,
    refusal: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    deleted: bool = False,
) -> State:
    """A typed step (an address, a code, an identifier) could not take ``text``. A thank-you, a
    question or a long plea gets a word that fits it, then the step again, its choices on the
    newest message; anything else gets ``refusal`` with the step's ``markup``. Just after a
    secret step, a refused text that could be that secret is deleted (unless ``deleted``
    already)."""
    reading = reading_of(text)
    if not deleted and secret_before(session) is not None and could_be_a_secret(text):
        await remove_secret_message(update)
    if reading is None:
        await reprompt(update, session, refusal, markup)
        return session.step
    return await show_current_step(
        update, context, session, texts.KIND_ANSWERS[reading.value] + "\n\n"
    )


async def remove_secret_message(update: Update, *, tell: bool = False) -> None:
    """Delete the user's message that holds a secret; with ``tell``, say so."""
    message = update.effective_message
    if message is None:
        return
    try:
        await message.delete()
    except TelegramError:
        # Owed: the outbox retries the deletion while Telegram allows it (48 hours).
        logger.warning("a sensitive message could not be removed yet (chat %s)", message.chat_id)
        outbox = outbox_of(message.get_bot())
        if outbox is not None:
            await outbox.owe_deletion(message.chat_id, message.message_id, message.date)
        return
    if not tell:
        return
    try:
        await send(update, texts.SECRET_DELETED)
    except TelegramError:  # only a courtesy: what the user typed is still handled
        logger.warning("the removal notice could not be sent (chat %s)", message.chat_id)


async def on_help_outside(update: Update, context: BotContext) -> None:
    """/aide when no procedure is open (with « 🆘 Je bloque »)."""
    await send(
        update, texts.help_text(await school_of_user(update, context)), keyboard([stuck_row()], "0")
    )


async def on_cancel_outside(update: Update, context: BotContext) -> None:
    """/annuler when no procedure is open."""
    await send(update, texts.NOTHING_TO_CANCEL)


async def on_outside_flow(update: Update, context: BotContext) -> None:
    """Anything else when no procedure is open: say what the bot is for. A text shaped like a
    password or a code is deleted first: the last secret of a procedure, typed again because
    its answer never arrived, lands here."""
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(texts.STALE_BUTTON)
        except TelegramError:
            logger.debug("callback query not acknowledged (too old or already acknowledged)")
    text = text_of(update)
    ports = service(context).ports
    if text and looks_like_a_password(text, ports.password_policy, ports.settings.code_length):
        await remove_secret_message(update)
        await send(update, texts.SECRET_OUTSIDE_DELETED + "\n\n" + texts.OUTSIDE_FLOW)
        return
    await send(update, texts.OUTSIDE_FLOW)


async def on_group_message(update: Update, context: BotContext) -> None:
    """Commands in a group: the bot only works in private chats."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(texts.PRIVATE_ONLY)
