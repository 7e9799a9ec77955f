"""Waking the idle workers of this process the moment a commit may have made events due.

A worker that finds nothing to claim waits in `Store.wait_for_events`. The store wakes it right after any commit
that may make an event due (see the contract), so a delivery recorded by the receiver of the same process is
claimed at once, without polling. Each event loop has its own `asyncio.Event` (a store is normally used by one
loop; a waiter on another loop is woken through `call_soon_threadsafe`). A wake-up that finds nobody waiting is
kept until the next wait, so a commit that lands between an empty claim and the wait is not missed.

A retry scheduled for later is remembered by when it falls due on the event loop's clock: a wait never outlasts
the earliest one, and ends as soon as one is due.
"""

from __future__ import annotations

import asyncio
import heapq
import weakref

__all__ = ["Wakeup"]


class Wakeup:
    def __init__(self) -> None:
        self._events: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Event] = weakref.WeakKeyDictionary()
        self._retries: list[float] = []
        """When known retries fall due, on the loop clock (`loop.time()`: monotonic, the same for every loop)."""

    def wake(self) -> None:
        """Wake every waiter, or the next one to wait on this loop: events may be due now."""
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and running not in self._events:
            self._events[running] = asyncio.Event()
        for loop, event in list(self._events.items()):
            if loop is running:
                event.set()
            elif not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    def failed(self, retry_at: float | None, now: float) -> None:
        """An attempt failed at `now` (on the worker's clock): the next event of its user may be due at once, and
        its retry falls due `retry_at - now` seconds from now (None: dead, no retry)."""
        if retry_at is not None:
            heapq.heappush(self._retries, asyncio.get_running_loop().time() + max(retry_at - now, 0.0))
        self.wake()

    async def wait(self, timeout: float) -> bool:
        """Wait for a wake-up or a due retry, at most `timeout` seconds; True unless the timeout ran out."""
        loop = asyncio.get_running_loop()
        event = self._events.setdefault(loop, asyncio.Event())
        if self._retry_due(loop.time()):
            return True
        if self._retries:
            timeout = min(timeout, self._retries[0] - loop.time())
        if not event.is_set():
            try:
                async with asyncio.timeout(timeout):
                    await event.wait()
            except TimeoutError:
                return self._retry_due(loop.time())
        event.clear()
        return True

    def _retry_due(self, now: float) -> bool:
        due = False
        while self._retries and self._retries[0] <= now:
            heapq.heappop(self._retries)
            due = True
        return due
