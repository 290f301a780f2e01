"""Staff broadcasts: campaigns, their ledger (one row per campaign × recipient × channel), the
recipient segments (computed in SQL), opt-outs, blocked users and the running bot's heartbeat."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import aiosqlite

from storage.db import Database, Scope, from_db_time, scope_sql, to_db_time


class Segment(StrEnum):
    """Who a campaign is for."""

    A_ACTIVER = "a_activer"  # never started the activation
    EN_COURS = "en_cours"  # started, not finished (waiting for the e-mail code included)
    ACTIVES = "actives"
    TOUS = "tous"


class Channel(StrEnum):
    """How a reminder reaches someone."""

    TELEGRAM = "telegram"
    EMAIL = "email"


class CampaignState(StrEnum):
    """Where a campaign is."""

    EN_ATTENTE = "en_attente"
    EN_COURS = "en_cours"
    TERMINEE = "terminee"
    ANNULEE = "annulee"


class DeliveryStatus(StrEnum):
    """Where one ledger row is. ``in_flight``: its send was started; found so at start-up, it
    becomes ``uncertain`` (sent or not, nobody knows) and is never sent again."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class Audience:
    """A segment, its filters and the channels."""

    segment: Segment = Segment.TOUS
    profils: tuple[str, ...] = ()
    etablissement: str | None = None
    channels: tuple[Channel, ...] = (Channel.TELEGRAM,)
    # Only accounts of these establishments (UAIs; None: every account), in SQL (issue 27).
    uais: frozenset[str] | None = None

    @property
    def campaign_uai(self) -> str | None:
        """The establishment a campaign for this audience belongs to (None: the region)."""
        return next(iter(self.uais)) if self.uais is not None and len(self.uais) == 1 else None


@dataclass(frozen=True)
class Recipient:
    """One person reached on one channel, with what the placeholders need."""

    channel: Channel
    recipient: str
    account_id: int
    prenom: str
    etablissement: str


@dataclass(frozen=True)
class Campaign:
    """A stored campaign."""

    id: int
    state: CampaignState
    message: str
    subject: str
    segment: str
    channel: str
    created_at: datetime
    send_now: bool = False


@dataclass(frozen=True)
class Delivery:
    """A ledger row to send, with the placeholders' values read from its account."""

    id: int
    campaign_id: int
    channel: Channel
    recipient: str
    attempts: int
    prenom: str
    etablissement: str


@dataclass(frozen=True)
class CampaignStats:
    """What staff see of a campaign (the keys of ``broadcast status --json``)."""

    id: int
    state: str
    recipients: int
    sent: int
    blocked: int
    failed: int
    uncertain: int
    pending: int
    rate_per_s: float


# A link reminder never comes within this time of its e-mail (a short VERIFICATION_TTL_HOURS).
LINK_REMINDER_NOT_BEFORE = timedelta(hours=1)


class AutoKind(StrEnum):
    """The automatic reminders."""

    LINK_EXPIRING = "lien_expire"  # the e-mail link expires within a day
    UNFINISHED = "inacheve"  # an activation left for days


@dataclass(frozen=True)
class AutoReminder:
    """A due automatic reminder, with what its buttons need (None: no longer relevant)."""

    id: int
    kind: AutoKind
    telegram_user_id: int
    chat_id: int
    prompt_nonce: str | None


@dataclass(frozen=True)
class Draft:
    """A campaign a staff member is writing in Telegram (``/diffusion``)."""

    telegram_user_id: int
    step: str
    nonce: str
    segment: str | None
    channel: str | None
    message: str | None


@dataclass(frozen=True)
class Progress:
    """A campaign whose progress message the bot edits."""

    stats: CampaignStats
    chat_id: int
    message_id: int
    paused: bool


@dataclass(frozen=True)
class Heartbeat:
    """The last sign of life of a running bot."""

    at: datetime
    pid: int
    rate_per_s: float


_SEGMENT_WHERE = {
    Segment.A_ACTIVER: "a.status = 'a_activer' AND NOT EXISTS (SELECT 1 FROM conversation_sessions"
    " s WHERE s.account_id = a.id AND s.flow = 'activation')",
    Segment.EN_COURS: "a.status = 'a_activer' AND EXISTS (SELECT 1 FROM conversation_sessions s"
    " WHERE s.account_id = a.id AND s.flow = 'activation')",
    Segment.ACTIVES: "a.status = 'active'",
    Segment.TOUS: "1",
}


