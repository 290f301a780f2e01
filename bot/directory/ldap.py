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
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import ldap
from ldap.controls import DecodeControlTuples, SimplePagedResultsControl
from ldap.controls.ppolicy import PasswordPolicyControl
from ldap.filter import escape_filter_chars

from bot.config.ldap import LdapConfig, split_values
from bot.config.ldap_profiles import profile_map, profile_of
from bot.directory.port import DirectoryRule, DirectoryUnavailable, PasswordRejected
from bot.outbox.delivery import DeliveryError
from bot.security import SecretHasher, normalise_identifiant
from storage.accounts import (
    Account,
    AccountStatus,
    ActivationRecord,
    SqliteAccountDirectory,
)
from storage.db import Database
from storage.ldap_accounts import DirectoryEntry, LdapAccountStore
from storage.outbox import NewOutboxItem, OutboxItem, OutboxKind
from storage.staff import ExportAccount, Scope, StaffAccount, StaffRepository

logger = logging.getLogger(__name__)

T = TypeVar("T")

DIRECTORY_WRITE = "directory_write"
# A directory write owed after activation is retried for this long (then staff see it given up).
DIRECTORY_WRITE_KEPT_FOR = timedelta(days=365)

# How long an establishment's name read from its structure entry is kept.
STRUCTURE_NAMES_KEPT_FOR = 3600.0
# States of refused entries, as the local rows and the staff tools name them.
BLOCKED = "bloque"
DELETED = "supprime"
EDUCONNECT = "educonnect"

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

    def structure_names(self, uais: list[str]) -> dict[str, str]:
        """``{UAI casefolded: name}`` of the structure entries of these UAIs (one search per
        fifty; a UAI with no entry is left out)."""
        config = self.config
        attr_uai, attr_name = config.structure_attr_uai, config.structure_attr_name

        def work() -> dict[str, str]:
            connection = self._service()
            names: dict[str, str] = {}
            try:
                for start in range(0, len(uais), 50):
                    chunk = uais[start : start + 50]
                    wanted = "".join(f"({attr_uai}={escape_filter_chars(u)})" for u in chunk)
                    try:
                        results = connection.search_ext_s(
                            config.structure_base,
                            ldap.SCOPE_SUBTREE,
                            f"(|{wanted})",
                            attrlist=[attr_uai, attr_name],
                            timeout=config.timeout_seconds,
                        )
                    except ldap.NO_SUCH_OBJECT:
                        return names
                    for dn, attributes in results:
                        uai, name = _first(attributes, attr_uai), _first(attributes, attr_name)
                        if dn and uai and name:
                            names[uai.strip().casefold()] = name.strip()
            finally:
                connection.unbind_s()
            return names

        return self._run(work)

    def replace_service_value(self, dn: str, name: str, service: str, value: str) -> None:
        """Replace this service's value of a multi-valued ``service;…`` attribute (the other
        services' values stay)."""

        def work() -> None:
            connection = self._service()
            try:
                [(_, attributes)] = connection.search_ext_s(
                    dn, ldap.SCOPE_BASE, attrlist=[name], timeout=self.config.timeout_seconds
                )
                prefix = f"{service};".casefold()
                old = [v for v in _values(attributes, name) if v.casefold().startswith(prefix)]
                changes = [(ldap.MOD_DELETE, name, [v.encode() for v in old])] if old else []
                changes.append((ldap.MOD_ADD, name, [value.encode()]))
                connection.modify_s(dn, changes)
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


def _values(attributes: dict[str, list[bytes]], name: str) -> list[str]:
    """Every value of an attribute (names compared without case)."""
    if not name:
        return []
    for key, values in attributes.items():
        if key.lower() == name.lower():
            return [value.decode("utf-8", "replace") for value in values]
    return []


def _first(attributes: dict[str, list[bytes]], name: str) -> str:
    values = _values(attributes, name)
    return values[0] if values else ""


def charter_value(config: LdapConfig, version: str, accepted_at: datetime) -> str:
    """CGU acceptance in the charter attribute's form: a generalized time (``time``), or
    « service;version;date » (``service``, as GIP RECIA's « Mon Compte ENT » writes
    ``ESCOPersonValidationCharteService``; the date a generalized time too)."""
    stamp = accepted_at.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")
    if config.charter_format.strip().lower() == "service":
        return f"{config.charter_service};{version};{stamp}"
    return stamp


