"""What the bot does with one incoming e-mail: decide (automatic, unverified, capped, or a
person to answer), write the outcome and the answer in one transaction, let the outbox send it.

Works without Telegram and without a staff group: the answer is the school's quick answer that
matches, how to continue (the Telegram link when the bot runs there; the ENT), the team's
hours and contacts, and that secrets are never asked by e-mail. The relay to the staff group
comes with the channel-neutral person (issue 23)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.config.hours import OpeningHours, is_open, next_opening
from bot.mail_in.rules import Incoming, address_key_text, parse, reply_references, reply_subject
from bot.outbox.templates import MAIL_ANSWER
from bot.procedures.kernel import Clock
from bot.school import SchoolConfig
from bot.security import KeyedHasher
from bot.support.quick_answers import match
from bot.texts import mail_in as mail_in_texts
from bot.texts.support import DAY_NAMES, opening_day
from storage.mail_in import HandledMail, MailInRepository, MailOutcome
from storage.outbox import NewOutboxItem, OutboxKind

logger = logging.getLogger(__name__)

# An answer not sent within a day is stale: given up.
ANSWER_FOR = timedelta(days=1)
CAP_WINDOW = timedelta(hours=24)


class OutboxPort(Protocol):
    """What the service needs of :class:`bot.outbox.Outbox` (an attempt right after commit)."""

    def kick(self, item: NewOutboxItem) -> None:
        """Make the first attempt of a committed item now."""
        ...


@dataclass(frozen=True)
class MailInSettings:
    """The knobs of incoming e-mail (from the settings)."""

    inbound_email: str
    authserv_id: str | None = None
    answers_per_day: int = 5
    # The bot's own addresses (INBOUND_EMAIL, MAIL_FROM's): never answered.
    own_addresses: frozenset[str] = frozenset()
    mailbox: str = "INBOX"


def _clock_minutes(minutes: int) -> str:
    """« 8 h », « 13 h 30 »."""
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def hours_lines(hours: OpeningHours | None) -> list[str]:
    """The team's week, one line a day it opens: « lundi : 8 h - 12 h, 13 h 30 - 17 h »."""
    if hours is None:
        return []
    lines = []
    for name, ranges in zip(DAY_NAMES, hours.week, strict=False):
        if ranges:
            spans = ", ".join(f"{_clock_minutes(a)} - {_clock_minutes(b)}" for a, b in ranges)
            lines.append(f"{name} : {spans}")
    return lines


def back_at(hours: OpeningHours | None, now: datetime) -> str:
    """When the team is back (« demain 8 h 00 »), or "" if it is there now (or always)."""
    if hours is None or is_open(hours, now):
        return ""
    opens = next_opening(hours, now)
    if opens is None:
        return ""
    return opening_day(hours.local(opens), hours.local(now).date())


_PHRASE_END = re.compile(r"[.!?;\n]+")


def _phrases(incoming: Incoming) -> list[str]:
    """What a quick answer is matched against: the text, each of its first phrases (« Bonjour,
    je n'ai pas reçu l'e-mail. » is one phrase of no use and one that matches), the subject."""
    text = incoming.text[:1000]
    phrases = [p.strip() for p in _PHRASE_END.split(text) if len(p.strip()) >= 3][:8]
    for phrase in list(phrases):
        # « Bonjour, je n'ai pas… »: the words after a greeting.
        head, comma, rest = phrase.partition(",")
        if comma and len(head.split()) <= 2 and rest.strip():
            phrases.append(rest.strip())
    subject = " ".join(incoming.subject.split())
    return [p for p in (text, *phrases, subject) if p.strip()]


