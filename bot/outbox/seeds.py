"""Secrets of a code e-mail derived from a random seed with the server key.

The outbox keeps the seed until the e-mail leaves, never the code or the token: both are
HMAC-SHA-256 of the seed under the server key (kept outside the database), computed once when
the session stores their keyed hashes and again when the worker writes the e-mail."""

from __future__ import annotations

import base64
import secrets

from bot.security import KeyedHasher


def new_seed() -> str:
    """A random seed (256 bits)."""
    return secrets.token_urlsafe(32)


def code_from_seed(keyed: KeyedHasher, seed: str, length: int) -> str:
    """The numeric code of ``length`` digits (leading zeros allowed) behind ``seed``."""
    value = int(keyed.digest(seed, purpose="outbox-code"), 16)
    return str(value % 10**length).zfill(length)


def token_from_seed(keyed: KeyedHasher, seed: str) -> str:
    """The link token (URL-safe, 43 characters, a valid /start payload) behind ``seed``."""
    raw = bytes.fromhex(keyed.digest(seed, purpose="outbox-token"))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
