"""The embedded store: one SQLite file in WAL mode, one writer thread, group commit.

Every write (a delivery, a rejection count, a heartbeat, a claim) is a job on a queue. The writer thread
takes the first waiting job, then everything else already queued (up to `max_batch`), applies them all in
one transaction and commits once; only then are the callers' futures resolved. Under load many requests
share one commit (and one fsync), which is what keeps the safe default fast; with a single request in
flight a commit is as quick as SQLite allows. The deliveries of a batch go in with two `executemany`
calls (the writer numbers them itself, and a trigger records duplicate sightings), which measured a quarter
less CPU per delivery than one statement per row.

Durability: `disk` (default) sets `synchronous=FULL`, so a commit is flushed to disk before anyone is told
(it survives a power cut); `process` sets `synchronous=NORMAL`, which in WAL mode survives a killed process
but not a power cut.

Reads (`events`, `stats`, …) run on a small pool of threads, each with a read-only connection of its own: the
event loop never waits on a query, and in WAL mode a read never waits for the writer nor queues behind it.

A failed commit (read-only file, disk full, locked) fails every job of its batch with `StoreError`, and the
connection is reopened for the next batch, so the store recovers on its own once the fault clears.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import shutil
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from xhooks._threads import name_os_thread
from xhooks.errors import SchemaMismatch, StoreError
from xhooks.store import _sqlite_retention
from xhooks.store import _sqlite_schema as sql
from xhooks.store._query import COUNT_BY_PATH, OLDEST_BODY, PATH_NAMES, RELAY_COLUMNS, SINK_STATS, source, where
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
from xhooks.store.retention import PruneReport, RetentionPolicy

__all__ = ["SQLiteStore"]

_T = TypeVar("_T")
_Apply = Callable[[sqlite3.Cursor], Any]
_Job = tuple["_Apply | Delivery", "asyncio.Future[Any] | None"]
_STOP = object()
_READ_THREADS = 2
"""Threads serving reads: the dashboard, the watcher and the CLI read little and rarely at once."""
_headers_encoder = msgspec.json.Encoder()
_headers_decoder = msgspec.json.Decoder(list[tuple[str, str]])

_EVENT_COLUMNS = (
    "id, app, key, event_type, for_user_id, delivery_id, idx, received_at, status, attempts, duplicates,"
    " last_seen_at, last_error, first_path, webhook_at, stream_at, pruned_at"
)


def _connect(path: str, durability: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=2.0)
    conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect on a new file only (before WAL and any table)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={'FULL' if durability == 'disk' else 'NORMAL'}")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA secure_delete=ON")  # erased and pruned bytes are overwritten, not left in free space
    return conn


def _insert_deliveries(cur: sqlite3.Cursor, first_id: int, deliveries: list[Delivery]) -> list[Intake]:
    """Insert a batch of deliveries numbered from `first_id`, and their events (duplicates become sightings)."""
    delivery_rows = []
    event_rows = []
    for delivery_id, delivery in enumerate(deliveries, first_id):
        at = delivery.received_at
        status = arrival_status(delivery.shape).value
        path = delivery.path.value
        delivery_rows.append(
            (
                delivery_id,
                delivery.app,
                at,
                _headers_encoder.encode(delivery.headers),
                delivery.body,
                delivery.secret_index,
                delivery.shape.value,
                path,
            )
        )
        webhook_at, stream_at = delivery.path_times()
        event_rows += [
            (delivery.app, e.key, e.event_type, e.for_user_id, delivery_id, e.index, at, at, delivery_id, status)
            + (path, webhook_at, stream_at)
            for e in delivery.events
        ]
    cur.executemany(sql.INSERT_DELIVERY, delivery_rows)
    cur.executemany(sql.UPSERT_EVENT, event_rows)
    duplicates = dict(cur.execute(sql.DUPLICATES_SINCE, (first_id,)).fetchall())
    return [
        Intake(delivery_id, len(delivery.events) - duplicates.get(delivery_id, 0), duplicates.get(delivery_id, 0))
        for delivery_id, delivery in enumerate(deliveries, first_id)
    ]


def _take_in(cur: sqlite3.Cursor, sink: str, wanted: Callable[[str], bool] | None) -> None:
    """Give `sink` a `pending` row for each event committed since its cursor (up to `TAKE_IN_BATCH` at a time)."""
    cur.execute(sql.ENSURE_SINK, (sink,))
    (cursor,) = cur.execute(sql.SINK_CURSOR, (sink,)).fetchone()
    rows = cur.execute(sql.NEW_EVENTS, (cursor, TAKE_IN_BATCH)).fetchall()
    if not rows:
        return
    cur.executemany(sql.TAKE_IN, [(sink, *row[:3]) for row in rows if relayable(row[3], row[4], wanted)])
    cur.execute(sql.SET_SINK_CURSOR, (rows[-1][0], sink))


def _resolve(results: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, value, error in results:
        if future.cancelled():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)


class SQLiteStore(Store):
    """The embedded default store. `path` is a file; it is created with its schema on `start()`.

    ```python
    store = SQLiteStore("xhooks.db")
    await store.start()
    intake = await store.record(delivery)   # returns after the commit holding it
    ```
    """

    def __init__(self, path: str | Path, *, durability: str = "disk", max_batch: int = 512) -> None:
        super().__init__()
        self.path = str(path)
        self.durability = durability
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outbox: list[_Job] = []
        self._readers = _Readers(self.path)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r}, durability={self.durability!r})"

    # -- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._thread is not None:
            return
        try:
            conn = _connect(self.path, self.durability)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.path}: {exc}; check the path and its permissions") from exc
        try:
            self._ensure_schema(conn)
        finally:
            conn.close()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run_writer, name="xhooks-sqlite-writer", daemon=True)
        self._thread.start()

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        try:
            row = (
                conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
                if self._has_meta(conn)
                else None
            )
            if row is None:
                for statement in sql.CREATE:
                    conn.execute(statement)
                conn.execute(
                    "INSERT OR REPLACE INTO meta (name, value) VALUES ('schema_version', ?)", (str(sql.SCHEMA_VERSION),)
                )
            elif int(row[0]) != sql.SCHEMA_VERSION:
                raise SchemaMismatch(
                    f"{self.path} has schema version {row[0]}, this xhooks knows {sql.SCHEMA_VERSION};"
                    " run `xhooks db upgrade` or use the matching xhooks version"
                )
            for statement in (*sql.HEALTH_STATEMENTS, *sql.INDEX_STATEMENTS):
                conn.execute(statement)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot prepare {self.path}: {exc}") from exc

    @staticmethod
    def _has_meta(conn: sqlite3.Connection) -> bool:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is not None

    async def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            if self._outbox:
                self._hand_over()
            self._queue.put(_STOP)
            await asyncio.to_thread(thread.join)
        await asyncio.to_thread(self._readers.close)

    # -- writes (group commit) -------------------------------------------------------------------------

    def _submit(self, apply: _Apply | Delivery, wait: bool) -> asyncio.Future[Any] | None:
        if self._thread is None or self._loop is None:
            raise RuntimeError("SQLiteStore.start() must be awaited before writing")
        future = self._loop.create_future() if wait else None
        if not self._outbox:
            self._loop.call_soon(self._hand_over)
        self._outbox.append((apply, future))
        return future

    def _hand_over(self) -> None:
        """Pass everything submitted during this turn of the event loop to the writer at once: one wake-up
        of the writer thread per turn instead of one per request."""
        outbox, self._outbox = self._outbox, []
        self._queue.put(outbox)

    async def record(self, delivery: Delivery) -> Intake:
        future = self._submit(delivery, wait=True)
        assert future is not None
        intake: Intake = await future
        if intake.new_events:
            self._wakeup.wake()
        return intake

    async def record_rejection(self, app: str, reason: str, at: float) -> None:
        self._submit(lambda cur: cur.execute(sql.UPSERT_REJECTION, (app, reason, at)), wait=False)

    async def check_writable(self, at: float) -> bool:
        try:
            await self._write(lambda cur: cur.execute(sql.HEARTBEAT, (repr(at),)))
        except StoreError:
            return False
        return True

    async def record_crc(self, crc: CrcRecord) -> None:
        row = (crc.app, crc.at, crc.latency, crc.status, crc.outcome)
        self._submit(lambda cur: cur.execute(sql.INSERT_CRC, row), wait=False)

    async def mark(self, kind: str, start: float, end: float, max_gap: float) -> None:
        def apply(cur: sqlite3.Cursor) -> None:
            newest = cur.execute(sql.NEWEST_SPAN, (kind,)).fetchone()
            if newest is not None and start <= newest[2] + max_gap and end >= newest[1] - max_gap:
                cur.execute(sql.GROW_SPAN, (start, end, newest[0]))
            else:
                cur.execute(sql.INSERT_SPAN, (kind, start, end))

        await self._write(apply)

    async def claim(self, worker: str, limit: int, lease: float, now: float) -> Sequence[ClaimedEvent]:
        def apply(cur: sqlite3.Cursor) -> list[ClaimedEvent]:
            ids = [row[0] for row in cur.execute(sql.DUE_EVENTS, {"now": now, "limit": limit})]
            if not ids:
                return []
            cur.executemany(sql.CLAIM, [(worker, now + lease, now, event_id) for event_id in ids])
            marks = ",".join("?" * len(ids))
            columns = ", ".join(f"e.{name.strip()}" for name in _EVENT_COLUMNS.split(","))
            rows = cur.execute(
                f"SELECT {columns}, d.body FROM events e JOIN deliveries d ON d.id = e.delivery_id"
                f" WHERE e.id IN ({marks}) ORDER BY e.id",
                ids,
            ).fetchall()
            return [ClaimedEvent(StoredEvent(*row[:-1]), bytes(row[-1]), row[9]) for row in rows]

        return await self._write(apply)

    async def complete(self, event_id: int, worker: str, now: float, ignored: bool = False) -> bool:
        status = completed_status(ignored).value

        def apply(cur: sqlite3.Cursor) -> bool:
            cur.execute(sql.RECORD_ATTEMPT, (now, status, None, event_id, worker))
            return bool(cur.execute(sql.COMPLETE, (status, now, event_id, worker)).rowcount == 1)

        done = await self._write(apply)
        if done:
            self._wakeup.wake()  # the next event of the same user may be due now
        return done

    async def fail(self, event_id: int, worker: str, error: str, retry_at: float | None, now: float) -> bool:
        status = failed_status(retry_at).value

        def apply(cur: sqlite3.Cursor) -> bool:
            cur.execute(sql.RECORD_ATTEMPT, (now, status, error, event_id, worker))
            return bool(cur.execute(sql.FAIL, (status, retry_at, error, event_id, worker)).rowcount == 1)

        done = await self._write(apply)
        if done:
            self._wakeup.failed(retry_at, now)
        return done

    async def renew(self, event_ids: Sequence[int], worker: str, until: float) -> int:
        if not event_ids:
            return 0
        statement = f"{sql.RENEW} AND id IN ({','.join('?' * len(event_ids))})"
        return await self._write(lambda cur: cur.execute(statement, (until, worker, *event_ids)).rowcount)

    async def release(self, event_ids: Sequence[int], worker: str) -> None:
        if event_ids:
            marks = ",".join("?" * len(event_ids))
            await self._write(lambda cur: cur.execute(f"{sql.RELEASE} AND id IN ({marks})", (worker, *event_ids)))
            self._wakeup.wake()

    async def redispatch(self, query: EventQuery, now: float) -> int:
        clause, params = where(query)
        if query.sink is not None:
            view, view_params = source(query)
            statement = f"{sql.RELAY_REDISPATCH} AND event_id IN (SELECT id FROM {view} {clause})"
            arguments = [query.sink, *view_params, *params]
            return await self._write(lambda cur: cur.execute(statement, arguments).rowcount)
        condition = clause.replace("WHERE", "AND", 1)
        count = await self._write(lambda cur: cur.execute(f"{sql.REDISPATCH} {condition}", params).rowcount)
        if count:
            self._wakeup.wake()
        return count

    # -- relays ----------------------------------------------------------------------------------------

    async def relay_claim(
        self, sink: str, worker: str, limit: int, lease: float, now: float, wanted: Callable[[str], bool] | None = None
    ) -> Sequence[ClaimedEvent]:
        def apply(cur: sqlite3.Cursor) -> list[ClaimedEvent]:
            _take_in(cur, sink, wanted)
            ids = [row[0] for row in cur.execute(sql.RELAY_DUE, {"sink": sink, "now": now, "limit": limit})]
            if not ids:
                return []
            marks = ",".join("?" * len(ids))
            cur.execute(sql.RELAY_LEASE.format(marks=marks), (worker, now + lease, sink, *ids))
            rows = cur.execute(
                f"SELECT {RELAY_COLUMNS}, d.body, d.headers FROM relay_events r"
                " JOIN events e ON e.id = r.event_id JOIN deliveries d ON d.id = e.delivery_id"
                f" WHERE r.sink = ? AND r.event_id IN ({marks}) ORDER BY e.id",
                (sink, *ids),
            ).fetchall()
            return [
                ClaimedEvent(StoredEvent(*row[:-2]), bytes(row[-2]), row[9], _headers_decoder.decode(row[-1]))
                for row in rows
            ]

        return await self._write(apply)

    async def relay_complete(self, sink: str, event_ids: Sequence[int], worker: str, now: float) -> int:
        if not event_ids:
            return 0
        marks = ",".join("?" * len(event_ids))
        statement = f"{sql.RELAY_COMPLETE} AND event_id IN ({marks})"
        return await self._write(lambda cur: cur.execute(statement, (now, sink, worker, *event_ids)).rowcount)

    async def relay_fail(
        self, sink: str, event_id: int, worker: str, error: str, retry_at: float | None, now: float
    ) -> bool:
        status = "dead" if retry_at is None else "retry"
        arguments = (status, retry_at, error, sink, event_id, worker)
        return await self._write(lambda cur: cur.execute(sql.RELAY_FAIL, arguments).rowcount == 1)

    async def relay_release(self, sink: str, event_ids: Sequence[int], worker: str) -> None:
        if event_ids:
            marks = ",".join("?" * len(event_ids))
            statement = f"{sql.RELAY_RELEASE} AND event_id IN ({marks})"
            await self._write(lambda cur: cur.execute(statement, (sink, worker, *event_ids)))

    # -- retention -------------------------------------------------------------------------------------

    async def prune(self, policy: RetentionPolicy, now: float, *, dry_run: bool = False) -> PruneReport:
        if dry_run:
            return await self._readers.run(lambda conn: _sqlite_retention.count(conn, policy, now))
        return await self._write(lambda cur: _sqlite_retention.prune_batch(cur, policy, now))

    async def erase(self, user_id: str, reason: str, now: float) -> ErasureRecord:
        query, scope = user_events(user_id, FOREVER), f"user:{user_id}"
        record = await self._write(lambda cur: _sqlite_retention.erase_events(cur, query, scope, reason, now))
        await asyncio.to_thread(self._checkpoint)
        return record

    async def erase_signalled(self, now: float, kinds: tuple[str, ...]) -> Sequence[ErasureRecord]:
        records = await self._write(lambda cur: _sqlite_retention.erase_signalled(cur, now, kinds))
        if records:
            await asyncio.to_thread(self._checkpoint)
        return records

    def _checkpoint(self) -> None:
        """Move the WAL into the file and truncate it, so erased bytes stay in neither (best effort: a reader
        holding an old snapshot makes it wait, then it gives up until the next checkpoint)."""
        with contextlib.closing(sqlite3.connect(self.path, isolation_level=None, timeout=5.0)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    async def _write(self, apply: Callable[[sqlite3.Cursor], _T]) -> _T:
        future = self._submit(apply, wait=True)
        assert future is not None
        result: _T = await future
        return result

    def _run_writer(self) -> None:
        name_os_thread()
        conn: sqlite3.Connection | None = None
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch: list[_Job] = list(first)
            while len(batch) < self.max_batch:
                try:
                    jobs = self._queue.get_nowait()
                except queue.Empty:
                    break
                if jobs is _STOP:
                    stopping = True
                    break
                batch += jobs
            conn, results = self._commit(conn, batch)
            waiting = [
                (future, value, error) for (_, future), (value, error) in zip(batch, results, strict=True) if future
            ]
            if waiting:
                assert self._loop is not None
                try:
                    self._loop.call_soon_threadsafe(_resolve, waiting)
                except RuntimeError:  # the loop is closed: nobody is waiting any more
                    break
        if conn is not None:
            conn.close()

    def _commit(
        self, conn: sqlite3.Connection | None, batch: list[_Job]
    ) -> tuple[sqlite3.Connection | None, list[tuple[Any, BaseException | None]]]:
        try:
            if conn is None:
                conn = _connect(self.path, self.durability)
            cur = conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            first_id = cur.execute(sql.NEXT_DELIVERY_ID).fetchone()[0]
            deliveries = [job for job, _ in batch if isinstance(job, Delivery)]
            intakes = iter(_insert_deliveries(cur, first_id, deliveries) if deliveries else ())
            values = [next(intakes) if isinstance(job, Delivery) else job(cur) for job, _ in batch]
            cur.execute("COMMIT")
            return conn, [(value, None) for value in values]
        except Exception as exc:  # any failure fails the batch; the writer thread must survive it
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.rollback()
                conn.close()
            error = StoreError(f"could not commit to {self.path}: {exc}")
            return None, [(None, error) for _ in batch]

    # -- reads (a small pool of threads, each with its own read-only connection) ------------------------

    async def events(self, query: EventQuery) -> Sequence[StoredEvent]:
        clause, params = where(query)
        table, table_params = source(query)
        rows = await self._readers.fetch(
            f"SELECT {_EVENT_COLUMNS} FROM {table} {clause} ORDER BY id DESC LIMIT ?",
            [*table_params, *params, query.limit],
        )
        return [StoredEvent(*row) for row in rows]

    async def event(self, event_id: int) -> StoredEvent | None:
        rows = await self._readers.fetch(f"SELECT {_EVENT_COLUMNS} FROM events WHERE id = ?", (event_id,))
        return StoredEvent(*rows[0]) if rows else None

    async def delivery(self, delivery_id: int) -> StoredDelivery | None:
        rows = await self._readers.fetch(
            "SELECT id, app, received_at, headers, body, secret_index, shape, path FROM deliveries WHERE id = ?",
            (delivery_id,),
        )
        if not rows:
            return None
        row = rows[0]
        headers = _headers_decoder.decode(row[3])
        return StoredDelivery(row[0], row[1], row[2], headers, bytes(row[4]), row[5], row[6], row[7])

    async def sightings(self, event_id: int) -> Sequence[tuple[int, float]]:
        rows = await self._readers.fetch(
            "SELECT delivery_id, received_at FROM events WHERE id = ?"
            " UNION ALL SELECT delivery_id, seen_at FROM sightings WHERE event_id = ? ORDER BY 2, 1",
            (event_id, event_id),
        )
        return [(int(row[0]), float(row[1])) for row in rows]

    async def spans(self, kind: str, since: float) -> Sequence[Span]:
        rows = await self._readers.fetch(
            'SELECT start, "end" FROM spans WHERE kind = ? AND "end" >= ? ORDER BY start, id', (kind, since)
        )
        return [Span(kind, float(start), float(end)) for start, end in rows]

    async def crcs(self, since: float, limit: int = 100) -> Sequence[CrcRecord]:
        rows = await self._readers.fetch(
            "SELECT app, at, latency, status, outcome FROM crc_log WHERE at >= ? ORDER BY at DESC, rowid DESC LIMIT ?",
            (since, limit),
        )
        return [CrcRecord(*row) for row in rows]

    async def attempts(self, event_id: int) -> Sequence[Attempt]:
        rows = await self._readers.fetch(sql.ATTEMPTS, (event_id,))
        return [Attempt(*row) for row in rows]

    async def stats(self) -> Stats:
        return await self._readers.run(_stats)

    async def storage(self) -> Storage:
        """The file and its WAL (the `-shm` index is a few pages and is not data), and the free space of the file
        system that holds them: where a full disk would stop commits."""
        [(oldest,)] = await self._readers.fetch(OLDEST_BODY)
        return await asyncio.to_thread(_measure, Path(self.path), oldest)

    async def sinks(self, since: float) -> Sequence[SinkStats]:
        def read(conn: sqlite3.Connection) -> list[SinkStats]:
            return [SinkStats(*row) for row in conn.execute(SINK_STATS, (since,))]

        return await self._readers.run(read)


def _stats(conn: sqlite3.Connection) -> Stats:
    conn.execute("BEGIN")  # one snapshot for every count
    try:
        deliveries = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        events, duplicates = conn.execute("SELECT count(*), coalesce(sum(duplicates), 0) FROM events").fetchone()
        by_type = dict(conn.execute("SELECT event_type, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"))
        by_status = dict(conn.execute("SELECT status, count(*) FROM events GROUP BY 1"))
        unparsed = conn.execute("SELECT count(*) FROM deliveries WHERE shape IN ('unknown', 'malformed')").fetchone()[0]
        rejections = {
            f"{app}:{reason}": count for app, reason, count in conn.execute("SELECT app, reason, count FROM rejections")
        }
        by_path = dict(zip(PATH_NAMES, conn.execute(COUNT_BY_PATH).fetchone(), strict=True))
        first_by_path = dict(conn.execute("SELECT first_path, count(*) FROM events GROUP BY 1"))
        (tombstones,) = conn.execute("SELECT count(*) FROM events WHERE pruned_at IS NOT NULL").fetchone()
        erasures = [ErasureRecord(*row) for row in conn.execute(RECENT_ERASURES)]
    finally:
        conn.execute("COMMIT")
    return Stats(
        deliveries,
        events,
        duplicates,
        by_type,
        by_status,
        unparsed,
        rejections,
        by_path,
        first_by_path,
        tombstones,
        erasures,
    )


def _measure(path: Path, oldest_body: float | None) -> Storage:
    wal = path.with_name(path.name + "-wal")
    try:
        size = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
        disk = shutil.disk_usage(path.parent)
    except OSError as exc:
        raise StoreError(f"cannot measure {path}: {exc}") from exc
    return Storage(size, disk.free, disk.total, oldest_body)


class _Readers:
    """Read-only connections to `path`, one per thread of a small pool that runs the async reads.

    The pool and its connections open on the first read (a store that was never started can read a database
    another process writes) and are released by `close()`. In WAL mode a reader never waits for the writer
    and sees everything committed before its statement began.
    """

    def __init__(self, path: str, threads: int = _READ_THREADS) -> None:
        self.path = path
        self.threads = threads
        self._executor: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._guard = threading.Lock()

    async def fetch(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        return await self.run(lambda conn: conn.execute(statement, params).fetchall())

    async def run(self, read: Callable[[sqlite3.Connection], _T]) -> _T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="xhooks-sqlite-reader")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._read, read)

    def _read(self, read: Callable[[sqlite3.Connection], _T]) -> _T:
        try:
            return read(self._connection())
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if not Path(self.path).exists():
                raise StoreError(f"no database at {self.path}; start `xhooks serve` first or pass --db")
            conn = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, timeout=5.0, isolation_level=None, check_same_thread=False
            )
            self._local.conn = conn
            with self._guard:
                self._opened.append(conn)
        return conn

    def close(self) -> None:
        """Wait for running reads, then close every connection (from any thread: they are not thread-bound)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        with self._guard:
            opened, self._opened = self._opened, []
        self._local = threading.local()
        for conn in opened:
            conn.close()
