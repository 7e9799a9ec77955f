"""Time for the watcher: every interval, backoff and X replay rule reads this clock, never `time` directly.

The emulator's clocks (`xhooks.emulator.RealClock`, `ScaledClock`) have the same two methods, so a test runs
the watcher and the emulator on one accelerated clock and crosses X's ten-minute replay delay in a blink.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch, on this clock."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


class SystemClock:
    """Wall time."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))
