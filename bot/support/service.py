"""The rules of the conversation with the school's team, without Telegram: help mode, tickets,
the context card, the password screen and the anti-flood. Every relay is an outbox item written
in the transaction of the ticket's change."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from html import escape as _escape
from typing import TYPE_CHECKING, Any

from bot.directory.port import Directory
from bot.outbox.templates import (
    CAPTION_LIMIT,
    RELAY_COPY,
    RELAY_DELETE,
    RELAY_EDIT,
    STAFF_NOTICE,
    TOPIC_POST,
)
from bot.procedures.activation import PROVISIONAL_DIGEST
from bot.procedures.activation import Step as ActivationStep
from bot.procedures.kernel import Clock, Outcome, ProcedurePorts
from bot.procedures.my_account import MyAccountStep
from bot.procedures.parts.checked_secret import CheckedSecret
from bot.procedures.recovery import RecoveryStep
from bot.procedures.throttle import chat_key
from bot.region import Region
from bot.school import SchoolConfig
from bot.security import normalise_identifiant
from bot.staff.service import AccountReport, StaffService
from bot.support.screen import (
    password_pieces,
    reads_like_a_whole_password,
    secret_shaped_words,
)
from bot.texts import formatting
from bot.texts import support as texts
from storage.accounts import AccountStatus
from storage.outbox import NewOutboxItem, OutboxKind
from storage.sessions import ConversationSession
from storage.support import RELAY_ID, RelaySource, SupportRepository, Ticket

if TYPE_CHECKING:
    from bot.outbox import Outbox

# How long a relay may wait in the outbox before it is given up.
RELAY_FOR = timedelta(days=7)
# At most this many password hashes are checked for one message (each piece of it against
# one account's provisional or current password: bot.support.screen.password_pieces)…
MAX_HASH_CHECKS_PER_MESSAGE = 8
# … and for all of one person's messages within HASH_WINDOW (beyond: the shape alone decides).
MAX_HASH_CHECKS_PER_WINDOW = 120
HASH_WINDOW = timedelta(hours=1)
# Of these, at most this many are guesses of a provisional password not proven yet (each one
# counts on that identifier's throttle, like a guess typed at the step).
MAX_UNPROVEN_GUESSES = 2
# Pieces compared with a procedure's pending digests (HMAC: cheap, no budget).
MAX_PENDING_PIECES = 64
# The steps where a new password is typed: nothing to compare it with yet.
NEW_PASSWORD_STEPS = frozenset(
    {ActivationStep.PASSWORD, RecoveryStep.PASSWORD, MyAccountStep.PASSWORD}
)
# How long a message held for « Ce message contient-il un mot de passe ? » waits in memory.
HOLD_FOR = timedelta(hours=1)


class Mirrored(StrEnum):
    """What became of an edit of a message."""

    NOT_RELAYED = "not_relayed"  # not a relayed message: the edit is none of support's
    MIRRORED = "mirrored"
    PASSWORD = "password"  # it now holds a password: the copy is deleted, not edited


class Sent(StrEnum):
    """What became of a message to the team."""

    SENT = "sent"
    PASSWORD = "password"
    FLOOD = "flood"
    NO_TEAM = "no_team"
    # It has the shape of a password the bot cannot check: held until the person says.
    ASK = "ask"
    # A held message that is no longer held (answered already, or the bot restarted).
    GONE = "gone"


class Screened(StrEnum):
    """The screen's verdict on a message to the team."""

    CLEAR = "clear"
    SECRET = "secret"  # the account's provisional or current password, or a pending one
    DOUBT = "doubt"  # has a password's shape, and the bot cannot tell


@dataclass(frozen=True)
class Held:
    """A message held until the person says whether it holds a password: in memory only
    (never written anywhere, it may be a password), forgotten after :data:`HOLD_FOR`."""

    chat_id: int
    message_id: int
    text: str
    media: bool
    held_at: datetime


