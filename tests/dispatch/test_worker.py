"""Workers over a real SQLite store: retries on a manual clock, dead letters, redispatch, order, shutdown."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable

import pytest

from tests.dispatch.conftest import dm_body, only_event, record, running, statuses, wait_for_statuses
from xhooks.clock import ManualClock, SteppingClock
from xhooks.dispatch import Context, RetryPolicy, Worker, XHooks
from xhooks.protocol.events import DirectMessage, Event, UnknownEvent
from xhooks.store import EventQuery, Store


async def test_failing_handler_retries_with_growing_delays_then_dead_then_redispatch_succeeds(store: Store) -> None:
    clock = SteppingClock()
    calls: list[tuple[float, int]] = []
    broken = True
    hooks = XHooks()

    @hooks.on(DirectMessage)
    async def flaky(event: DirectMessage, ctx: Context) -> None:
        calls.append((clock.now(), ctx.attempt))
        if broken:
            raise RuntimeError("the downstream API is down")

    await record(store, dm_body("7", "100"))
    policy = RetryPolicy(max_attempts=4, base=1.0, factor=2.0, jitter=0.5)
    worker = Worker(store, hooks, clock=clock, retry=policy, poll_interval=0.25, rng=random.Random(1))
    async with running(worker):
        await wait_for_statuses(store, lambda found: found == ["dead"])
        dead = await only_event(store)
        assert [attempt for _, attempt in calls] == [1, 2, 3, 4]
        gaps = [later - earlier for (earlier, _), (later, _) in zip(calls, calls[1:], strict=False)]
        assert all(gap >= policy.base * policy.factor**n for n, gap in enumerate(gaps))
        assert gaps == sorted(gaps) and len(set(gaps)) == 3
        assert dead.attempts == 4
        assert dead.last_error is not None
        assert "RuntimeError: the downstream API is down" in dead.last_error and "Traceback" in dead.last_error

        broken = False
        assert await store.redispatch(EventQuery(status="dead"), clock.now()) == 1
        await wait_for_statuses(store, lambda found: found == ["handled"])
    assert len(calls) == 5 and calls[-1][1] == 1
    assert (await only_event(store)).last_error is None


async def test_duplicate_deliveries_call_the_handler_once(store: Store) -> None:
    seen: list[str] = []
    hooks = XHooks()
    hooks.on_any(lambda event, ctx: seen.append(ctx.event_key))
    for at in (1.0, 2.0, 3.0):
        await record(store, dm_body("7", "100"), at=at)
    worker = Worker(store, hooks)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert len(seen) == 1 and await statuses(store) == ["handled"]


async def test_handler_gets_the_typed_event_and_its_context(store: Store) -> None:
    got: list[tuple[Event, Context, str]] = []
    hooks = XHooks()

    @hooks.on("direct_message_events")
    def sync_handler(event: Event, ctx: Context) -> None:
        got.append((event, ctx, threading.current_thread().name))

    await record(store, dm_body("7", "100", text="hello"), at=1234.5, app="shop")
    await Worker(store, hooks, paths={"shop": "/hooks/shop"}).run_once()
    ((event, ctx, thread),) = got
    assert isinstance(event, DirectMessage) and event.text == "hello"
    assert (ctx.for_user_id, ctx.app, ctx.path, ctx.attempt, ctx.received_at) == ("7", "shop", "/hooks/shop", 1, 1234.5)
    assert ctx.delivery_id == (await only_event(store)).delivery_id and ctx.event_id == (await only_event(store)).id
    assert thread != threading.main_thread().name


async def test_handlers_match_by_class_type_prefix_and_catch_all(store: Store) -> None:
    hits: list[str] = []
    hooks = XHooks()
    hooks.on(DirectMessage)(lambda event, ctx: hits.append("class"))
    hooks.on("direct_message_events")(lambda event, ctx: hits.append("type"))
    hooks.on("post")(lambda event, ctx: hits.append("wrong-prefix"))
    hooks.on_any(lambda event, ctx: hits.append("any"))
    await record(store, dm_body("7", "1"))
    await record(store, b'{"data":{"event_uuid":"5","event_type":"post.create","payload":{"id":"5"}}}')
    await Worker(store, hooks, concurrency=1).run_once()
    await Worker(store, hooks, concurrency=1).run_once()
    assert hits == ["class", "type", "any", "wrong-prefix", "any"]


async def test_unknown_shape_reaches_the_catch_all(store: Store) -> None:
    got: list[Event] = []
    hooks = XHooks()
    hooks.on(DirectMessage)(lambda event, ctx: pytest.fail("typed handler got an unknown event"))
    hooks.on_any(lambda event, ctx: got.append(event))
    await record(store, b'{"brand_new_product":{"x":[1,2]}}')
    await Worker(store, hooks).run_once()
    assert isinstance(got[0], UnknownEvent) and got[0].raw == {"brand_new_product": {"x": [1, 2]}}
    assert await statuses(store) == ["handled"]


async def test_own_echoed_actions_are_skipped_when_asked_and_marked_ignored(store: Store) -> None:
    """The echo of the bot's own DM is `ignored`, not `handled`: nothing ran for it (issue 18)."""
    answered: list[str | None] = []
    hooks = XHooks(ignore_own_actions=True)
    hooks.on(DirectMessage)(lambda event, ctx: answered.append(event.sender_id))
    await record(store, dm_body("7", "1", sender="42"))
    await record(store, dm_body("7", "2", sender="7"))  # the bot's own reply, echoed back
    worker = Worker(store, hooks)
    while await worker.run_once():
        pass
    assert answered == ["42"]
    assert await statuses(store) == ["ignored", "handled"]  # newest first


