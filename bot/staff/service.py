"""Staff tools as plain typed services (no Telegram, no command line in here): account report,
reset, unlock, audit trail, export rows, activation funnel and new provisional passwords for
printed letters. Never returns a stored secret; a new provisional password is returned once,
to be printed, and only its argon2id hash is kept.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.directory.port import Directory, PasswordRejected
from bot.directory.sqlite import SqliteDirectory
from bot.outbox.mail import mask_email
from bot.procedures.activation import START_PAYLOAD_ACTIVATE, Step, new_letter_token
from bot.procedures.kernel import Clock, utc_now
from bot.procedures.throttle import ThrottlePolicy, identifiant_key
from bot.region import Region
from bot.security import (
    KeyedHasher,
    SecretHasher,
    generate_provisional_password,
    normalise_identifiant,
)
from bot.staff.accounts_import import (
    MAX_PROVISIONAL_LENGTH,
    MIN_PROVISIONAL_LENGTH,
    provisional_password_ok,
)
from bot.staff.rights import StaffRights, everything, staff_telegram_ids, telegram_rights
from storage.db import Scope, db_time_seconds
from storage.records import RecordRepository
from storage.staff import (
    CGU_EVENTS,
    RECOVERY_EVENTS,
    STARTED_EVENTS,
    AuditEvent,
    EstablishmentFigures,
    FunnelRow,
    StaffAccount,
    StaffRepository,
)
from storage.throttle import ThrottleRepository

# Steps staff see. An open procedure gives its own step (see bot.procedures.activation.Step).
STEP_NOT_STARTED = "pas_commence"
STEP_ACTIVE = "active"
FUNNEL_STAGES = ("imported", "started", "cgu_accepted", "recovery_set", "active")
# The import's rule (one rule for every provisional password staff give).
MIN_GIVEN_PASSWORD_LENGTH = MIN_PROVISIONAL_LENGTH
MAX_GIVEN_PASSWORD_LENGTH = MAX_PROVISIONAL_LENGTH
EXPORT_COLUMNS = (
    "identifiant",
    "profil",
    "prenom",
    "nom",
    "etablissement",
    "statut",
    "etape",
    "importe_le",
    "active_le",
    "cgu_acceptees_le",
    "secours",
    "lie_telegram",
    "bloque",
)


# OWASP « CSV Injection »: a spreadsheet reads a cell starting with one of these as a formula
# (``|`` starts a DDE call in some), or with one of their full-width or small forms (``＝``,
# ``﹦``, ``＋``, ``｜``…), which some spreadsheets fold to the plain sign: those are found by
# their compatibility form (NFKC).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "|", "\t", "\r")


def spreadsheet_cell(value: str) -> str:
    """``value`` safe to open in a spreadsheet (OWASP « CSV Injection »): a cell that starts
    with ``= + - @ |`` (or a full-width or small form of one), tab or CR gets a leading single
    quote, so it is shown as text, never run as a formula. Remove that one quote to get the
    value back."""
    first = unicodedata.normalize("NFKC", value[:1])
    return "'" + value if first.startswith(FORMULA_TRIGGERS) else value


def step_reached(status: str, open_step: str | None, events: set[str]) -> str:
    """Where an account stands: active, the step of its open procedure, else the furthest step
    its audit trail shows since its last reset, else not started."""
    if status == STEP_ACTIVE:
        return STEP_ACTIVE
    if open_step:
        return open_step
    if events & set(RECOVERY_EVENTS):
        return Step.PASSWORD.value
    if events & set(CGU_EVENTS):
        return Step.RECOVERY.value
    if events & set(STARTED_EVENTS):
        return Step.CGU.value
    return STEP_NOT_STARTED


def recovery_means(account: StaffAccount) -> str | None:
    """How the account's user can recover a lost password: "email" (a verified address wins),
    "questions", or None."""
    if account.email_verified_at:
        return "email"
    return "questions" if account.has_secret_questions else None


def _stamp(moment: datetime | None) -> str:
    """UTC time for staff (ISO 8601, seconds), '' if none."""
    # isoformat's first 19 characters are strftime's fields, about three times faster
    return moment.isoformat(timespec="seconds")[:19] + "Z" if moment else ""


@dataclass(frozen=True)
class LockState:
    """The throttle of the account's identifier."""

    locked: bool
    locked_at: datetime | None
    consecutive_failures: int
    failures_last_24h: int
    retry_after: timedelta | None