@dataclass(frozen=True)
class Submission:
    """The outcome of :meth:`SupportService.submit`."""

    outcome: Sent
    ticket: int | None = None


@dataclass(frozen=True)
class CardFacts:
    """What the context card shows; never a secret."""

    number: int
    first_name: str
    telegram_user_id: int
    step_label: str | None
    step_since: datetime | None
    report: AccountReport | None
    profil: str | None = None


def escape(text: str) -> str:
    """HTML-escape for Telegram (quotes are fine as they are)."""
    return _escape(text, quote=False)


def topic_title(first_name: str, report: AccountReport | None, number: int) -> str:
    """« Prénom N. · profil · établissement · #numéro » (what is known of it)."""
    if report is None:
        return f"{first_name} · #{number}"
    name = f"{report.prenom} {report.nom[:1]}.".strip() if report.nom else report.prenom
    return " · ".join([name, report.profil, report.etablissement, f"#{number}"])


def context_card(facts: CardFacts, *, topics: bool = False) -> str:
    """The first post of a ticket in the staff group (HTML)."""
    report = facts.report
    fields = texts.STAFF_FIELDS
    lines = [
        "<b>"
        + escape(texts.STAFF_CARD_TITLE.format(number=facts.number, name=facts.first_name))
        + "</b>",
        f"<b>{fields['telegram']}</b> : {facts.telegram_user_id}",
    ]
    profil = report.profil if report else facts.profil
    if profil:
        lines.append(f"<b>{fields['profil']}</b> : {escape(profil)}")
    if report is None:
        lines.append(f"<b>{fields['identifiant']}</b> : {texts.STAFF_NO_ACCOUNT}")
    else:
        lines.append(f"<b>{fields['etablissement']}</b> : {escape(report.etablissement)}")
        lines.append(f"<b>{fields['identifiant']}</b> : {escape(report.identifiant)}")
    if facts.step_label:
        lines.append(f"<b>{fields['etape']}</b> : {escape(facts.step_label)}")
        lines.append(f"<b>{fields['depuis']}</b> : {formatting.when(facts.step_since)}")
    else:
        lines.append(f"<b>{fields['etape']}</b> : {texts.STAFF_NO_PROCEDURE}")
    if report is not None:
        errors: list[str] = []
        if report.lock.failures_last_24h:
            errors.append(texts.STAFF_FAILURES.format(count=report.lock.failures_last_24h))
        lock = report.lock
        if lock.locked and lock.locked_at is not None and lock.retry_after is not None:
            until = formatting.when(lock.locked_at + lock.retry_after)
            errors.append(texts.STAFF_LOCKED_UNTIL.format(until=until))
        lines.append(f"<b>{fields['erreurs']}</b> : {', '.join(errors) or texts.STAFF_NONE}")
        recovery = texts.STAFF_RECOVERY.get(report.recovery or "", texts.STAFF_RECOVERY[""])
        lines.append(
            f"<b>{fields['secours']}</b> : "
            + escape(recovery.format(masked=report.email_masked or ""))
        )
    how = texts.STAFF_HOW_TO_ANSWER_TOPIC if topics else texts.STAFF_HOW_TO_ANSWER
    lines.append(f"\n<i>{how}</i>")
    return "\n".join(lines)


def relayed_text(number: int, first_name: str, text: str) -> str:
    """A user's message as staff read it: the ticket number first (answer by replying)."""
    title = texts.STAFF_MESSAGE_TITLE.format(number=number, name=first_name)
    return f"<b>{escape(title)}</b>\n\n{escape(text)}"


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters (an ellipsis where it was cut)."""
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def relayed_caption(number: int, first_name: str, caption: str) -> str:
    """The caption of a user's photo or document as staff read it (HTML, within Telegram's
    1024 characters): the ticket number first, then the user's own caption."""
    title = texts.STAFF_MESSAGE_TITLE.format(number=number, name=first_name)
    head = f"<b>{escape(title)}</b>"
    if not caption.strip():
        return head
    room = CAPTION_LIMIT - len(title) - 2
    return f"{head}\n\n{escape(cut(caption, room))}"