def _audience_where(audience: Audience) -> tuple[str, list[object]]:
    where = [_SEGMENT_WHERE[audience.segment]]
    params: list[object] = []
    if audience.profils:
        where.append(f"a.profil IN ({', '.join('?' for _ in audience.profils)})")
        params.extend(audience.profils)
    if audience.etablissement:
        where.append("a.etablissement = ? COLLATE NOCASE")
        params.append(audience.etablissement)
    only, scoped = scope_sql(audience.uais, "a.uai")
    params.extend(scoped)
    return " AND ".join(where) + only, params


def recipients_query(audience: Audience) -> tuple[str, tuple[object, ...]]:
    """SQL (and its parameters) of the recipients of ``audience``, each once a channel (with
    their first account), without those who opted out or blocked the bot. Telegram: users
    linked to an account of the segment or with an open procedure on one. E-mail: verified
    recovery addresses and the staff's ``email_contact`` addresses. Columns: channel,
    recipient, account_id, prenom, etablissement."""
    where, where_params = _audience_where(audience)
    parts: list[str] = []
    params: list[object] = []
    if Channel.TELEGRAM in audience.channels:
        parts.append(
            "SELECT 'telegram' AS channel, CAST(r.user_id AS TEXT) AS recipient,"
            " MIN(a.id) AS account_id"
            " FROM accounts a JOIN ("
            " SELECT id AS account_id, telegram_user_id AS user_id FROM accounts"
            " WHERE telegram_user_id IS NOT NULL"
            " UNION SELECT account_id, telegram_user_id FROM conversation_sessions"
            " WHERE account_id IS NOT NULL) r ON r.account_id = a.id"
            f" WHERE {where}"
            " AND NOT EXISTS (SELECT 1 FROM reminder_opt_outs o WHERE o.channel = 'telegram'"
            " AND o.recipient = CAST(r.user_id AS TEXT))"
            " AND NOT EXISTS (SELECT 1 FROM telegram_blocked b"
            " WHERE b.telegram_user_id = r.user_id)"
            " GROUP BY r.user_id"
        )
        params.extend(where_params)
    if Channel.EMAIL in audience.channels:
        parts.append(
            "SELECT 'email' AS channel, r.address AS recipient, MIN(a.id) AS account_id"
            " FROM accounts a JOIN ("
            " SELECT id AS account_id, lower(email) AS address FROM accounts"
            " WHERE email IS NOT NULL AND email_verified_at IS NOT NULL"
            " UNION SELECT account_id, lower(email) FROM reminder_contacts) r"
            " ON r.account_id = a.id"
            f" WHERE {where}"
            " AND NOT EXISTS (SELECT 1 FROM reminder_opt_outs o WHERE o.channel = 'email'"
            " AND o.recipient = r.address)"
            " GROUP BY r.address"
        )
        params.extend(where_params)
    if not parts:
        parts.append("SELECT 'telegram' AS channel, '' AS recipient, 0 AS account_id WHERE 0")
    sql = (
        f"WITH chosen AS ({' UNION ALL '.join(parts)})"
        " SELECT c.channel, c.recipient, c.account_id, a.prenom, a.etablissement"
        " FROM chosen c JOIN accounts a ON a.id = c.account_id"
        " ORDER BY c.channel DESC, c.account_id"
    )
    return sql, tuple(params)


def _campaign(row: aiosqlite.Row) -> Campaign:
    created = from_db_time(row["created_at"])
    assert created is not None
    return Campaign(
        id=row["id"],
        state=CampaignState(row["state"]),
        message=row["message"],
        subject=row["subject"],
        segment=row["segment"],
        channel=row["channel"],
        created_at=created,
        send_now=bool(row["send_now"]),
    )


