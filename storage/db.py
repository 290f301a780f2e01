"""The SQLite database: connection, numbered migrations, transactions, time format."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.files import (
    create_private_file,
    ensure_private,
    ensure_private_folder,
    make_private_folder,
)

MIGRATIONS_PACKAGE = "storage.migrations"

T = TypeVar("T")
# The body of a write transaction: plain sqlite3 calls, run on the writer's thread.
WriteWork = Callable[[sqlite3.Connection], T]


def in_thread(connection: aiosqlite.Connection) -> Callable[..., Awaitable[Any]]:
    """aiosqlite's ``_execute`` (untyped): run a function on the connection's own thread, in
    its queue — what lets a batch of writes or a read run as plain sqlite3 calls."""
    execute: Callable[..., Awaitable[Any]] = connection._execute
    return execute


def to_db_time(moment: datetime) -> str:
    """UTC ISO-8601 text with a fixed width, so that text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(text: str | None) -> datetime | None:
    """Inverse of :func:`to_db_time`: ``datetime.fromisoformat`` reads its fixed format, ``Z``
    included, many times faster than ``strptime`` (which took 3.95 s of an export of 100,000
    accounts). Text of another shape is refused, as ``strptime`` refused it."""
    if text is None:
        return None
    if len(text) != _DB_TIME_LENGTH or text[-1] != "Z":
        raise ValueError(f"not a database time: {text!r}")
    return datetime.fromisoformat(text)


_DB_TIME_LENGTH = len("2026-01-01T00:00:00.000000Z")


def db_time_seconds(text: str | None) -> str:
    """A database time cut to the second, ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), by slicing its text:
    what ``from_db_time(text).isoformat(timespec="seconds")`` gives, ``Z`` for ``+00:00``,
    without building a datetime (an export reads 300,000 of them); '' for None. Text of
    another shape is refused, as :func:`from_db_time` refuses it."""
    if text is None:
        return ""
    if len(text) != _DB_TIME_LENGTH or text[-1] != "Z" or text[10] != "T":
        raise ValueError(f"not a database time: {text!r}")
    return text[:19] + "Z"