class MailInService:
    """Handles each incoming e-mail exactly once (see :meth:`handle`)."""

    def __init__(
        self,
        repository: MailInRepository,
        outbox: OutboxPort,
        school: SchoolConfig,
        keyed: KeyedHasher,
        clock: Clock,
        settings: MailInSettings,
    ) -> None:
        self.repository = repository
        self.outbox = outbox
        self.school = school
        self.keyed = keyed
        self.clock = clock
        self.settings = settings
        # The Telegram bot's @username once it runs there (set at start).
        self.bot_username: str | None = None

    @property
    def mailbox(self) -> str:
        """The IMAP folder read."""
        return self.settings.mailbox

    async def resume_after(self, uidvalidity: int) -> int:
        """The last UID handled in this UIDVALIDITY (reading resumes after it)."""
        return await self.repository.last_uid(self.mailbox, uidvalidity)

    async def handled(self, uidvalidity: int, uids: list[int]) -> set[int]:
        """The UIDs among ``uids`` handled already."""
        return await self.repository.handled(self.mailbox, uidvalidity, uids)

    def address_key(self, address: str) -> str:
        """Keyed hash of an address (the outbox's key: one count for all e-mails to it)."""
        return self.keyed.digest(address_key_text(address), purpose="mail-address")

    async def handle(self, uidvalidity: int, uid: int, raw: bytes) -> MailOutcome | None:
        """Read, decide and record message ``uid``; its answer goes to the outbox in the same
        transaction. None if it was handled already (a second reader, a replay)."""
        incoming = parse(raw, self.settings.authserv_id)
        now = self.clock()
        outcome, reason = await self._decide(incoming, now)
        key = self.address_key(incoming.sender) if incoming.sender else None
        items = []
        if outcome == MailOutcome.ANSWERED:
            assert incoming.sender is not None
            items.append(self._answer(incoming, now, key))
        mail = HandledMail(self.mailbox, uidvalidity, uid, now, outcome, reason, key)
        if not await self.repository.record(mail, items):
            return None
        logger.info(mail_in_texts.handled(uidvalidity, uid, outcome.value, reason))
        for item in items:
            self.outbox.kick(item)
        return outcome

    async def _decide(self, incoming: Incoming, now: datetime) -> tuple[MailOutcome, str | None]:
        if incoming.automatic is not None:
            return MailOutcome.AUTOMATIC, incoming.automatic
        if incoming.sender is None:
            return MailOutcome.NO_SENDER, None
        if address_key_text(incoming.sender) in self.settings.own_addresses:
            return MailOutcome.OWN, None
        if incoming.dmarc == "fail":
            # Whoever wrote it is not the From's owner: nothing goes back to that address.
            return MailOutcome.UNVERIFIED, "dmarc=fail"
        given = await self.repository.answers_since(
            self.address_key(incoming.sender), now - CAP_WINDOW
        )
        if given >= self.settings.answers_per_day:
            return MailOutcome.CAPPED, None
        return MailOutcome.ANSWERED, None

    def _answer(self, incoming: Incoming, now: datetime, key: str | None) -> NewOutboxItem:
        """The outbox item of the automatic answer (all its values computed now)."""
        answers = self.school.quick_answers
        quick = None
        for words in _phrases(incoming):
            found = match(words, answers)
            if found is not None and found.strong:
                quick = answers[found.index]
                break
        in_reply_to, references = reply_references(incoming)
        values: dict[str, Any] = {
            "subject": reply_subject(incoming.subject),
            "quick_titre": quick.titre if quick else "",
            "quick_texte": quick.texte if quick else "",
            "telegram_link": f"https://t.me/{self.bot_username}" if self.bot_username else "",
            "hours_lines": hours_lines(self.school.horaires),
            "back_at": back_at(self.school.horaires, now),
        }
        assert incoming.sender is not None
        return NewOutboxItem(
            kind=OutboxKind.NOTICE_MAIL,
            template=MAIL_ANSWER,
            params={
                "to": incoming.sender,
                "in_reply_to": in_reply_to,
                "references": references,
                "values": values,
            },
            created_at=now,
            expires_at=now + ANSWER_FOR,
            address_key=key,
        )
