"""Fixtures for the stream consumer: the emulator on 127.0.0.1 (a manual clock, quick keep-alives), a SQLite store,
and a consumer running on the test's event loop. They meet only over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.conftest import Running, start
from xhooks.clock import ManualClock
from xhooks.store import Delivery, EventQuery, Intake, Store, StoredEvent
from xhooks.store.sqlite import SQLiteStore
from xhooks.stream import Backoff, StreamConsumer
from xhooks.watch import Alerts

KEEP_ALIVE = 0.05
"""The emulator's keep-alive in these tests (seconds); the consumer calls a connection silent after 10 of them."""


@pytest.fixture
def emulator() -> Iterator[Running]:
    for running in start():
        running.emulator.activity_streams.keep_alive = KEEP_ALIVE
        yield running


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    engine = SQLiteStore(tmp_path / "stream.db")
    await engine.start()
    try:
        yield engine
    finally:
        await engine.close()


class Recorded:
    """What the consumer committed, as its `on_record` saw it; `wait` blocks until `count` lines are in."""

    def __init__(self) -> None:
        self.lines: list[tuple[Delivery, Intake]] = []
        self._changed = asyncio.Event()

    def __call__(self, delivery: Delivery, intake: Intake) -> None:
        self.lines.append((delivery, intake))
        self._changed.set()

    async def wait(self, count: int) -> None:
        async with asyncio.timeout(60):  # a hang guard
            while len(self.lines) < count:
                self._changed.clear()
                await self._changed.wait()


def subscribe(running: Running, event_type: str = "profile.update.bio", webhook_id: str | None = None) -> None:
    body: dict[str, Any] = {"event_type": event_type, "filter": {"user_id": running.dev["id"]}}
    if webhook_id is not None:
        body["webhook_id"] = webhook_id
    response = running.http.post("/2/activity/subscriptions", json=body, headers=running.bearer)
    assert response.status_code == 200, response.text


def control(running: Running, path: str, body: dict[str, Any]) -> None:
    response = running.http.post(f"/_emulator/stream/{path}", json=body)
    assert response.status_code in (200, 201), response.text


async def events(store: Store) -> list[StoredEvent]:
    return sorted(await store.events(EventQuery(limit=1000)), key=lambda event: event.id)


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll `check` on the running loop (yielding to the consumer and workers between checks); a hang guard of
    60 s, never a timing."""
    async with asyncio.timeout(60):
        while not await check():
            await asyncio.sleep(0.005)


def consumer_for(running: Running, store: Store, **options: Any) -> StreamConsumer:
    options.setdefault("backoff", Backoff(network_step=0.01, http_first=0.01, rate_first=0.01, jitter=0.0))
    options.setdefault("keep_alive", KEEP_ALIVE)
    options.setdefault("silence_factor", 10.0)
    return StreamConsumer(
        store, app="/webhook", bearer_token=running.app["bearer_token"], api_base=running.url, **options
    )


@contextlib.asynccontextmanager
async def consuming(consumer: StreamConsumer) -> AsyncIterator[StreamConsumer]:
    """Run `consumer` for the block; stop it (committing what it read) afterwards."""
    task = asyncio.create_task(consumer.run())
    try:
        yield consumer
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 60)


async def until(consumer: StreamConsumer, predicate: Callable[[StreamConsumer], bool]) -> None:
    await asyncio.wait_for(consumer.wait_for(predicate), 60)


def manual(running: Running) -> ManualClock:
    clock = running.emulator.clock
    assert isinstance(clock, ManualClock)
    return clock


def alerts() -> Alerts:
    return Alerts(ManualClock())
