"""The bot's services and their life cycle, apart from the Telegram set-up (:mod:`bot.app`):
:class:`BotServices` is what the handlers use; :meth:`BotServices.start` opens it and starts
its workers, :meth:`BotServices.close` stops them and closes it — the one stop sequence."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from telegram.ext import Application, ExtBot

from bot.broadcast.email import BulkMailer
from bot.broadcast.unsubscribe import UnsubscribeServer
from bot.broadcast.worker import BroadcastSettings, BroadcastWorker, EmailChannel
from bot.config.hours import OpeningHours
from bot.config.smtp import SmtpSecurity
from bot.config.web_origins import parse_origins
from bot.directory.factory import open_directory
from bot.mail_in.reader import ImapConfig, MailReader
from bot.mail_in.rules import address_key_text, sender_address
from bot.mail_in.service import MailInService, MailInSettings
from bot.outbox import MailSender, Outbox, OutboxSettings, TelegramSender
from bot.outbox.mail import Mailer
from bot.procedures.activation import FLOW_ACTIVATION, ActivationService
from bot.procedures.kernel import ActivationSettings, Clock, ProcedurePorts, utc_now
from bot.procedures.linked_accounts import AccountService
from bot.procedures.my_account import FLOW_MY_ACCOUNT, MyAccountService
from bot.procedures.recovery import FLOW_RECOVERY, RecoveryService
from bot.procedures.registry import Registry
from bot.procedures.throttle import throttle_policy
from bot.region import Region, StaffTeam, region_of
from bot.school import SchoolConfig
from bot.security import KeyedHasher, SecretHasher, load_or_create_server_secret
from bot.settings import Settings
from bot.staff.rights import staff_telegram_ids
from bot.staff.service import StaffService
from bot.support.reminders import ReminderSettings, UnansweredReminders
from bot.support.service import SupportService
from bot.support.topics import TopicDirectory
from bot.telegram_api.limiter import RateLimitArgs
from bot.texts import mail_in as mail_in_texts
from bot.texts import ops as ops_texts
from bot.texts import web as web_texts
from bot.web.engine import ClosedEngine, WebEngine
from bot.web.server import Bound, WebChannel, WebConfig, WebServer
from storage.accounts import SqliteAccountDirectory
from storage.broadcasts import BroadcastRepository
from storage.db import Database
from storage.mail_in import MailInRepository
from storage.maintenance import PurgeReport, purge
from storage.menus import MenuRepository
from storage.outbox import OutboxRepository
from storage.records import RecordRepository
from storage.sessions import SessionRepository
from storage.staff import StaffRepository
from storage.support import SupportRepository
from storage.throttle import ThrottleRepository
from storage.web import WebRepository

if TYPE_CHECKING:
    from telegram import Bot

logger = logging.getLogger(__name__)

S = TypeVar("S")

# The key of the services in the application's ``bot_data``.
SERVICES_KEY = "services"

# The application as the services and the operations' port see it: its bot and its bot_data
# (its context type, conversations.context.BotContext, and job queue are the handlers' business).
AnyApplication: TypeAlias = Application[
    ExtBot[RateLimitArgs], Any, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]


def activation_settings(settings: Settings) -> ActivationSettings:
    """The knobs of the activation procedure from the settings."""
    return ActivationSettings(
        code_length=settings.verification_code_length,
        verification_ttl=timedelta(hours=settings.verification_ttl_hours),
        resend_cooldown=timedelta(seconds=settings.resend_cooldown_seconds),
        max_resends=settings.max_resends,
        mail_address_cooldown=timedelta(seconds=settings.mail_address_cooldown_seconds),
        max_mails_per_address=settings.max_mails_per_address_per_day,
        max_mails_per_account=settings.max_mails_per_account_per_day,
        max_mails_per_person=settings.max_mails_per_user_per_day,
        mail_reply_wait=settings.outbox_reply_wait_seconds,
        staff_telegram_ids=tuple(settings.staff_telegram_ids),
        refused_email_domains=tuple(
            domain.strip().strip(".").casefold()
            for domain in settings.recovery_email_refused_domains.split(",")
            if domain.strip()
        ),
        educonnect_url=settings.ldap_educonnect_url
        if settings.directory == "ldap" and settings.ldap_educonnect_profiles.strip()
        else "",
    )


def broadcast_settings(settings: Settings) -> BroadcastSettings:
    """The broadcast worker's rhythm from the settings."""
    return BroadcastSettings(
        rate_per_second=settings.broadcast_rate_per_second,
        poll_seconds=settings.broadcast_poll_seconds,
        heartbeat_seconds=settings.broadcast_heartbeat_seconds,
        max_attempts=settings.broadcast_max_attempts,
        retry_first=settings.broadcast_retry_first_seconds,
        quiet=settings.quiet_hours_window,
        link_expiring_within=timedelta(hours=settings.reminder_link_expiring_hours)
        if settings.reminder_link_expiring
        else None,
        unfinished_for=timedelta(days=settings.reminder_after_days)
        if settings.reminder_unfinished
        else None,
        auto_scan_seconds=settings.reminder_scan_seconds,
    )


