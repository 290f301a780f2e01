"""``/diffusion``: a staff member writes a campaign in Telegram — segment, channel, text,
preview, confirmation. The draft is a row (never memory); each step gets a new nonce, carried by
its buttons, so a stale or forged button does nothing."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from bot.broadcast.message import render, unknown_placeholders
from bot.config.quiet import QuietHours
from bot.staff.rights import StaffRights
from storage.broadcasts import Audience, BroadcastRepository, Channel, Draft, Segment

SEGMENTS = tuple(Segment)
CHANNELS = {
    "telegram": (Channel.TELEGRAM,),
    "email": (Channel.EMAIL,),
    "tous": (Channel.TELEGRAM, Channel.EMAIL),
}
MESSAGE_LIMIT = 4000


@dataclass(frozen=True)
class Preview:
    """What the staff member sees before confirming."""

    draft: Draft
    sample: str
    counts: dict[str, int]
    quiet_until: datetime | None

    @property
    def total(self) -> int:
        """Recipients, all channels."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class Refused:
    """The typed text cannot be sent: ``unknown`` placeholders, or empty/too long."""

    unknown: list[str]


class DiffusionService:
    """The rules of ``/diffusion``, without Telegram."""

    def __init__(
        self,
        repository: BroadcastRepository,
        clock: Callable[[], datetime],
        *,
        email_enabled: bool,
        quiet: QuietHours | None,
        rights_of: Callable[[int], StaffRights | None] | None = None,
    ) -> None:
        self.repository = repository
        self.clock = clock
        self.email_enabled = email_enabled
        self.quiet = quiet
        # A region (issue 27): a staff member's rights (``StaffService.rights_of``); their
        # campaigns reach their establishments' accounts only (none without rights). None:
        # one school, every account.
        self.rights_of = rights_of

    def channels(self) -> list[str]:
        """The channels offered."""
        return list(CHANNELS) if self.email_enabled else ["telegram"]

    async def start(self, user_id: int) -> Draft:
        """A new draft (an older one is dropped)."""
        draft = Draft(user_id, "segment", secrets.token_hex(4), None, None, None)
        await self.repository.save_draft(draft, self.clock())
        return draft

    async def _current(self, user_id: int, nonce: str, step: str) -> Draft | None:
        draft = await self.repository.draft(user_id)
        if draft is None or draft.nonce != nonce or draft.step != step:
            return None
        return draft

    async def choose_segment(self, user_id: int, nonce: str, index: int) -> Draft | None:
        """The segment chosen (by its index in :data:`SEGMENTS`); None if the button is stale."""
        draft = await self._current(user_id, nonce, "segment")
        if draft is None or not 0 <= index < len(SEGMENTS):
            return None
        draft = replace(
            draft, step="canal", nonce=secrets.token_hex(4), segment=SEGMENTS[index].value
        )
        if len(self.channels()) == 1:
            draft = replace(draft, step="texte", channel=self.channels()[0])
        await self.repository.save_draft(draft, self.clock())
        return draft

    async def choose_channel(self, user_id: int, nonce: str, index: int) -> Draft | None:
        """The channel chosen (its index in :meth:`channels`); None if the button is stale."""
        draft = await self._current(user_id, nonce, "canal")
        offered = self.channels()
        if draft is None or not 0 <= index < len(offered):
            return None
        draft = replace(draft, step="texte", nonce=secrets.token_hex(4), channel=offered[index])
        await self.repository.save_draft(draft, self.clock())
        return draft

    async def waiting_for_text(self, user_id: int) -> bool:
        """Whether this staff member's next text is a campaign's message."""
        draft = await self.repository.draft(user_id)
        return draft is not None and draft.step == "texte"

    def _audience(self, draft: Draft) -> Audience:
        uais: frozenset[str] | None = None
        if self.rights_of is not None:
            rights = self.rights_of(draft.telegram_user_id)
            uais = frozenset() if rights is None else rights.uais
        return Audience(
            segment=Segment(draft.segment or Segment.TOUS),
            channels=CHANNELS.get(draft.channel or "telegram", (Channel.TELEGRAM,)),
            uais=uais,
        )

    async def write(self, user_id: int, text: str) -> Preview | Refused | None:
        """The message typed: its preview with the counts (a draft without recipients is
        dropped: empty counts); None if no draft waits for a text."""
        draft = await self.repository.draft(user_id)
        if draft is None or draft.step != "texte":
            return None
        text = text.strip()
        if not text or len(text) > MESSAGE_LIMIT:
            return Refused([])
        unknown = unknown_placeholders(text)
        if unknown:
            return Refused(unknown)
        recipients = await self.repository.recipients(self._audience(draft))
        if not recipients:
            await self.repository.drop_draft(user_id)
            return Preview(draft, "", {}, None)
        draft = replace(draft, step="confirmation", nonce=secrets.token_hex(4), message=text)
        await self.repository.save_draft(draft, self.clock())
        counts: dict[str, int] = {}
        for recipient in recipients:
            counts[recipient.channel.value] = counts.get(recipient.channel.value, 0) + 1
        now = self.clock()
        quiet_until = None
        if self.quiet is not None and self.quiet.contains(now):
            quiet_until = self.quiet.ends(now).astimezone(self.quiet.zone)
        sample = render(text, recipients[0].prenom, recipients[0].etablissement)
        return Preview(draft, sample, counts, quiet_until)

    async def confirm(self, user_id: int, nonce: str, *, now: bool) -> int | None:
        """Record the campaign (``now``: despite the quiet hours); its number, or None if the
        button is stale."""
        draft = await self._current(user_id, nonce, "confirmation")
        if draft is None or draft.message is None:
            return None
        await self.repository.drop_draft(user_id)
        return await self.repository.create(
            self._audience(draft),
            draft.message,
            "",
            f"telegram:{user_id}",
            self.clock(),
            send_now=now,
        )

    async def abandon(self, user_id: int) -> None:
        """Drop the draft."""
        await self.repository.drop_draft(user_id)
