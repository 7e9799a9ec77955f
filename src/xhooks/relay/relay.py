"""A relay: carry the events committed in the store to one sink, at least once, in each user's order.

A relay is a kind of worker whose handler is a sink, with its own status per event (`Store.relay_claim`): it leases
a batch of the sink's due events, builds one message each (`message.py`), sends the batch (`Sink.send`) and records
each outcome. Delivered events are marked handled for that sink. A *rejected* event (the sink answered and refused
it) is retried after an exponential delay with jitter (`retry`) and dead-lettered after its last attempt; its user's
later events wait behind it meanwhile, so order holds. When the sink is *unavailable* (down, timing out, asking to
come back later) the batch is given back without counting an attempt and the relay pauses, longer each time up to
`outage.max_delay`, however long the outage lasts: nothing is lost and nothing is dead-lettered by an outage.

At least once: the key is the idempotency id every sink gets (`webhook-id`, `Nats-Msg-Id`, AMQP `message_id`, a
stream field), because a relay that dies between the sink's acknowledgement and the store's mark sends the batch
again once its lease expires.

```python
relay = Relay(store, open_sink("redis://127.0.0.1:6379/0?stream=x-events"), only=("post", "dm"))
task = asyncio.create_task(relay.run())
...
relay.stop(); await task        # the batch in flight is finished and recorded first
```
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from xhooks.clock import Clock, SystemClock
from xhooks.dispatch.registry import type_matches
from xhooks.dispatch.worker import RetryPolicy, default_worker_name
from xhooks.errors import ConfigError, StoreError, XhooksError
from xhooks.relay.message import build_message
from xhooks.relay.sink import Failure, Outcome, Sink
from xhooks.store.base import ClaimedEvent, Store

__all__ = ["Relay", "RelayCounts", "parse_only"]

log = logging.getLogger("xhooks.relay")


def parse_only(only: str | Sequence[str] | None) -> tuple[str, ...]:
    """Event types to relay, from `--only post.*,dm.*` (or a list): `post.*` and `post` both mean every `post.…`
    type and `post` itself; `*` or nothing means every type.

    Raises:
        ConfigError: an empty name between commas.
    """
    if only is None:
        return ()
    parts = [part.strip() for chunk in ([only] if isinstance(only, str) else only) for part in chunk.split(",")]
    if any(not part for part in parts):
        raise ConfigError(f"--only takes event types separated by commas, e.g. post.*,dm.*; not {only!r}")
    kinds = tuple(part.removesuffix(".*") for part in parts)
    return () if "*" in kinds else kinds


@dataclass
class RelayCounts:
    """What a relay has done since it started (for the bench, logs and the dashboard)."""

    relayed: int = 0
    rejected: int = 0
    dead: int = 0
    unavailable: int = 0
    last_error: str | None = None


@dataclass
class Relay:
    """Relay the events in `store` to `sink` until `stop()` is called (see the module docstring).

    `only` limits the relay to these event types (dotted prefixes, as `parse_only` gives them); an event of another
    type is passed over for good. `batch` is how many events one claim leases; `lease` must outlast one send.
    """

    store: Store
    sink: Sink
    only: tuple[str, ...] = ()
    batch: int = 256
    lease: float = 60.0
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_attempts=10, base=1.0, max_delay=600.0))
    outage: RetryPolicy = field(default_factory=lambda: RetryPolicy(max_attempts=2**31, base=0.5, max_delay=30.0))
    clock: Clock = field(default_factory=SystemClock)
    poll_interval: float = 0.05
    name: str = field(default_factory=default_worker_name)
    rng: random.Random = field(default_factory=random.Random)
    counts: RelayCounts = field(default_factory=RelayCounts)

    def __post_init__(self) -> None:
        if self.batch < 1 or self.lease <= 0 or self.poll_interval <= 0:
            raise ConfigError("relay: batch >= 1, and lease and poll_interval > 0")
        self._stopping = asyncio.Event()
        self._outages = 0

    def stop(self) -> None:
        """Ask `run` to return once the batch in flight (if any) is sent and recorded."""
        self._stopping.set()

    async def run(self) -> None:
        """Open the sink (waiting out an outage), then relay until `stop()`; close the sink at the end."""
        try:
            while not self._stopping.is_set():
                if await self._opened():
                    break
            while not self._stopping.is_set():
                if not await self.run_once():
                    await self._idle()
        finally:
            await self.sink.close()

    async def run_once(self) -> int:
        """Claim one batch, send it and record every outcome; return how many events it held (0: nothing due)."""
        try:
            claimed = await self.store.relay_claim(
                self.sink.name, self.name, self.batch, self.lease, self.clock.now(), self._wanted if self.only else None
            )
        except StoreError as exc:
            log.warning("relay %s: claim failed, retrying: %s", self.sink.name, exc)
            return 0
        if claimed:
            outcomes = await self._send(claimed)
            if await self._record(claimed, outcomes):
                await self._pause()
        return len(claimed)

    def _wanted(self, event_type: str) -> bool:
        return any(type_matches(kind, event_type) for kind in self.only)

    async def _opened(self) -> bool:
        try:
            await self.sink.open()
        except ConfigError:
            raise
        except Exception as exc:  # the sink's own connection errors, whatever its library calls them
            self.counts.unavailable += 1
            self.counts.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("relay %s: cannot reach the sink yet: %s", self.sink.name, self.counts.last_error)
            await self._pause()
            return False
        self._outages = 0
        return True

    async def _send(self, claimed: Sequence[ClaimedEvent]) -> list[Outcome]:
        """One outcome per claimed event: the sink's, or a refusal for an event that could not be made a message."""
        outcomes: list[Outcome] = [None] * len(claimed)
        messages, positions = [], []
        for position, item in enumerate(claimed):
            try:
                messages.append(build_message(item, self.sink.format))
                positions.append(position)
            except XhooksError as exc:
                outcomes[position] = Failure(f"{type(exc).__name__}: {exc}")
        try:
            sent = await self.sink.send(messages) if messages else []
        except Exception as exc:  # a sink must answer failures, not raise them; keep the events if one does
            log.exception("relay %s: the sink raised instead of answering", self.sink.name)
            sent = [Failure(f"{type(exc).__name__}: {exc}", unavailable=True) for _ in messages]
        for position, outcome in zip(positions, sent, strict=True):
            outcomes[position] = outcome
        return outcomes

    async def _record(self, claimed: Sequence[ClaimedEvent], outcomes: Sequence[Outcome]) -> bool:
        """Store every outcome; True when the sink was unavailable (the relay then pauses).

        Delivered events are marked handled. The first failure of a user is a refusal (retried later, or dead) or
        an outage; every later failed event of that user in the batch is given back, and waits behind it.
        """
        sink, now = self.sink.name, self.clock.now()
        delivered: list[int] = []
        given_back: list[int] = []
        failed_users: set[tuple[str, str]] = set()
        unavailable = False
        try:
            for item, outcome in zip(claimed, outcomes, strict=True):
                if outcome is None:
                    delivered.append(item.event.id)
                    continue
                user = None if item.event.for_user_id is None else (item.event.app, item.event.for_user_id)
                if user is not None and user in failed_users:  # it waits behind its user's first failure
                    given_back.append(item.event.id)
                    continue
                self.counts.last_error = outcome.error
                if outcome.unavailable:
                    unavailable = True
                    given_back.append(item.event.id)
                else:
                    await self._reject(item, outcome, now)
                if user is not None:
                    failed_users.add(user)
            self.counts.relayed += await self.store.relay_complete(sink, delivered, self.name, now)
            await self.store.relay_release(sink, given_back, self.name)
        except StoreError as exc:
            log.error("relay %s: could not record outcomes (the lease will expire, they are sent again): %s", sink, exc)
        if unavailable:
            self.counts.unavailable += 1
            log.warning("relay %s: sink unavailable, pausing: %s", sink, self.counts.last_error)
        else:
            self._outages = 0
        return unavailable

    async def _reject(self, item: ClaimedEvent, failure: Failure, now: float) -> None:
        delay = self.retry.delay(item.attempt, self.rng)
        retry_at = None if delay is None else now + delay
        self.counts.rejected += 1
        self.counts.dead += retry_at is None
        await self.store.relay_fail(self.sink.name, item.event.id, self.name, failure.error, retry_at, now)
        state = "dead" if retry_at is None else f"retry in {delay:.1f} s"
        log.warning(
            "relay %s: event %s refused (attempt %s, %s): %s",
            self.sink.name,
            item.event.id,
            item.attempt,
            state,
            failure.error,
        )

    async def _pause(self) -> None:
        self._outages += 1
        delay = self.outage.delay(min(self._outages, 64), self.rng) or self.outage.max_delay
        await self._wait(delay)

    async def _idle(self) -> None:
        await self._wait(self.poll_interval, wake_on_events=True)

    async def _wait(self, seconds: float, wake_on_events: bool = False) -> None:
        """Wait `seconds` on the clock, or less when `stop()` is called (or, idle, when the store has new events)."""
        waiters: set[asyncio.Future[object]] = {
            asyncio.ensure_future(self.clock.sleep(seconds)),
            asyncio.ensure_future(self._stopping.wait()),
        }
        if wake_on_events:
            waiters.add(asyncio.ensure_future(self.store.wait_for_events(seconds)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
