"""X's rate limits: fixed 15-minute windows per endpoint, reported in `x-rate-limit-*` headers.

X counts app-only requests per app and user-context requests per user, each against its own figure
(https://docs.x.com/x-api/fundamentals/rate-limits): a call with a user's token draws on the per-user figure
of the endpoint when X publishes one, and on the app's otherwise.
"""

from __future__ import annotations

import math

from xhooks.clock import Clock
from xhooks.emulator.auth import Kind, Principal
from xhooks.emulator.errors import rate_limited

__all__ = ["WINDOW", "RateLimiter"]

WINDOW = 15 * 60.0


class RateLimiter:
    def __init__(self, clock: Clock, limits: dict[str, int], user_limits: dict[str, int]) -> None:
        self.clock = clock
        self.limits = limits
        self.user_limits = user_limits
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}

    def take(self, who: Principal, bucket: str) -> dict[str, str]:
        """Count one request; return the headers to send, or raise X's 429 when the window is spent."""
        if who.kind is not Kind.APP and who.user is not None and bucket in self.user_limits:
            key, limit = f"user:{who.user.id}", self.user_limits[bucket]
        elif bucket in self.limits:
            key, limit = f"app:{who.app.id}", self.limits[bucket]
        else:
            return {}
        now = self.clock.now()
        reset, remaining = self._windows.get((key, bucket), (0.0, limit))
        if now >= reset:
            reset, remaining = now + WINDOW, limit
        headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-reset": str(math.ceil(reset))}
        if remaining <= 0:
            raise rate_limited({**headers, "x-rate-limit-remaining": "0"})
        self._windows[(key, bucket)] = (reset, remaining - 1)
        return {**headers, "x-rate-limit-remaining": str(remaining - 1)}
