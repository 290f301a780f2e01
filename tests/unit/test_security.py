"""Hashing and generators."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from bot.security import (
    ARGON2_NICE,
    Argon2Params,
    KeyedHasher,
    SecretHasher,
    generate_numeric_code,
    generate_provisional_password,
    generate_token,
    load_or_create_server_secret,
    normalise_answer,
    normalise_identifiant,
)


async def test_argon2id_hash_and_verify(hasher: SecretHasher) -> None:
    stored = await hasher.hash("Velo-Rouge-42")
    assert stored.startswith("$argon2id$")
    assert "Velo-Rouge-42" not in stored
    assert await hasher.verify(stored, "Velo-Rouge-42")
    assert not await hasher.verify(stored, "velo-rouge-42")
    assert not await hasher.verify("not a hash", "x")


async def test_unknown_account_is_verified_against_a_dummy_hash(hasher: SecretHasher) -> None:
    assert not await hasher.verify(None, "anything")
    assert hasher._dummy_hash is not None and hasher._dummy_hash.startswith("$argon2id$")


def test_default_parameters_are_rfc_9106_low_memory() -> None:
    params = Argon2Params()
    assert (params.time_cost, params.memory_cost, params.parallelism) == (3, 65536, 4)


async def test_hashing_does_not_block_the_event_loop() -> None:
    hasher = SecretHasher(Argon2Params(time_cost=2, memory_cost=32 * 1024, parallelism=1))
    ticks = 0
    running = True

    async def ticker() -> None:
        nonlocal ticks
        while running:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.gather(*(hasher.hash(f"pw{n}") for n in range(4)))
    running = False
    await task
    assert ticks > 20, "the loop was not free while argon2 ran"


def test_keyed_hash_is_domain_separated_and_constant_time_compared() -> None:
    keyed = KeyedHasher(b"s" * 32)
    digest = keyed.digest("12345678", purpose="code")
    assert digest != keyed.digest("12345678", purpose="token")
    assert digest != KeyedHasher(b"t" * 32).digest("12345678", purpose="code")
    assert keyed.matches("12345678", digest, purpose="code")
    assert not keyed.matches("12345679", digest, purpose="code")
    assert "s" * 32 not in repr(keyed)
    with pytest.raises(ValueError):
        KeyedHasher(b"short")


def test_server_secret_is_created_once_with_private_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "secret.key"
    key = load_or_create_server_secret(path)
    assert len(key) == 32 and load_or_create_server_secret(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_bytes(b"123")
    with pytest.raises(ValueError):
        load_or_create_server_secret(path)


def test_generators() -> None:
    codes = {generate_numeric_code(8) for _ in range(200)}
    assert all(len(c) == 8 and c.isdigit() for c in codes) and len(codes) > 190
    assert len(generate_numeric_code(6)) == 6
    with pytest.raises(ValueError):
        generate_numeric_code(4)
    token = generate_token()
    assert len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)
    password = generate_provisional_password()
    assert len(password) == 10 and not set(password) & set("0O1lI")


def test_normalisation() -> None:
    assert normalise_answer("  Éléphant   ROSE ") == "elephant rose"
    assert normalise_identifiant("  Lea.Martin ") == "lea.martin"


async def test_argon2_pool_threads_run_at_a_lower_priority() -> None:
    """A saturated pool must leave the event loop's thread a core (issue 15): its threads are
    niced, the loop's thread is not; the pool's size comes from ``threads``."""
    import os
    import sys
    import threading

    hasher = SecretHasher(Argon2Params(time_cost=1, memory_cost=1024, parallelism=1), threads=3)
    assert hasher.threads == 3

    def niceness() -> int | None:
        if not sys.platform.startswith("linux"):
            return None
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    loop = asyncio.get_running_loop()
    inside = await loop.run_in_executor(hasher._pool(), niceness)
    if inside is not None:
        assert inside == min(19, niceness() + ARGON2_NICE)  # type: ignore[operator]
        assert niceness() == os.getpriority(os.PRIO_PROCESS, 0)
    # the nice a caller gives (the bot passes the ARGON2_NICE setting)
    chosen = SecretHasher(Argon2Params(time_cost=1, memory_cost=1024, parallelism=1), nice=3)
    inside = await loop.run_in_executor(chosen._pool(), niceness)
    if inside is not None:
        assert inside == min(19, niceness() + 3)  # type: ignore[operator]
