"""The scale-out store: PostgreSQL through asyncpg, shared by any number of receivers and workers on any hosts.

Intake is group commit, as in the SQLite engine: `record` puts its delivery on a list and waits; one asyncio
task takes everything listed (up to `max_batch`), sends it as one call of the `xhooks_intake` function (one
round trip, one transaction; see `_postgres_schema`), and resolves the callers' futures only after COMMIT.
While a batch commits the next one gathers, so under load many requests share one commit. Events are unique
per (app, key) across every receiver (`ON CONFLICT`): the same event POSTed to two receivers is one event
and one duplicate sighting, whichever commits first.

Workers claim with `FOR UPDATE SKIP LOCKED` and leases; an event is not due while an older unfinished event of
its app and user exists, so a user's events are handled in order by any number of workers. A commit that stores
new events notifies the `xhooks_events` channel, and `wait_for_events` (LISTEN) wakes idle workers of every process
at once; the workers of the committing process are woken directly too, as on every engine (`Store.wait_for_events`).

Reads use the same pool, awaited on the caller's loop; a store that was never started opens the pool for them
(tools reading a database that receivers write). The engine runs no thread and no event loop of its own.

`completing(...)` hands a transactional handler the connection of the transaction that marks its event handled:
its own writes to this database commit together with that mark, or not at all.

Failures: every asyncpg, socket and timeout error becomes `StoreError` (the receiver answers 503). The pool
replaces broken connections on the next use, so the store recovers by itself once the server is back.

Durability: `disk` keeps the server's `synchronous_commit` (on by default: the commit is on disk before the
200); `process` turns it off for this store's sessions (faster; a server crash can lose the last moment of
acknowledged deliveries, a crashed receiver loses nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec

from xhooks.errors import StoreError
from xhooks.store import _postgres_retention
from xhooks.store import _postgres_schema as sql
from xhooks.store._postgres_errors import FOREIGN_ERRORS, mapped
from xhooks.store._query import (
    COUNT_BY_PATH,
    OLDEST_BODY,
    PATH_NAMES,
    RELAY_COLUMNS,
    SINK_STATS,
    numbered,
    source,
    where,
)
from xhooks.store.base import (
    TAKE_IN_BATCH,
    Attempt,
    ClaimedEvent,
    CrcRecord,
    Delivery,
    EventQuery,
    Intake,
    SinkStats,
    Span,
    Stats,
    Storage,
    Store,
    StoredDelivery,
    StoredEvent,
    arrival_status,
    completed_status,
    failed_status,
    relayable,
)
from xhooks.store.erasure import FOREVER, RECENT_ERASURES, ErasureRecord, user_events
from xhooks.store.migrations import prepare_postgres, redact
from xhooks.store.retention import PruneReport, RetentionPolicy

__all__ = ["FOREIGN_ERRORS", "PostgresStore"]

_headers_encoder = msgspec.json.Encoder()
_headers_decoder = msgspec.json.Decoder(list[tuple[str, str]])
_RELAY_CLAIM = sql.RELAY_CLAIM.format(columns=RELAY_COLUMNS)


def _headers(raw: bytes) -> list[tuple[str, str]]:
    return _headers_decoder.decode(raw)


# -- intake batches ------------------------------------------------------------------------------------------


@dataclass
class _Batch:
    """What the intake task collected since its last commit: deliveries and heartbeats wait; the rest do not."""

    deliveries: list[tuple[Delivery, asyncio.Future[Intake]]] = field(default_factory=list)
    rejections: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)
    crcs: list[CrcRecord] = field(default_factory=list)
    heartbeats: list[tuple[float, asyncio.Future[None]]] = field(default_factory=list)
    barriers: list[asyncio.Future[None]] = field(default_factory=list)
    """Writers outside the batch (`mark`) that must come after everything collected before them."""

    def __len__(self) -> int:
        return len(self.deliveries) + len(self.rejections) + len(self.crcs) + len(self.heartbeats) + len(self.barriers)

    def writes(self) -> bool:
        return len(self) > len(self.barriers)

    def arguments(self) -> list[Any]:
        """The 26 arguments of `xhooks_intake`, events in the lock order the schema module describes."""
        deliveries = [delivery for delivery, _ in self.deliveries]
        users: list[tuple[int, str, str, str | None, int, str]] = []
        others: list[tuple[int, str, str, str | None, int, str]] = []
        for number, delivery in enumerate(deliveries, 1):
            status = arrival_status(delivery.shape).value
            for event in delivery.events:
                row = (number, event.key, event.event_type, event.for_user_id, event.index, status)
                (others if event.for_user_id is None else users).append(row)
        others.sort(key=lambda row: (deliveries[row[0] - 1].app, row[1]))
        events = users + others
        occurrences: dict[tuple[str, str], int] = {}
        rounds = []
        for number, key, *_ in events:
            scoped = (deliveries[number - 1].app, key)
            occurrences[scoped] = occurrences.get(scoped, 0) + 1
            rounds.append(occurrences[scoped])
        rejections = sorted(self.rejections.items())
        heartbeat = repr(max(at for at, _ in self.heartbeats)) if self.heartbeats else None
        times = [d.path_times() for d in deliveries]
        columns = [list(column) for column in zip(*events, strict=True)] if events else [[], [], [], [], [], []]
        return [
            [d.app for d in deliveries],
            [d.received_at for d in deliveries],
            [_headers_encoder.encode(d.headers) for d in deliveries],
            [d.body for d in deliveries],
            [d.secret_index for d in deliveries],
            [d.shape.value for d in deliveries],
            [d.path.value for d in deliveries],
            [webhook_at for webhook_at, _ in times],
            [stream_at for _, stream_at in times],
            *columns[:5],
            rounds,
            columns[5],
            [app for (app, _), _ in rejections],
            [reason for (_, reason), _ in rejections],
            [count for _, (count, _) in rejections],
            [at for _, (_, at) in rejections],
            [crc.app for crc in self.crcs],
            [crc.at for crc in self.crcs],
            [crc.latency for crc in self.crcs],
            [crc.status for crc in self.crcs],
            [crc.outcome for crc in self.crcs],
            heartbeat,
        ]

    def resolve(self, rows: Sequence[asyncpg.Record]) -> None:
        for (delivery, future), (delivery_id, duplicates) in zip(self.deliveries, rows, strict=True):
            if not future.done():
                future.set_result(Intake(delivery_id, len(delivery.events) - duplicates, duplicates))
        for done in [future for _, future in self.heartbeats] + self.barriers:
            if not done.done():
                done.set_result(None)

    def fail(self, error: StoreError) -> None:
        for future in [future for _, future in self.deliveries] + [future for _, future in self.heartbeats]:
            if not future.done():
                future.set_exception(error)
        for barrier in self.barriers:
            if not barrier.done():
                barrier.set_result(None)


class PostgresStore(Store):
    """The PostgreSQL store. `url` is a libpq-style URL; its query parameters other than libpq's own are session
    settings (`?search_path=xhooks` keeps the tables in a schema of their own).

    ```python
    store = PostgresStore("postgresql://xhooks@db.internal/xhooks")
    await store.start()                       # creates the schema on an empty database, else checks it
    intake = await store.record(delivery)     # returns after the COMMIT holding it
    ```

    Raises (from `start`):
        StoreError: the server cannot be reached.
        SchemaMismatch: the database holds another schema version; the message says what to run.
    """

    shares_transactions = True

    def __init__(
        self,
        url: str,
        *,
        durability: str = "disk",
        max_batch: int = 256,
        pool_size: int = 8,
        timeout: float = 10.0,
    ) -> None:
        super().__init__()
        self.url = url
        self.durability = durability
        self.max_batch = max_batch
        self.pool_size = pool_size
        self.timeout = timeout
        self._where = redact(url)
        self._pool: asyncpg.Pool | None = None
        self._batch = _Batch()
        self._waiting = asyncio.Event()
        self._intake: asyncio.Task[None] | None = None
        self._closing = False
        self._listener: asyncpg.Connection | None = None
        self._opening = asyncio.Lock()

    def __repr__(self) -> str:
        return f"PostgresStore({self._where!r}, durability={self.durability!r})"

    # -- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._intake is not None:
            return
        pool = await self._open_pool()
        try:
            with mapped(f"cannot prepare {self._where}"):
                async with pool.acquire() as conn:
                    await prepare_postgres(conn, self._where)
        except BaseException:
            await self._close_pool()
            raise
        self._closing = False
        self._batch = _Batch()
        self._intake = asyncio.create_task(self._run_intake(), name="xhooks-pg-intake")

    async def _open_pool(self) -> asyncpg.Pool:
        """The connection pool, opened on first use: by `start()`, or by a read on a store that was not started."""
        async with self._opening:
            if self._pool is None:
                settings = {"application_name": "xhooks"}
                if self.durability == "process":
                    settings["synchronous_commit"] = "off"
                with mapped(f"cannot connect to {self._where}; is PostgreSQL running?"):
                    self._pool = await asyncpg.create_pool(
                        self.url,
                        min_size=1,
                        max_size=self.pool_size,
                        timeout=self.timeout,
                        command_timeout=self.timeout,
                        server_settings=settings,
                    )
            return self._pool

    async def close(self) -> None:
        intake, self._intake = self._intake, None
        if intake is not None:
            self._closing = True
            self._waiting.set()
            await intake  # what was collected still commits
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(*FOREIGN_ERRORS):
                await listener.close(timeout=self.timeout)
        await self._close_pool()

    async def _close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(*FOREIGN_ERRORS):
                async with asyncio.timeout(self.timeout):
                    await pool.close()

    def _require_pool(self) -> asyncpg.Pool:
        if self._pool is None or self._intake is None or self._closing:
            raise RuntimeError("PostgresStore.start() must be awaited before writing")
        return self._pool

    @contextlib.asynccontextmanager
    async def _connection(self, what: str) -> AsyncIterator[asyncpg.Connection]:
        pool = self._require_pool()
        with mapped(f"{what} ({self._where})"):
            async with pool.acquire(timeout=self.timeout) as conn:
                yield conn

    # -- intake (group commit) -------------------------------------------------------------------------

    def _collect(self) -> _Batch:
        self._require_pool()
        self._waiting.set()
        return self._batch

    async def record(self, delivery: Delivery) -> Intake:
        batch = self._collect()
        future: asyncio.Future[Intake] = asyncio.get_running_loop().create_future()
        batch.deliveries.append((delivery, future))
        intake = await future
        if intake.new_events:
            self._wakeup.wake()
        return intake

    async def record_rejection(self, app: str, reason: str, at: float) -> None:
        batch = self._collect()
        count, last = batch.rejections.get((app, reason), (0, at))
        batch.rejections[(app, reason)] = (count + 1, max(last, at))

    async def record_crc(self, crc: CrcRecord) -> None:
        self._collect().crcs.append(crc)

    async def check_writable(self, at: float) -> bool:
        batch = self._collect()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        batch.heartbeats.append((at, future))
        try:
            await future
        except StoreError:
            return False
        return True

    async def _run_intake(self) -> None:
        while not self._closing or len(self._batch):
            await self._waiting.wait()
            self._waiting.clear()
            while len(self._batch):
                batch, self._batch = self._take()
                await self._commit(batch)

    def _take(self) -> tuple[_Batch, _Batch]:
        """Split off at most `max_batch` deliveries (and everything else) from what was collected."""
        collected = self._batch
        if len(collected.deliveries) <= self.max_batch:
            return collected, _Batch()
        rest = _Batch(deliveries=collected.deliveries[self.max_batch :])
        collected.deliveries = collected.deliveries[: self.max_batch]
        return collected, rest

    async def _commit(self, batch: _Batch) -> None:
        assert self._pool is not None
        if not batch.writes():
            batch.resolve([])
            return
        try:
            with mapped(f"could not commit to {self._where}"):
                async with self._pool.acquire(timeout=self.timeout) as conn:
                    rows = await conn.fetch(sql.INTAKE, *batch.arguments())
        except StoreError as exc:
            batch.fail(exc)
        except Exception as exc:  # the intake task must outlive any batch
            batch.fail(StoreError(f"could not commit to {self._where}: {exc!r}"))
        else:
            batch.resolve(rows)

    # -- health spans ----------------------------------------------------------------------------------

    async def mark(self, kind: str, start: float, end: float, max_gap: float) -> None:
        barrier: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._collect().barriers.append(barrier)
        await barrier
        async with self._connection("could not mark a span") as conn, conn.transaction():
            await conn.execute(sql.LOCK_SPAN_KIND, kind)
            newest = await conn.fetchrow(sql.NEWEST_SPAN, kind)
            if newest is not None and start <= newest["end"] + max_gap and end >= newest["start"] - max_gap:
                await conn.execute(sql.GROW_SPAN, start, end, newest["id"])
            else:
                await conn.execute(sql.INSERT_SPAN, kind, start, end)

    # -- dispatch --------------------------------------------------------------------------------------

    async def claim(self, worker: str, limit: int, lease: float, now: float) -> Sequence[ClaimedEvent]:
        async with self._connection("could not claim events") as conn:
            rows = await conn.fetch(sql.CLAIM, now, limit, worker, lease)
        return [
            ClaimedEvent(StoredEvent(*tuple(row)[:-1]), bytes(row["body"]), row["attempts"])
            for row in sorted(rows, key=lambda row: int(row["id"]))
        ]

    async def complete(self, event_id: int, worker: str, now: float, ignored: bool = False) -> bool:
        status = completed_status(ignored).value
        async with self._connection("could not complete an event") as conn, conn.transaction():
            await conn.execute(sql.RECORD_ATTEMPT, now, status, None, event_id, worker)
            done = bool(await conn.execute(sql.COMPLETE, now, event_id, worker, status) == "UPDATE 1")
        if done:
            self._wakeup.wake()  # the next event of the same user may be due now
        return done

    async def fail(self, event_id: int, worker: str, error: str, retry_at: float | None, now: float) -> bool:
        status = failed_status(retry_at).value
        async with self._connection("could not record a failed attempt") as conn, conn.transaction():
            await conn.execute(sql.RECORD_ATTEMPT, now, status, error, event_id, worker)
            done = bool(await conn.execute(sql.FAIL, status, retry_at, error, event_id, worker) == "UPDATE 1")
        if done:
            self._wakeup.failed(retry_at, now)
        return done

    async def renew(self, event_ids: Sequence[int], worker: str, until: float) -> int:
        if not event_ids:
            return 0
        async with self._connection("could not renew leases") as conn:
            done = await conn.execute(sql.RENEW, until, worker, list(event_ids))
        return int(done.rpartition(" ")[2])

    async def release(self, event_ids: Sequence[int], worker: str) -> None:
        if event_ids:
            async with self._connection("could not release events") as conn:
                await conn.execute(sql.RELEASE, worker, list(event_ids))
            self._wakeup.wake()

    async def redispatch(self, query: EventQuery, now: float) -> int:
        clause, params = where(query)
        if query.sink is None:
            statement = numbered(f"{sql.REDISPATCH} {clause.replace('WHERE', 'AND', 1)}")
        else:
            view, view_params = source(query)
            statement = numbered(f"{sql.RELAY_REDISPATCH} AND event_id IN (SELECT id FROM {view} {clause})")
            params = [query.sink, *view_params, *params]
        async with self._connection("could not redispatch") as conn, conn.transaction():
            count = int((await conn.execute(statement, *params)).rpartition(" ")[2])
            if count:
                await conn.execute(sql.NOTIFY)
        if count:
            self._wakeup.wake()
        return count

    # -- relays ----------------------------------------------------------------------------------------

    async def relay_claim(
        self, sink: str, worker: str, limit: int, lease: float, now: float, wanted: Callable[[str], bool] | None = None
    ) -> Sequence[ClaimedEvent]:
        async with self._connection("could not claim events for a relay") as conn:
            await conn.execute(sql.ENSURE_SINK, sink)
            async with conn.transaction():
                await self._take_in(conn, sink, wanted)
                rows = await conn.fetch(_RELAY_CLAIM, sink, now, limit, worker, lease)
        return [
            ClaimedEvent(StoredEvent(*tuple(row)[:-2]), bytes(row["body"]), row["attempts"], _headers(row["headers"]))
            for row in rows
        ]

    @staticmethod
    async def _take_in(conn: asyncpg.Connection, sink: str, wanted: Callable[[str], bool] | None) -> None:
        """Give `sink` a `pending` row for each event up to its final horizon (see `_postgres_schema`, V4)."""
        state = await conn.fetchrow(sql.LOCK_SINK, sink)
        writers = list(await conn.fetchval(sql.EVENT_WRITERS))
        cursor, last_id = int(state["cursor"]), int(state["last_id"])
        note: tuple[int | None, list[str] | None]
        if not writers:  # nobody is writing events: every id drawn so far is final
            final, note = last_id, (None, None)
        elif state["settled"]:  # the writers noted last time have ended: their horizon is final; note the present
            final, note = int(state["horizon"]), (last_id, writers)
        elif state["horizon"] is None:  # nothing noted yet: note the present
            final, note = cursor, (last_id, writers)
        else:  # the noted writers still run: keep waiting for them
            final, note = cursor, (state["horizon"], state["writers"])
        if final > cursor:
            rows = await conn.fetch(sql.NEW_EVENTS, cursor, final, TAKE_IN_BATCH)
            taken = [row for row in rows if relayable(row["event_type"], row["status"], wanted)]
            if taken:
                columns = [[row[name] for row in taken] for name in ("id", "app", "for_user_id")]
                await conn.execute(sql.TAKE_IN, sink, *columns)
            cursor = int(rows[-1]["id"]) if len(rows) == TAKE_IN_BATCH else final
        await conn.execute(sql.SET_SINK, sink, cursor, *note)

    async def relay_complete(self, sink: str, event_ids: Sequence[int], worker: str, now: float) -> int:
        if not event_ids:
            return 0
        async with self._connection("could not complete relayed events") as conn:
            done = await conn.execute(sql.RELAY_COMPLETE, now, sink, worker, list(event_ids))
        return int(done.rpartition(" ")[2])

    async def relay_fail(
        self, sink: str, event_id: int, worker: str, error: str, retry_at: float | None, now: float
    ) -> bool:
        status = "dead" if retry_at is None else "retry"
        async with self._connection("could not record a failed relay attempt") as conn:
            done = await conn.execute(sql.RELAY_FAIL, status, retry_at, error, sink, event_id, worker)
        return bool(done == "UPDATE 1")

    async def relay_release(self, sink: str, event_ids: Sequence[int], worker: str) -> None:
        if event_ids:
            async with self._connection("could not release relayed events") as conn:
                await conn.execute(sql.RELAY_RELEASE, sink, worker, list(event_ids))

    # -- retention -------------------------------------------------------------------------------------

    async def prune(self, policy: RetentionPolicy, now: float, *, dry_run: bool = False) -> PruneReport:
        if dry_run:
            async with self._reading() as conn:
                return await _postgres_retention.count(conn, policy, now)
        async with self._connection("could not prune") as conn:
            return await _postgres_retention.prune_batch(conn, policy, now)

    async def erase(self, user_id: str, reason: str, now: float) -> ErasureRecord:
        query, scope = user_events(user_id, FOREVER), f"user:{user_id}"
        async with self._connection("could not erase") as conn, conn.transaction():
            return await _postgres_retention.erase_events(conn, query, scope, reason, now)

    async def erase_signalled(self, now: float, kinds: tuple[str, ...]) -> Sequence[ErasureRecord]:
        async with self._connection("could not erase") as conn:
            return await _postgres_retention.erase_signalled(conn, now, kinds)

    @contextlib.asynccontextmanager
    async def completing(self, event_id: int, worker: str, now: float) -> AsyncIterator[asyncpg.Connection]:
        pool = self._require_pool()
        what = f"could not complete event {event_id} ({self._where})"
        with mapped(what):
            conn = await pool.acquire(timeout=self.timeout)
        try:
            with mapped(what):
                transaction = conn.transaction()
                await transaction.start()
            try:
                yield conn  # the handler's own errors pass through unchanged
            except BaseException:
                with contextlib.suppress(*FOREIGN_ERRORS):
                    await transaction.rollback()
                raise
            with mapped(what):
                await conn.execute(sql.RECORD_ATTEMPT, now, completed_status(False).value, None, event_id, worker)
                marked = await conn.execute(sql.COMPLETE, now, event_id, worker, completed_status(False).value)
                marked = marked == "UPDATE 1"
                await (transaction.commit() if marked else transaction.rollback())
            if not marked:
                raise StoreError(f"event {event_id}: {worker} no longer holds its lease; its writes were rolled back")
            self._wakeup.wake()  # as `complete`: the next event of the same user may be due now
        finally:
            with contextlib.suppress(*FOREIGN_ERRORS):
                await pool.release(conn)

    async def wait_for_events(self, timeout: float) -> bool:
        await self._listen()  # commits by other processes wake this one through NOTIFY
        return await super().wait_for_events(timeout)

    async def _listen(self) -> None:
        """(Re)open the LISTEN connection if it is not open; after a (re)connect, wake the waiters, since
        notifications may have been missed. If the server cannot be reached, the wait is bounded by its timeout."""
        if self._listener is not None and not self._listener.is_closed():
            return
        self._require_pool()
        try:
            listener = await asyncpg.connect(self.url, timeout=self.timeout)
        except FOREIGN_ERRORS:
            return
        try:
            await listener.add_listener(sql.CHANNEL, self._on_notify)
        except FOREIGN_ERRORS:
            listener.terminate()
            return
        except BaseException:  # cancelled (a worker stopping) between connect and listen: do not leak it
            listener.terminate()
            raise
        if self._pool is None:  # the store closed while this connection was being opened: do not leak it
            listener.terminate()
            return
        self._listener = listener
        self._wakeup.wake()

    def _on_notify(self, *_: object) -> None:
        self._wakeup.wake()

    # -- reads (on the engine's pool; a store that was not started opens the pool for them) -------------

    @contextlib.asynccontextmanager
    async def _reading(self) -> AsyncIterator[asyncpg.Connection]:
        pool = await self._open_pool()
        with mapped(f"cannot read {self._where}"):
            async with pool.acquire(timeout=self.timeout) as conn:
                yield conn

    async def _fetch(self, statement: str, *args: Any) -> list[asyncpg.Record]:
        async with self._reading() as conn:
            return list(await conn.fetch(statement, *args))

    async def events(self, query: EventQuery) -> Sequence[StoredEvent]:
        clause, params = where(query)
        table, table_params = source(query)
        statement = numbered(f"SELECT {sql.EVENT_COLUMNS} FROM {table} {clause} ORDER BY id DESC LIMIT ?")
        return [StoredEvent(*row) for row in await self._fetch(statement, *table_params, *params, query.limit)]

    async def event(self, event_id: int) -> StoredEvent | None:
        rows = await self._fetch(f"SELECT {sql.EVENT_COLUMNS} FROM events WHERE id = $1", event_id)
        return StoredEvent(*rows[0]) if rows else None

    async def delivery(self, delivery_id: int) -> StoredDelivery | None:
        rows = await self._fetch(
            "SELECT id, app, received_at, headers, body, secret_index, shape, path FROM deliveries WHERE id = $1",
            delivery_id,
        )
        if not rows:
            return None
        row = rows[0]
        headers = _headers_decoder.decode(row[3])
        return StoredDelivery(row[0], row[1], row[2], headers, bytes(row[4]), row[5], row[6], row[7])

    async def sightings(self, event_id: int) -> Sequence[tuple[int, float]]:
        rows = await self._fetch(
            "SELECT delivery_id, received_at FROM events WHERE id = $1"
            " UNION ALL SELECT delivery_id, seen_at FROM sightings WHERE event_id = $1 ORDER BY 2, 1",
            event_id,
        )
        return [(int(row[0]), float(row[1])) for row in rows]

    async def spans(self, kind: str, since: float) -> Sequence[Span]:
        rows = await self._fetch(
            'SELECT start, "end" FROM spans WHERE kind = $1 AND "end" >= $2 ORDER BY start, id', kind, since
        )
        return [Span(kind, float(row[0]), float(row[1])) for row in rows]

    async def crcs(self, since: float, limit: int = 100) -> Sequence[CrcRecord]:
        rows = await self._fetch(
            "SELECT app, at, latency, status, outcome FROM crc_log WHERE at >= $1 ORDER BY at DESC, id DESC LIMIT $2",
            since,
            limit,
        )
        return [CrcRecord(*row) for row in rows]

    async def attempts(self, event_id: int) -> Sequence[Attempt]:
        return [Attempt(*row) for row in await self._fetch(sql.ATTEMPTS, event_id)]

    async def sinks(self, since: float) -> Sequence[SinkStats]:
        async with self._reading() as conn:
            rows = await conn.fetch(numbered(SINK_STATS), since)
        return [SinkStats(*row) for row in rows]

    async def storage(self) -> Storage:
        """`pg_database_size` of the connected database; the server's free disk is not visible to a client, so
        `free` is None (watch it on the database host)."""
        async with self._reading() as conn:
            size = await conn.fetchval("SELECT pg_database_size(current_database())")
            oldest = await conn.fetchval(OLDEST_BODY)
        return Storage(int(size), None, None, None if oldest is None else float(oldest))

    async def stats(self) -> Stats:
        async with self._reading() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            deliveries = await conn.fetchval("SELECT count(*) FROM deliveries")
            events, duplicates = await conn.fetchrow("SELECT count(*), coalesce(sum(duplicates), 0) FROM events")
            by_type = await conn.fetch("SELECT event_type, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC, 1")
            by_status = await conn.fetch("SELECT status, count(*) FROM events GROUP BY 1")
            unparsed = await conn.fetchval("SELECT count(*) FROM deliveries WHERE shape IN ('unknown', 'malformed')")
            rejections = await conn.fetch("SELECT app, reason, count FROM rejections")
            by_path = await conn.fetchrow(COUNT_BY_PATH)
            first_by_path = await conn.fetch("SELECT first_path, count(*) FROM events GROUP BY 1")
            tombstones = await conn.fetchval("SELECT count(*) FROM events WHERE pruned_at IS NOT NULL")
            erasures = await conn.fetch(RECENT_ERASURES)
        return Stats(
            int(deliveries),
            int(events),
            int(duplicates),
            {row[0]: int(row[1]) for row in by_type},
            {row[0]: int(row[1]) for row in by_status},
            int(unparsed),
            {f"{row[0]}:{row[1]}": int(row[2]) for row in rejections},
            {name: int(count) for name, count in zip(PATH_NAMES, by_path, strict=True)},
            {row[0]: int(row[1]) for row in first_by_path},
            int(tombstones),
            [ErasureRecord(*row) for row in erasures],
        )
