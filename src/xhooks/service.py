"""The long-running parts of one process: tasks on the receiver's event loop, sharing its store.

`xhooks serve` is one process with one store, one event loop and one writer. Everything in it that runs for
as long as the process does (the dispatch worker, the watcher; later the X Activity stream consumer and the
relays) is a `Service`: the receiver's lifespan starts each one as a task once the store has started, and at
shutdown asks each one to stop and waits for it before it closes the store, so a worker can still finish its
handlers and release its leases.

```python
class Pruner:
    def __init__(self, store: Store) -> None:
        self.store, self._stopping = store, asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            ...  # one round of work on self.store
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(3600):
                    await self._stopping.wait()

    def stop(self) -> None:
        self._stopping.set()

receiver = Receiver(store, apps, services=[Pruner(store)])
```
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

__all__ = ["Service", "Services"]

logger = logging.getLogger("xhooks.serve")


class Service(Protocol):
    """A long-running part of a process, run by the receiver's lifespan on its event loop."""

    async def run(self) -> None:
        """Work until `stop()` is called, then return (a worker first finishes or releases what it holds)."""
        ...

    def stop(self) -> None:
        """Ask `run` to return soon; called once, from the event loop, possibly before `run` has begun."""
        ...


class Services:
    """Services run as tasks of the running loop: `start` them all, later `stop` them all and wait.

    A service that fails while the process runs is logged with its traceback (it must not stop silently);
    the others go on.
    """

    def __init__(self, services: Sequence[Service] = ()) -> None:
        self.services = list(services)
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start every service as a task of the running loop."""
        loop = asyncio.get_running_loop()
        for service in self.services:
            task = loop.create_task(service.run(), name=f"xhooks-{type(service).__name__}")
            task.add_done_callback(_report)
            self._tasks.append(task)

    async def stop(self) -> None:
        """Ask every started service to stop and wait until each has returned."""
        tasks, self._tasks = self._tasks, []
        for service in self.services[: len(tasks)]:
            service.stop()
        await asyncio.gather(*tasks, return_exceptions=True)  # failures were reported as they happened


def _report(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("%s stopped: %s", task.get_name(), error, exc_info=error)
