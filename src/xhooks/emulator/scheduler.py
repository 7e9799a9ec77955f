"""A timer queue on an injectable clock: the emulator's only source of deferred work.

Delivery attempts, retries, scheduled CRC checks and replay jobs are all jobs with a due time. On a real or
scaled clock the `run` loop starts each job as a task when it falls due. On a `ManualClock`, `advance`
walks time forward job by job and waits for each job to finish, so a test (or the control API) that
advances the clock gets back only once everything due in that span has happened.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from xhooks.clock import Clock, ManualClock

__all__ = ["Job", "Scheduler"]

logger = logging.getLogger("xhooks.emulator")

Job = Callable[[], Awaitable[None]]


@dataclass(order=True)
class _Entry:
    when: float
    seq: int
    job: Job = field(compare=False)


class Scheduler:
    """Run jobs at clock times; `settle` waits until nothing due is left."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._inflight: set[asyncio.Task[None]] = set()
        self._wakeup = asyncio.Event()
        self.errors: list[BaseException] = []

    def at(self, when: float, job: Job) -> None:
        heapq.heappush(self._heap, _Entry(when, next(self._seq), job))
        self._wakeup.set()

    def after(self, seconds: float, job: Job) -> None:
        self.at(self.clock.now() + seconds, job)

    @property
    def pending(self) -> int:
        return len(self._heap) + len(self._inflight)

    def _start_due(self) -> None:
        now = self.clock.now()
        while self._heap and self._heap[0].when <= now:
            task = asyncio.get_running_loop().create_task(self._guard(heapq.heappop(self._heap).job))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _guard(self, job: Job) -> None:
        try:
            await job()
        except Exception as exc:  # a broken job must not stop the emulator; it is logged and kept
            logger.exception("emulator job failed")
            self.errors.append(exc)

    async def settle(self, limit: int = 100_000) -> None:
        """Start everything due now and wait until no due job is left running (bounded by `limit` rounds)."""
        for _ in range(limit):
            self._start_due()
            if not self._inflight:
                return
            await asyncio.gather(*list(self._inflight))
        raise RuntimeError("the scheduler did not settle; a job keeps scheduling itself at the same instant")

    async def advance(self, seconds: float) -> None:
        """Move a `ManualClock` forward, running every job due on the way, in order, at its own time."""
        clock = self.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("only a manual clock can be advanced")
        target = clock.now() + seconds
        await self.settle()
        while self._heap and self._heap[0].when <= target:
            clock.set(self._heap[0].when)
            await self.settle()
        clock.set(target)
        await self.settle()

    async def run(self) -> None:
        """Start jobs as they fall due, until cancelled."""
        while True:
            self._start_due()
            self._wakeup = asyncio.Event()
            delay = self._heap[0].when - self.clock.now() if self._heap else 3600.0
            sleeper = asyncio.ensure_future(self.clock.sleep(delay))
            waker = asyncio.ensure_future(self._wakeup.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()
