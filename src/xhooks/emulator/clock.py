"""Time for the emulator: every CRC rule and retry schedule reads this clock, never `time` directly.

X's rules are stated in hours (a CRC every 30 minutes once a webhook has gone 24 hours without a success;
invalid after 28 hours of transient failures) and retries in minutes. A `Clock` lets the same code run on
wall time (`RealClock`), on accelerated wall time (`ScaledClock`, for a demo or a subprocess test) or on a
`ManualClock` that only moves when told to, so a test crosses 28 hours in milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "RealClock", "ScaledClock"]


class Clock(Protocol):
    """What the emulator needs from time: the current Unix time and a way to wait."""

    def now(self) -> float:
        """Seconds since the Unix epoch, on this clock."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


class RealClock:
    """Wall time."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class ScaledClock:
    """Wall time running `factor` times faster from the moment it was created (factor 60: a minute per second)."""

    def __init__(self, factor: float) -> None:
        if factor <= 0:
            raise ValueError("the time scale must be positive")
        self.factor = factor
        self._origin = time.time()
        self._start = time.monotonic()

    def now(self) -> float:
        return self._origin + (time.monotonic() - self._start) * self.factor

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0) / self.factor)


class ManualClock:
    """A clock that stands still until `advance` or `set` moves it; sleepers wake when it passes their time."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start
        self._moved = asyncio.Event()

    def now(self) -> float:
        return self._now

    def set(self, when: float) -> None:
        """Move to `when` (never backwards) and wake every sleeper so it can look again."""
        self._now = max(self._now, when)
        self._moved.set()
        self._moved = asyncio.Event()

    def advance(self, seconds: float) -> None:
        self.set(self._now + seconds)

    async def sleep(self, seconds: float) -> None:
        deadline = self._now + seconds
        while self._now < deadline:
            await self._moved.wait()