def outbox_settings(settings: Settings) -> OutboxSettings:
    """The outbox worker's retry rhythm from the settings."""
    return OutboxSettings(
        retry_first=settings.outbox_retry_first_seconds,
        retry_max=settings.outbox_retry_max_seconds,
    )


@dataclass
class BotServices:
    """Everything the handlers use, opened once in the application's event loop."""

    settings: Settings
    school: SchoolConfig
    clock: Clock = utc_now
    mailer: Mailer | None = None
    database: Database | None = None
    # The procedures (their descriptions): each one's service is made from the ports.
    registry: Registry = field(default_factory=Registry)
    ports: ProcedurePorts = field(init=False)
    # Each procedure's service, by its name (the session's ``flow``).
    by_flow: dict[str, Any] = field(init=False, default_factory=dict)
    activation: ActivationService = field(init=False)
    recovery: RecoveryService = field(init=False)
    account: AccountService = field(init=False)
    staff: StaffService = field(init=False)
    my_account: MyAccountService = field(init=False)
    support: SupportService = field(init=False)
    topics: TopicDirectory = field(init=False)
    reminders: UnansweredReminders = field(init=False)
    outbox: Outbox = field(init=False)
    broadcast: BroadcastWorker = field(init=False)
    unsubscribe: UnsubscribeServer | None = field(default=None, init=False)
    # Incoming e-mail (IMAP_HOST and INBOUND_EMAIL set): the service and its reader.
    mail_in: MailInService | None = field(default=None, init=False)
    mail_reader: MailReader | None = field(default=None, init=False)
    # The web channel's engine: the procedures once step 2 of issue 24 binds them; until then
    # a production start serves ClosedEngine (the demo engine is for the sandbox and tests).
    web_engine: WebEngine | None = None
    web: WebServer | None = field(default=None, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)
    _purger: asyncio.Task[None] | None = field(default=None, init=False)

    async def open(self) -> None:
        """Open the database (migrating it) and build the services; idempotent."""
        async with self._lock:
            if self.database is not None:
                return
            self.database = await Database.open(self.settings.database_path)
            key = load_or_create_server_secret(self.settings.server_secret_file)
            hasher = SecretHasher(
                self.settings.argon2,
                threads=self.settings.argon2_threads,
                nice=self.settings.argon2_nice,
            )
            mailer = self.mailer or Mailer(self.settings.smtp)
            region = region_of(self.settings) if self.settings.schools_dir else None
            self.outbox = Outbox(
                OutboxRepository(self.database),
                MailSender(mailer, self.school, KeyedHasher(key), region),
                self.clock,
                outbox_settings(self.settings),
            )
            broadcasts = BroadcastRepository(self.database)
            email = None
            if self.settings.broadcast_unsubscribe_url:
                email = EmailChannel(
                    BulkMailer(self.settings.smtp, self.settings.broadcast_email_rate_per_second),
                    KeyedHasher(key),
                    self.settings.broadcast_unsubscribe_url,
                )
                self.unsubscribe = UnsubscribeServer(broadcasts, KeyedHasher(key), self.clock)
            self.broadcast = BroadcastWorker(
                broadcasts, self.clock, broadcast_settings(self.settings), email
            )
            self.ports = ProcedurePorts(
                directory=open_directory(self.settings, self.database, hasher, self.outbox),
                accounts=SqliteAccountDirectory(self.database),
                sessions=SessionRepository(self.database),
                throttle=ThrottleRepository(self.database),
                records=RecordRepository(self.database),
                hasher=hasher,
                keyed=KeyedHasher(key),
                mailer=mailer,
                school=self.school,
                password_policy=self.settings.password_policy,
                throttle_policy=throttle_policy(self.settings),
                settings=activation_settings(self.settings),
                clock=self.clock,
                outbox=self.outbox,
                region=region,
            )
            self.by_flow = {d.name: d.service(self.ports) for d in self.registry}
            self.activation = self._service(FLOW_ACTIVATION, ActivationService)
            self.recovery = self._service(FLOW_RECOVERY, RecoveryService)
            self.my_account = self._service(FLOW_MY_ACCOUNT, MyAccountService)
            self.account = AccountService(self.ports, MenuRepository(self.database))
            self.staff = StaffService(
                repository=StaffRepository(self.database),
                throttle=self.ports.throttle,
                records=self.ports.records,
                hasher=hasher,
                keyed=self.ports.keyed,
                throttle_policy=self.ports.throttle_policy,
                clock=self.clock,
                directory=self.ports.directory,
                region=region,
                staff_telegram_ids=tuple(self.settings.staff_telegram_ids),
            )
            # The region's group (SUPPORT_CHAT_ID, or the region file's [equipe]): for people
            # not identified yet; each establishment's own group is in ``region``.
            region_team = (
                region.team
                if region is not None
                else StaffTeam(self.settings.support_chat_id, self.settings.support_forum_topics)
            )
            self.support = SupportService(
                SupportRepository(self.database),
                self.outbox,
                self.ports.directory,
                self.staff,
                self.school,
                self.clock,
                chat_id=region_team.support_chat_id,
                max_per_minute=self.settings.support_max_messages_per_minute,
                topics=region_team.forum_topics,
                show_staff_names=self.settings.support_show_staff_names,
                ports=self.ports,
                region=region,
            )
            self.topics = TopicDirectory(self.support.repository, self.clock)
            self._open_mail_in(KeyedHasher(key))
            self.reminders = UnansweredReminders(
                self.support.repository,
                self.outbox,
                self.school.horaires,
                self.clock,
                ReminderSettings(
                    chat_id=region_team.support_chat_id,
                    topics=region_team.forum_topics,
                    after=timedelta(minutes=self.settings.support_remind_after_minutes),
                    scan_seconds=self.settings.support_remind_scan_seconds,
                    forums=self.support.staff_chats(),
                ),
                hours_by_uai=self._hours_by_uai(region),
            )

    def _hours_by_uai(self, region: Region | None) -> Callable[[str], OpeningHours | None] | None:
        """A region: an establishment's opening hours by UAI (an unknown one: the region's)."""
        if region is None:
            return None

        def hours(uai: str) -> OpeningHours | None:
            found = region.by_uai(uai)
            return (found.school if found is not None else region.defaults).horaires

        return hours

    def _open_mail_in(self, keyed: KeyedHasher) -> None:
        """The incoming e-mail service and its IMAP reader, when the settings name a mailbox."""
        settings = self.settings
        if settings.imap_host and not settings.inbound_email:
            logger.warning(mail_in_texts.NO_INBOUND_ADDRESS)
        if not (settings.imap_host and settings.inbound_email):
            return
        assert self.database is not None
        own = {
            address_key_text(address)
            for address in (
                sender_address(settings.inbound_email),
                sender_address(settings.mail_from),
            )
            if address
        }
        self.mail_in = MailInService(
            MailInRepository(self.database),
            self.outbox,
            self.school,
            keyed,
            self.clock,
            MailInSettings(
                inbound_email=settings.inbound_email,
                authserv_id=settings.mail_authserv_id,
                answers_per_day=settings.mail_answers_per_address_per_day,
                own_addresses=frozenset(own),
            ),
        )
        tls = settings.imap_security == SmtpSecurity.TLS
        self.mail_reader = MailReader(
            ImapConfig(
                host=settings.imap_host,
                port=settings.imap_port or (993 if tls else 143),
                user=settings.imap_user or "",
                password=settings.imap_password.get_secret_value()
                if settings.imap_password
                else "",
                security=settings.imap_security,
                poll_seconds=settings.imap_poll_seconds,
            ),
            self.mail_in,
        )

    def _service(self, flow: str, cls: type[S]) -> S:
        """The service of the procedure ``flow``, which the bot cannot run without."""
        made = self.by_flow.get(flow)
        if not isinstance(made, cls):
            raise ValueError(f"the registry has no procedure {flow!r} made by {cls.__name__}")
        return made

    async def start(self, bot: Bot) -> None:
        """Open (if not yet) and start the workers that send through ``bot``: the purge, the
        outbox, the broadcasts, the support reminders, the unsubscribe page."""
        await self.open()
        self._purger = asyncio.get_running_loop().create_task(self.purge_forever())
        self.outbox.start(TelegramSender(bot, self.topics))
        self.broadcast.start(bot)
        self.reminders.start()
        if self.mail_in is not None and self.mail_reader is not None:
            self.mail_in.bot_username = self.settings.telegram_bot_username or _username(bot)
            self.mail_reader.start()
        if self.unsubscribe is not None:
            await self.unsubscribe.start(
                self.settings.broadcast_unsubscribe_host,
                self.settings.broadcast_unsubscribe_port,
            )
        if self.settings.web_port is not None:
            await self.start_web()

    async def start_web(self) -> None:
        """Serve the web channel on ``WEB_HOST``/``WEB_PORT`` (see :mod:`bot.web.server`)."""
        assert self.database is not None
        if not self.settings.web_allowed_origins.strip():
            logger.warning(web_texts.NO_ALLOWED_ORIGINS)
        channel = WebChannel(
            WebConfig(
                allowed_origins=parse_origins(self.settings.web_allowed_origins),
                public_url=self.settings.web_public_url,
            )
        )
        channel.bind(
            Bound(
                WebRepository(self.database),
                self.ports.keyed,
                self.web_engine or ClosedEngine(),
                self.clock,
            )
        )
        self.web = WebServer(channel)
        await self.web.start(self.settings.web_host, self.settings.web_port or 0)

    async def purge(self) -> PurgeReport:
        """Forget what is no longer needed (see :mod:`storage.maintenance`)."""
        await self.open()
        assert self.database is not None
        now = self.clock()
        report = await purge(
            self.database,
            now,
            abandoned_before=now - timedelta(days=self.settings.abandoned_session_days),
            attempts_before=now - throttle_policy(self.settings).window,
        )
        assert self.outbox is not None
        done = await self.outbox.repository.purge(
            now - timedelta(days=self.settings.abandoned_session_days)
        )
        campaigns = await self.broadcast.repository.purge(
            now - timedelta(days=self.settings.abandoned_session_days)
        )
        tickets = await self.support.repository.purge(
            now - timedelta(days=self.settings.support_retention_days),
            screenings_before=now - timedelta(days=1),
        )
        await WebRepository(self.database).purge(
            now - timedelta(days=self.settings.abandoned_session_days)
        )
        if self.mail_in is not None:
            await self.mail_in.repository.purge(
                now - timedelta(days=self.settings.abandoned_session_days)
            )
        logger.info(ops_texts.purge_done(dataclasses.asdict(report), done, campaigns, tickets))
        return report

    async def purge_forever(self) -> None:
        """Purge now, then every ``PURGE_INTERVAL_MINUTES``."""
        while True:
            try:
                await self.purge()
            except Exception:  # a failed purge must never stop the bot
                logger.exception("purge failed")
            await asyncio.sleep(self.settings.purge_interval_minutes * 60)

    async def close(self) -> None:
        """Stop the workers (before the bot they send through is shut down), then close the
        directory and the database; idempotent."""
        if self.mail_reader is not None:
            await self.mail_reader.stop()
        if self.database is not None:
            await self.reminders.stop()
            await self.broadcast.stop()
            await self.outbox.stop()
        if self.unsubscribe is not None:
            await self.unsubscribe.stop()
        if self.web is not None:
            await self.web.stop()
            self.web = None
        if self._purger is not None:
            # Wait for it before closing the database: a purge cancelled mid-transaction must
            # roll back on an open connection, or it would swallow the cancellation and live on.
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger
            self._purger = None
        if self.database is not None:
            close_directory = getattr(self.ports.directory, "close", None)
            if close_directory is not None:
                close_directory()
            await self.database.close()
            self.database = None


def _username(bot: Bot) -> str | None:
    """The bot's @username, known once it is initialised (getMe)."""
    try:
        return bot.username
    except RuntimeError:
        return None


def staff_ids_of(settings: Settings) -> frozenset[int]:
    """Every Telegram id with staff rights under these settings: the staff handlers' filter,
    built before the services open (a region's teams and administrators included)."""
    region = region_of(settings) if settings.schools_dir else None
    return staff_telegram_ids(region, settings.staff_telegram_ids)


def staff_chat_ids_of(settings: Settings) -> list[int]:
    """Every staff group under these settings (SUPPORT_CHAT_ID and each establishment's
    ``[equipe] support_chat_id``): where the staff group handlers listen, built before the
    services open."""
    if not settings.schools_dir:
        return [settings.support_chat_id] if settings.support_chat_id is not None else []
    region = region_of(settings)
    teams = [region.team, *(e.team for e in region.establishments.values())]
    return list(dict.fromkeys(t.support_chat_id for t in teams if t.support_chat_id is not None))


def services_of(application: AnyApplication) -> BotServices:
    """The services of an application built by :func:`bot.app.build_application`."""
    services: BotServices = application.bot_data[SERVICES_KEY]
    return services
