"""Injectable time. Every CRC rule, retry schedule, lease, backoff and replay window in xhooks reads a `Clock`,
never `time` directly, so tests cross X's 24-hour and 28-hour rules in milliseconds.

| clock | `now()` | `sleep(s)` |
|---|---|---|
| `SystemClock` (production) | wall time | waits `s` seconds |
| `ScaledClock(f)` (demos, subprocesses) | wall time running `f` times faster | waits `s / f` seconds |
| `ManualClock` (schedules in tests) | stands still until `advance`/`set` | until the clock is moved past it |
| `SteppingClock` (one loop's backoff) | stands still until something sleeps | jumps forward by `s` at once |
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "ScaledClock", "SteppingClock", "SystemClock", "iso_utc"]


class Clock(Protocol):
    """What xhooks asks of time: the current Unix time, and a way to wait."""

    def now(self) -> float:
        """Seconds since the Unix epoch, on this clock."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


class SystemClock:
    """Wall time (the default everywhere)."""

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


class SteppingClock:
    """A clock for one loop under test: `sleep` moves time forward at once (and yields to the loop)."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        self._now += max(seconds, 0.0)
        await asyncio.sleep(0)


def iso_utc(at: float) -> str:
    """`at` (epoch seconds) as ISO 8601 UTC to the second, the form of times in logs, alerts and commands."""
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