_STATS_SQL = (
    "SELECT c.id, c.state, COUNT(d.id) AS recipients,"
    " COALESCE(SUM(d.status = 'sent'), 0) AS sent,"
    " COALESCE(SUM(d.status = 'blocked'), 0) AS blocked,"
    " COALESCE(SUM(d.status = 'failed'), 0) AS failed,"
    " COALESCE(SUM(d.status = 'uncertain'), 0) AS uncertain,"
    " COALESCE(SUM(d.status IN ('pending', 'in_flight')), 0) AS pending,"
    " COALESCE(SUM(d.status = 'sent' AND d.done_at >= ?), 0) AS recent"
    " FROM broadcast_campaigns c LEFT JOIN broadcast_deliveries d ON d.campaign_id = c.id"
)
# The rate shown is that of the last RATE_WINDOW.
RATE_WINDOW = timedelta(seconds=10)


def _stats(row: aiosqlite.Row) -> CampaignStats:
    return CampaignStats(
        id=row["id"],
        state=row["state"],
        recipients=row["recipients"],
        sent=row["sent"],
        blocked=row["blocked"],
        failed=row["failed"],
        uncertain=row["uncertain"],
        pending=row["pending"],
        rate_per_s=round(row["recent"] / RATE_WINDOW.total_seconds(), 1)
        if row["state"] == CampaignState.EN_COURS
        else 0.0,
    )


