"""Workers: claim stored events, run their handlers, and record the outcome, at least once.

A worker claims events from the store with a lease (`Store.claim`), runs each one's handlers and marks it
handled (`Store.complete`); an event the registry ignores (`XHooks.ignores`: the bot's own action) runs no
handler and is marked `ignored`. A handler that raises makes the attempt fail (`Store.fail`): the event is
retried after an exponential delay with jitter, and dead-lettered with the error and traceback once
`RetryPolicy.max_attempts` attempts have failed. A worker that dies holds its leases until they expire,
then any worker takes the events again; a handler can therefore run more than once for one event, never
zero times. Per-user order is the store's: it never leases an event while an older unfinished event of the
same `for_user_id` exists, so DMs of one conversation are handled one at a time in arrival order, while
other users' events run in parallel up to `concurrency`.

An event with a transactional handler (`XHooks.on(..., transactional=True)`) is handled inside
`Store.completing`: its handlers' writes on `ctx.connection` and the "handled" mark commit together, so
their effect happens exactly once; a failing handler rolls everything back and the event is retried.

The lease must be longer than the slowest handler: a handler still running when its lease ends may see
its event taken by another worker (and its own `complete` refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import traceback
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field, replace

from xhooks.clock import Clock, SystemClock
from xhooks.dispatch.registry import Context, XHooks
from xhooks.errors import ConfigError, StoreError
from xhooks.metrics import Metrics
from xhooks.protocol.events import Event, decode_event
from xhooks.protocol.lifecycle import DeliveryState, Move, advance
from xhooks.store.base import ClaimedEvent, Store, failed_status

__all__ = ["RetryPolicy", "Worker", "default_worker_name"]

log = logging.getLogger("xhooks.dispatch")


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt n (1-based) that fails waits `min(base * factor**(n-1), max_delay) * (1 + jitter * U[0,1))`
    before the next; after `max_attempts` failed attempts the event is dead."""

    max_attempts: int = 8
    base: float = 1.0
    factor: float = 2.0
    max_delay: float = 600.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base < 0 or self.factor < 1 or not 0 <= self.jitter < 1:
            raise ConfigError("retry policy: max_attempts >= 1, base >= 0, factor >= 1 and 0 <= jitter < 1")

    def delay(self, attempt: int, rng: random.Random) -> float | None:
        """Seconds to wait after failed attempt `attempt`, or None when the event is to be dead-lettered."""
        if attempt >= self.max_attempts:
            return None
        return min(self.base * self.factor ** (attempt - 1), self.max_delay) * (1 + self.jitter * rng.random())


