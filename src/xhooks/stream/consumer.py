"""`StreamConsumer`: read `GET /2/activity/stream` into the store, through the same intake as a webhook POST.

What it promises and why is in docs/stream.md; the decisions (states, back-off, backfill) are `policy.py`, the
framing `lines.py`. Here is only the I/O that carries them out:

- every line is `Delivery.received(app, line, at, path=DeliveryPath.STREAM)` recorded with `Store.record`, up to
  `max_in_flight` at once so that group commit batches them; more waits (backpressure on X's side);
- the resume point is the arrival time of the oldest line not yet committed (or of the last bytes read when
  everything is committed); it is marked in the store as the span `stream:<app>` every `mark_every` seconds and
  when a connection ends, so a restart, even after SIGKILL, asks for the backfill it needs;
- a store that fails a write stops the reading at once; the consumer waits until the store accepts a heartbeat,
  then reconnects with backfill from the oldest line that was not committed.

```python
consumer = StreamConsumer(store, app="/webhook", bearer_token=token, api_base="https://api.x.com")
task = asyncio.create_task(consumer.run())
...
consumer.stop()
await task
```
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

from xhooks.client import DEFAULT_BASE_URL, AsyncXClient, Credentials
from xhooks.client import endpoints as api
from xhooks.clock import Clock, SystemClock, iso_utc
from xhooks.errors import ClientError, ConfigError, StoreError
from xhooks.protocol.activity_stream import BACKFILL_LIMIT, ENDPOINT_NAME, KEEP_ALIVE_INTERVAL
from xhooks.store.base import Delivery, DeliveryPath, Intake, Store
from xhooks.stream.lines import LineFramer, LineKind, kind
from xhooks.stream.policy import Backoff, Cause, StreamState, move, plan_gap, refusal

__all__ = ["SPAN_PREFIX", "AlertSink", "OnRecord", "Recover", "StreamConfig", "StreamConsumer"]

logger = logging.getLogger("xhooks.stream")

SPAN_PREFIX = "stream:"
"""The store span `stream:<app>` covers the time up to which every line the consumer read is committed."""
SPAN_HISTORY = 24 * 3600.0
"""How far back a starting consumer looks for its last span."""


class AlertSink(Protocol):
    """Where the consumer's alerts go (`xhooks.watch.Alerts` is one)."""

    async def fire(self, name: str, message: str) -> None: ...

    async def resolve(self, name: str, message: str) -> None: ...


Recover = Callable[[float, float], Awaitable[bool]]
"""Arrange the recovery of the events between two Unix times; True when something (a webhook replay) will."""
OnRecord = Callable[[Delivery, Intake], None]
"""Called after each line is committed (`xhooks stream` prints the new events)."""


@dataclass(frozen=True)
class StreamConfig:
    """What a process (`xhooks serve --stream`) runs its consumer with; the rest comes from the process: the store,
    the Bearer token, the API base, and the watcher's alerts and replays when it runs one.

    - `app`: the app's name in the store (default: the process's first app, so both paths share keys).
    - `backfill_minutes`, `reclaim_connections`: as `StreamConsumer` takes them.
    """

    app: str | None = None
    backfill_minutes: int = BACKFILL_LIMIT
    reclaim_connections: bool = False


