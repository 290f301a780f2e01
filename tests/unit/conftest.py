"""Fixtures of the unit tests: services of the procedures over a real database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.procedures.activation import ActivationService
from bot.school import SchoolConfig
from bot.security import KeyedHasher, SecretHasher
from storage.db import Database

from service_factory import build_service
from support import MutableClock

ServiceFactory = Callable[[type[Any]], Awaitable[Any]]


@pytest.fixture
def make_service(
    database: Database,
    hasher: SecretHasher,
    keyed: KeyedHasher,
    school: SchoolConfig,
    clock: MutableClock,
    tmp_path: Path,
) -> ServiceFactory:
    """Build a service of a given procedure class over the test database (accounts imported)."""

    async def make(cls: type[Any]) -> Any:
        return await build_service(cls, database, hasher, keyed, school, clock, tmp_path)

    return make


@pytest.fixture
async def service(make_service: ServiceFactory) -> ActivationService:
    """The activation service over the test database."""
    service: ActivationService = await make_service(ActivationService)
    return service