@dataclass(frozen=True)
class AccountReport:
    """Everything staff may see about an account; never a secret."""

    identifiant: str
    prenom: str
    nom: str
    profil: str
    etablissement: str
    status: str
    step: str
    recovery: str | None  # "email", "questions" or None
    email_masked: str | None
    telegram_user_id: int | None
    imported_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    cgu_accepted_at: datetime | None
    email_verified_at: datetime | None
    procedure_updated_at: datetime | None
    last_letter_at: datetime | None
    last_reset_at: datetime | None
    lock: LockState

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (times in UTC ISO 8601, delays in seconds)."""
        data = asdict(self)
        for name, value in list(data.items()):
            if isinstance(value, datetime):
                data[name] = _stamp(value) or None
        lock = data["lock"]
        lock["locked_at"] = _stamp(self.lock.locked_at) or None
        lock["retry_after_seconds"] = (
            int(self.lock.retry_after.total_seconds()) if self.lock.retry_after else None
        )
        del lock["retry_after"]
        return data


@dataclass(frozen=True)
class ResetResult:
    """A reset done: the new provisional password (to show once) and the account after it."""

    provisional_password: str
    generated: bool
    was_locked: bool
    report: AccountReport


@dataclass(frozen=True)
class Letter:
    """One printed letter: the account and its new provisional password (memory only)."""

    account: StaffAccount
    provisional_password: str
    # Its argon2id hash (SQLite directory); None when the directory already took the password
    # itself (LDAP: nothing of it is kept here).
    provisional_hash: str | None = field(repr=False)
    # The letter's token, carried by its QR code (``/start c_<token>``); kept as a keyed hash.
    token: str = field(default_factory=new_letter_token, repr=False)


@dataclass(frozen=True)
class Funnel:
    """The activation funnel: one row per profile and establishment, and the total."""

    rows: list[FunnelRow]

    @property
    def total(self) -> FunnelRow:
        """Every account together."""
        return FunnelRow(
            profil="",
            etablissement="",
            **{stage: sum(getattr(row, stage) for row in self.rows) for stage in FUNNEL_STAGES},
        )

    def by(self, dimension: str) -> dict[str, dict[str, int]]:
        """``{profil or etablissement: {stage: count}}``."""
        grouped: dict[str, dict[str, int]] = {}
        for row in self.rows:
            counts = grouped.setdefault(getattr(row, dimension), dict.fromkeys(FUNNEL_STAGES, 0))
            for stage in FUNNEL_STAGES:
                counts[stage] += getattr(row, stage)
        return grouped

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: total, by profile, by establishment, and the detailed rows."""
        total = self.total
        return {
            "total": {stage: getattr(total, stage) for stage in FUNNEL_STAGES},
            "par_profil": self.by("profil"),
            "par_etablissement": self.by("etablissement"),
            "lignes": [asdict(row) for row in self.rows],
        }


class PasswordRefused(ValueError):
    """A provisional password given by staff is too short, too long or has spaces."""


