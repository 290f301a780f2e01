"""The one exception a start-up check raises to refuse starting: low in the layers, so that a
feature (the unsubscribe page, the health port, the webhook) can refuse without importing the
operations package above it."""

from __future__ import annotations

__all__ = ["StartupRefused"]


class StartupRefused(Exception):
    """The bot must not start; the message is one French sentence saying what to do."""
