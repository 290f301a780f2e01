"""Typed settings, read from environment variables and an optional ``.env`` file.

Everything that belongs to the school (establishment name, CGU text, ENT address, contacts, secret
questions) lives in the school file named by ``SCHOOL_CONFIG`` (see :mod:`bot.school`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.config.ldap import LdapConfig
from bot.config.password_policy import PasswordPolicy
from bot.config.quiet import QuietHours, QuietHoursError, parse_quiet_hours
from bot.config.smtp import SmtpConfig, SmtpSecurity
from bot.config.web_origins import parse_origins
from bot.security import ARGON2_NICE, Argon2Params

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOME_VARIABLE = "ENT_BOT_HOME"
# Relative values of these settings start from the home folder (see find_home).
HOME_RELATIVE_PATHS = (
    "database_path",
    "server_secret_file",
    "school_config",
    "sandbox_database_path",
)
# Optional paths resolved from the home too (None stays None).
HOME_RELATIVE_OPTIONAL_PATHS = ("schools_dir",)


def find_home(
    cwd: Path | None = None, project_root: Path = PROJECT_ROOT
) -> tuple[Path, Path | None]:
    """The folder relative paths start from, and the ``.env`` file to read (None if none):
    ``ENT_BOT_HOME`` if set (with its ``.env`` if there is one); else the first folder with a
    ``.env`` among the current folder and the project folder (that of ``run_bot.py``); else
    the current folder."""
    cwd = cwd or Path.cwd()
    explicit = os.environ.get(HOME_VARIABLE, "").strip()
    if explicit:
        home = (cwd / Path(explicit).expanduser()).resolve()
        return home, home / ".env" if (home / ".env").is_file() else None
    for folder in (cwd, project_root):
        if (folder / ".env").is_file():
            return folder.resolve(), folder.resolve() / ".env"
    return cwd.resolve(), None


def load_settings() -> Settings:
    """The settings of the command line: environment variables, then the home's ``.env``;
    relative paths resolved from the home (see :func:`find_home`)."""
    home, env_file = find_home()
    return Settings(_env_file=env_file, ent_bot_home=home)  # type: ignore[call-arg]


class Settings(BaseSettings):
    """All the bot's settings. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    # The bot's @username, for the link and QR code of staff letters (else asked with getMe).
    telegram_bot_username: str | None = None
    # Seconds to wait for one Bot API answer before retrying it (python-telegram-bot's 5 s).
    telegram_timeout_seconds: float = Field(default=5.0, gt=0)
    # Updates handled at once, all chats together (a chat never takes more than one).
    concurrent_updates: int = Field(default=256, ge=1)
    # Connections to the Bot API at once (python-telegram-bot's default, 256, makes httpcore
    # scan that many on every request: encode/httpcore#1035); a request waits for a free one
    # up to TELEGRAM_TIMEOUT_SECONDS (see docs/performance.md for the measure).
    telegram_connection_pool_size: int = Field(default=32, ge=1)
    # The HTTP client of the Bot API calls: aiohttp (a quarter of httpx's event-loop time a
    # call, docs/performance.md) or httpx (python-telegram-bot's own HTTPXRequest, as before).
    telegram_http_client: Literal["aiohttp", "httpx"] = "aiohttp"

    # The folder relative paths start from (ENT_BOT_HOME; see find_home). None: the current one.
    ent_bot_home: Path | None = None

    # Storage and secrets
    database_path: Path = Path("data/ent-bot.sqlite3")
    server_secret_file: Path = Field(
        default=Path("data/server-secret.key"),
        description="HMAC key for codes, tokens and identifiers; kept outside the database.",
    )

    # School content
    school_config: Path = Path("config/school.toml")
    # One bot for a region (issue 27): a folder with one school file per establishment
    # (SCHOOL_CONFIG is then the region's defaults); unset: one school, as before.
    schools_dir: Path | None = None
    # Regional administrators: their staff commands act on every establishment.
    region_admin_telegram_ids: Annotated[list[int], NoDecode] = []

    # E-mail
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_security: SmtpSecurity = SmtpSecurity.NONE
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "ENT - activation <no-reply@example.org>"

    # Incoming e-mail (README « Conversations par e-mail »): the school's mailbox the bot reads
    # (INBOX, IMAP IDLE or a look every IMAP_POLL_SECONDS), its address (every e-mail the bot
    # sends then carries Reply-To: INBOUND_EMAIL), and the authserv-id of the school's mail
    # server, the only one whose Authentication-Results (DMARC) the bot trusts. Off unless
    # IMAP_HOST and INBOUND_EMAIL are set.
    imap_host: str | None = None
    imap_port: int | None = Field(default=None, ge=1, le=65535)
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_security: SmtpSecurity = SmtpSecurity.NONE
    imap_poll_seconds: float = Field(default=25.0, gt=0, le=30)
    inbound_email: str | None = None
    mail_authserv_id: str | None = None
    # Automatic answers to one address in 24 hours (stops mail loops).
    mail_answers_per_address_per_day: int = Field(default=5, ge=0)

    # Hashing (argon2id; defaults are argon2-cffi's RFC 9106 low-memory profile)
    argon2_time_cost: int = Argon2Params().time_cost
    argon2_memory_cost: int = Argon2Params().memory_cost
    argon2_parallelism: int = Argon2Params().parallelism
    # Threads hashing at once (each runs ARGON2_PARALLELISM lanes, at a lower priority than the
    # event loop); none: two a core, four at most.
    argon2_threads: int | None = Field(default=None, ge=1)
    # How much lower the argon2 threads' priority is than the event loop's (Linux nice, 0-19):
    # 19 keeps replies fast while a pool hashes; 0 gives hashing an equal share of the CPU
    # (faster activations, slower replies under load: docs/performance.md).
    argon2_nice: int = Field(default=ARGON2_NICE, ge=0, le=19)

    # Verification by e-mail
    verification_code_length: int = Field(default=8, ge=6, le=8)
    verification_ttl_hours: float = 48
    resend_cooldown_seconds: int = 60
    max_resends: int = 5

    # E-mails through the outbox: limits per mailbox (an address's sub-address and, at Gmail,
    # dots do not count), per account and per person (all procedures, counted from the
    # database), how long an answer waits for the first attempt, retry rhythm
    mail_address_cooldown_seconds: int = 60
    max_mails_per_address_per_day: int = 10
    max_mails_per_account_per_day: int = 10
    max_mails_per_user_per_day: int = 10
    outbox_reply_wait_seconds: float = 3.0
    outbox_retry_first_seconds: float = 2.0
    outbox_retry_max_seconds: float = 30.0

    # Staff broadcasts (issue 11): messages a second at most (the limiter's background lane,
    # Telegram allows about 30 in all), how often the bot looks for a campaign and writes its
    # heartbeat, tries of a send that fails for another reason than a block
    broadcast_rate_per_second: float = Field(default=25.0, gt=0, le=30)
    broadcast_poll_seconds: float = Field(default=1.0, gt=0)
    broadcast_heartbeat_seconds: float = Field(default=5.0, gt=0)
    broadcast_max_attempts: int = Field(default=3, ge=1)
    broadcast_retry_first_seconds: float = Field(default=2.0, ge=0)
    # Reminders by e-mail: one SMTP connection at this rate; the public base of the one-click
    # unsubscribe links (required for the e-mail channel; HTTPS, behind a reverse proxy) and
    # where the bot listens for them
    broadcast_email_rate_per_second: float = Field(default=5.0, gt=0)
    broadcast_unsubscribe_url: str | None = None
    broadcast_unsubscribe_host: str = "127.0.0.1"
    broadcast_unsubscribe_port: int = Field(default=8081, ge=0, le=65535)
    # Automatic reminders, each at most once per procedure: the e-mail link expires within
    # REMINDER_LINK_EXPIRING_HOURS; an activation left REMINDER_AFTER_DAYS days; how often the bot
    # looks for due ones
    reminder_link_expiring: bool = True
    reminder_link_expiring_hours: float = Field(default=24, gt=0)
    reminder_unfinished: bool = True
    reminder_after_days: float = Field(default=3, gt=0)
    reminder_scan_seconds: float = Field(default=60, gt=0)
    # No reminder leaves in these hours (HH:MM-HH:MM, local time; empty: none), unless staff
    # say « maintenant »: many users are minors.
    quiet_hours: str = "20:00-08:00"
    quiet_hours_timezone: str = "Europe/Paris"

    # Throttling of guessable secrets
    failures_before_delay: int = 5
    first_delay_seconds: int = 60
    max_delay_seconds: int = 24 * 3600
    failures_before_lock: int = 25
    max_identifiants_per_user: int = 5

    # Password policy
    password_min_length: int = 8
    password_long_length: int = 12
    password_min_kinds: int = 3
    password_max_length: int = 128

    # Directory of the accounts: the bot's SQLite file, or the school's LDAP (README « Annuaire
    # LDAP »). LDAP_BIND_DN is a service account, never the root DN (it bypasses ppolicy).
    directory: Literal["sqlite", "ldap"] = "sqlite"
    ldap_url: str = "ldap://localhost:389"
    ldap_starttls: bool = False
    ldap_ca_file: str | None = None
    ldap_timeout_seconds: float = Field(default=5.0, gt=0)
    ldap_bind_dn: str = ""
    ldap_bind_password: SecretStr | None = None
    ldap_user_base: str = "ou=people,dc=example,dc=org"
    ldap_user_filter: str = "(uid={identifiant})"
    ldap_attr_identifiant: str = "uid"
    ldap_attr_first_name: str = "givenName"
    ldap_attr_last_name: str = "sn"
    ldap_attr_mail: str = "mail"
    ldap_attr_profile: str = ""
    ldap_attr_establishment: str = ""
    ldap_attr_status: str = ""
    ldap_status_to_activate: str = ""
    ldap_status_active: str = ""
    # Issue 25 (NetO'Centre, ESCO schema): see README « Annuaire LDAP ».
    ldap_status_blocked: str = ""
    ldap_status_deleted: str = ""
    ldap_provisional_source: Literal["directory", "local"] = "directory"
    ldap_profile_map: str = ""
    ldap_structure_base: str = ""
    ldap_structure_attr_uai: str = "ENTStructureUAI"
    ldap_structure_attr_name: str = "ENTStructureNomCourant"
    ldap_educonnect_profiles: str = ""
    ldap_educonnect_url: str = "https://educonnect.education.gouv.fr/"
    ldap_attr_charter: str = ""
    ldap_charter_format: Literal["time", "service"] = "time"
    ldap_charter_service: str = "ENT"
    ldap_decoy_dn: str = ""
    # Mail domains refused as recovery addresses (the ENT's own: read only once logged in),
    # comma-separated; their subdomains too.
    recovery_email_refused_domains: str = ""

    # Data retention
    abandoned_session_days: int = 30
    # Support tickets (metadata only) are forgotten this many days after their last message.
    support_retention_days: int = 90
    purge_interval_minutes: int = 60

    # Support (« 🆘 Je bloque »): the staff's Telegram group (none: the contacts are shown)
    support_chat_id: int | None = None
    # The staff group is a forum: one topic a user (else staff answer by replying).
    support_forum_topics: bool = False
    support_max_messages_per_minute: int = 5
    # Staff answers reach the user as « L'équipe de … »; true: signed with the staff member's
    # first name (« L'équipe de … · Camille »).
    support_show_staff_names: bool = False
    # A ticket without a staff answer after this many minutes of the school's opening hours
    # (``[horaires]``; none: plain minutes) gets one reminder in the staff group (0: none);
    # how often the bot looks for such tickets.
    support_remind_after_minutes: int = Field(default=120, ge=0)
    support_remind_scan_seconds: float = Field(default=60, gt=0)

    # Operations
    log_level: str = "INFO"
    # "json": one JSON object a line, for log collectors.
    log_format: Literal["text", "json"] = "text"
    # A Telegram chat (staff group or person) told of unhandled errors, one per kind per 10 min.
    alert_chat_id: int | None = None
    staff_telegram_ids: Annotated[list[int], NoDecode] = []
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8080
    sandbox_database_path: Path = Path("data/sandbox.sqlite3")
    # A non-loopback SANDBOX_HOST is refused unless this confirms it (the page has no login).
    sandbox_allow_remote: bool = False
    # Webhook mode: the public HTTPS address Telegram POSTs to (behind the school's reverse
    # proxy), where the bot listens, and the secret every request must carry. Unset: polling.
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=0, le=65535)
    webhook_secret_token: SecretStr | None = None
    # Operations HTTP port (GET /healthz): off unless OPS_PORT is set; loopback by default.
    ops_host: str = "127.0.0.1"
    ops_port: int | None = Field(default=None, ge=0, le=65535)
    # The web channel (issue 24): off unless WEB_PORT is set; loopback by default, behind the
    # school's HTTPS proxy. WEB_ALLOWED_ORIGINS: the ENT origins allowed to embed the widget
    # (frame-ancestors, CORS, Origin of POSTs), separated by commas. WEB_PUBLIC_URL: the
    # channel's public address as the ENT pages reach it (https://…/web/).
    web_host: str = "127.0.0.1"
    web_port: int | None = Field(default=None, ge=0, le=65535)
    web_allowed_origins: str = ""
    web_public_url: str | None = None

    @field_validator("staff_telegram_ids", "region_admin_telegram_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("web_allowed_origins")
    @classmethod
    def _check_web_origins(cls, value: str) -> str:
        parse_origins(value)
        return value

    @field_validator("ldap_profile_map")
    @classmethod
    def _check_profile_map(cls, value: str) -> str:
        from bot.config.ldap_profiles import ProfileMapError, profile_map

        try:
            profile_map(value)
        except ProfileMapError as error:
            raise ValueError(f"LDAP_PROFILE_MAP: {error} (attendu : Valeur=profil, …)") from None
        return value

    @model_validator(mode="after")
    def _check_quiet_hours(self) -> Settings:
        self.quiet_hours_window  # noqa: B018 (raises on a bad value, at start-up)
        return self

    @property
    def quiet_hours_window(self) -> QuietHours | None:
        """The quiet hours, or None."""
        try:
            return parse_quiet_hours(self.quiet_hours, self.quiet_hours_timezone)
        except (QuietHoursError, ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"QUIET_HOURS: {self.quiet_hours!r} ({error})") from None

    @model_validator(mode="after")
    def _resolve_from_home(self) -> Settings:
        home = (self.ent_bot_home or Path.cwd()).expanduser()
        for name in HOME_RELATIVE_PATHS:
            value: Path = getattr(self, name).expanduser()
            if not value.is_absolute():
                setattr(self, name, home / value)
        for name in HOME_RELATIVE_OPTIONAL_PATHS:
            optional: Path | None = getattr(self, name)
            if optional is not None and not optional.expanduser().is_absolute():
                setattr(self, name, home / optional.expanduser())
        return self

    @property
    def argon2(self) -> Argon2Params:
        """Argon2id parameters for passwords and secret answers."""
        return Argon2Params(
            time_cost=self.argon2_time_cost,
            memory_cost=self.argon2_memory_cost,
            parallelism=self.argon2_parallelism,
        )

    @property
    def smtp(self) -> SmtpConfig:
        """Connection settings of the outgoing mail server."""
        return SmtpConfig(
            host=self.smtp_host,
            port=self.smtp_port,
            security=self.smtp_security,
            username=self.smtp_username,
            password=self.smtp_password.get_secret_value() if self.smtp_password else None,
            sender=self.mail_from,
            reply_to=self.inbound_email or None,
        )

    @property
    def password_policy(self) -> PasswordPolicy:
        """The password rule users must follow."""
        return PasswordPolicy(
            min_length=self.password_min_length,
            long_length=self.password_long_length,
            min_kinds=self.password_min_kinds,
            max_length=self.password_max_length,
        )

    @property
    def ldap(self) -> LdapConfig:
        """Connection and attributes of the LDAP directory (DIRECTORY=ldap)."""
        return LdapConfig(
            url=self.ldap_url,
            bind_dn=self.ldap_bind_dn,
            bind_password=(
                self.ldap_bind_password.get_secret_value() if self.ldap_bind_password else ""
            ),
            user_base=self.ldap_user_base,
            user_filter=self.ldap_user_filter,
            starttls=self.ldap_starttls,
            ca_file=self.ldap_ca_file,
            timeout_seconds=self.ldap_timeout_seconds,
            attr_identifiant=self.ldap_attr_identifiant,
            attr_first_name=self.ldap_attr_first_name,
            attr_last_name=self.ldap_attr_last_name,
            attr_mail=self.ldap_attr_mail,
            attr_profile=self.ldap_attr_profile,
            attr_establishment=self.ldap_attr_establishment,
            attr_status=self.ldap_attr_status,
            status_to_activate=self.ldap_status_to_activate,
            status_active=self.ldap_status_active,
            status_blocked=self.ldap_status_blocked,
            status_deleted=self.ldap_status_deleted,
            provisional_source=self.ldap_provisional_source,
            profile_map=self.ldap_profile_map,
            structure_base=self.ldap_structure_base,
            structure_attr_uai=self.ldap_structure_attr_uai,
            structure_attr_name=self.ldap_structure_attr_name,
            educonnect_profiles=self.ldap_educonnect_profiles,
            attr_charter=self.ldap_attr_charter,
            charter_format=self.ldap_charter_format,
            charter_service=self.ldap_charter_service,
            decoy_dn=self.ldap_decoy_dn,
        )

    def school_config_path(self) -> Path:
        """The school file to load: ``SCHOOL_CONFIG`` if it exists, else the shipped example."""
        if self.school_config.exists():
            return self.school_config
        return PROJECT_ROOT / "config" / "school.example.toml"