@dataclass
class StaffService:
    """The staff tools over the directory (accounts are read there), the staff repository
    (what only the bot knows: procedures, audit, funnel), the throttle and the hashers."""

    repository: StaffRepository
    throttle: ThrottleRepository
    records: RecordRepository
    hasher: SecretHasher
    keyed: KeyedHasher
    throttle_policy: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    clock: Clock = utc_now
    # None: the SQLite directory of the repository's database.
    directory: Directory | None = None
    # A region's establishments (issue 27; None: one school) and STAFF_TELEGRAM_IDS: who may
    # act on which accounts from Telegram (see :meth:`rights_of`).
    region: Region | None = None
    staff_telegram_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.directory is None:
            self.directory = SqliteDirectory(self.repository.db, self.hasher)

    @property
    def _directory(self) -> Directory:
        assert self.directory is not None
        return self.directory

    @property
    def _provisional_local(self) -> bool:
        """An LDAP directory whose provisional passwords the bot keeps (hashed) itself."""
        return bool(getattr(self._directory, "provisional_local", False))

    def rights_of(self, telegram_user_id: int) -> StaffRights | None:
        """A Telegram user's staff rights (None: not staff): see
        :func:`bot.staff.rights.telegram_rights`. The Telegram staff commands pass them as
        ``acting_as``."""
        if self.region is None:
            if telegram_user_id in self.staff_telegram_ids:
                return everything(f"telegram:{telegram_user_id}")
            return None
        return telegram_rights(self.region, telegram_user_id, self.staff_telegram_ids)

    def staff_user_ids(self) -> frozenset[int]:
        """Every Telegram id with some staff rights (for the staff commands' filter)."""
        return staff_telegram_ids(self.region, self.staff_telegram_ids)

    def _scope(self, acting_as: StaffRights | None) -> Scope:
        """What a query sees: the rights' establishments; without rights, every account of
        a single school (the command line's service), but nothing in a region: an account of
        a region is only ever shown to staff whose rights cover it (fails closed)."""
        if acting_as is not None:
            return acting_as.scope
        if self.region is not None and self.region.establishments:
            return frozenset()
        return None

    def _key(self, identifiant_norm: str) -> str:
        return identifiant_key(self.keyed, identifiant_norm)

    async def find(
        self, identifiant: str, acting_as: StaffRights | None = None
    ) -> StaffAccount | None:
        """The account of this identifier, without case or surrounding spaces; with
        ``acting_as``, only one of their establishments' (another's is unknown, filtered in
        SQL: nothing tells it exists)."""
        return await self._directory.staff_find(
            normalise_identifiant(identifiant), self._scope(acting_as)
        )

    async def lock_state(self, account: StaffAccount) -> LockState:
        """The throttle of the account's identifier now."""
        now = self.clock()
        counters = await self.throttle.counters(
            self._key(account.identifiant_norm), now - self.throttle_policy.window
        )
        return LockState(
            locked=counters.locked_at is not None,
            locked_at=counters.locked_at,
            consecutive_failures=counters.consecutive_failures,
            failures_last_24h=counters.failures_in_window,
            retry_after=self.throttle_policy.retry_after(counters, now),
        )

    async def report(
        self, identifiant: str, acting_as: StaffRights | None = None
    ) -> AccountReport | None:
        """What staff see about an account (``show``, ``/compte``); None if unknown (or of
        an establishment ``acting_as`` does not cover)."""
        account = await self.find(identifiant, acting_as)
        return await self._report(account) if account else None

    async def _report(self, account: StaffAccount) -> AccountReport:
        session = await self.repository.open_session(account)
        events = (await self.repository.progress(account.id)).get(account.id, set())
        # Accepted during the open procedure: kept in its session until the activation, but
        # audited at once (as ``history`` and ``stats`` count it), so shown from the audit.
        cgu_accepted_at = account.cgu_accepted_at
        if cgu_accepted_at is None and not events.isdisjoint(CGU_EVENTS):
            accepted = await self.repository.last_event(account.id, CGU_EVENTS)
            cgu_accepted_at = accepted.at if accepted else None
        letter = await self.repository.last_event(account.id, ("letter",))
        reset = await self.repository.last_event(account.id, ("reset",))
        return AccountReport(
            identifiant=account.identifiant,
            prenom=account.prenom,
            nom=account.nom,
            profil=account.profil,
            etablissement=account.etablissement,
            status=account.status,
            step=step_reached(account.status, session.step if session else None, events),
            recovery=recovery_means(account),
            email_masked=mask_email(account.email) if account.email else None,
            telegram_user_id=account.telegram_user_id,
            imported_at=account.imported_at,
            updated_at=account.updated_at,
            activated_at=account.activated_at,
            cgu_accepted_at=cgu_accepted_at,
            email_verified_at=account.email_verified_at,
            procedure_updated_at=session.updated_at if session else None,
            last_letter_at=letter.at if letter else None,
            last_reset_at=reset.at if reset else None,
            lock=await self.lock_state(account),
        )

    @staticmethod
    def check_given_password(password: str) -> str:
        """A provisional password typed by staff, checked; raises :class:`PasswordRefused`."""
        if not provisional_password_ok(password):
            raise PasswordRefused(password)
        return password

    async def reset(
        self,
        identifiant: str,
        actor: str,
        password: str | None = None,
        acting_as: StaffRights | None = None,
    ) -> ResetResult | None:
        """Back to « to activate » with a new provisional password (generated with
        :func:`bot.security.generate_provisional_password` unless given); the lock is lifted,
        the Telegram link kept. None if the identifier is unknown (or not ``acting_as``'s)."""
        account = await self.find(identifiant, acting_as)
        if account is None:
            return None
        generated = password is None
        # An LDAP directory takes the password itself (its policy may refuse it: raised before
        # anything changes here; a drawn one is longer, for policies stricter than the bot's);
        # the SQLite one keeps its argon2id hash.
        write_provisional = getattr(self._directory, "set_provisional", None)
        # LDAP_PROVISIONAL_SOURCE=local: the directory only gets the « to activate » state,
        # the bot keeps the hash as with its own directory.
        keeps_hash = write_provisional is None or self._provisional_local
        provisional = (
            generate_provisional_password(10 if keeps_hash else 16)
            if password is None
            else self.check_given_password(password)
        )
        hashed: str | None = None
        if write_provisional is not None:
            await write_provisional(account.id, provisional)
        if keeps_hash:
            hashed = await self.hasher.hash(provisional)
        lock = await self.lock_state(account)
        had_failures = lock.locked or lock.consecutive_failures > 0 or lock.failures_last_24h > 0
        if had_failures:
            await self.throttle.unlock(self._key(account.identifiant_norm))
        details = "password=generated" if generated else "password=given"
        if had_failures:
            details += ",unlocked"
        if account.uai:  # the establishment acted on, in the audit trail
            details += f",uai={account.uai}"
        await self.repository.reset(account.id, hashed, actor, self.clock(), details)
        after = await self._directory.staff_find(account.identifiant_norm)
        assert after is not None
        return ResetResult(provisional, generated, lock.locked, await self._report(after))

    async def unlock(
        self, identifiant: str, actor: str, acting_as: StaffRights | None = None
    ) -> LockState | None:
        """Lift the lock and forget the failures of the identifier; the state before it.
        None if the identifier is unknown (or not ``acting_as``'s)."""
        account = await self.find(identifiant, acting_as)
        if account is None:
            return None
        before = await self.lock_state(account)
        if not before.locked and before.failures_last_24h == 0:
            return before  # nothing to lift: nothing written to the history
        await self.throttle.unlock(self._key(account.identifiant_norm))
        details = "was=locked" if before.locked else f"failures={before.failures_last_24h}"
        if account.uai:
            details += f",uai={account.uai}"
        await self.records.audit("unlock", account.id, actor, self.clock(), details)
        return before

    async def history(
        self, identifiant: str, acting_as: StaffRights | None = None
    ) -> list[AuditEvent] | None:
        """The account's audit trail, oldest first; None if the identifier is unknown (or
        not ``acting_as``'s)."""
        account = await self.find(identifiant, acting_as)
        return await self.repository.history(account.id) if account else None

    async def export_rows(self, acting_as: StaffRights | None = None) -> list[tuple[str, ...]]:
        """One row per account for the school's records: its cells, in the order of
        :data:`EXPORT_COLUMNS` (formulas not neutralised yet: see ``write_export``). Read as
        plain tuples, times sliced from the database's text: no object an account."""
        accounts = await self._directory.staff_export(self._scope(acting_as))
        steps = await self.repository.open_steps()
        progress = await self.repository.progress()
        locked = await self.repository.locked_keys()
        # The step an account's audit trail shows, for those without an open procedure.
        reached = {
            account_id: step_reached("", None, events) for account_id, events in progress.items()
        }
        key = self._key
        return [
            (
                identifiant,
                profil,
                prenom,
                nom,
                etablissement,
                status,
                STEP_ACTIVE
                if status == STEP_ACTIVE
                else steps.get(account_id) or reached.get(account_id, STEP_NOT_STARTED),
                db_time_seconds(imported_at),
                db_time_seconds(activated_at),
                db_time_seconds(cgu_accepted_at),
                # recovery_means: a verified address wins
                "email" if verified else "questions" if questions else "",
                "oui" if telegram_user_id else "non",
                # (an HMAC an account: only worth it when some key is locked)
                "oui" if locked and key(identifiant_norm) in locked else "non",
            )
            for (
                account_id,
                identifiant,
                identifiant_norm,
                profil,
                prenom,
                nom,
                etablissement,
                status,
                imported_at,
                activated_at,
                cgu_accepted_at,
                verified,
                questions,
                telegram_user_id,
            ) in accounts
        ]

    async def funnel(self, acting_as: StaffRights | None = None) -> Funnel:
        """The activation funnel, by profile and establishment (of ``acting_as``'s)."""
        return Funnel(await self.repository.funnel(self._scope(acting_as)))

    async def establishment_figures(
        self, acting_as: StaffRights | None = None
    ) -> list[EstablishmentFigures]:
        """Accounts, activated and open tickets per establishment (``acting_as``'s)."""
        return await self.repository.establishment_figures(self._scope(acting_as))

    async def accounts_for_letters(
        self,
        profil: str | None = None,
        etablissement: str | None = None,
        acting_as: StaffRights | None = None,
    ) -> list[StaffAccount]:
        """Accounts still to activate that would get a letter (``acting_as``'s)."""
        return await self._directory.staff_to_activate(
            profil, etablissement, self._scope(acting_as)
        )

    async def prepare_letters(
        self,
        accounts: list[StaffAccount],
        progress: Callable[[int], None] | None = None,
        concurrency: int = 4,
    ) -> list[Letter]:
        """A new provisional password for each account, at most ``concurrency`` at a time.

        SQLite directory: hashed in the thread pool, nothing stored yet (see
        :meth:`commit_letters`, after the PDF is written). LDAP directory: written to the
        directory now (Password Modify, under its policy: a drawn password it refuses is drawn
        again once, then the account gets no letter), since only a password the directory took
        may be printed; nothing of it is kept here."""
        semaphore = asyncio.Semaphore(concurrency)
        write = (
            None if self._provisional_local else getattr(self._directory, "set_provisional", None)
        )

        async def one(account: StaffAccount) -> Letter | None:
            letter: Letter | None
            async with semaphore:
                if write is None:
                    password = generate_provisional_password()
                    letter = Letter(account, password, await self.hasher.hash(password))
                else:
                    letter = await self._written_letter(write, account)
            if progress:
                progress(1)
            return letter

        letters = await asyncio.gather(*(one(account) for account in accounts))
        return [letter for letter in letters if letter is not None]

    @staticmethod
    async def _written_letter(
        write: Callable[[int, str], Awaitable[bool]], account: StaffAccount
    ) -> Letter | None:
        """A provisional password the directory took (two draws at most), or None."""
        for _ in range(2):
            password = generate_provisional_password(16)
            try:
                if not await write(account.id, password):
                    return None
            except PasswordRejected:
                continue
            return Letter(account, password, None)
        return None

    async def commit_letters(self, letters: list[Letter], actor: str, details: str) -> int:
        """Store the letters' provisional passwords (hashes) in one transaction, audited
        ``letter``; accounts activated meanwhile keep theirs. How many were stored."""
        return await self.repository.set_provisional_passwords(
            [
                (
                    letter.account.id,
                    letter.provisional_hash,
                    self.keyed.digest(letter.token, purpose="letter"),
                )
                for letter in letters
            ],
            actor,
            self.clock(),
            details,
        )


def letter_link(bot_username: str, letter: Letter) -> str:
    """The link of one letter's QR code: it opens the bot at that letter's provisional
    password (no identifier to type on a phone)."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={letter.token}"


def bot_link(bot_username: str, uai: str | None = None) -> str:
    """The link printed on letters and in their QR code: no secret, it only opens the bot at
    the identifier question; with ``uai`` (a region's establishment), at that school's."""
    payload = f"{START_PAYLOAD_ACTIVATE}_{uai}" if uai else START_PAYLOAD_ACTIVATE
    return f"https://t.me/{bot_username.lstrip('@')}?start={payload}"
