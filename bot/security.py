"""Hashing of secrets: argon2id for passwords and answers (in a thread pool), HMAC-SHA-256 with
a server key for codes, tokens and identifiers, and secure generators."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
import string
import sys
import threading
import unicodedata
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

from storage.files import PRIVATE_FILE_MODE, ensure_private, make_private_folder

SERVER_SECRET_BYTES = 32
# The nice value of the argon2 threads: a busy pool (each hash runs ``parallelism`` lanes) then
# leaves the CPU to the event loop's thread whenever it wants it, and takes the rest. 19, the
# lowest priority: at 10 the loop still lost enough of a core to miss replies by 100-500 ms
# under load (docs/performance.md, the ARGON2_NICE series).
ARGON2_NICE = 19


def default_argon2_threads() -> int:
    """The argon2 pool's size when no setting says: two hashes a core, four at most (peak
    memory: that many times ``ARGON2_MEMORY_COST``). At the lowest priority a hash's lanes
    wait for each other whenever one is preempted by the event loop; a second hash a core
    fills those gaps (2 cores: 1.46 → 1.76 cores hashing under load, docs/performance.md)."""
    return min(4, 2 * (os.cpu_count() or 1))


def lower_thread_priority(nice: int = ARGON2_NICE) -> None:
    """Thread-pool initializer: lower the calling thread's priority by ``nice`` (Linux: a
    thread is a task whose nice value ``setpriority`` sets by its native id); a no-op where
    the platform has no per-thread priority or refuses."""
    setpriority = getattr(os, "setpriority", None)
    if setpriority is None or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):
        thread = threading.get_native_id()
        # relative to the thread's own (a bot started with nice keeps the difference)
        setpriority(
            os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + nice)
        )


@dataclass(frozen=True)
class Argon2Params:
    """argon2id cost; the defaults are argon2-cffi's RFC 9106 low-memory profile."""

    time_cost: int = RFC_9106_LOW_MEMORY.time_cost
    memory_cost: int = RFC_9106_LOW_MEMORY.memory_cost
    parallelism: int = RFC_9106_LOW_MEMORY.parallelism
    hash_len: int = RFC_9106_LOW_MEMORY.hash_len
    salt_len: int = RFC_9106_LOW_MEMORY.salt_len