async def test_per_user_order_holds_with_interleaved_users_and_a_slow_handler(store: Store) -> None:
    log: list[tuple[str, str, str]] = []
    running_now: set[str] = set()
    overlaps: list[set[str]] = []
    side_by_side = asyncio.Event()
    hooks = XHooks()

    @hooks.on(DirectMessage)
    async def handler(event: DirectMessage, ctx: Context) -> None:
        user = ctx.for_user_id or ""
        assert user not in running_now, "two events of one user ran at once"
        running_now.add(user)
        overlaps.append(set(running_now))
        if len(running_now) > 1:
            side_by_side.set()
        log.append((user, event.id or "", "start"))
        if user == "slow":  # held until another user's event runs beside it (60 s: a hang guard)
            await asyncio.wait_for(side_by_side.wait(), 60)
        await asyncio.sleep(0.05 if user == "slow" else 0)
        running_now.discard(user)

    for n in range(5):
        for user in ("slow", "fast", "other"):
            await record(store, dm_body(user, f"{user}-{n}"), at=1000.0 + n)
    async with running(Worker(store, hooks, concurrency=4, poll_interval=0.01)):
        await wait_for_statuses(store, lambda found: found.count("handled") == 15)
    for user in ("slow", "fast", "other"):
        assert [dm for who, dm, _ in log if who == user] == [f"{user}-{n}" for n in range(5)]
    assert max(len(users) for users in overlaps) >= 2  # different users did run side by side


async def test_stop_lets_in_flight_handlers_finish(store: Store) -> None:
    release = asyncio.Event()
    hooks = XHooks()

    @hooks.on_any
    async def slow(event: Event, ctx: Context) -> None:
        await release.wait()

    await record(store, dm_body("7", "1"))
    worker = Worker(store, hooks, grace=5.0)
    task = asyncio.create_task(worker.run())
    await wait_for_statuses(store, lambda found: found == ["claimed"])
    worker.stop()
    await asyncio.sleep(0.02)
    release.set()
    await asyncio.wait_for(task, 60)
    assert await statuses(store) == ["handled"]


async def test_stop_releases_handlers_that_outlive_the_grace(store: Store) -> None:
    hooks = XHooks()
    hooks.on_any(_forever)
    await record(store, dm_body("7", "1"))
    worker = Worker(store, hooks, grace=0.05)
    task = asyncio.create_task(worker.run())
    await wait_for_statuses(store, lambda found: found == ["claimed"])
    worker.stop()
    await asyncio.wait_for(task, 60)
    event = await only_event(store)
    assert (event.status, event.attempts) == ("pending", 0)


async def _forever(event: Event, ctx: Context) -> None:
    await asyncio.Event().wait()


async def test_expired_lease_is_taken_by_another_worker(store: Store) -> None:
    clock = SteppingClock()
    handled_by: list[str] = []
    hooks = XHooks()
    hooks.on_any(lambda event, ctx: handled_by.append("second"))
    await record(store, dm_body("7", "1"))
    assert len(await store.claim("dead-worker", 10, 30.0, clock.now())) == 1  # then it "dies"
    second = Worker(store, hooks, clock=clock, lease=30.0)
    assert await second.run_once() == 0
    clock.advance(31.0)
    assert await second.run_once() == 1
    assert handled_by == ["second"] and (await only_event(store)).attempts == 2


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: RetryPolicy(max_attempts=0), id="no-attempts"),
        pytest.param(lambda: RetryPolicy(jitter=1.0), id="jitter"),
        pytest.param(lambda: Worker(None, XHooks(), concurrency=0), id="concurrency"),  # type: ignore[arg-type]
    ],
)
def test_bad_settings_are_refused(make: Callable[[], object]) -> None:
    from xhooks.errors import ConfigError

    with pytest.raises(ConfigError):
        make()


def test_retry_delays_grow_and_stop_at_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=5, base=2.0, factor=3.0, max_delay=30.0, jitter=0.0)
    rng = random.Random(0)
    assert [policy.delay(n, rng) for n in range(1, 6)] == [2.0, 6.0, 18.0, 30.0, None]


async def test_an_idle_worker_is_woken_by_a_record_in_the_same_process(store: Store) -> None:
    """No polling between the receiver and the worker of one process: the commit itself wakes the worker (issue 13).
    Its clock never moves and its poll interval is an hour, so only the store's wake-up can bring the event."""
    idle = asyncio.Event()
    wait_for_events = store.wait_for_events

    async def observed(timeout: float) -> bool:
        idle.set()
        return await wait_for_events(timeout)

    store.wait_for_events = observed  # type: ignore[method-assign]
    handled = asyncio.Event()
    hooks = XHooks()
    hooks.on_any(lambda event, ctx: handled.set())
    async with running(Worker(store, hooks, clock=ManualClock(), poll_interval=3600.0)):
        await asyncio.wait_for(idle.wait(), 10)  # claimed nothing, now blocked on the store
        await record(store, dm_body("7", "1"))
        await asyncio.wait_for(handled.wait(), 10)
    assert await statuses(store) == ["handled"]