class StreamConsumer:
    """Keep the X Activity stream of one app flowing into `store`, as `app` (the receiver's name for the same app,
    so that an event seen on both paths has one key).

    - `backfill_minutes`: the most backfill asked for after a gap (0 to 5; 0 never asks).
    - `keep_alive`, `silence_factor`: a connection without a byte for `keep_alive * silence_factor` seconds is
      dropped and reopened.
    - `reclaim_connections`: on `TooManyConnections`, end the app's active activity-stream connections through
      `/2/connections` (only when no other consumer of this app should be running).
    - `alerts`, `recover`: where alerts go, and how a gap longer than the backfill is recovered (see `Recover`).

    Raises (from the constructor):
        ConfigError: no bearer token, or figures out of range.
    """

    def __init__(
        self,
        store: Store,
        *,
        app: str,
        bearer_token: str,
        api_base: str = DEFAULT_BASE_URL,
        backfill_minutes: int = BACKFILL_LIMIT,
        keep_alive: float = KEEP_ALIVE_INTERVAL,
        silence_factor: float = 3.0,
        reclaim_connections: bool = False,
        alerts: AlertSink | None = None,
        recover: Recover | None = None,
        on_record: OnRecord | None = None,
        backoff: Backoff | None = None,
        clock: Clock | None = None,
        margin: float = 10.0,
        max_in_flight: int = 512,
        mark_every: float = 5.0,
        store_retry: float = 1.0,
        paused_retry: float = 900.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not bearer_token:
            raise ConfigError(
                "the X Activity stream needs the app's Bearer token: pass --bearer-token or set XHOOKS_BEARER_TOKEN"
            )
        if not 0 <= backfill_minutes <= BACKFILL_LIMIT:
            raise ConfigError(f"backfill_minutes must be between 0 and {BACKFILL_LIMIT} (X's limit)")
        if keep_alive <= 0 or silence_factor < 1 or max_in_flight < 1:
            raise ConfigError("stream consumer: keep_alive > 0, silence_factor >= 1 and max_in_flight >= 1")
        self.store = store
        self.app = app
        self.backfill_minutes = backfill_minutes
        self.silence = keep_alive * silence_factor
        self.reclaim_connections = reclaim_connections
        self.alerts = alerts
        self.recover = recover
        self.on_record = on_record
        self.backoff = backoff or Backoff()
        self.clock: Clock = clock or SystemClock()
        self.margin = margin
        self.max_in_flight = max_in_flight
        self.mark_every = mark_every
        self.store_retry = store_retry
        self.paused_retry = paused_retry
        """Seconds before trying again on its own after a 402 or 401/403 (`resume()` tries at once)."""
        self.state = StreamState.IDLE
        self.connections = 0
        """Connections established so far."""
        self.changed = asyncio.Condition()
        """Notified on every change of `state` (tests and dashboards wait on it)."""
        self._x = AsyncXClient(Credentials(bearer_token=bearer_token), base_url=api_base)
        self._http = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(10.0, read=self.silence))
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._in_flight: collections.deque[tuple[float, Delivery, asyncio.Future[Intake]]] = collections.deque()
        self._read_at: float | None = None
        self._resume_at: float | None = None
        self._span_start: float | None = None
        self._marked_at = 0.0
        self._reclaimed = False

    @property
    def span_kind(self) -> str:
        return SPAN_PREFIX + self.app

    # -- control ---------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask `run` to stop: the connection closes, what was read is committed, and `run` returns."""
        self._stop.set()
        self._wake.set()

    def resume(self) -> None:
        """Try again now after a 402 or 401/403 (e.g. once credits are bought)."""
        self._wake.set()

    async def wait_for(self, predicate: Callable[[StreamConsumer], bool]) -> None:
        """Wait until `predicate(self)` holds (it is checked after every change of state)."""
        async with self.changed:
            await self.changed.wait_for(lambda: predicate(self))

    async def run(self) -> None:
        """Read the stream until `stop()`, reconnecting as X asks (docs/stream.md)."""
        try:
            self._resume_at = await self._last_span_end()
            while not self._stop.is_set():
                step = asyncio.ensure_future(self._step())
                stopping = asyncio.ensure_future(self._stop.wait())
                await asyncio.wait({step, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if not step.done():
                    step.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await step
        finally:
            await self._settle()
            with contextlib.suppress(StoreError):
                await self._mark()
            await self._set(move(self.state, "stop"))
            await self._http.aclose()
            await self._x.aclose()

    # -- one connection --------------------------------------------------------------------------------

    async def _step(self) -> None:
        if self.state in (StreamState.CREDITS_EXHAUSTED, StreamState.UNAUTHORIZED):
            await self._sleep(self.paused_retry)
            await self._set(move(self.state, "resume"))
            return
        gap = plan_gap(self._resume_at, self.clock.now(), self.backfill_minutes, self.margin)
        if gap.lost is not None:
            await self._lost(*gap.lost)
        await self._set(move(self.state, "connect"))
        request = self._x.build_request(api.activity_stream(gap.backfill_minutes))
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            logger.warning("cannot connect to the X Activity stream: %s", exc)
            return await self._wait("refused", Cause.NETWORK)
        try:
            if response.status_code != 200:
                return await self._refused(response)
            await self._connected()
            cause = await self._read(response)
        except StoreError as exc:
            return await self._store_down(exc)
        except httpx.ReadTimeout:
            cause = Cause.SILENT
        except httpx.TransportError:
            cause = Cause.ENDED
        finally:
            await response.aclose()
        logger.warning("the X Activity stream %s; reconnecting", "went silent" if cause is Cause.SILENT else "ended")
        self._resume_at = self._committed_until()
        try:
            await self._mark()
        except StoreError as exc:
            return await self._store_down(exc)
        await self._wait("dropped", cause)

    async def _read(self, response: httpx.Response) -> Cause:
        framer = LineFramer()
        async for chunk in response.aiter_bytes():
            now = self.clock.now()
            for line in framer.feed(chunk):
                line_kind = kind(line)
                if line_kind is LineKind.EVENT:
                    await self._submit(line, now)
                elif line_kind is LineKind.NOTICE:
                    logger.warning("X says about the stream: %s", line.decode("utf-8", "replace")[:300])
            self._read_at = now
            self._reap()
            if now - self._marked_at >= self.mark_every:
                await self._mark()
        return Cause.ENDED

    async def _connected(self) -> None:
        await self._set(move(self.state, "connected"))
        self.backoff.connected()
        self._reclaimed = False
        self.connections += 1
        self._span_start = self._read_at = self.clock.now()
        logger.info("reading the X Activity stream (connection %d)", self.connections)
        for name in ("stream_credits_exhausted", "stream_unauthorized", "stream_too_many_connections", "stream_down"):
            await self._resolve(name, "the X Activity stream is connected again")

    async def _refused(self, response: httpx.Response) -> None:
        body = await response.aread()
        cause = refusal(response.status_code, body)
        detail = f"HTTP {response.status_code}: {body[:200].decode('utf-8', 'replace')}"
        if cause in (Cause.CREDITS_EXHAUSTED, Cause.UNAUTHORIZED):
            self._wake.clear()  # from here on, `resume()` ends the pause
        if cause is Cause.CREDITS_EXHAUSTED:
            await self._fire(
                "stream_credits_exhausted",
                f"the app's credits are exhausted ({detail}); the stream "
                "stops until they are bought and the consumer is resumed; the webhook path goes on",
            )
            return await self._set(move(self.state, "credits"))
        if cause is Cause.UNAUTHORIZED:
            await self._fire("stream_unauthorized", f"X refused the Bearer token ({detail}); check --bearer-token")
            return await self._set(move(self.state, "unauthorized"))
        if cause is Cause.TOO_MANY_CONNECTIONS:
            await self._fire("stream_too_many_connections", f"X allows two stream connections per app ({detail})")
            if self.reclaim_connections and not self._reclaimed and await self._reclaim():
                self._reclaimed = True  # once: if the next attempt is refused too, it backs off
                return await self._set(move(self.state, "refused"))
        reset = response.headers.get("x-rate-limit-reset", "")
        logger.warning("the X Activity stream refused the connection: %s", detail)
        await self._wait("refused", cause, float(reset) if reset.isdigit() else None)

    async def _reclaim(self) -> bool:
        """End the app's active activity-stream connections; True if any ended."""
        try:
            listed = await self._x.list_connections("active")
            stale = [conn.id for conn in listed.items if conn.endpoint_name == ENDPOINT_NAME]
            if not stale:
                return False
            killed = await self._x.kill_connections(stale)
        except ClientError as exc:
            logger.warning("could not clear the app's stream connections: %s", exc)
            return False
        logger.warning("ended %d stale stream connection(s) of the app", killed.successful_kills)
        return killed.successful_kills > 0

    async def _wait(self, event: str, cause: Cause, reset: float | None = None) -> None:
        await self._set(move(self.state, event))
        delay = self.backoff.delay(cause, self.clock.now(), reset)
        if delay:
            self._wake.clear()
            logger.info("next stream connection in %.1f s (%s)", delay, cause.value)
            await self._sleep(delay)

    # -- intake ----------------------------------------------------------------------------------------

    async def _submit(self, line: bytes, at: float) -> None:
        delivery = Delivery.received(self.app, line, at, path=DeliveryPath.STREAM)
        self._in_flight.append((at, delivery, asyncio.ensure_future(self.store.record(delivery))))
        if len(self._in_flight) >= self.max_in_flight:
            await asyncio.wait([self._in_flight[0][2]])
            self._reap()

    def _reap(self) -> None:
        """Hand on what committed, oldest first; raise the first store failure of anything that finished."""
        for _, _, future in self._in_flight:
            if future.done() and future.exception() is not None:
                raise StoreError(f"the store refused a stream line: {future.exception()}")
        while self._in_flight and self._in_flight[0][2].done():
            _, delivery, future = self._in_flight.popleft()
            if self.on_record is not None:
                self.on_record(delivery, future.result())

    async def _settle(self) -> list[float]:
        """Wait for every line in flight; hand on the committed ones; return the arrival times of the failed."""
        failed: list[float] = []
        while self._in_flight:
            at, delivery, future = self._in_flight.popleft()
            try:
                intake = await future
            except StoreError:
                failed.append(at)
                continue
            if self.on_record is not None:
                self.on_record(delivery, intake)
        return failed

    def _committed_until(self) -> float | None:
        if self._in_flight:
            return self._in_flight[0][0]
        return self._read_at if self._read_at is not None else self._resume_at

    async def _mark(self) -> None:
        end = self._committed_until()
        if end is None:
            return
        start = min(self._span_start if self._span_start is not None else end, end)
        await self.store.mark(self.span_kind, start, end, self.silence)
        self._marked_at = self.clock.now()

    async def _last_span_end(self) -> float | None:
        spans = await self.store.spans(self.span_kind, self.clock.now() - SPAN_HISTORY)
        return max(span.end for span in spans) if spans else None

    async def _store_down(self, exc: StoreError) -> None:
        """Stop reading (the connection is already closed), keep the oldest uncommitted line as the resume point,
        and wait until the store accepts a write again."""
        await self._set(move(self.state, "store_down"))
        failed = await self._settle()
        if failed:
            self._resume_at = min(failed) if self._resume_at is None else min(min(failed), self._resume_at)
        await self._fire("stream_down", f"the store cannot commit ({exc}); the stream waits and resumes with backfill")
        while not self._stop.is_set() and not await self.store.check_writable(self.clock.now()):
            await self._sleep(self.store_retry)
        logger.info("the store accepts writes again; reconnecting the stream with backfill")

    async def _lost(self, start: float, end: float) -> None:
        if self.recover is not None and await self.recover(start, end):
            logger.warning(
                "stream events from %s to %s are older than its backfill: a replay will recover them",
                iso_utc(start),
                iso_utc(end),
            )
            return
        await self._fire(
            "stream_gap",
            f"X Activity events from {iso_utc(start)} to {iso_utc(end)} may be missing: the stream backfills at most "
            f"{self.backfill_minutes} minutes; where the app has a webhook, `xhooks recover --since {iso_utc(start)} "
            f"--until {iso_utc(end)}` replays them",
        )

    # -- small helpers ---------------------------------------------------------------------------------

    async def _set(self, state: StreamState) -> None:
        async with self.changed:
            self.state = state
            self.changed.notify_all()

    async def _sleep(self, seconds: float) -> None:
        """`clock.sleep(seconds)`, cut short by `stop()` or `resume()` (since the caller last cleared `_wake`)."""
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()

    async def _fire(self, name: str, message: str) -> None:
        logger.warning("%s: %s", name, message)
        if self.alerts is not None:
            await self.alerts.fire(name, message)

    async def _resolve(self, name: str, message: str) -> None:
        if self.alerts is not None:
            await self.alerts.resolve(name, message)