class SecretHasher:
    """argon2id hashing that never blocks the event loop: it runs in a thread pool (argon2
    releases the GIL, so other users' coroutines keep running) of ``threads`` threads at a
    lower priority (:func:`lower_thread_priority`), so that a saturated pool never starves the
    event loop's thread of a core (``nice``: by how much; 0 keeps the loop's priority)."""

    def __init__(
        self,
        params: Argon2Params,
        executor: Executor | None = None,
        *,
        threads: int | None = None,
        nice: int = ARGON2_NICE,
    ) -> None:
        self.params = params
        self.nice = nice
        self._hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost,
            parallelism=params.parallelism,
            hash_len=params.hash_len,
            salt_len=params.salt_len,
            type=Type.ID,
        )
        self._executor = executor
        self.threads = threads or default_argon2_threads()
        self._dummy_hash: str | None = None

    def _pool(self) -> Executor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.threads,
                thread_name_prefix="argon2",
                initializer=lower_thread_priority,
                initargs=(self.nice,),
            )
        return self._executor

    async def _run(self, function: object, *args: str) -> object:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), function, *args)  # type: ignore[arg-type]

    async def hash(self, secret: str) -> str:
        """The argon2id hash of ``secret`` (PHC string, salt included)."""
        return str(await self._run(self._hasher.hash, secret))

    async def verify(self, stored_hash: str | None, secret: str) -> bool:
        """Whether ``secret`` matches; with no stored hash, the same work against a dummy
        hash and False, so that an unknown account takes as long as a known one."""
        if stored_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
            stored_hash = self._dummy_hash
            await self._run(self._verify, stored_hash, secret)
            return False
        return bool(await self._run(self._verify, stored_hash, secret))

    def _verify(self, stored_hash: str, secret: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether ``stored_hash`` was made with other parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


class KeyedHasher:
    """HMAC-SHA-256 with a server secret kept outside the database: a short code's keyed hash
    cannot be reversed without the key (a plain SHA-256 of 8 digits can, in seconds)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < SERVER_SECRET_BYTES:
            raise ValueError("the server secret must be at least 32 bytes")
        self._key = key

    def __repr__(self) -> str:
        return "KeyedHasher(key=<hidden>)"

    def digest(self, value: str, *, purpose: str) -> str:
        """Hex HMAC of ``value``, separated by ``purpose`` (code, token, identifiant…)."""
        message = purpose.encode() + b"\x00" + value.encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def matches(self, value: str, expected_digest: str, *, purpose: str) -> bool:
        """Constant-time comparison of ``value``'s digest with ``expected_digest``."""
        return hmac.compare_digest(self.digest(value, purpose=purpose), expected_digest)

    def pending(self, secret: str, *, purpose: str) -> str:
        """A short-lived keyed digest of a secret a procedure keeps between two typings (a new
        password until its confirmation, an answer until it is typed again, the provisional
        password until the new one is compared with it): ``hmac-sha256$<salt>$<hex>``, a
        fresh random salt each time, so that two sessions' digests of one secret differ and
        nothing can be compared across them. Never stored beyond the procedure (see
        docs/performance.md); argon2id stays the only long-term hash of a secret."""
        salt = secrets.token_hex(16)
        return f"{PENDING_PREFIX}{salt}${self._pending_mac(salt, secret, purpose)}"

    def matches_pending(self, secret: str, stored: str | None, *, purpose: str) -> bool:
        """Whether ``secret`` is the one :meth:`pending` digested into ``stored`` (constant
        time; False for None or anything else than such a digest)."""
        if not is_pending_digest(stored):
            return False
        assert stored is not None
        salt, _, mac = stored[len(PENDING_PREFIX) :].partition("$")
        return hmac.compare_digest(self._pending_mac(salt, secret, purpose), mac)

    def _pending_mac(self, salt: str, secret: str, purpose: str) -> str:
        return self.digest(salt + "\x00" + secret, purpose="pending-" + purpose)


PENDING_PREFIX = "hmac-sha256$"


def is_pending_digest(stored: str | None) -> bool:
    """Whether ``stored`` is a :meth:`KeyedHasher.pending` digest (not an argon2id hash)."""
    return stored is not None and stored.startswith(PENDING_PREFIX)


class ServerSecretMissing(FileNotFoundError):
    """No server key where the settings point, and the caller must not create one."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no server secret at {path}")
        self.path = path


def load_or_create_server_secret(path: Path, *, create: bool = True) -> bytes:
    """The server secret at ``path``; 32 random bytes are written there (mode 600, its folder
    700 if made) if missing, or :class:`ServerSecretMissing` with ``create=False``. A key that
    others can read is tightened to 600 (or refused, see :func:`storage.files.ensure_private`)."""
    if path.exists():
        ensure_private(path)
        key = path.read_bytes()
        if len(key) < SERVER_SECRET_BYTES:
            raise ValueError(f"{path} holds fewer than {SERVER_SECRET_BYTES} bytes")
        return key
    if not create:
        raise ServerSecretMissing(path)
    make_private_folder(path.parent)
    key = secrets.token_bytes(SERVER_SECRET_BYTES)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return key


def generate_numeric_code(length: int = 8) -> str:
    """A random code of ``length`` digits (6 to 8), leading zeros allowed."""
    if not 6 <= length <= 8:
        raise ValueError("codes have 6 to 8 digits")
    return "".join(secrets.choice(string.digits) for _ in range(length))


def generate_token() -> str:
    """A URL-safe token (256 bits) usable as a Telegram /start payload (≤ 64 chars)."""
    return secrets.token_urlsafe(32)


UNAMBIGUOUS_LOWER = "abcdefghijkmnpqrstuvwxyz"
UNAMBIGUOUS_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
UNAMBIGUOUS_DIGITS = "23456789"


def generate_provisional_password(length: int = 10) -> str:
    """A provisional password easy to copy from a letter (no 0/O, 1/l/I)."""
    alphabet = UNAMBIGUOUS_LOWER + UNAMBIGUOUS_UPPER + UNAMBIGUOUS_DIGITS
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c in UNAMBIGUOUS_LOWER for c in candidate)
            and any(c in UNAMBIGUOUS_UPPER for c in candidate)
            and any(c in UNAMBIGUOUS_DIGITS for c in candidate)
        ):
            return candidate


def strip_accents(text: str) -> str:
    """« Éléphant » → « Elephant »."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise_answer(answer: str) -> str:
    """Secret answers compare without case, accents or extra spaces."""
    return " ".join(strip_accents(answer).casefold().split())


def normalise_identifiant(identifiant: str) -> str:
    """Identifiers compare without case or surrounding spaces."""
    return unicodedata.normalize("NFC", identifiant.strip()).casefold()