class LdapDirectory:
    """:class:`bot.directory.port.Directory` over an LDAP server."""

    def __init__(
        self, config: LdapConfig, database: Database, hasher: SecretHasher | None = None
    ) -> None:
        self.config = config
        # LDAP_PROVISIONAL_SOURCE=local: the provisional passwords' argon2id hashes are here.
        self.hasher = hasher
        if config.provisional_local and hasher is None:
            raise ValueError("LDAP_PROVISIONAL_SOURCE=local needs the argon2id hasher")
        self.profiles = profile_map(config.profile_map)
        # UAI (casefolded) → (name or "" when it has no structure entry, monotonic time read).
        self._structure_names: dict[str, tuple[str, float]] = {}
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

    @property
    def provisional_local(self) -> bool:
        """Whether the bot keeps the provisional passwords' hashes (staff tools hash them)."""
        return self.config.provisional_local

    def _uais(self, attributes: dict[str, list[bytes]]) -> list[str]:
        """The establishment values of an entry, main attribute first, without repeats."""
        seen: dict[str, str] = {}
        for name in self.config.establishment_attributes():
            for value in _values(attributes, name):
                if value.strip():
                    seen.setdefault(value.strip().casefold(), value.strip())
        return list(seen.values())

    async def _names(self, found: list[tuple[str, dict[str, list[bytes]]]]) -> dict[str, str]:
        """The names of the establishments these entries name (structure entries read once an
        hour at most; a UAI without one keeps its code)."""
        if not self.config.structure_base:
            return {}
        now = time.monotonic()
        cache = self._structure_names
        wanted = {uai.casefold(): uai for _, attributes in found for uai in self._uais(attributes)}
        stale = [
            uai
            for key, uai in wanted.items()
            if key not in cache or now - cache[key][1] > STRUCTURE_NAMES_KEPT_FOR
        ]
        if stale:
            names = await self._call(self.connector.structure_names, stale)
            for uai in stale:
                cache[uai.casefold()] = (names.get(uai.casefold(), ""), now)
        return {key: cache[key][0] for key in wanted if cache[key][0]}

    def _state(self, attributes: dict[str, list[bytes]]) -> tuple[AccountStatus | None, str | None]:
        """The local status and the refused state (blocked, deleted) the entry's state value
        says, compared without case; any value that is none of these means active."""
        config = self.config
        if not config.attr_status:
            return None, None
        value = _first(attributes, config.attr_status).strip().casefold()
        if value in config.status_values("blocked"):
            return None, BLOCKED
        if value in config.status_values("deleted"):
            return None, DELETED
        if value in config.status_values("to_activate"):
            return AccountStatus.TO_ACTIVATE, None
        return AccountStatus.ACTIVE, None

    def entry_of(
        self,
        dn: str,
        attributes: dict[str, list[bytes]],
        typed: str,
        names: dict[str, str] | None = None,
    ) -> DirectoryEntry:
        """The local view of a found entry (``names``: establishment names by UAI)."""
        config = self.config
        identifiant = _first(attributes, config.attr_identifiant) or typed.strip()
        profil = profile_of(_values(attributes, config.attr_profile), self.profiles)
        status, state = self._state(attributes)
        if state is None and profil.value in split_values(config.educonnect_profiles):
            state = EDUCONNECT
        names = names or {}
        uais = self._uais(attributes)
        etablissement = " / ".join(names.get(uai.casefold(), uai) for uai in uais)
        return DirectoryEntry(
            dn=dn,
            identifiant=identifiant,
            identifiant_norm=normalise_identifiant(identifiant),
            profil=profil.value,
            prenom=_first(attributes, config.attr_first_name),
            nom=_first(attributes, config.attr_last_name),
            etablissement=etablissement,
            status=status,
            state=state,
            uai=uais[0].upper() if uais else None,
        )

    # --- reading -------------------------------------------------------------------------

    async def _refresh(self, identifiant: str) -> int | None:
        """Search the directory (service account) and refresh the entry's local row; its id
        (blocked and deleted entries too)."""
        found = await self._call(self.connector.search_user, identifiant)
        if found is None:
            return None
        dn, attributes = found
        names = await self._names([found])
        entry = self.entry_of(dn, attributes, identifiant, names)
        return await self.mirror.upsert(entry, datetime.now(UTC))

    async def find(self, identifiant: str) -> Account | None:
        """The entry's local row, refreshed; None for a blocked or deleted entry too (refused
        like an unknown identifier)."""
        account_id = await self._refresh(identifiant)
        if account_id is None:
            return None
        ref = await self.mirror.ref(account_id)
        if ref is None or ref.state is not None:
            return None
        return await self.store.get(account_id)

    async def get(self, account_id: int) -> Account | None:
        """The local row of the account (as refreshed by the last :meth:`find`)."""
        return await self.store.get(account_id)

    async def linked_to(self, telegram_user_id: int) -> list[Account]:
        """Active accounts linked to this Telegram user (not blocked nor deleted)."""
        accounts = await self.store.linked_to(telegram_user_id)
        if not accounts:
            return accounts
        refused = await self.mirror.refused_ids()
        return [account for account in accounts if account.id not in refused]

    async def refresh_all(self) -> int:
        """Read every entry (paged search) and refresh the local rows; how many entries."""
        found = await self._call(self.connector.all_users)
        names = await self._names(found)
        entries = [self.entry_of(dn, attributes, "", names) for dn, attributes in found]
        return await self.mirror.upsert_many(
            [entry for entry in entries if entry.identifiant], datetime.now(UTC)
        )

    async def state_counts(self) -> dict[str, int]:
        """How many entries the directory says are blocked, deleted (for ``accounts stats``)."""
        return await self.mirror.state_counts()

    async def staff_find(self, identifiant_norm: str, scope: Scope = None) -> StaffAccount | None:
        """The entry of this identifier as staff see it (its local row, refreshed first); a
        blocked or deleted entry shows its state."""
        account_id = await self._refresh(identifiant_norm)
        local = await self.store.get(account_id) if account_id is not None else None
        if account_id is None or local is None:
            return None
        # (by the entry's own identifier: staff may have typed its alias)
        account = await self.staff.find(normalise_identifiant(local.identifiant), scope)
        ref = await self.mirror.ref(account_id)
        if account is not None and ref is not None and ref.state is not None:
            account = replace(account, status=ref.state)
        return account

    async def staff_export(self, scope: Scope = None) -> list[ExportAccount]:
        """Every entry of the directory (read by pages), with what the bot knows of it; a
        blocked or deleted entry shows its state."""
        await self.refresh_all()
        rows = await self.staff.export_accounts(scope)
        refused = await self.mirror.refused_ids()
        if not refused:
            return rows
        states = {account_id: (await self.mirror.ref(account_id)) for account_id in refused}
        return [
            (*row[:7], states[row[0]].state or row[7], *row[8:])  # type: ignore[union-attr]
            if row[0] in refused
            else row
            for row in rows
        ]

    async def staff_to_activate(
        self, profil: str | None = None, etablissement: str | None = None, scope: Scope = None
    ) -> list[StaffAccount]:
        """Entries still to activate, not blocked nor deleted (the directory read by pages
        first); an entry of several establishments is found by any of them."""
        await self.refresh_all()
        refused = await self.mirror.refused_ids()
        accounts = await self.staff.to_activate(profil, None, scope)
        wanted = etablissement.strip().casefold() if etablissement else None
        return [
            account
            for account in accounts
            if account.id not in refused
            and (
                wanted is None
                or wanted == account.etablissement.casefold()
                or wanted
                in (part.strip().casefold() for part in account.etablissement.split(" / "))
            )
        ]

    # --- checking secrets ----------------------------------------------------------------

    async def _check(self, account_id: int | None, password: str, status: AccountStatus) -> bool:
        ref = await self.mirror.ref(-1 if account_id is None else account_id)
        usable = (
            ref is not None and ref.dn is not None and ref.status == status and ref.state is None
        )
        if status == AccountStatus.TO_ACTIVATE and self.config.provisional_local:
            # The directory holds no provisional password ({SCRIPT}LOCK): the bot's argon2id
            # hash, the same work for every account (a dummy hash when there is none).
            assert self.hasher is not None
            stored = await self.store.password_hashes(-1 if account_id is None else account_id)
            hashed = stored.provisional_password_hash if stored is not None and usable else None
            return await self.hasher.verify(hashed, password) and hashed is not None
        # Always one bind: the account's own DN if there is one (its answer only counts when
        # the status fits), else the decoy entry (or a DN that does not exist).
        dn = ref.dn if ref is not None and ref.dn else self.config.decoy_dn or self._dummy_dn
        bound = await self._call(self.connector.bind, dn, password)
        return bound and usable

    async def check_provisional(self, account_id: int | None, password: str) -> bool:
        """Bind as the account's DN (a DN that does not exist when there is none); with
        ``LDAP_PROVISIONAL_SOURCE=local``, the bot's own hash instead."""
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

    def _charter_item(self, account_id: int, dn: str, record: ActivationRecord) -> NewOutboxItem:
        """CGU acceptance owed to the charter attribute (LDAP_ATTR_CHARTER)."""
        config = self.config
        assert record.cgu_accepted_at is not None
        value = charter_value(config, record.cgu_version or "", record.cgu_accepted_at)
        if config.charter_format.strip().lower() != "service":
            return self._write_item(account_id, dn, {config.attr_charter: value})
        item = self._write_item(account_id, dn, {})
        service = {"attr": config.attr_charter, "service": config.charter_service, "value": value}
        return replace(item, params={**item.params, "service_value": service})

    def _kick(self, items: list[NewOutboxItem]) -> None:
        if self.outbox is not None:
            for item in items:
                self.outbox.kick(item)

    async def activate(self, account_id: int, password: str, record: ActivationRecord) -> bool:
        """Claim the account locally (exactly one chat writes its password), Password Modify,
        then the local activation with the directory writes it owes (status, address) in one
        transaction; the writes leave through the outbox."""
        ref = await self.mirror.ref(account_id)
        if (
            ref is None
            or ref.dn is None
            or ref.status != AccountStatus.TO_ACTIVATE
            or ref.state is not None
        ):
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
        if self.config.attr_charter and record.cgu_accepted_at is not None:
            items.append(self._charter_item(account_id, ref.dn, record))
        won = await self.store.complete_activation(account_id, record, None, outbox=items)
        if won:
            self._kick(items)
        return won

    async def set_password(self, account_id: int, password: str, actor: str, now: datetime) -> bool:
        """Password Modify for an active account (audited locally)."""
        ref = await self.mirror.ref(account_id)
        if ref is None or ref.dn is None or ref.status != AccountStatus.ACTIVE or ref.state:
            return False
        await self._call(self.connector.set_password, ref.dn, password)
        return await self.store.set_password(account_id, None, actor, now)

    async def set_provisional(self, account_id: int, password: str) -> bool:
        """Staff reset: a new provisional password by Password Modify (under the server's
        policy: :class:`PasswordRejected`), and the status attribute back to « to activate »
        (if there is one). False if the account has no entry.

        ``LDAP_PROVISIONAL_SOURCE=local``: the staff tools keep the password's hash here; the
        directory gets a long random password nobody knows instead (the old one stops opening
        the ENT) and the « to activate » state."""
        ref = await self.mirror.ref(account_id)
        if ref is None or ref.dn is None:
            return False
        written = secrets.token_urlsafe(24) if self.config.provisional_local else password
        await self._call(self.connector.set_password, ref.dn, written)
        if self.config.attr_status and self.config.status_to_write_back:
            changes = {self.config.attr_status: self.config.status_to_write_back}
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
        service_value = item.params.get("service_value")
        connector = self.directory.connector
        try:
            if changes:
                await self.directory._call(connector.replace, dn, changes)
            if service_value:
                await self.directory._call(
                    connector.replace_service_value,
                    dn,
                    str(service_value["attr"]),
                    str(service_value["service"]),
                    str(service_value["value"]),
                )
        except DirectoryUnavailable as error:
            raise DeliveryError(f"DirectoryUnavailable:{error}") from None
        except ldap.LDAPError as error:
            raise DeliveryError(type(error).__name__) from None
