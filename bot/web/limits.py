"""In-memory request limits of the web channel: a fixed window per key (an IP, a
conversation). A flood costs a dictionary entry per key and window, forgotten at the next."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class WindowLimiter:
    """At most ``limit`` hits per key per ``window`` seconds."""

    limit: int
    window: float = 60.0
    monotonic: Callable[[], float] = time.monotonic
    _counts: dict[str, int] = field(default_factory=dict, init=False)
    _started: float = field(default=0.0, init=False)

    def allow(self, key: str) -> bool:
        """Count one hit for ``key``; False once it is over the limit in this window."""
        now = self.monotonic()
        if now - self._started >= self.window:
            self._counts.clear()
            self._started = now
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return count <= self.limit

    def retry_after(self) -> int:
        """Seconds until the window ends (for ``Retry-After``)."""
        return max(1, int(self.window - (self.monotonic() - self._started)) + 1)
