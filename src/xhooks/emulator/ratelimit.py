"""X's per-app rate limits: fixed 15-minute windows per endpoint, reported in `x-rate-limit-*` headers."""

from __future__ import annotations

import math

from xhooks.clock import Clock
from xhooks.emulator.errors import rate_limited

__all__ = ["WINDOW", "RateLimiter"]

WINDOW = 15 * 60.0


class RateLimiter:
    def __init__(self, clock: Clock, limits: dict[str, int]) -> None:
        self.clock = clock
        self.limits = limits
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}

    def take(self, app_id: str, bucket: str) -> dict[str, str]:
        """Count one request; return the headers to send, or raise X's 429 when the window is spent."""
        limit = self.limits.get(bucket)
        if limit is None:
            return {}
        now = self.clock.now()
        reset, remaining = self._windows.get((app_id, bucket), (0.0, limit))
        if now >= reset:
            reset, remaining = now + WINDOW, limit
        headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-reset": str(math.ceil(reset))}
        if remaining <= 0:
            raise rate_limited({**headers, "x-rate-limit-remaining": "0"})
        self._windows[(app_id, bucket)] = (reset, remaining - 1)
        return {**headers, "x-rate-limit-remaining": str(remaining - 1)}