class BroadcastRepository:
    """SQL of the broadcasts."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # --- staff ----------------------------------------------------------------------------

    async def recipients(self, audience: Audience) -> list[Recipient]:
        """Who ``audience`` reaches now."""
        sql, params = recipients_query(audience)
        rows = await self.database.fetch_all(sql, params)
        return [
            Recipient(
                Channel(row["channel"]),
                row["recipient"],
                row["account_id"],
                row["prenom"],
                row["etablissement"],
            )
            for row in rows
        ]

    async def next_id(self) -> int:
        """The number the next campaign will most likely get (for the preview)."""
        row = await self.database.fetch_one(
            "SELECT COALESCE(MAX(id), 0) + 1 FROM broadcast_campaigns"
        )
        return int(row[0]) if row else 1

    async def create(
        self,
        audience: Audience,
        message: str,
        subject: str,
        created_by: str,
        now: datetime,
        *,
        send_now: bool = False,
    ) -> int:
        """Record a campaign and its ledger in one transaction (recipients computed again,
        inside it); return its number. ``send_now``: the quiet hours do not hold it."""
        sql, params = recipients_query(audience)
        async with self.database.transaction() as connection:
            cursor = await connection.execute(
                "INSERT INTO broadcast_campaigns (message, subject, segment, profils, "
                "etablissement, channel, created_by, created_at, send_now, uai) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message,
                    subject,
                    audience.segment.value,
                    json.dumps(list(audience.profils), ensure_ascii=False),
                    audience.etablissement,
                    ",".join(channel.value for channel in audience.channels),
                    created_by,
                    to_db_time(now),
                    send_now,
                    audience.campaign_uai,
                ),
            )
            campaign_id = cursor.lastrowid
            assert campaign_id is not None
            await connection.execute(
                "INSERT OR IGNORE INTO broadcast_deliveries (campaign_id, channel, recipient, "
                f"account_id) SELECT ?, channel, recipient, account_id FROM ({sql})",
                (campaign_id, *params),
            )
        return campaign_id

    async def stats(
        self, campaign_id: int, now: datetime, scope: Scope = None
    ) -> CampaignStats | None:
        """The figures of one campaign (of one of ``scope``'s establishments)."""
        only, params = scope_sql(scope, "c.uai")
        row = await self.database.fetch_one(
            _STATS_SQL + f" WHERE c.id = ?{only} GROUP BY c.id",
            (to_db_time(now - RATE_WINDOW), campaign_id, *params),
        )
        return _stats(row) if row else None

    async def all_stats(self, now: datetime, scope: Scope = None) -> list[CampaignStats]:
        """The figures of every campaign (of ``scope``'s establishments), newest first."""
        only, params = scope_sql(scope, "c.uai")
        rows = await self.database.fetch_all(
            _STATS_SQL + f" WHERE 1{only} GROUP BY c.id ORDER BY c.id DESC",
            (to_db_time(now - RATE_WINDOW), *params),
        )
        return [_stats(row) for row in rows]

    async def cancel(self, campaign_id: int, now: datetime) -> bool:
        """Cancel a campaign not finished yet (rows not sent stay ``pending``)."""
        async with self.database.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE broadcast_campaigns SET state = 'annulee', finished_at = ? "
                "WHERE id = ? AND state IN ('en_attente', 'en_cours')",
                (to_db_time(now), campaign_id),
            )
            return cursor.rowcount > 0

    async def purge(self, finished_before: datetime) -> int:
        """Forget campaigns (and their ledgers) finished or cancelled before ``finished_before``,
        and automatic reminders of procedures now over; opt-outs and blocked users stay. Returns
        the number of campaigns forgotten."""
        async with self.database.transaction() as connection:
            await connection.execute(
                "DELETE FROM broadcast_deliveries WHERE campaign_id IN (SELECT id FROM "
                "broadcast_campaigns WHERE state IN ('terminee', 'annulee') AND finished_at < ?)",
                (to_db_time(finished_before),),
            )
            cursor = await connection.execute(
                "DELETE FROM broadcast_campaigns WHERE state IN ('terminee', 'annulee') "
                "AND finished_at < ?",
                (to_db_time(finished_before),),
            )
            # An automatic reminder is kept while its procedure is open (so it never comes
            # twice), then for the same time.
            await connection.execute(
                "DELETE FROM auto_reminders WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM "
                "conversation_sessions s WHERE s.telegram_user_id = auto_reminders.telegram_user_id"
                " AND s.started_at = auto_reminders.procedure_started_at)",
                (to_db_time(finished_before),),
            )
            return cursor.rowcount

    async def campaign(self, campaign_id: int, scope: Scope = None) -> Campaign | None:
        """One campaign (of one of ``scope``'s establishments)."""
        only, params = scope_sql(scope)
        row = await self.database.fetch_one(
            f"SELECT * FROM broadcast_campaigns WHERE id = ?{only}", (campaign_id, *params)
        )
        return _campaign(row) if row else None

    # --- the worker -----------------------------------------------------------------------

    async def recover_in_flight(self, now: datetime) -> int:
        """Rows whose send was under way when the bot died become ``uncertain``."""
        count = 0
        async with self.database.transaction() as connection:
            for table in ("broadcast_deliveries", "auto_reminders"):
                cursor = await connection.execute(
                    f"UPDATE {table} SET status = 'uncertain', done_at = ?, "
                    "last_error = 'interrompu' WHERE status = 'in_flight'",
                    (to_db_time(now),),
                )
                count += cursor.rowcount
        return count

    # --- automatic reminders --------------------------------------------------------------

    async def schedule_auto(
        self,
        now: datetime,
        *,
        link_expiring_within: timedelta | None,
        unfinished_for: timedelta | None,
    ) -> int:
        """Write the automatic reminders now due (each once per procedure); how many."""
        stamp = to_db_time(now)
        count = 0
        async with self.database.transaction() as connection:
            if link_expiring_within is not None:
                cursor = await connection.execute(
                    "INSERT OR IGNORE INTO auto_reminders (kind, telegram_user_id, chat_id, "
                    "procedure_started_at, created_at) SELECT 'lien_expire', telegram_user_id, "
                    "chat_id, started_at, ? FROM conversation_sessions WHERE flow = 'activation' "
                    "AND code_hash IS NOT NULL AND email_verified_at IS NULL "
                    "AND code_expires_at > ? AND code_expires_at <= ? AND code_sent_at <= ?",
                    (
                        stamp,
                        stamp,
                        to_db_time(now + link_expiring_within),
                        to_db_time(now - LINK_REMINDER_NOT_BEFORE),
                    ),
                )
                count += cursor.rowcount
            if unfinished_for is not None:
                cursor = await connection.execute(
                    "INSERT OR IGNORE INTO auto_reminders (kind, telegram_user_id, chat_id, "
                    "procedure_started_at, created_at) SELECT 'inacheve', telegram_user_id, "
                    "chat_id, started_at, ? FROM conversation_sessions WHERE flow = 'activation' "
                    "AND updated_at <= ?",
                    (stamp, to_db_time(now - unfinished_for)),
                )
                count += cursor.rowcount
        return count

    async def pending_auto(self, now: datetime, limit: int = 100) -> list[AutoReminder]:
        """Due automatic reminders; ``prompt_nonce`` None when the procedure is over or moved
        on (the link no longer waiting)."""
        rows = await self.database.fetch_all(
            "SELECT r.id, r.kind, r.telegram_user_id, r.chat_id, s.prompt_nonce, s.step, "
            "s.code_hash, s.code_expires_at FROM auto_reminders r "
            "LEFT JOIN conversation_sessions s ON s.telegram_user_id = r.telegram_user_id "
            "AND s.started_at = r.procedure_started_at AND s.flow = 'activation' "
            "WHERE r.status = 'pending' ORDER BY r.id LIMIT ?",
            (limit,),
        )
        stamp = to_db_time(now)
        due = []
        for row in rows:
            nonce = row["prompt_nonce"]
            if row["kind"] == AutoKind.LINK_EXPIRING and (
                row["code_hash"] is None or (row["code_expires_at"] or "") <= stamp
            ):
                nonce = None
            due.append(
                AutoReminder(
                    row["id"], AutoKind(row["kind"]), row["telegram_user_id"], row["chat_id"], nonce
                )
            )
        return due

    async def mark_auto(
        self, reminder_id: int, status: DeliveryStatus, now: datetime, error: str | None = None
    ) -> bool:
        """The state of an automatic reminder (``in_flight``: only from ``pending``)."""
        async with self.database.transaction() as connection:
            if status == DeliveryStatus.IN_FLIGHT:
                cursor = await connection.execute(
                    "UPDATE auto_reminders SET status = 'in_flight' "
                    "WHERE id = ? AND status = 'pending'",
                    (reminder_id,),
                )
            else:
                cursor = await connection.execute(
                    "UPDATE auto_reminders SET status = ?, done_at = ?, last_error = ? "
                    "WHERE id = ?",
                    (status.value, to_db_time(now), error, reminder_id),
                )
            return cursor.rowcount > 0

    async def next_campaign(self) -> Campaign | None:
        """The oldest campaign to send."""
        campaigns = await self.open_campaigns()
        return campaigns[0] if campaigns else None

    async def open_campaigns(self) -> list[Campaign]:
        """The campaigns to send (not paused), oldest first."""
        rows = await self.database.fetch_all(
            "SELECT * FROM broadcast_campaigns WHERE state IN ('en_attente', 'en_cours') "
            "AND paused = 0 ORDER BY id"
        )
        return [_campaign(row) for row in rows]

    async def mark_started(self, campaign_id: int, now: datetime) -> None:
        """``en_attente`` → ``en_cours``."""
        async with self.database.transaction() as connection:
            await connection.execute(
                "UPDATE broadcast_campaigns SET state = 'en_cours', started_at = ? "
                "WHERE id = ? AND state = 'en_attente'",
                (to_db_time(now), campaign_id),
            )

    async def pending(
        self,
        campaign_id: int,
        limit: int,
        exclude: Sequence[int] = (),
        channel: Channel = Channel.TELEGRAM,
    ) -> list[Delivery]:
        """Rows of ``channel`` still to send, oldest first (``exclude``: rows waiting for a
        retry)."""
        skip = f" AND d.id NOT IN ({', '.join(str(int(i)) for i in exclude)})" if exclude else ""
        rows = await self.database.fetch_all(
            "SELECT d.id, d.campaign_id, d.channel, d.recipient, d.attempts, "
            "COALESCE(a.prenom, '') AS prenom, COALESCE(a.etablissement, '') AS etablissement "
            "FROM broadcast_deliveries d LEFT JOIN accounts a ON a.id = d.account_id "
            f"WHERE d.campaign_id = ? AND d.channel = ? AND d.status = 'pending'{skip} "
            "ORDER BY d.id LIMIT ?",
            (campaign_id, channel.value, limit),
        )
        return [
            Delivery(
                row["id"],
                row["campaign_id"],
                Channel(row["channel"]),
                row["recipient"],
                row["attempts"],
                row["prenom"],
                row["etablissement"],
            )
            for row in rows
        ]

    async def mark_in_flight(self, delivery_id: int) -> bool:
        """Written before the send; False if the row is no longer pending."""
        async with self.database.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE broadcast_deliveries SET status = 'in_flight', attempts = attempts + 1 "
                "WHERE id = ? AND status = 'pending'",
                (delivery_id,),
            )
            return cursor.rowcount > 0

    async def mark_done(
        self, delivery_id: int, status: DeliveryStatus, now: datetime, error: str | None = None
    ) -> None:
        """The outcome of a send (``pending`` again: it will be retried)."""
        async with self.database.transaction() as connection:
            await connection.execute(
                "UPDATE broadcast_deliveries SET status = ?, last_error = ?, done_at = ? "
                "WHERE id = ?",
                (
                    status.value,
                    error,
                    None if status == DeliveryStatus.PENDING else to_db_time(now),
                    delivery_id,
                ),
            )

    async def finish_if_done(self, campaign_id: int, now: datetime) -> bool:
        """``en_cours`` → ``terminee`` once no row is pending or in flight."""
        async with self.database.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE broadcast_campaigns SET state = 'terminee', finished_at = ? "
                "WHERE id = ? AND state IN ('en_attente', 'en_cours') AND NOT EXISTS ("
                "SELECT 1 FROM broadcast_deliveries WHERE campaign_id = ? "
                "AND status IN ('pending', 'in_flight'))",
                (to_db_time(now), campaign_id, campaign_id),
            )
            return cursor.rowcount > 0

    async def sending(self, campaign_id: int) -> bool:
        """Whether the campaign is still to be sent now (not cancelled, not paused)."""
        row = await self.database.fetch_one(
            "SELECT 1 FROM broadcast_campaigns WHERE id = ? AND state = 'en_cours' AND paused = 0",
            (campaign_id,),
        )
        return row is not None

    async def state(self, campaign_id: int) -> CampaignState | None:
        """The campaign's state now."""
        row = await self.database.fetch_one(
            "SELECT state FROM broadcast_campaigns WHERE id = ?", (campaign_id,)
        )
        return CampaignState(row[0]) if row else None

    # --- /diffusion -----------------------------------------------------------------------

    async def save_draft(self, draft: Draft, now: datetime) -> None:
        """Write (or replace) a staff member's draft."""
        async with self.database.transaction() as connection:
            await connection.execute(
                "INSERT OR REPLACE INTO broadcast_drafts (telegram_user_id, step, nonce, segment, "
                "channel, message, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    draft.telegram_user_id,
                    draft.step,
                    draft.nonce,
                    draft.segment,
                    draft.channel,
                    draft.message,
                    to_db_time(now),
                ),
            )

    async def draft(self, telegram_user_id: int) -> Draft | None:
        """A staff member's draft, if any."""
        row = await self.database.fetch_one(
            "SELECT * FROM broadcast_drafts WHERE telegram_user_id = ?", (telegram_user_id,)
        )
        if row is None:
            return None
        return Draft(
            row["telegram_user_id"],
            row["step"],
            row["nonce"],
            row["segment"],
            row["channel"],
            row["message"],
        )

    async def drop_draft(self, telegram_user_id: int) -> None:
        """Forget a draft (sent or abandoned)."""
        async with self.database.transaction() as connection:
            await connection.execute(
                "DELETE FROM broadcast_drafts WHERE telegram_user_id = ?", (telegram_user_id,)
            )

    async def set_progress(self, campaign_id: int, chat_id: int, message_id: int) -> None:
        """The message the bot edits with the campaign's progress."""
        async with self.database.transaction() as connection:
            await connection.execute(
                "UPDATE broadcast_campaigns SET progress_chat_id = ?, progress_message_id = ? "
                "WHERE id = ?",
                (chat_id, message_id, campaign_id),
            )

    async def set_paused(self, campaign_id: int, paused: bool) -> bool:
        """Pause or resume a campaign not finished; False if it is."""
        async with self.database.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE broadcast_campaigns SET paused = ? "
                "WHERE id = ? AND state IN ('en_attente', 'en_cours')",
                (paused, campaign_id),
            )
            return cursor.rowcount > 0

    async def progress_to_show(self, now: datetime) -> list[Progress]:
        """Campaigns with a progress message not yet given its final report."""
        rows = await self.database.fetch_all(
            "SELECT id, progress_chat_id, progress_message_id, paused FROM broadcast_campaigns "
            "WHERE progress_message_id IS NOT NULL AND progress_reported = 0"
        )
        found = []
        for row in rows:
            stats = await self.stats(row["id"], now)
            if stats is not None:
                chat, message = row["progress_chat_id"], row["progress_message_id"]
                found.append(Progress(stats, chat, message, bool(row["paused"])))
        return found

    async def mark_reported(self, campaign_id: int) -> None:
        """The final report is shown: stop editing."""
        async with self.database.transaction() as connection:
            await connection.execute(
                "UPDATE broadcast_campaigns SET progress_reported = 1 WHERE id = ?",
                (campaign_id,),
            )

    # --- opt-outs, blocked users, heartbeat ------------------------------------------------

    async def opt_out(self, channel: Channel, recipient: str, now: datetime) -> None:
        """No more reminders for this person on this channel."""
        async with self.database.transaction() as connection:
            await connection.execute(
                "INSERT OR IGNORE INTO reminder_opt_outs (channel, recipient, at) VALUES (?, ?, ?)",
                (channel.value, recipient, to_db_time(now)),
            )

    async def opted_out(self, channel: Channel, recipient: str) -> bool:
        """Whether this person asked for no more reminders."""
        row = await self.database.fetch_one(
            "SELECT 1 FROM reminder_opt_outs WHERE channel = ? AND recipient = ?",
            (channel.value, recipient),
        )
        return row is not None

    async def email_of_delivery(self, delivery_id: int) -> str | None:
        """The address of an e-mail ledger row (for its unsubscribe link)."""
        row = await self.database.fetch_one(
            "SELECT recipient FROM broadcast_deliveries WHERE id = ? AND channel = 'email'",
            (delivery_id,),
        )
        return str(row[0]) if row else None

    async def set_contacts(self, contacts: Sequence[tuple[str, str | None]], now: datetime) -> None:
        """The ``email_contact`` of imported accounts: (normalised identifier, address or None
        to forget it), in one transaction."""
        stamp = to_db_time(now)
        async with self.database.transaction() as connection:
            for identifiant_norm, address in contacts:
                if address is None:
                    await connection.execute(
                        "DELETE FROM reminder_contacts WHERE account_id = "
                        "(SELECT id FROM accounts WHERE identifiant_norm = ?)",
                        (identifiant_norm,),
                    )
                else:
                    await connection.execute(
                        "INSERT INTO reminder_contacts (account_id, email, updated_at) "
                        "SELECT id, ?, ? FROM accounts WHERE identifiant_norm = ? "
                        "ON CONFLICT (account_id) DO UPDATE SET email = excluded.email, "
                        "updated_at = excluded.updated_at",
                        (address, stamp, identifiant_norm),
                    )

    async def block(self, telegram_user_id: int, now: datetime) -> None:
        """The user blocked the bot (403 or ``my_chat_member``)."""
        async with self.database.transaction() as connection:
            await connection.execute(
                "INSERT OR IGNORE INTO telegram_blocked (telegram_user_id, at) VALUES (?, ?)",
                (telegram_user_id, to_db_time(now)),
            )

    async def unblock(self, telegram_user_id: int) -> None:
        """The user writes to the bot again."""
        async with self.database.transaction() as connection:
            await connection.execute(
                "DELETE FROM telegram_blocked WHERE telegram_user_id = ?", (telegram_user_id,)
            )

    async def blocked_ids(self) -> set[int]:
        """Every user known to have blocked the bot."""
        rows = await self.database.fetch_all("SELECT telegram_user_id FROM telegram_blocked")
        return {int(row[0]) for row in rows}

    async def beat(self, now: datetime, pid: int, rate_per_s: float) -> None:
        """The running bot says it is alive."""
        async with self.database.transaction() as connection:
            await connection.execute(
                "INSERT INTO bot_heartbeat (id, at, pid, rate_per_s) VALUES (1, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET at = excluded.at, pid = excluded.pid, "
                "rate_per_s = excluded.rate_per_s",
                (to_db_time(now), pid, rate_per_s),
            )

    async def heartbeat(self) -> Heartbeat | None:
        """The last heartbeat, if a bot ever ran."""
        row = await self.database.fetch_one("SELECT at, pid, rate_per_s FROM bot_heartbeat")
        if row is None:
            return None
        at = from_db_time(row["at"])
        assert at is not None
        return Heartbeat(at, row["pid"], row["rate_per_s"])