def migration_scripts() -> list[tuple[int, str, str]]:
    """The shipped migrations as (number, name, SQL), in order."""
    scripts = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        if entry.name.endswith(".sql"):
            number = int(entry.name.split("_", 1)[0])
            scripts.append((number, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(scripts)


class DatabaseMissing(FileNotFoundError):
    """No database file where the settings point (a command that only reads never makes one)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no database at {path}")
        self.path = path


class DatabaseTooNew(RuntimeError):
    """The database was migrated by a newer version of the bot than this one."""

    def __init__(self, path: Path, found: int, known: int) -> None:
        super().__init__(f"{path} is at migration {found}, this code knows up to {known}")
        self.path = path
        self.found = found
        self.known = known


class Database:
    """One aiosqlite connection shared by the repositories.

    Writes commit before returning, so a step is on disk before the bot answers. The hot ones
    go through :meth:`write`: the whole transaction (``BEGIN IMMEDIATE``, its statements,
    ``COMMIT``) is one plain function run in one call on the writer connection's thread, so
    SQLite's write lock is held only while that thread works, never across round trips through
    a busy event loop. The others go through :meth:`transaction` (statements awaited one by
    one under an asyncio lock, which :meth:`write` respects). Reads (:meth:`fetch_one`,
    :meth:`fetch_all`) go through a second, read-only connection (WAL: never behind a write),
    each in one call on its thread — the statement run, its rows fetched and the cursor closed
    together — so every read sees the latest commit (an unfinished statement would keep that
    connection's snapshot open for the reads interleaved with it) and never rows of an open
    transaction.
    """

    def __init__(
        self, connection: aiosqlite.Connection, path: Path, reader: aiosqlite.Connection | None
    ) -> None:
        self.connection = connection
        self.reader = reader or connection
        self.path = path
        self._write_lock = asyncio.Lock()
        # Works of write() waiting for the writer's thread; whether a batch is there now.
        self._pending: list[tuple[WriteWork[Any], asyncio.Future[Any]]] = []
        self._flushing = False
        self._idle = asyncio.Event()
        self._idle.set()

    @classmethod
    async def open(cls, path: Path, *, create: bool = True) -> Database:
        """Open and migrate the database at ``path``, creating it (folder 0700, file 0600) if
        needed; with ``create=False``, a missing file raises :class:`DatabaseMissing`. The file
        and its ``-wal``/``-shm`` are made readable by their owner only (see storage.files)."""
        if create:
            make_private_folder(path.parent)
            create_private_file(path)
        elif not path.is_file():
            raise DatabaseMissing(path)
        else:
            ensure_private_folder(path.parent)
        for suffix in ("", "-wal", "-shm"):  # SQLite gives -wal/-shm the database's mode
            ensure_private(Path(f"{path}{suffix}"))
        target = path if create else f"{path.resolve().as_uri()}?mode=rw"  # rw: never create
        connection = await aiosqlite.connect(target, isolation_level=None, uri=not create)
        connection.row_factory = aiosqlite.Row
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute("PRAGMA synchronous = FULL")
        await connection.execute("PRAGMA foreign_keys = ON")
        await connection.execute("PRAGMA busy_timeout = 5000")
        database = cls(connection, path, None)
        try:
            await database.migrate()
        except BaseException:
            await connection.close()
            raise
        reader = await aiosqlite.connect(path, isolation_level=None)
        reader.row_factory = aiosqlite.Row
        await reader.execute("PRAGMA query_only = ON")
        await reader.execute("PRAGMA busy_timeout = 5000")
        database.reader = reader
        return database

    async def close(self) -> None:
        """Close both connections (after the batch of writes under way)."""
        self._flush_soon()
        while self._flushing:
            await self._idle.wait()
            self._flush_soon()
        if self.reader is not self.connection:
            await self.reader.close()
        await self.connection.close()

    async def migrate(self) -> list[str]:
        """Apply the migrations not applied yet; return their names. A database at a later
        migration than the shipped ones raises :class:`DatabaseTooNew`."""
        await self.connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        async with self.connection.execute("SELECT version FROM schema_migrations") as cursor:
            applied = {row[0] for row in await cursor.fetchall()}
        scripts = migration_scripts()
        known = max((number for number, _, _ in scripts), default=0)
        if applied and max(applied) > known:  # a newer bot wrote it: never run old code on it
            raise DatabaseTooNew(self.path, max(applied), known)
        done = []
        for number, name, sql in scripts:
            if number in applied:
                continue
            async with self.transaction() as connection:
                for statement in _split_sql(sql):
                    await connection.execute(statement)
                await connection.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    (number, name, to_db_time(datetime.now(UTC))),
                )
            done.append(name)
        return done

    async def write(self, work: WriteWork[T]) -> T:
        """Run ``work(connection)`` in a transaction on the writer's thread and return its
        result once committed; ``work`` gets the plain :class:`sqlite3.Connection` (rows as
        :class:`sqlite3.Row`) and must neither commit nor await.

        Group commit: the works queued while the writer's thread is busy run together, each
        in a savepoint of one ``BEGIN IMMEDIATE`` … ``COMMIT`` (one call on the thread, one
        fsync), so a burst of steps costs one commit, not one each; a work that raises is
        rolled back alone (its caller gets the exception), the others commit. Works wait
        while a :meth:`transaction` is open. A cancelled caller does not stop its work."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((work, future))
        self._flush_soon()
        result: T = await future
        return result

    def _flush_soon(self) -> None:
        """Send the pending works to the writer's thread, unless a batch or a
        :meth:`transaction` is under way (each kicks this again when done)."""
        if self._flushing or not self._pending or self._write_lock.locked():
            return
        batch, self._pending = self._pending, []
        self._flushing = True
        self._idle.clear()
        works = [work for work, _ in batch]
        task = asyncio.ensure_future(in_thread(self.connection)(self._run_write, works))
        task.add_done_callback(lambda done: self._flushed(done, [f for _, f in batch]))

    def _flushed(self, task: asyncio.Future[Any], futures: list[asyncio.Future[Any]]) -> None:
        self._flushing = False
        self._idle.set()
        error = None if task.cancelled() else task.exception()
        outcomes = None if task.cancelled() or error else task.result()
        for index, future in enumerate(futures):
            if future.done():
                continue
            if outcomes is None:
                future.set_exception(error or asyncio.CancelledError())
            elif outcomes[index][0]:
                future.set_result(outcomes[index][1])
            else:
                future.set_exception(outcomes[index][1])
        self._flush_soon()

    def _run_write(self, works: list[WriteWork[Any]]) -> list[tuple[bool, Any]]:
        """On the writer's thread: one transaction, a savepoint a work."""
        connection = self.connection._conn
        outcomes: list[tuple[bool, Any]] = []
        connection.execute("BEGIN IMMEDIATE")
        try:
            for work in works:
                connection.execute("SAVEPOINT work")
                try:
                    value = work(connection)
                except Exception as error:
                    connection.execute("ROLLBACK TO work")
                    connection.execute("RELEASE work")
                    outcomes.append((False, error))
                    continue
                connection.execute("RELEASE work")
                outcomes.append((True, value))
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return outcomes

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error), one writer at a time
        (after the batch of :meth:`write` under way, before the next)."""
        try:
            async with self._write_lock:
                while self._flushing:
                    await self._idle.wait()
                async with self._open_transaction() as connection:
                    yield connection
        finally:
            self._flush_soon()

    @asynccontextmanager
    async def _open_transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        # The statements run in the connection's thread whatever happens to the awaiting
        # coroutine: a cancellation while BEGIN is under way must still roll it back, or
        # the connection stays inside a transaction and every later one fails.
        begin = asyncio.ensure_future(self.connection.execute("BEGIN IMMEDIATE"))
        try:
            await asyncio.shield(begin)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await begin
                await self.connection.execute("ROLLBACK")
            raise
        try:
            yield self.connection
        except BaseException:
            await asyncio.shield(self.connection.execute("ROLLBACK"))
            raise
        try:
            await asyncio.shield(self.connection.execute("COMMIT"))
        except BaseException:
            # A COMMIT refused (SQLITE_BUSY, a full disk) may leave the transaction open: every
            # later BEGIN would fail.
            if self.connection.in_transaction:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.connection.execute("ROLLBACK"))
            raise

    async def fetch_one(self, sql: str, params: tuple[object, ...] = ()) -> aiosqlite.Row | None:
        """First row of a query (committed rows only), or None."""
        row: aiosqlite.Row | None = await in_thread(self.reader)(self._read, sql, params, True)
        return row

    async def fetch_all(self, sql: str, params: tuple[object, ...] = ()) -> list[aiosqlite.Row]:
        """All rows of a query (committed rows only)."""
        rows: list[aiosqlite.Row] = await in_thread(self.reader)(self._read, sql, params, False)
        return rows

    async def fetch_tuples(
        self, sql: str, params: tuple[object, ...] = ()
    ) -> list[tuple[Any, ...]]:
        """All rows of a query as plain tuples (committed rows only), the cheapest rows to
        build and to read by position: for reads of every account."""
        rows: list[tuple[Any, ...]] = await in_thread(self.reader)(
            self._read, sql, params, False, True
        )
        return rows

    def _read(
        self,
        sql: str,
        params: tuple[object, ...],
        one: bool,
        tuples: bool = False,
    ) -> Any:
        """On the reader's thread: run, fetch and close in one call (rows as the connection
        makes them, or plain tuples)."""
        cursor = self.reader._conn.cursor()
        if tuples:
            cursor.row_factory = None
        try:
            cursor.execute(sql, params)
            return cursor.fetchone() if one else cursor.fetchall()
        finally:
            cursor.close()


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


# Which establishments a staff query sees (issue 27): None, every account; else the accounts
# whose UAI is one of these (an empty set sees none).
Scope = frozenset[str] | None


def scope_sql(scope: Scope, column: str = "uai") -> tuple[str, tuple[str, ...]]:
    """`` AND <column> IN (?, …)`` and its parameters for a scope ('' for every account):
    a staff member's establishments are filtered in SQL, never after the fact."""
    if scope is None:
        return "", ()
    if not scope:
        return " AND 0", ()
    values = tuple(sorted(scope))
    return f" AND {column} IN ({', '.join('?' * len(values))})", values
