"""The stream consumer against the emulator's `GET /2/activity/stream` over real sockets: what it stores, how it
reconnects, and what it does with X's refusals (issue 14)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
import uvicorn

from tests.dispatch.conftest import running as working
from tests.emulator.conftest import Running
from tests.stream.conftest import (
    Recorded,
    alerts,
    consumer_for,
    consuming,
    control,
    events,
    eventually,
    subscribe,
    until,
)
from xhooks.dispatch import Worker, XHooks
from xhooks.protocol.events import Event
from xhooks.receiver import AppConfig, Receiver
from xhooks.store import Store
from xhooks.store.sqlite import SQLiteStore
from xhooks.stream import StreamState

T = TypeVar("T")
call = asyncio.to_thread  # the emulator runs in a thread; the consumer on this loop must never be blocked


async def _true(value: bool) -> bool:
    return value


def async_eq(read: Callable[[], Awaitable[T]], holds: Callable[[T], bool]) -> Callable[[], Awaitable[bool]]:
    """A check for `eventually`: `holds(await read())`."""

    async def check() -> bool:
        return holds(await read())

    return check


async def test_a_stream_only_subscription_is_stored_and_handled(emulator: Running, store: Store) -> None:
    """No webhook at all: the subscription has no `webhook_id`, the stream carries its events (issue 14, done 3)."""
    await call(subscribe, emulator)
    recorded = Recorded()
    async with consuming(consumer_for(emulator, store, on_record=recorded)) as consumer:
        await until(consumer, lambda c: c.state is StreamState.STREAMING)
        uuids = [(await call(emulator.trigger, "profile.update.bio"))["routed"][0]["event_uuid"] for _ in range(3)]
        await recorded.wait(3)
    stored = await events(store)
    assert [event.key.rsplit(":", 1)[1] for event in stored] == uuids
    assert {(event.first_path, event.webhook_at, event.status) for event in stored} == {("stream", None, "pending")}
    delivery = await store.delivery(stored[0].delivery_id)
    assert delivery is not None and delivery.path == "stream" and delivery.body == recorded.lines[0][0].body
    handled: list[str] = []
    hooks = XHooks()

    @hooks.on("profile.update.bio")
    async def bio(event: Event, ctx: object) -> None:
        handled.append(event.event_type)

    async with working(Worker(store, hooks)):
        await eventually(async_eq(lambda: events(store), lambda es: [e.status for e in es] == ["handled"] * 3))
    assert handled == ["profile.update.bio"] * 3


async def test_an_event_on_the_webhook_and_the_stream_is_one_event_handled_once(
    emulator: Running, store: Store
) -> None:
    """The receiver and the consumer share one store on one loop, as `xhooks serve --stream` will."""
    receiver = Receiver(store, [AppConfig((emulator.app["consumer_secret"],), "/webhook")], heartbeat=None)
    server = uvicorn.Server(uvicorn.Config(receiver, host="127.0.0.1", port=0, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: _true(server.started))
        port = server.servers[0].sockets[0].getsockname()[1]
        webhook = await call(emulator.register, f"http://127.0.0.1:{port}/webhook")
        await call(subscribe, emulator, "profile.update.bio", webhook["id"])
        handled: list[str] = []
        hooks = XHooks()

        @hooks.on("profile.update.bio")
        async def bio(event: Event, ctx: object) -> None:
            handled.append(event.event_type)

        recorded = Recorded()
        async with consuming(consumer_for(emulator, store, on_record=recorded)) as consumer:
            await until(consumer, lambda c: c.state is StreamState.STREAMING)
            await call(emulator.trigger, "profile.update.bio")
            await recorded.wait(1)
            await call(emulator.settle)
            await eventually(async_eq(lambda: events(store), lambda es: es[0].webhook_at is not None))
            async with working(Worker(store, hooks)):
                await eventually(async_eq(lambda: events(store), lambda es: es[0].status == "handled"))
    finally:
        server.should_exit = True
        await serving
    (event,) = await events(store)
    assert event.duplicates == 1 and event.webhook_at is not None and event.stream_at is not None
    assert event.first_path in ("webhook", "stream")  # whichever committed first
    assert handled == ["profile.update.bio"]
    stats = await store.stats()
    assert (stats.deliveries, stats.events, stats.by_path) == (2, 1, {"webhook": 1, "stream": 1})


async def test_credits_exhausted_stops_the_stream_alerts_and_resumes_when_asked(
    emulator: Running, store: Store
) -> None:
    await call(subscribe, emulator)
    sink, recorded = alerts(), Recorded()
    async with consuming(consumer_for(emulator, store, alerts=sink, on_record=recorded)) as consumer:
        await until(consumer, lambda c: c.state is StreamState.STREAMING)
        await call(control, emulator, "credits", {"exhausted": True})
        await until(consumer, lambda c: c.state is StreamState.CREDITS_EXHAUSTED)
        assert "stream_credits_exhausted" in sink.active and "402" in sink.active["stream_credits_exhausted"].message
        connections = consumer.connections
        await call(emulator.trigger, "profile.update.bio")  # while the stream is off
        await call(control, emulator, "credits", {"exhausted": False})
        consumer.resume()
        await until(consumer, lambda c: c.state is StreamState.STREAMING and c.connections == connections + 1)
        await recorded.wait(1)  # the event of the pause came back by backfill
    assert "stream_credits_exhausted" not in sink.active
    assert len(await events(store)) == 1


async def test_too_many_connections_alerts_and_backs_off_without_reclaiming(emulator: Running, store: Store) -> None:
    await call(control, emulator, "ghosts", {"count": 2})
    sink = alerts()
    async with consuming(consumer_for(emulator, store, alerts=sink)) as consumer:
        await until(consumer, lambda c: "stream_too_many_connections" in sink.active)
        assert consumer.connections == 0 and consumer.backoff.failures >= 1
    ghosts = emulator.http.get("/2/connections", params={"status": "active"}, headers=emulator.bearer).json()["data"]
    assert len(ghosts) == 2  # nobody else's connections were touched


async def test_too_many_connections_reclaims_stale_connections_when_told_to(emulator: Running, store: Store) -> None:
    await call(control, emulator, "ghosts", {"count": 2})
    sink = alerts()
    async with consuming(consumer_for(emulator, store, alerts=sink, reclaim_connections=True)) as consumer:
        await until(consumer, lambda c: c.state is StreamState.STREAMING)
        assert "stream_too_many_connections" not in sink.active  # fired, then resolved by the connection
    reasons = [item["disconnect_reason"] for item in emulator.http.get("/_emulator/stream/connections").json()["data"]]
    assert reasons.count("KilledByClient") == 2
    assert [change.state for change in sink.history] == ["firing", "resolved"]


async def test_a_silent_connection_is_dropped_and_the_gap_backfilled(emulator: Running, store: Store) -> None:
    await call(subscribe, emulator)
    recorded = Recorded()
    async with consuming(consumer_for(emulator, store, on_record=recorded)) as consumer:
        await until(consumer, lambda c: c.state is StreamState.STREAMING)
        await call(control, emulator, "stall", {"stalled": True})
        uuid = (await call(emulator.trigger, "profile.update.bio"))["routed"][0]["event_uuid"]
        await until(consumer, lambda c: c.connections >= 2)  # silence noticed, a new connection asked backfill
        await call(control, emulator, "stall", {"stalled": False})
        await recorded.wait(1)
    (event,) = await events(store)
    assert event.key.endswith(uuid)


async def test_a_buffer_full_drop_loses_nothing(emulator: Running, store: Store) -> None:
    await call(subscribe, emulator)
    recorded = Recorded()
    async with consuming(consumer_for(emulator, store, on_record=recorded)) as consumer:
        await until(consumer, lambda c: c.state is StreamState.STREAMING)
        await call(control, emulator, "stall", {"stalled": True})
        for _ in range(2):
            await call(emulator.trigger, "profile.update.bio")
        await call(control, emulator, "disconnect", {"reason": "buffer_full"})
        await call(control, emulator, "stall", {"stalled": False})
        await recorded.wait(2)
        assert consumer.connections == 2
    assert len(await events(store)) == 2


async def test_an_operational_disconnect_notice_is_not_an_event(emulator: Running, store: Store) -> None:
    await call(subscribe, emulator)
    recorded = Recorded()
    async with consuming(consumer_for(emulator, store, on_record=recorded)) as consumer:
        await until(consumer, lambda c: c.state is StreamState.STREAMING)
        await call(control, emulator, "disconnect", {"reason": "operational"})
        await until(consumer, lambda c: c.connections == 2 and c.state is StreamState.STREAMING)
        await call(emulator.trigger, "profile.update.bio")
        await recorded.wait(1)
    assert [event.event_type for event in await events(store)] == ["profile.update.bio"]


@pytest.mark.parametrize(
    ("line", "status", "shape"),
    [
        pytest.param("not json at all", "quarantined", "malformed", id="not-json"),
        pytest.param("[1, 2]", "quarantined", "malformed", id="array"),
        pytest.param('"a string"', "quarantined", "malformed", id="string"),
        pytest.param('{"hello": "world"}', "pending", "unknown", id="unknown-object"),
        pytest.param(
            '{"data":{"event_uuid":"7","event_type":"brand.new.type","filter":{}}}',
            "pending",
            "activity",
            id="new-type",
        ),
    ],
)
async def test_a_bad_line_is_stored_and_the_stream_goes_on(
    emulator: Running, store: Store, line: str, status: str, shape: str
) -> None:
    await call(subscribe, emulator)
    recorded = Recorded()
    async with consuming(consumer_for(emulator, store, on_record=recorded)) as consumer:
        await until(consumer, lambda c: c.state is StreamState.STREAMING)
        await call(control, emulator, "raw", {"line": line})
        await call(emulator.trigger, "profile.update.bio")
        await recorded.wait(2)
        assert consumer.connections == 1
    bad, good = await events(store)
    delivery = await store.delivery(bad.delivery_id)
    assert delivery is not None and (bad.status, delivery.shape, delivery.body) == (status, shape, line.encode())
    assert good.event_type == "profile.update.bio"


async def test_a_restart_resumes_from_the_stored_span_with_backfill(emulator: Running, store: Store) -> None:
    await call(subscribe, emulator)
    first = Recorded()
    async with consuming(consumer_for(emulator, store, on_record=first)) as consumer:
        await until(consumer, lambda c: c.state is StreamState.STREAMING)
        await call(emulator.trigger, "profile.update.bio")
        await first.wait(1)
    spans = await store.spans("stream:/webhook", 0.0)
    assert spans and spans[-1].end >= first.lines[0][0].received_at
    await call(emulator.trigger, "profile.update.bio")  # while no consumer runs
    again = Recorded()
    async with consuming(consumer_for(emulator, store, on_record=again)):
        await again.wait(2)  # both came back by backfill: the first is a duplicate, the second is new
    assert [intake.new_events for _, intake in again.lines] == [0, 1]
    assert len(await events(store)) == 2


async def test_a_gap_longer_than_the_backfill_goes_to_recovery_or_alerts(emulator: Running, store: Store) -> None:
    now = time.time()
    await store.mark("stream:/webhook", now - 700, now - 600, 60.0)
    asked: list[tuple[float, float]] = []

    async def recover(start: float, end: float) -> bool:
        asked.append((start, end))
        return True

    sink = alerts()
    async with consuming(consumer_for(emulator, store, recover=recover, alerts=sink)) as consumer:
        await until(consumer, lambda c: c.state is StreamState.STREAMING)
    ((start, end),) = asked
    assert start == pytest.approx(now - 610, abs=1) and end == pytest.approx(now - 300, abs=30)
    assert "stream_gap" not in sink.active
    await store.mark("stream:/webhook", now + 3000, now + 3000, 60.0)  # a later span, far in the consumer's past
    async with consuming(consumer_for(emulator, store, alerts=sink)) as consumer:
        await until(consumer, lambda c: c.state is StreamState.STREAMING)
    assert "stream_gap" not in sink.active  # the newest span is in the future: no gap


async def test_without_recovery_a_long_gap_is_an_alert_naming_the_window(emulator: Running, store: Store) -> None:
    now = time.time()
    await store.mark("stream:/webhook", now - 700, now - 600, 60.0)
    sink = alerts()
    async with consuming(consumer_for(emulator, store, alerts=sink)) as consumer:
        await until(consumer, lambda c: c.state is StreamState.STREAMING)
    assert "xhooks recover --since" in sink.active["stream_gap"].message


async def test_a_store_that_cannot_commit_stops_the_reading_and_backfill_refills_it(
    emulator: Running, store: Store
) -> None:
    """Another process holds the database's write lock: commits fail (`database is locked`), the consumer stops
    reading, waits for the store, and asks X for what it could not commit."""
    assert isinstance(store, SQLiteStore)
    await call(subscribe, emulator)
    sink, recorded = alerts(), Recorded()
    consumer = consumer_for(emulator, store, alerts=sink, on_record=recorded, store_retry=0.05)
    async with consuming(consumer):
        await until(consumer, lambda c: c.state is StreamState.STREAMING)
        with contextlib.closing(sqlite3.connect(store.path, isolation_level=None)) as other:
            other.execute("BEGIN EXCLUSIVE")
            uuid = (await call(emulator.trigger, "profile.update.bio"))["routed"][0]["event_uuid"]
            await until(consumer, lambda c: c.state is StreamState.STORE_DOWN)
            assert "stream_down" in sink.active
            other.execute("ROLLBACK")
        await until(consumer, lambda c: c.connections == 2 and c.state is StreamState.STREAMING)
        await recorded.wait(1)
    (event,) = await events(store)
    assert event.key.endswith(uuid) and "stream_down" not in sink.active
