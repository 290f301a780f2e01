"""The SQLite database: connection, numbered migrations, transactions, time format."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.files import create_private_file, ensure_private, make_private_folder

MIGRATIONS_PACKAGE = "storage.migrations"

T = TypeVar("T")
# The body of a write transaction: plain sqlite3 calls, run on the writer's thread.
WriteWork = Callable[[sqlite3.Connection], T]


def to_db_time(moment: datetime) -> str:
    """UTC ISO-8601 text with a fixed width, so that text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(text: str | None) -> datetime | None:
    """Inverse of :func:`to_db_time`."""
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


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
        """Close both connections."""
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
        """Run ``work(connection)`` as one transaction in one call on the writer's thread:
        ``BEGIN IMMEDIATE``, ``work``, ``COMMIT`` (``ROLLBACK`` if it raises); its result.
        ``work`` gets the plain :class:`sqlite3.Connection` (rows as :class:`sqlite3.Row`) and
        must neither commit nor await. Calls run in order, one at a time, without an asyncio
        lock between them; only while a :meth:`transaction` is open do they wait for it. A
        cancelled caller does not stop the call: it commits or rolls back whole."""
        if self._write_lock.locked():  # a transaction() is open: its statements first
            async with self._write_lock:
                return await self._submit_write(work)
        # Queued now, in this step of the loop (the coroutine runs up to its first wait):
        # no transaction() can open before it on the connection's queue.
        return await self._submit_write(work)

    async def _submit_write(self, work: WriteWork[T]) -> T:
        result: T = await self.connection._execute(self._run_write, work)
        return result

    def _run_write(self, work: WriteWork[T]) -> T:
        """On the writer's thread: the whole transaction."""
        connection = self.connection._conn
        connection.execute("BEGIN IMMEDIATE")
        try:
            result = work(connection)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return result

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error), one writer at a time."""
        async with self._write_lock:
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
            await asyncio.shield(self.connection.execute("COMMIT"))

    async def fetch_one(self, sql: str, params: tuple[object, ...] = ()) -> aiosqlite.Row | None:
        """First row of a query (committed rows only), or None."""
        row: aiosqlite.Row | None = await self.reader._execute(self._read, sql, params, True)
        return row

    async def fetch_all(self, sql: str, params: tuple[object, ...] = ()) -> list[aiosqlite.Row]:
        """All rows of a query (committed rows only)."""
        rows: list[aiosqlite.Row] = await self.reader._execute(self._read, sql, params, False)
        return rows

    def _read(self, sql: str, params: tuple[object, ...], one: bool) -> Any:
        """On the reader's thread: run, fetch and close in one call."""
        cursor = self.reader._conn.execute(sql, params)
        try:
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