def team_caption(etablissement: str, caption: str, signed_by: str | None = None) -> str:
    """A staff photo or document's caption as the user reads it (no staff name unless
    ``signed_by``)."""
    room = CAPTION_LIMIT - len(texts.team_caption(etablissement, "", signed_by)) - 2
    return texts.team_caption(etablissement, cut(caption, room), signed_by)


def ticket_number_of(first_line: str) -> int | None:
    """The ticket number in the first line of one of the bot's posts (``… #12 · …``)."""
    for word in first_line.split():
        if word.startswith("#") and word[1:].isascii() and word[1:].isdigit():
            return int(word[1:])
    return None


class SupportService:
    """Help mode and tickets of the running bot."""

    def __init__(
        self,
        repository: SupportRepository,
        outbox: Outbox,
        directory: Directory,
        staff: StaffService,
        school: SchoolConfig,
        clock: Clock,
        *,
        chat_id: int | None,
        max_per_minute: int,
        topics: bool = False,
        show_staff_names: bool = False,
        ports: ProcedurePorts | None = None,
        region: Region | None = None,
    ) -> None:
        self.repository = repository
        self.outbox = outbox
        self.directory = directory
        self.staff = staff
        self.school = school
        self.clock = clock
        self.chat_id = chat_id
        self.max_per_minute = max_per_minute
        # The staff group is a forum: one topic a user (else staff answer by replying).
        self.topics = topics
        # Staff answers signed with the staff member's first name (the school's choice).
        self.show_staff_names = show_staff_names
        # The procedures' throttle and keyed hashes (an identifier typed, not proven yet).
        self.ports = ports
        # The establishments (issue 27): a ticket goes to its account's establishment's group.
        self.region = region
        self._held: dict[tuple[int, int], Held] = {}

    # --- which staff group -----------------------------------------------------------------

    def staff_chats(self) -> dict[int, bool]:
        """Every staff group (the region's and each establishment's) and whether it is a
        forum: where staff may answer."""
        chats: dict[int, bool] = {}
        if self.chat_id is not None:
            chats[self.chat_id] = self.topics
        if self.region is not None:
            for establishment in self.region.establishments.values():
                team = establishment.team
                if team.support_chat_id is not None:
                    chats.setdefault(team.support_chat_id, team.forum_topics)
        return chats

    def is_forum(self, staff_chat_id: int | None) -> bool:
        """Whether this staff group is a forum (one topic a person)."""
        return self.staff_chats().get(
            staff_chat_id if staff_chat_id is not None else self.chat_id or 0, False
        )

    def ticket_chat(self, ticket: Ticket) -> int | None:
        """The staff group a ticket was posted to (a ticket of before: the region's)."""
        return ticket.staff_chat_id if ticket.staff_chat_id is not None else self.chat_id

    async def _uai_of(self, account_ids: Sequence[int]) -> str | None:
        """The establishment of the person's first proven account (the ticket's)."""
        if not account_ids or self.region is None:
            return None
        account = await self.directory.get(account_ids[0])
        return account.uai if account is not None else None

    async def staff_chat_of(self, telegram_user_id: int, account_ids: Sequence[int]) -> int | None:
        """The staff group a person's message goes to: their open ticket's; else their
        account's establishment's group; else (not identified, or an establishment without a
        group of its own) the region's. None: no team to write to."""
        ticket = await self.repository.open_ticket(telegram_user_id)
        if ticket is not None and self.ticket_chat(ticket) is not None:
            return self.ticket_chat(ticket)
        establishment = self.region.by_uai(await self._uai_of(account_ids)) if self.region else None
        if establishment is not None and establishment.team.support_chat_id is not None:
            return establishment.team.support_chat_id
        return self.chat_id

    async def ticket_in(self, ticket_id: int | None, staff_chat_id: int) -> Ticket | None:
        """The ticket, if it was posted to this staff group: staff of one establishment never
        act on another's tickets, whatever number they type or reply to."""
        ticket = await self.repository.get(ticket_id) if ticket_id else None
        if ticket is None or self.ticket_chat(ticket) != staff_chat_id:
            return None
        return ticket

    async def _school_name(self, ticket: Ticket) -> str:
        """The name staff answers are signed with: the ticket's establishment's."""
        if self.ports is None or ticket.account_id is None:
            return self.school.etablissement
        account = await self.directory.get(ticket.account_id)
        return self.ports.school_for(account).etablissement

    async def mode(self, telegram_user_id: int) -> str | None:
        """``menu``, ``compose`` or None."""
        return await self.repository.mode(telegram_user_id)

    async def set_mode(self, telegram_user_id: int, mode: str | None) -> None:
        """Enter a help mode, or leave help (None); the procedure is untouched."""
        await self.repository.set_mode(telegram_user_id, mode, self.clock())

    async def has_open_ticket(self, telegram_user_id: int) -> bool:
        """Whether the user has a ticket staff have not closed."""
        return await self.repository.open_ticket(telegram_user_id) is not None

    async def own_identifiants(
        self, account_ids: Sequence[int], session: ConversationSession | None
    ) -> set[str]:
        """The person's own identifiers (normalised): never taken for a password."""
        own = (
            {normalise_identifiant(session.identifiant)}
            if session and session.identifiant
            else set()
        )
        for account_id in dict.fromkeys(account_ids):
            account = await self.directory.get(account_id)
            if account is not None:
                own.add(normalise_identifiant(account.identifiant))
        return own

    def _pending_secret(self, session: ConversationSession | None, text: str) -> bool:
        """Whether a piece of ``text`` is a secret the procedure keeps between two typings
        (the new password before its confirmation, the provisional one): keyed digests,
        cheap to compare."""
        if session is None or self.ports is None:
            return False
        keyed = self.ports.keyed
        provisional = json.loads(session.flow_data or "{}").get(PROVISIONAL_DIGEST)
        for piece in password_pieces(text, MAX_PENDING_PIECES):
            if keyed.matches_pending(piece, session.new_password_hash, purpose="password"):
                return True
            if isinstance(provisional, str) and keyed.matches_pending(
                piece, provisional, purpose="provisional"
            ):
                return True
        return False

    async def _shaped_words(
        self, text: str, session: ConversationSession | None, account_ids: Sequence[int]
    ) -> list[str]:
        """The words of ``text`` shaped like a password, but for the person's identifiers."""
        shaped = secret_shaped_words(text, await self.own_identifiants(account_ids, session))
        typed_key = session.identifiant_key if session else None
        if typed_key and self.ports is not None:
            # The identifier typed at the prompt (only its keyed hash is kept) is theirs too.
            key_of = self.ports.identifiant_key
            shaped = [word for word in shaped if key_of(word) != typed_key]
        return shaped

    async def shaped_like_a_secret(
        self, text: str, session: ConversationSession | None, account_ids: Sequence[int]
    ) -> bool:
        """Whether ``text``, typed in help (not to the team), holds a secret the procedure
        keeps or a word shaped like a password: no hash is checked (nothing is relayed)."""
        if self._pending_secret(session, text):
            return True
        return bool(await self._shaped_words(text, session, account_ids))

    async def screen(
        self,
        *,
        telegram_user_id: int,
        text: str,
        session: ConversationSession | None,
        account_ids: Sequence[int],
        screening: int | None,
    ) -> Screened:
        """Whether ``text`` holds a password: compared with what the bot can check (a
        procedure's pending digests; the proven accounts' provisional or current password;
        for an identifier typed but not proven, its provisional password as a throttled
        guess), then, failing that, its shape. Hashes are checked only for an admitted
        ``screening`` (:meth:`SupportService.admit`), each one counted before it is computed,
        within :data:`MAX_HASH_CHECKS_PER_MESSAGE` and the person's budget."""
        if self._pending_secret(session, text):
            return Screened.SECRET
        shaped = await self._shaped_words(text, session, account_ids)
        if screening is not None:
            budget = await self._hash_budget(telegram_user_id)
            found = await self._check_hashes(text, session, account_ids, shaped, screening, budget)
            if found:
                return Screened.SECRET
        if session is not None and session.step in NEW_PASSWORD_STEPS:
            # Typed for the step, perhaps, while the messages go to the team.
            shaped = shaped or ([text] if reads_like_a_whole_password(text) else [])
        return Screened.DOUBT if shaped else Screened.CLEAR

    async def _hash_budget(self, telegram_user_id: int) -> int:
        since = self.clock() - HASH_WINDOW
        spent = await self.repository.hash_checks_since(telegram_user_id, since)
        return max(0, min(MAX_HASH_CHECKS_PER_MESSAGE, MAX_HASH_CHECKS_PER_WINDOW - spent))

    async def _check_hashes(
        self,
        text: str,
        session: ConversationSession | None,
        account_ids: Sequence[int],
        shaped: Sequence[str],
        screening: int,
        budget: int,
    ) -> bool:
        """The hash comparisons of :meth:`screen`, ``budget`` at most (see there)."""
        pieces = password_pieces(text)
        for account_id in dict.fromkeys(account_ids):
            account = await self.directory.get(account_id)
            if account is None:
                continue
            # An account to activate has only its provisional password, an active one only
            # its current one: one hash a piece.
            check = (
                self.directory.check_provisional
                if account.status == AccountStatus.TO_ACTIVATE
                else self.directory.check_password
            )
            for piece in pieces:
                if budget <= 0:
                    return False
                budget -= 1
                await self.repository.count_hash_check(screening)
                if await check(account_id, piece):
                    return True
        if session is None or self.ports is None or session.account_id is not None:
            return False
        if not session.identifiant_key:
            return False
        # Not proven yet: the identifier typed names the account whose provisional password
        # to compare, guess by guess under its throttle (the same for an unknown identifier).
        judge = CheckedSecret(self.ports).judge
        candidate = session.candidate_account_id
        for word in shaped[:MAX_UNPROVEN_GUESSES]:
            if budget <= 0:
                return False
            budget -= 1
            await self.repository.count_hash_check(screening)
            guess = functools.partial(self.directory.check_provisional, candidate, word)
            key = session.identifiant_key
            result = await judge(
                key,
                guess,
                self.clock(),
                account_id=candidate,
                chat=chat_key(session.telegram_user_id),
            )
            if result.outcome == Outcome.OK:
                return True
            if result.outcome != Outcome.WRONG:
                return False  # throttled or locked: the bot cannot tell (the shape decides)
        return False

    async def admit(self, telegram_user_id: int) -> int | None:
        """Count a message to be screened, within the per-minute cap (None: over it). The cap
        comes first, before any hashing."""
        now = self.clock()
        return await self.repository.admit(
            telegram_user_id, now, now - timedelta(minutes=1), self.max_per_minute
        )

    def hold(self, telegram_user_id: int, held: Held) -> None:
        """Keep a message until the person says whether it holds a password."""
        cutoff = held.held_at - HOLD_FOR
        for key in [k for k, h in self._held.items() if h.held_at < cutoff]:
            del self._held[key]
        self._held[(telegram_user_id, held.message_id)] = held

    def release(self, telegram_user_id: int, message_id: int) -> Held | None:
        """The held message, forgotten (None if it is no longer held)."""
        held = self._held.pop((telegram_user_id, message_id), None)
        if held is None or held.held_at < self.clock() - HOLD_FOR:
            return None
        return held

    async def submit(
        self,
        *,
        telegram_user_id: int,
        chat_id: int,
        first_name: str,
        text: str,
        session: ConversationSession | None,
        step_label: str | None,
        account_ids: Sequence[int],
        message_id: int | None = None,
        media: bool = False,
    ) -> Submission:
        """A user's message to the team: screened (password, flood), then recorded on their
        ticket (opened with its context card if none) with its relays, in one transaction.
        ``media``: a photo or document (``message_id`` in ``chat_id``) copied with ``text``,
        its caption, under the ticket number. With ``message_id``, the relay is remembered so
        that an edit of the message is mirrored."""
        if await self.staff_chat_of(telegram_user_id, account_ids) is None:
            return Submission(Sent.NO_TEAM)
        screening = await self.admit(telegram_user_id)
        if screening is None:
            return Submission(Sent.FLOOD)
        verdict = await self.screen(
            telegram_user_id=telegram_user_id,
            text=text,
            session=session,
            account_ids=account_ids,
            screening=screening,
        )
        if verdict == Screened.SECRET:
            return Submission(Sent.PASSWORD)
        if verdict == Screened.DOUBT:
            if message_id is None:  # nothing to ask about later: held back
                return Submission(Sent.PASSWORD)
            self.hold(telegram_user_id, Held(chat_id, message_id, text, media, self.clock()))
            return Submission(Sent.ASK)
        return await self._record(
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            first_name=first_name,
            text=text,
            session=session,
            step_label=step_label,
            account_ids=account_ids,
            message_id=message_id,
            media=media,
        )

    async def relay_held(
        self,
        *,
        telegram_user_id: int,
        message_id: int,
        first_name: str,
        session: ConversationSession | None,
        step_label: str | None,
        account_ids: Sequence[int],
    ) -> Submission:
        """The person said a held message holds no password: it goes to the team (it was
        screened and counted when it was held)."""
        held = self.release(telegram_user_id, message_id)
        if held is None:
            return Submission(Sent.GONE)
        if await self.staff_chat_of(telegram_user_id, account_ids) is None:
            return Submission(Sent.NO_TEAM)
        return await self._record(
            telegram_user_id=telegram_user_id,
            chat_id=held.chat_id,
            first_name=first_name,
            text=held.text,
            session=session,
            step_label=step_label,
            account_ids=account_ids,
            message_id=held.message_id,
            media=held.media,
        )

    async def _record(
        self,
        *,
        telegram_user_id: int,
        chat_id: int,
        first_name: str,
        text: str,
        session: ConversationSession | None,
        step_label: str | None,
        account_ids: Sequence[int],
        message_id: int | None,
        media: bool,
    ) -> Submission:
        """The ticket's rows and relays of a screened message, in one transaction, in the
        person's staff group (:meth:`staff_chat_of`)."""
        chat = await self.staff_chat_of(telegram_user_id, account_ids)
        if chat is None:
            return Submission(Sent.NO_TEAM)
        forum = self.is_forum(chat)
        now = self.clock()
        report = await self._report(session, account_ids)

        items: list[NewOutboxItem] = []

        def relays(ticket: Ticket, is_new: bool) -> list[NewOutboxItem]:
            # A new ticket's card and first message are one item: the outbox does not keep
            # the order of two items, and staff must read the card first.
            facts = CardFacts(
                number=ticket.id,
                first_name=first_name,
                telegram_user_id=telegram_user_id,
                step_label=step_label,
                step_since=session.updated_at if session else None,
                report=report,
                profil=session.profil if session else None,
            )
            card = context_card(facts, topics=forum)
            copy = None
            if media and message_id is not None:
                caption = relayed_caption(ticket.id, first_name, text)
                copy = {"from_chat_id": chat_id, "message_id": message_id, "caption": caption}
                post = card if is_new else ""
            elif is_new:
                post = card + "\n\n" + escape(text)
            else:
                post = relayed_text(ticket.id, first_name, text)
            relay = {RELAY_ID: None} if message_id is not None else {}
            if forum:
                title = topic_title(first_name, report, ticket.id)
                item = self._topic_post(chat, telegram_user_id, title, post, now)
                # The card again if the topic must be created anew (staff deleted it).
                item.params.update(card=card, with_card=is_new, **relay)
                if copy is not None:
                    item.params["copy"] = copy
            elif copy is not None:
                item = self._item(RELAY_COPY, {"chat_id": chat, "text": post, "copy": copy}, now)
                item.params.update(relay)
            else:
                item = self._telegram(chat, post, now)
                item.params.update(relay)
            items.append(item)
            return items

        account_id = account_ids[0] if account_ids else None
        source = RelaySource(chat_id, message_id, media) if message_id is not None else None
        ticket, _ = await self.repository.add_user_message(
            telegram_user_id, chat_id, account_id, now, relays, source=source, staff_chat_id=chat
        )
        self._kick(items)
        return Submission(Sent.SENT, ticket.id)

    async def mirror_user_edit(
        self,
        *,
        chat_id: int,
        message_id: int,
        first_name: str,
        text: str,
        session: ConversationSession | None,
        step_label: str | None,
        account_ids: Sequence[int],
    ) -> Mirrored:
        """A user edited a message: if it was relayed, its copy is edited the same way
        (through the outbox); if it now holds a password, the copy is deleted instead."""
        relay = await self.repository.relay_of(chat_id, message_id)
        if relay is None or relay.direction != "user":
            return Mirrored.NOT_RELAYED
        ticket = await self.repository.get(relay.ticket_id)
        if ticket is None:
            return Mirrored.NOT_RELAYED
        now = self.clock()
        # The same screen as a new message; over the cap, the shape alone decides. What the
        # bot cannot tell is deleted (an edit has no question to ask).
        verdict = await self.screen(
            telegram_user_id=ticket.telegram_user_id,
            text=text,
            session=session,
            account_ids=account_ids,
            screening=await self.admit(ticket.telegram_user_id),
        )
        if verdict != Screened.CLEAR:
            item = self._item(RELAY_DELETE, {RELAY_ID: relay.id}, now)
        else:
            if relay.media:
                rendered = relayed_caption(ticket.id, first_name, text)
            elif relay.with_card:
                report = await self._report(session, account_ids)
                facts = CardFacts(
                    number=ticket.id,
                    first_name=first_name,
                    telegram_user_id=ticket.telegram_user_id,
                    step_label=step_label,
                    step_since=session.updated_at if session else None,
                    report=report,
                    profil=session.profil if session else None,
                )
                forum = self.is_forum(self.ticket_chat(ticket))
                rendered = context_card(facts, topics=forum) + "\n\n" + escape(text)
            else:
                rendered = relayed_text(ticket.id, first_name, text)
            params = {RELAY_ID: relay.id, "text": rendered, "media": relay.media}
            item = self._item(RELAY_EDIT, params, now)
        await self.repository.owe([item])
        self._kick([item])
        return Mirrored.PASSWORD if item.template == RELAY_DELETE else Mirrored.MIRRORED

    async def mirror_staff_edit(
        self, chat_id: int, message_id: int, text: str, *, staff_first_name: str | None = None
    ) -> bool:
        """Staff edited an answer: its copy at the user's side is edited (False if the message
        was not relayed)."""
        relay = await self.repository.relay_of(chat_id, message_id)
        if relay is None or relay.direction != "staff":
            return False
        ticket = await self.repository.get(relay.ticket_id)
        etablissement = (
            await self._school_name(ticket) if ticket is not None else self.school.etablissement
        )
        signed_by = staff_first_name if self.show_staff_names else None
        rendered = (
            team_caption(etablissement, text, signed_by)
            if relay.media
            else texts.answer_from_team(etablissement, text, signed_by)
        )
        params = {RELAY_ID: relay.id, "text": rendered, "media": relay.media}
        item = self._item(RELAY_EDIT, params, self.clock())
        await self.repository.owe([item])
        self._kick([item])
        return True

    async def identifiant_of(
        self, ticket: Ticket, session: ConversationSession | None, linked: Sequence[int]
    ) -> str | None:
        """The identifier of the ticket's user, as far as the bot knows it: the account on the
        ticket, else the one given in their procedure, else one linked to their Telegram."""
        if ticket.account_id is None and session is not None and session.identifiant:
            return session.identifiant
        ids = [ticket.account_id] if ticket.account_id is not None else list(linked)
        for account_id in ids:
            account = await self.directory.get(account_id)
            if account is not None:
                return account.identifiant
        return None

    async def tell_user(self, ticket: Ticket, text: str) -> None:
        """A short notice to the ticket's user (through the outbox)."""
        item = self._telegram(ticket.chat_id, text, self.clock())
        await self.repository.owe([item])
        self._kick([item])

    async def answer(
        self,
        ticket_id: int,
        text: str,
        source: RelaySource | None = None,
        *,
        staff_first_name: str | None = None,
    ) -> bool:
        """A staff answer copied to the user as « L'équipe de … » (no staff name unless
        ``show_staff_names``: a text is sent anew, a photo or document is copied with
        copyMessage, which shows no author); False if the ticket is unknown or closed. With
        ``source``, the relay is remembered so that an edit of the answer is mirrored."""
        ticket = await self.repository.get(ticket_id)
        if ticket is None:
            return False
        now = self.clock()
        etablissement = await self._school_name(ticket)
        signed_by = staff_first_name if self.show_staff_names else None
        if source is not None and source.media:
            copy = {
                "from_chat_id": source.chat_id,
                "message_id": source.message_id,
                "caption": team_caption(etablissement, text, signed_by),
            }
            item = self._item(RELAY_COPY, {"chat_id": ticket.chat_id, "copy": copy}, now)
        else:
            answer = texts.answer_from_team(etablissement, text, signed_by)
            item = self._telegram(ticket.chat_id, answer, now)
        if source is not None:
            item.params[RELAY_ID] = None
        done = await self.repository.add_staff_message(ticket_id, now, [item], source=source)
        if done:
            self._kick([item])
        return done

    async def close(self, ticket_id: int) -> bool:
        """Close a ticket; the user is told how to reopen it. False if it was not open."""
        ticket = await self.repository.get(ticket_id)
        if ticket is None:
            return False
        now = self.clock()
        item = self._telegram(ticket.chat_id, texts.closed_for_user(ticket.id), now)
        done = await self.repository.close(ticket_id, now, [item])
        if done:
            self._kick([item])
        return done

    async def _report(
        self, session: ConversationSession | None, account_ids: Sequence[int]
    ) -> AccountReport | None:
        """The staff report of the user's proven account, if any."""
        identifiant = session.identifiant if session else None
        if identifiant is None and account_ids:
            account = await self.directory.get(account_ids[0])
            identifiant = account.identifiant if account else None
        return await self.staff.report(identifiant) if identifiant else None

    @staticmethod
    def _topic_post(
        chat_id: int, user_id: int, title: str, text: str, now: datetime
    ) -> NewOutboxItem:
        return NewOutboxItem(
            kind=OutboxKind.TELEGRAM_MESSAGE,
            template=TOPIC_POST,
            params={"chat_id": chat_id, "user_id": user_id, "title": title, "text": text},
            created_at=now,
            expires_at=now + RELAY_FOR,
        )

    @staticmethod
    def _item(template: str, params: dict[str, Any], now: datetime) -> NewOutboxItem:
        return NewOutboxItem(
            kind=OutboxKind.TELEGRAM_MESSAGE,
            template=template,
            params=params,
            created_at=now,
            expires_at=now + RELAY_FOR,
        )

    @staticmethod
    def _telegram(chat_id: int, text: str, now: datetime) -> NewOutboxItem:
        return NewOutboxItem(
            kind=OutboxKind.TELEGRAM_MESSAGE,
            template=STAFF_NOTICE,
            params={"chat_id": chat_id, "text": text},
            created_at=now,
            expires_at=now + RELAY_FOR,
        )

    def _kick(self, items: Sequence[NewOutboxItem]) -> None:
        for item in items:
            self.outbox.kick(item)
