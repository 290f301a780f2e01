"""The LDAP directory (python-ldap): the school's own accounts and passwords.

- A password is checked by a simple bind as the user's DN; an unknown identifier binds as a DN
  that does not exist (same round trips, same answer).
- A new password is written by the service account with the Password Modify extended operation
  (RFC 3062), with the password-policy request control: the server hashes it and applies its
  own policy, whose refusal comes back as :class:`PasswordRejected` naming the rule.
- The status and recovery-address attributes are then owed through the durable outbox
  (``directory_write`` items, written in the activation's transaction, sent by
  :class:`DirectoryWriter`), so a write that fails after the password was set is retried.
- What only the bot knows stays in SQLite; each entry maps to a local ``accounts`` row
  (:mod:`storage.ldap_accounts`) whose id names the account in the bot.

python-ldap is synchronous: every call runs in this directory's own thread pool, never on the
event loop, never while the SQLite write lock is held. Unreachable or slow servers raise
:class:`DirectoryUnavailable`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import ldap
from ldap.controls import DecodeControlTuples, SimplePagedResultsControl
from ldap.controls.ppolicy import PasswordPolicyControl
from ldap.filter import escape_filter_chars

from bot.config.ldap import LdapConfig
from bot.directory.port import DirectoryRule, DirectoryUnavailable, PasswordRejected
from bot.outbox.delivery import DeliveryError
from bot.security import normalise_identifiant
from storage.accounts import (
    Account,
    AccountStatus,
    ActivationRecord,
    Profil,
    SqliteAccountDirectory,
)
from storage.db import Database
from storage.ldap_accounts import DirectoryEntry, LdapAccountStore
from storage.outbox import NewOutboxItem, OutboxItem, OutboxKind
from storage.staff import ExportAccount, StaffAccount, StaffRepository

logger = logging.getLogger(__name__)

T = TypeVar("T")

DIRECTORY_WRITE = "directory_write"
# A directory write owed after activation is retried for this long (then staff see it given up).
DIRECTORY_WRITE_KEPT_FOR = timedelta(days=365)

# How long one chat's activation holds the account while its password is written (a claim left
# by a crash is then taken over).
ACTIVATION_CLAIM_FOR = timedelta(minutes=2)

# Errors that mean « not reachable now », not « no ».
_UNAVAILABLE: tuple[type[Exception], ...] = (
    ldap.SERVER_DOWN,
    ldap.TIMEOUT,
    ldap.TIMELIMIT_EXCEEDED,
    ldap.CONNECT_ERROR,
    ldap.BUSY,
    ldap.UNAVAILABLE,
)

# ppolicy response control error codes (draft-behera-ldap-password-policy).
_PPOLICY_RULES = {
    5: DirectoryRule.QUALITY,
    6: DirectoryRule.TOO_SHORT,
    7: DirectoryRule.TOO_YOUNG,
    8: DirectoryRule.IN_HISTORY,
}


def user_filter(template: str, identifiant: str) -> str:
    """The search filter for a typed identifier, escaped per RFC 4515 (``*``, ``(``, ``)``,
    ``\\`` and NUL cannot widen the search)."""
    return template.replace("{identifiant}", escape_filter_chars(identifiant.strip()))


def rule_of(error: ldap.LDAPError) -> DirectoryRule:
    """The policy rule a refusal names in its password-policy response control, if any."""
    info = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    try:
        controls = DecodeControlTuples(info.get("ctrls") or [])
    except Exception:  # a malformed control names no rule
        return DirectoryRule.OTHER
    for control in controls:
        if isinstance(control, PasswordPolicyControl) and control.error is not None:
            return _PPOLICY_RULES.get(control.error, DirectoryRule.OTHER)
    return DirectoryRule.OTHER


class LdapConnector:
    """Synchronous python-ldap calls, one connection per call (run them in a thread)."""

    def __init__(self, config: LdapConfig) -> None:
        self.config = config

    def connect(self) -> Any:
        """A new connection with timeouts and TLS as configured (not bound)."""
        config = self.config
        connection = ldap.initialize(config.url)
        connection.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
        connection.set_option(ldap.OPT_REFERRALS, 0)
        connection.set_option(ldap.OPT_NETWORK_TIMEOUT, config.timeout_seconds)
        connection.set_option(ldap.OPT_TIMEOUT, config.timeout_seconds)
        if config.ca_file:
            connection.set_option(ldap.OPT_X_TLS_CACERTFILE, config.ca_file)
        if config.url.startswith("ldaps://") or config.starttls:
            connection.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
            connection.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        if config.starttls:
            connection.start_tls_s()
        return connection

    def _service(self) -> Any:
        connection = self.connect()
        connection.simple_bind_s(self.config.bind_dn, self.config.bind_password)
        return connection

    def _run(self, work: Callable[[], T]) -> T:
        try:
            return work()
        except _UNAVAILABLE as error:
            raise DirectoryUnavailable(type(error).__name__) from None

    def search_user(self, identifiant: str) -> tuple[str, dict[str, list[bytes]]] | None:
        """The one entry the filter finds for this identifier (None for none, or several)."""

        def work() -> tuple[str, dict[str, list[bytes]]] | None:
            connection = self._service()
            try:
                results = connection.search_ext_s(
                    self.config.user_base,
                    ldap.SCOPE_SUBTREE,
                    user_filter(self.config.user_filter, identifiant),
                    attrlist=self.config.read_attributes(),
                    sizelimit=2,
                    timeout=self.config.timeout_seconds,
                )
            except ldap.SIZELIMIT_EXCEEDED:
                logger.warning("ldap: an identifier matches several entries; refused")
                return None
            except ldap.NO_SUCH_OBJECT:
                return None
            finally:
                connection.unbind_s()
            entries = [(dn, attributes) for dn, attributes in results if dn]
            if len(entries) != 1:
                if entries:
                    logger.warning("ldap: an identifier matches several entries; refused")
                return None
            return entries[0]

        return self._run(work)

    def all_users(self, page_size: int = 500) -> list[tuple[str, dict[str, list[bytes]]]]:
        """Every entry the filter finds with any identifier, by pages (RFC 2696), so that a
        directory of 100,000 entries is read without reaching the server's size limit per
        search (the service account needs ``size.prtotal=unlimited``, see the README)."""
        every = self.config.user_filter.replace("{identifiant}", "*")

        def work() -> list[tuple[str, dict[str, list[bytes]]]]:
            connection = self._service()
            try:
                paging = SimplePagedResultsControl(True, size=page_size, cookie="")
                found: list[tuple[str, dict[str, list[bytes]]]] = []
                while True:
                    message = connection.search_ext(
                        self.config.user_base,
                        ldap.SCOPE_SUBTREE,
                        every,
                        attrlist=self.config.read_attributes(),
                        serverctrls=[paging],
                    )
                    try:
                        _, data, _, controls = connection.result3(
                            message, timeout=self.config.timeout_seconds
                        )
                    except ldap.SIZELIMIT_EXCEEDED:
                        raise RuntimeError(
                            "the directory's size limit stops the paged search: give the "
                            "service account size.prtotal=unlimited (README, « Annuaire LDAP »)"
                        ) from None
                    found.extend((dn, attributes) for dn, attributes in data if dn)
                    cookies = [
                        control.cookie
                        for control in controls
                        if control.controlType == SimplePagedResultsControl.controlType
                    ]
                    if not cookies or not cookies[0]:
                        return found
                    paging.cookie = cookies[0]
            finally:
                connection.unbind_s()

        return self._run(work)

    def bind(self, dn: str, password: str) -> bool:
        """Whether a simple bind as ``dn`` with ``password`` succeeds. An empty password would
        be an unauthenticated bind (RFC 4513), which succeeds: it is replaced by a random one."""
        password = password or secrets.token_urlsafe(16)

        def work() -> bool:
            connection = self.connect()
            try:
                connection.simple_bind_s(dn, password)
                return True
            except (ldap.INVALID_CREDENTIALS, ldap.INVALID_DN_SYNTAX, ldap.UNWILLING_TO_PERFORM):
                return False
            finally:
                connection.unbind_s()

        return self._run(work)

    def set_password(self, dn: str, password: str) -> None:
        """Password Modify (RFC 3062) by the service account, with the ppolicy control."""

        def work() -> None:
            connection = self._service()
            try:
                connection.passwd_s(
                    dn, None, password, serverctrls=[PasswordPolicyControl()], extract_newpw=False
                )
            except (ldap.CONSTRAINT_VIOLATION, ldap.UNWILLING_TO_PERFORM) as error:
                raise PasswordRejected(rule_of(error)) from None
            finally:
                connection.unbind_s()

        self._run(work)

    def replace(self, dn: str, changes: dict[str, str]) -> None:
        """Replace attributes of ``dn`` by the service account."""

        def work() -> None:
            connection = self._service()
            try:
                connection.modify_s(
                    dn,
                    [(ldap.MOD_REPLACE, name, [value.encode()]) for name, value in changes.items()],
                )
            finally:
                connection.unbind_s()

        self._run(work)


def _first(attributes: dict[str, list[bytes]], name: str) -> str:
    if not name:
        return ""
    for key, values in attributes.items():
        if key.lower() == name.lower() and values:
            return values[0].decode("utf-8", "replace")
    return ""


class LdapDirectory:
    """:class:`bot.directory.port.Directory` over an LDAP server."""

    def __init__(self, config: LdapConfig, database: Database) -> None:
        self.config = config
        self.connector = LdapConnector(config)
        self.store = SqliteAccountDirectory(database)
        self.mirror = LdapAccountStore(database)
        self.staff = StaffRepository(database)
        self.executor = ThreadPoolExecutor(config.max_connections, thread_name_prefix="ldap")
        # Set by the application once its outbox exists (directory writes are kicked at once).
        self.outbox: Any = None
        self._dummy_dn = f"uid={secrets.token_hex(8)},{config.user_base}"

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, function, *args)

    def close(self) -> None:
        """Stop the thread pool."""
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def ping(self) -> None:
        """Bind as the service account and leave (the health check); raises
        :class:`DirectoryUnavailable` if the server cannot be reached."""
        connector = self.connector

        def work() -> None:
            connector._service().unbind_s()

        await self._call(connector._run, work)

    def entry_of(self, dn: str, attributes: dict[str, list[bytes]], typed: str) -> DirectoryEntry:
        """The local view of a found entry."""
        config = self.config
        identifiant = _first(attributes, config.attr_identifiant) or typed.strip()
        profil = _first(attributes, config.attr_profile).strip().lower()
        status: AccountStatus | None = None
        if config.attr_status:
            value = _first(attributes, config.attr_status)
            to_activate = value == config.status_to_activate
            status = AccountStatus.TO_ACTIVATE if to_activate else AccountStatus.ACTIVE
        return DirectoryEntry(
            dn=dn,
            identifiant=identifiant,
            identifiant_norm=normalise_identifiant(identifiant),
            profil=profil if profil in set(Profil) else Profil.AUTRE.value,
            prenom=_first(attributes, config.attr_first_name),
            nom=_first(attributes, config.attr_last_name),
            etablissement=_first(attributes, config.attr_establishment),
            status=status,
        )

    # --- reading -------------------------------------------------------------------------

    async def find(self, identifiant: str) -> Account | None:
        """Search the directory (service account); the entry's local row, refreshed."""
        found = await self._call(self.connector.search_user, identifiant)
        if found is None:
            return None
        dn, attributes = found
        account_id = await self.mirror.upsert(
            self.entry_of(dn, attributes, identifiant), datetime.now(UTC)
        )
        return await self.store.get(account_id)

    async def get(self, account_id: int) -> Account | None:
        """The local row of the account (as refreshed by the last :meth:`find`)."""
        return await self.store.get(account_id)

    async def linked_to(self, telegram_user_id: int) -> list[Account]:
        """Active accounts linked to this Telegram user."""
        return await self.store.linked_to(telegram_user_id)

    async def refresh_all(self) -> int:
        """Read every entry (paged search) and refresh the local rows; how many entries."""
        found = await self._call(self.connector.all_users)
        entries = [self.entry_of(dn, attributes, "") for dn, attributes in found]
        return await self.mirror.upsert_many(
            [entry for entry in entries if entry.identifiant], datetime.now(UTC)
        )

    async def staff_find(self, identifiant_norm: str) -> StaffAccount | None:
        """The entry of this identifier as staff see it (its local row, refreshed first)."""
        if await self.find(identifiant_norm) is None:
            return None
        return await self.staff.find(identifiant_norm)

    async def staff_export(self) -> list[ExportAccount]:
        """Every entry of the directory (read by pages), with what the bot knows of it."""
        await self.refresh_all()
        return await self.staff.export_accounts()

    async def staff_to_activate(
        self, profil: str | None = None, etablissement: str | None = None
    ) -> list[StaffAccount]:
        """Entries still to activate (the directory read by pages first)."""
        await self.refresh_all()
        return await self.staff.to_activate(profil, etablissement)

    # --- checking secrets ----------------------------------------------------------------

    async def _check(self, account_id: int | None, password: str, status: AccountStatus) -> bool:
        ref = await self.mirror.ref(-1 if account_id is None else account_id)
        usable = ref is not None and ref.dn is not None and ref.status == status
        # Always one bind: the account's own DN if there is one (its answer only counts when
        # the status fits), else the decoy entry (or a DN that does not exist).
        dn = ref.dn if ref is not None and ref.dn else self.config.decoy_dn or self._dummy_dn
        bound = await self._call(self.connector.bind, dn, password)
        return bound and usable

    async def check_provisional(self, account_id: int | None, password: str) -> bool:
        """Bind as the account's DN (a DN that does not exist when there is none)."""
        return await self._check(account_id, password, AccountStatus.TO_ACTIVATE)

    async def check_password(self, account_id: int | None, password: str) -> bool:
        """Bind as the active account's DN (a DN that does not exist when there is none)."""
        return await self._check(account_id, password, AccountStatus.ACTIVE)

    # --- writing -------------------------------------------------------------------------

    def _write_item(self, account_id: int, dn: str, changes: dict[str, str]) -> NewOutboxItem:
        now = datetime.now(UTC)
        return NewOutboxItem(
            kind=OutboxKind.DIRECTORY_WRITE,
            template=DIRECTORY_WRITE,
            params={"dn": dn, "changes": changes},
            account_id=account_id,
            created_at=now,
            expires_at=now + DIRECTORY_WRITE_KEPT_FOR,
        )

    def _kick(self, items: list[NewOutboxItem]) -> None:
        if self.outbox is not None:
            for item in items:
                self.outbox.kick(item)

    async def activate(self, account_id: int, password: str, record: ActivationRecord) -> bool:
        """Claim the account locally (exactly one chat writes its password), Password Modify,
        then the local activation with the directory writes it owes (status, address) in one
        transaction; the writes leave through the outbox."""
        ref = await self.mirror.ref(account_id)
        if ref is None or ref.dn is None or ref.status != AccountStatus.TO_ACTIVATE:
            return False
        now = datetime.now(UTC)
        user = record.telegram_user_id
        if not await self.mirror.claim(account_id, user, now, now - ACTIVATION_CLAIM_FOR):
            return False  # another chat is writing its password right now
        try:
            await self._call(self.connector.set_password, ref.dn, password)
        except BaseException:
            await self.mirror.release(account_id, user)
            raise
        changes: dict[str, str] = {}
        if self.config.attr_status and self.config.status_active:
            changes[self.config.attr_status] = self.config.status_active
        if self.config.attr_mail and record.email:
            changes[self.config.attr_mail] = record.email
        items = [self._write_item(account_id, ref.dn, changes)] if changes else []
        won = await self.store.complete_activation(account_id, record, None, outbox=items)
        if won:
            self._kick(items)
        return won

    async def set_password(self, account_id: int, password: str, actor: str, now: datetime) -> bool:
        """Password Modify for an active account (audited locally)."""
        ref = await self.mirror.ref(account_id)
        if ref is None or ref.dn is None or ref.status != AccountStatus.ACTIVE:
            return False
        await self._call(self.connector.set_password, ref.dn, password)
        return await self.store.set_password(account_id, None, actor, now)

    async def set_provisional(self, account_id: int, password: str) -> bool:
        """Staff reset: a new provisional password by Password Modify (under the server's
        policy: :class:`PasswordRejected`), and the status attribute back to « to activate »
        (if there is one). False if the account has no entry."""
        ref = await self.mirror.ref(account_id)
        if ref is None or ref.dn is None:
            return False
        await self._call(self.connector.set_password, ref.dn, password)
        if self.config.attr_status and self.config.status_to_activate:
            changes = {self.config.attr_status: self.config.status_to_activate}
            await self._call(self.connector.replace, ref.dn, changes)
        return True

    async def replace_email(
        self, account_id: int, telegram_user_id: int, email: str, now: datetime, details: str
    ) -> bool:
        """The local address, and its directory write owed in the same transaction."""
        ref = await self.mirror.ref(account_id)
        items = []
        if ref is not None and ref.dn is not None and self.config.attr_mail:
            items = [self._write_item(account_id, ref.dn, {self.config.attr_mail: email})]
        replaced = await self.store.replace_email(
            account_id, telegram_user_id, email, now, details, outbox=items
        )
        if replaced:
            self._kick(items)
        return replaced


class DirectoryWriter:
    """Sends ``directory_write`` outbox items (attribute replacements) to the directory."""

    def __init__(self, directory: LdapDirectory) -> None:
        self.directory = directory

    async def send(self, item: OutboxItem) -> None:
        """Replace the item's attributes; a failure is retried by the outbox."""
        dn = str(item.params["dn"])
        changes = {str(k): str(v) for k, v in dict(item.params["changes"]).items()}
        try:
            await self.directory._call(self.directory.connector.replace, dn, changes)
        except DirectoryUnavailable as error:
            raise DeliveryError(f"DirectoryUnavailable:{error}") from None
        except ldap.LDAPError as error:
            raise DeliveryError(type(error).__name__) from None
