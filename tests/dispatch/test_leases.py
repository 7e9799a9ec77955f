"""Leases outlive slow handlers: a running handler's lease is renewed, so another worker never runs it twice
(issue 15, "done means" 3)."""

from __future__ import annotations

import asyncio

from tests.dispatch.conftest import dm_body, only_event, record
from xhooks.clock import ManualClock
from xhooks.dispatch import Context, Worker, XHooks
from xhooks.protocol.events import Event
from xhooks.store import Store

LEASE = 10.0


async def _until(condition: object, what: str) -> None:
    async def wait() -> None:
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0)

    try:
        await asyncio.wait_for(wait(), 60)  # a hang guard: the clock is moved by hand
    except TimeoutError:
        raise AssertionError(f"never: {what}") from None


async def test_a_handler_three_times_slower_than_the_lease_is_called_once_with_two_workers(store: Store) -> None:
    clock = ManualClock()
    release = asyncio.Event()
    calls: list[str] = []
    hooks = XHooks()

    @hooks.on_any
    async def slow(event: Event, ctx: Context) -> None:
        calls.append(ctx.event_key)
        await release.wait()

    await record(store, dm_body("7", "1"))
    workers = [Worker(store, hooks, clock=clock, lease=LEASE, poll_interval=1.0, name=n) for n in ("a", "b")]
    tasks = [asyncio.ensure_future(worker.run()) for worker in workers]
    try:
        await _until(lambda: calls, "a worker runs the handler")
        start = clock.now()
        for _ in range(int(3 * LEASE) + 2):  # a second at a time, past three leases
            clock.advance(1.0)
            now = clock.now()
            # every renewal due by now has been committed, so the next tick meets renewed leases
            renewed = lambda at=now: all((w.next_renewal or 0) > at for w in workers)  # noqa: E731
            await _until(renewed, f"renewals by {now - start}")
            await asyncio.sleep(0)
        assert len(calls) == 1
        release.set()
        await _until(lambda: not any(w._in_flight for w in workers), "the handler finishes")
    finally:
        for worker in workers:
            worker.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
    event = await only_event(store)
    assert (event.status, event.attempts, len(calls)) == ("handled", 1, 1)


async def test_without_renewal_the_other_worker_would_have_taken_it(store: Store) -> None:
    """The control: the same lease, no renewal (a worker that died), and the event is claimed again after it."""
    clock = ManualClock()
    await record(store, dm_body("7", "1"))
    assert len(await store.claim("a", 1, LEASE, clock.now())) == 1
    assert await store.claim("b", 1, LEASE, clock.now() + LEASE - 1) == []
    (again,) = await store.claim("b", 1, LEASE, clock.now() + LEASE)
    assert again.attempt == 2
