"""Fixtures shared by unit and end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.school import SchoolConfig, load_school_config
from bot.security import Argon2Params, KeyedHasher, SecretHasher
from storage.db import Database

from ldap_server import LdapServer
from ldap_server import missing as ldap_missing
from support import DATA, MutableClock


@pytest.fixture
def school() -> SchoolConfig:
    """The tests' school file."""
    return load_school_config(DATA / "school.toml")


@pytest.fixture
def clock() -> MutableClock:
    """A clock the test controls."""
    return MutableClock()


@pytest.fixture
def hasher() -> SecretHasher:
    """Cheap argon2id."""
    return SecretHasher(Argon2Params(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def keyed() -> KeyedHasher:
    """HMAC with a fixed test key."""
    return KeyedHasher(b"k" * 32)


@pytest_asyncio.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """A real, migrated SQLite file."""
    db = await Database.open(tmp_path / "db" / "bot.sqlite3")
    yield db
    await db.close()


@pytest.fixture
def ldap_server(tmp_path: Path) -> Iterator[LdapServer]:
    """A real slapd (Debian's) with ppolicy, seeded with users to activate; skips with the
    reason when slapd or python-ldap is missing."""
    reason = ldap_missing()
    if reason is not None:
        pytest.skip(reason)
    server = LdapServer(tmp_path / "slapd")
    server.start()
    yield server
    server.close()
