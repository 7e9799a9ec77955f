"""The receiver's lifespan runs its services on its loop and store: started after the store, stopped (and
awaited) before it closes, a failing one logged while the others go on."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from xhooks.receiver import AppConfig, Receiver
from xhooks.receiver.adapters._bridge import LifespanDriver
from xhooks.store.sqlite import SQLiteStore


class Recorder:
    """A service that writes to the store when it starts and once more after `stop()`, as a worker releasing
    its leases does."""

    def __init__(self, store: SQLiteStore, name: str) -> None:
        self.store, self.name = store, name
        self.running = asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        await self.store.mark(f"{self.name}:run", 1.0, 1.0, 10.0)
        self.running.set()
        await self._stopping.wait()
        await self.store.mark(f"{self.name}:stopped", 2.0, 2.0, 10.0)

    def stop(self) -> None:
        self._stopping.set()


class Failing:
    async def run(self) -> None:
        raise RuntimeError("out of luck")

    def stop(self) -> None:
        pass


async def test_services_run_between_the_stores_start_and_close(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "x.db")
    first, second = Recorder(store, "first"), Recorder(store, "second")
    lifespan = LifespanDriver(Receiver(store, [AppConfig(("s",))], heartbeat=None, services=[first, second]))
    await lifespan.startup()
    await asyncio.wait_for(asyncio.gather(first.running.wait(), second.running.wait()), 60)  # a hang guard
    await lifespan.shutdown()
    kinds = ["first:run", "first:stopped", "second:run", "second:stopped"]
    assert [[(span.start, span.end) for span in await store.spans(kind, 0.0)] for kind in kinds] == [
        [(1.0, 1.0)],
        [(2.0, 2.0)],
        [(1.0, 1.0)],
        [(2.0, 2.0)],
    ]


async def test_a_failing_service_is_logged_and_the_others_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLiteStore(tmp_path / "x.db")
    healthy = Recorder(store, "healthy")
    lifespan = LifespanDriver(Receiver(store, [AppConfig(("s",))], heartbeat=None, services=[Failing(), healthy]))
    with caplog.at_level(logging.ERROR, logger="xhooks.serve"):
        await lifespan.startup()
        await asyncio.wait_for(healthy.running.wait(), 60)
        await lifespan.shutdown()
    assert [record.getMessage() for record in caplog.records] == ["xhooks-Failing stopped: out of luck"]
    assert [span.end for span in await store.spans("healthy:stopped", 0.0)] == [2.0]