def default_worker_name() -> str:
    """A name unique to this process and object: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Worker:
    """Run `hooks` over the events in `store` until `stop()` is called.

    ```python
    store = open_store("xhooks.db")
    await store.start()
    worker = Worker(store, hooks, concurrency=16)
    task = asyncio.create_task(worker.run())
    ...
    worker.stop(); await task            # in-flight handlers finish, or are released after `grace`
    ```
    `paths` maps app names to webhook paths for `Context.path` (default: the name). `metrics` (optional)
    counts dispatch lag, handler failures, retries and dead letters (`xhooks.metrics`).
    """

    store: Store
    hooks: XHooks
    concurrency: int = 8
    lease: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Clock = field(default_factory=SystemClock)
    poll_interval: float = 0.05
    grace: float = 10.0
    name: str = field(default_factory=default_worker_name)
    paths: dict[str, str] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    metrics: Metrics | None = None

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.lease <= 0 or self.poll_interval <= 0:
            raise ConfigError("worker: concurrency >= 1, and lease and poll_interval > 0")
        if self.hooks.transactional and not self.store.shares_transactions:
            raise ConfigError(
                f"transactional handlers need the postgres store (--db postgresql://…), not {self.store!r}"
            )
        self._stopping = asyncio.Event()
        self._in_flight: dict[asyncio.Task[None], int] = {}
        self.next_renewal: float | None = None
        """When the leases of the running handlers are renewed next (every third of `lease`, on the clock)."""

    def stop(self) -> None:
        """Ask `run` to stop claiming, finish in-flight handlers (or release them after `grace`) and return."""
        self._stopping.set()

    async def run(self) -> None:
        """Claim and handle events until `stop()`; then shut down gracefully. While handlers run, their leases are
        renewed every third of `lease` (checked each turn of the loop, at least every `poll_interval`), so a
        handler slower than the lease is not run again by another worker; a worker that dies renews nothing, and
        its events are taken again once their lease runs out."""
        try:
            while not self._stopping.is_set():
                claimed = await self._claim()
                await self._renew_due()
                if not claimed:
                    await self._idle()
        finally:
            await self._shutdown()

    async def _renew_due(self) -> None:
        now = self.clock.now()
        if self.next_renewal is not None and now < self.next_renewal:
            return
        held = list(self._in_flight.values())
        if held and self.next_renewal is not None:
            try:
                await self.store.renew(held, self.name, now + self.lease)
            except StoreError as exc:
                log.warning("could not renew the leases of %d events (they may run twice): %s", len(held), exc)
        self.next_renewal = now + self.lease / 3

    async def run_once(self) -> int:
        """Claim one batch, handle it completely, and return how many events it held (for tests and tools)."""
        claimed = await self._claim()
        if self._in_flight:
            await asyncio.wait(list(self._in_flight))
        return len(claimed)

    async def _claim(self) -> Sequence[ClaimedEvent]:
        free = self.concurrency - len(self._in_flight)
        if free <= 0:
            return ()
        try:
            claimed = await self.store.claim(self.name, free, self.lease, self.clock.now())
        except StoreError as exc:
            log.warning("claim failed, retrying: %s", exc)
            return ()
        for item in claimed:
            task = asyncio.get_running_loop().create_task(self._handle(item))
            self._in_flight[task] = item.event.id
            task.add_done_callback(self._done)
        return claimed

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("worker bookkeeping failed", exc_info=task.exception())

    async def _idle(self) -> None:
        """Wait a poll interval (on the clock), or less if the store signals that events may be due (a commit in
        this process, or PostgreSQL NOTIFY from another), a slot frees up, or `stop()` is called."""
        waiters: set[asyncio.Future[object]] = {
            asyncio.ensure_future(self.clock.sleep(self.poll_interval)),
            asyncio.ensure_future(self.store.wait_for_events(self.poll_interval)),
            asyncio.ensure_future(self._stopping.wait()),
        }
        if len(self._in_flight) >= self.concurrency:
            waiters.update(self._in_flight)  # type: ignore[arg-type]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                if waiter not in self._in_flight:
                    waiter.cancel()

    async def _handle(self, claimed: ClaimedEvent) -> None:
        stored = claimed.event
        event = decode_event(claimed.body, stored.index, stored.event_type)
        context = Context(
            for_user_id=event.for_user_id or stored.for_user_id,
            app=stored.app,
            path=self.paths.get(stored.app, stored.app),
            event_id=stored.id,
            event_key=stored.key,
            delivery_id=stored.delivery_id,
            attempt=claimed.attempt,
            received_at=stored.received_at,
        )
        state = DeliveryState.CLAIMED
        if self.metrics is not None:
            self.metrics.handler_started(self.clock.now() - stored.received_at)
        transactional = self.hooks.is_transactional(event)
        ignored = self.hooks.ignores(event)
        committed = False
        try:
            if transactional and not ignored:
                committed = await self._dispatch_in_transaction(event, context)
            elif not ignored:
                await self.hooks.dispatch(event, context)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            delay = self.retry.delay(claimed.attempt, self.rng)
            now = self.clock.now()
            error = f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}"
            retry_at = None if delay is None else now + delay
            state = failed_status(retry_at)
            if self.metrics is not None:
                self.metrics.handler_failed(retrying=delay is not None)
            kept = await self._record(self.store.fail(stored.id, self.name, error, retry_at, now))
            log.warning("event %s attempt %s failed (%s): %s", stored.id, claimed.attempt, state.value, exc)
        else:
            state = advance(state, Move.IGNORE if ignored else Move.SUCCEED)
            now = self.clock.now()
            if transactional and not ignored:
                kept = committed
            else:
                kept = await self._record(self.store.complete(stored.id, self.name, now, ignored=ignored))
        if not kept:
            log.warning("event %s: lease lost before it was marked %s; another worker has it", stored.id, state.value)

    async def _dispatch_in_transaction(self, event: Event, context: Context) -> bool:
        """Run the handlers in the transaction that marks the event handled; True once committed. Handler errors
        propagate (everything rolled back); a lost lease or a failed commit returns False (the event runs again)."""
        dispatched = False
        try:
            async with self.store.completing(context.event_id, self.name, self.clock.now()) as conn:
                await self.hooks.dispatch(event, replace(context, connection=conn))
                dispatched = True
        except StoreError as exc:
            if not dispatched:
                raise
            log.warning("event %s: not committed, its writes were rolled back: %s", context.event_id, exc)
            return False
        return True

    async def _record(self, outcome: Awaitable[bool]) -> bool:
        try:
            return await outcome
        except StoreError as exc:
            log.error("could not record an outcome (the lease will expire and the event run again): %s", exc)
            return False

    async def _shutdown(self) -> None:
        if self._in_flight:
            _, pending = await asyncio.wait(list(self._in_flight), timeout=self.grace)
            ids = [self._in_flight[task] for task in pending if task in self._in_flight]
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            with contextlib.suppress(StoreError):
                await self.store.release(ids, self.name)
