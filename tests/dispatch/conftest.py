from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import msgspec
import pytest

from xhooks.dispatch import Worker
from xhooks.store import Delivery, EventQuery, Store, StoredEvent
from xhooks.store.sqlite import SQLiteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    engine = SQLiteStore(tmp_path / "dispatch.db", durability="process")
    await engine.start()
    try:
        yield engine
    finally:
        await engine.close()


def dm_body(for_user: str, dm_id: str, sender: str | None = None, text: str = "hi") -> bytes:
    """An AAA delivery holding one DM to (or, with sender=for_user, from) `for_user`."""
    item = {
        "type": "message_create",
        "id": dm_id,
        "created_timestamp": "1516403560557",
        "message_create": {
            "target": {"recipient_id": for_user},
            "sender_id": sender or f"friend-of-{for_user}",
            "message_data": {"text": text},
        },
    }
    return msgspec.json.encode({"for_user_id": for_user, "direct_message_events": [item]})


async def record(store: Store, body: bytes, at: float = 1000.0, app: str = "/webhook") -> None:
    await store.record(Delivery.received(app, body, at))


async def wait_for_statuses(store: Store, condition: Callable[[list[str]], bool], timeout: float = 60.0) -> None:
    """Poll the events' statuses (newest first) until `condition` holds, bounded in time, yielding to the worker
    between checks."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition(await statuses(store)):
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


async def statuses(store: Store) -> list[str]:
    return [event.status for event in await store.events(EventQuery(limit=1000))]


async def only_event(store: Store) -> StoredEvent:
    (event,) = await store.events(EventQuery())
    return event


@contextlib.asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[Worker]:
    """Run `worker` for the block; stop it (finishing in-flight work) afterwards."""
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop()
        await asyncio.wait_for(task, 60)
