"""The store contract: what every engine (SQLite, PostgreSQL) promises the receiver, the workers and the tools.

The store is the single source of truth on the consumer side. `record` returns only after the delivery and
its events are committed, so the receiver never answers 200 for something that is not stored; an event key
seen again for the same app becomes a duplicate sighting, never a second event.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar

import msgspec

from xhooks._types import Headers
from xhooks.protocol.envelope import EventRef, Shape, parse_envelope
from xhooks.protocol.lifecycle import STORED_STATES, DeliveryState, Move, advance
from xhooks.store._wakeup import Wakeup
from xhooks.store.erasure import ErasureRecord
from xhooks.store.retention import PruneReport, RetentionPolicy

__all__ = [
    "EVENT_STATUSES",
    "TAKE_IN_BATCH",
    "Attempt",
    "CrcRecord",
    "Delivery",
    "DeliveryPath",
    "EventQuery",
    "ClaimedEvent",
    "Intake",
    "Span",
    "Stats",
    "Storage",
    "Store",
    "StoredDelivery",
    "StoredEvent",
    "arrival_status",
    "byte_size",
    "completed_status",
    "failed_status",
    "relayable",
]


EVENT_STATUSES: tuple[str, ...] = tuple(state.value for state in STORED_STATES)
"""Every value of an event's stored `status`, in lifecycle order (for filters and for validating `--status`).

The states and the moves between them are one table, `xhooks.protocol.lifecycle` (`DeliveryState`,
`TRANSITIONS`); the store has no enum of its own. A `quarantined` event (its body cannot be an X event, see
`Shape.quarantined`) is kept and shown but never claimed, retried or redispatched.
"""


def arrival_status(shape: Shape) -> DeliveryState:
    """The state a new event of a delivery of `shape` is stored in: the lifecycle's `quarantine` move when the body
    cannot be an X event (`Shape.quarantined`), otherwise its `store` move (`pending`)."""
    return advance(DeliveryState.RECEIVED, Move.QUARANTINE if shape.quarantined else Move.STORE)


def completed_status(ignored: bool) -> DeliveryState:
    """The state a finished attempt leaves its event in: `handled`, or `ignored` when the registry skipped it."""
    return advance(DeliveryState.CLAIMED, Move.IGNORE if ignored else Move.SUCCEED)


def failed_status(retry_at: float | None) -> DeliveryState:
    """The state a failed attempt leaves its event in: `retry` when it is to run again at `retry_at`, else `dead`."""
    return advance(DeliveryState.CLAIMED, Move.GIVE_UP if retry_at is None else Move.FAIL)


TAKE_IN_BATCH = 5000
"""At most this many newly committed events a relay sink takes in per claim (`Store.relay_claim`)."""


def relayable(event_type: str, status: str, wanted: Callable[[str], bool] | None) -> bool:
    """True when a relay sink takes in an event: never a quarantined one (it cannot be an X event), and only one
    whose type `wanted` accepts when the relay routes by type (`xhooks relay --only post.*`)."""
    return status != DeliveryState.QUARANTINED.value and (wanted is None or wanted(event_type))


class DeliveryPath(enum.Enum):
    """How a delivery reached xhooks: a POST to the webhook, or a line of the X Activity stream.

    X marks neither a replayed POST nor a backfilled line, so a replay arrives as `webhook` and a backfill as
    `stream` (docs/stream.md).
    """

    WEBHOOK = "webhook"
    STREAM = "stream"


class Delivery(msgspec.Struct, frozen=True):
    """One verified POST (or one stream line) as received: raw bytes exactly as sent, headers, time, the events
    parsed from it, and the path it came by."""

    app: str
    received_at: float
    headers: Headers
    body: bytes
    secret_index: int
    shape: Shape
    events: tuple[EventRef, ...]
    path: DeliveryPath = DeliveryPath.WEBHOOK

    @classmethod
    def received(
        cls,
        app: str,
        body: bytes,
        received_at: float,
        headers: Sequence[tuple[str, str]] = (),
        secret_index: int = 0,
        path: DeliveryPath = DeliveryPath.WEBHOOK,
    ) -> Delivery:
        """The delivery of `body`, verified with secret `secret_index`, its events found by `parse_envelope`:
        the one recipe the receiver, the stream consumer and tests use."""
        envelope = parse_envelope(body)
        return cls(app, received_at, list(headers), body, secret_index, envelope.shape, envelope.events, path)

    def path_times(self) -> tuple[float | None, float | None]:
        """`(webhook_at, stream_at)` for the events of this delivery: its time on its own path, None on the other."""
        at = self.received_at
        return (at, None) if self.path is DeliveryPath.WEBHOOK else (None, at)


class Intake(msgspec.Struct, frozen=True):
    """What `Store.record` did: the delivery's id, how many events were new and how many were duplicates."""

    delivery_id: int
    new_events: int
    duplicates: int


class StoredDelivery(msgspec.Struct, frozen=True):
    id: int
    app: str
    received_at: float
    headers: Headers
    body: bytes
    secret_index: int
    shape: str
    path: str = DeliveryPath.WEBHOOK.value

    def secret_label(self) -> str:
        """The consumer secret that verified this delivery, as the CLI and the dashboard both name it: numbered from
        1 in the order the app's secrets are configured (`--consumer-secret NEW --consumer-secret OLD`). #1 answers
        CRC; any other is an older secret, still accepted until the rotation is finished."""
        label = f"consumer secret #{self.secret_index + 1}"
        return label if self.secret_index == 0 else f"{label} (an older secret: finish the rotation)"


class StoredEvent(msgspec.Struct, frozen=True):
    id: int
    app: str
    key: str
    event_type: str
    for_user_id: str | None
    delivery_id: int
    index: int
    received_at: float
    status: str
    attempts: int
    duplicates: int
    last_seen_at: float
    last_error: str | None = None
    first_path: str = DeliveryPath.WEBHOOK.value
    """The path of the delivery that created the event (`DeliveryPath`)."""
    webhook_at: float | None = None
    """When a webhook POST first carried the event; None if none did."""
    stream_at: float | None = None
    """When a stream line first carried the event; None if none did."""
    pruned_at: float | None = None
    """When the event became a tombstone (its delivery's body pruned or erased); None while the body is kept."""

    def seen_at(self, path: DeliveryPath) -> float | None:
        """When `path` first carried the event; None if it never did."""
        return self.webhook_at if path is DeliveryPath.WEBHOOK else self.stream_at


class ClaimedEvent(msgspec.Struct, frozen=True):
    """An event leased to one worker, with what its handlers need: the delivery's raw body and context."""

    event: StoredEvent
    body: bytes
    attempt: int
    """1 for the first run of the handlers, 2 for the first retry, …"""
    headers: Headers = msgspec.field(default_factory=list)
    """The delivery's headers as received (relay claims only: a relay can forward X's signature with the body)."""


class Attempt(msgspec.Struct, frozen=True):
    """One run of an event's handlers: which, by whom, when it began and ended, how, and its error."""

    attempt: int
    worker: str
    started_at: float | None
    finished_at: float
    outcome: str
    """`handled`, `retry` or `dead`: the state the attempt left its event in."""
    error: str | None = None
    """The error with its traceback, as the worker recorded it; None for a success."""

    @property
    def duration(self) -> float | None:
        return None if self.started_at is None else self.finished_at - self.started_at


class EventQuery(msgspec.Struct, frozen=True):
    """Filters for listing events; every field is optional and they combine with AND."""

    app: str | None = None
    event_type: str | None = None
    for_user_id: str | None = None
    status: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 50
    after_id: int | None = None
    event_id: int | None = None
    """Only the event with this id (`xhooks events redispatch --id`)."""
    sink: str | None = None
    """The events a relay took for this sink (`xhooks.relay`), with the sink's own status, attempts and last
    error in place of the handlers' (`xhooks events list --sink NAME --status dead`)."""


class Stats(msgspec.Struct, frozen=True):
    deliveries: int
    events: int
    duplicates: int
    by_type: dict[str, int]
    by_status: dict[str, int]
    unparsed: int
    rejections: dict[str, int]
    by_path: dict[str, int]
    """Events each path carried at least once (an event seen on both counts under both)."""
    first_by_path: dict[str, int]
    """Events by the path that brought them first."""
    tombstones: int = 0
    """Events whose body went (pruned or erased): only their key and counts are kept (`store/retention.py`)."""
    erasures: list[ErasureRecord] = msgspec.field(default_factory=list)
    """The newest erasure audit records (at most 20), newest first."""


class Storage(msgspec.Struct, frozen=True):
    """The room a store takes and has left (`Store.storage`): what the dashboard, `/metrics` and the watcher's
    disk alert read. Kept apart from `Stats` because it is cheap (file sizes and one index-backed read, no counts
    over the whole store), so it can be read on every metrics scrape and watcher round."""

    size: int
    """Bytes the store takes: SQLite its file and WAL; PostgreSQL `pg_database_size` of its whole database (a
    `search_path` schema shares it with whatever else lives there)."""
    free: int | None
    """Bytes free on the file system that holds it; None when this process cannot know (PostgreSQL: the server's
    disk is not visible to a client)."""
    total: int | None
    """Bytes of that file system in all; None when `free` is."""
    oldest_body: float | None
    """When the oldest delivery whose body is still kept was received; None when none is."""

    @property
    def free_ratio(self) -> float | None:
        """`free` as a share of `total` (0.0 to 1.0); None when either is unknown."""
        return None if self.free is None or not self.total else self.free / self.total


def byte_size(count: int) -> str:
    """`count` bytes as people read them, in powers of 1024 (`512 B`, `3.4 MiB`, `18.0 GiB`): one spelling for
    the CLI, the dashboard and the watcher's alerts."""
    if count < 1024:
        return f"{count} B"
    size = float(count)
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} TiB"


SINK_RATE_WINDOW = 60.0
"""Seconds over which the dashboard and `xhooks events stats` count a sink's sends (`SinkStats.relayed_since`)."""


class SinkStats(msgspec.Struct, frozen=True):
    """One relay sink's state (`Store.sinks`): what waits, what went, what failed."""

    sink: str
    backlog: int
    """Events the sink took in and has not sent yet (`pending`, `claimed`, `retry`)."""
    not_taken_in: int
    """Events committed after the sink's last take-in (it takes them in at its next claim, routing by type)."""
    relayed: int
    dead: int
    relayed_since: int
    """Events the sink confirmed at or after the `since` of the read (the dashboard's rate)."""
    last_relayed_at: float | None
    last_error: str | None
    """The error of the newest event whose last send failed, if any."""


class CrcRecord(msgspec.Struct, frozen=True):
    """One CRC request the receiver handled: when, how long answering took, the status and what it answered."""

    app: str
    at: float
    latency: float
    status: int
    outcome: str
    """`answered`, or why it was refused (`InvalidCrcToken`, `SignatureMismatch`, …)."""


class Span(msgspec.Struct, frozen=True):
    """A stretch of time during which something held: the receiver was up (`up`), deliveries were refused
    (`rejected`), a window was recovered by replay (`recovered:<webhook_id>`), an alert fired (`alert:<name>`)."""

    kind: str
    start: float
    end: float


class Store(ABC):
    """A durable record of deliveries and events. Engines are chosen by URL (`xhooks.store.open_store`)."""

    shares_transactions: ClassVar[bool] = False
    """True when `completing` works (the engine can hand a transaction to transactional handlers)."""

    def __init__(self) -> None:
        self._wakeup = Wakeup()

    @abstractmethod
    async def start(self) -> None:
        """Open connections and create or check the schema. Raises `StoreError` / `SchemaMismatch`."""

    @abstractmethod
    async def close(self) -> None:
        """Finish in-flight writes and release every connection."""

    @abstractmethod
    async def record(self, delivery: Delivery) -> Intake:
        """Store `delivery` and its events durably; return once committed. Raises `StoreError`.

        New events get `arrival_status(delivery.shape)`; an event seen before keeps its status.
        """

    @abstractmethod
    async def record_rejection(self, app: str, reason: str, at: float) -> None:
        """Count a refused request (bad signature, bad CRC token …) without storing its body."""

    @abstractmethod
    async def check_writable(self, at: float) -> bool:
        """Commit a heartbeat; True when the store accepted the write."""

    # -- health: what the watcher reads (CRC log, heartbeat and other spans) -----------------------------

    @abstractmethod
    async def record_crc(self, crc: CrcRecord) -> None:
        """Log a CRC request the receiver answered or refused. May return before the commit."""

    @abstractmethod
    async def mark(self, kind: str, start: float, end: float, max_gap: float) -> None:
        """Record that `kind` held from `start` to `end`; return once committed. Raises `StoreError`.

        The newest span of `kind` (greatest `start`) absorbs the stretch when they overlap or lie at most
        `max_gap` seconds apart (the span grows to cover both); otherwise a new span begins. A heartbeat is
        `mark("up", now, now, max_gap)`: beats closer than `max_gap` make one span, and a gap is downtime.
        """

    @abstractmethod
    async def spans(self, kind: str, since: float) -> Sequence[Span]:
        """The spans of `kind` that end at or after `since`, oldest first."""

    @abstractmethod
    async def crcs(self, since: float, limit: int = 100) -> Sequence[CrcRecord]:
        """The CRC requests handled at or after `since`, newest first."""

    # -- dispatch: claims with leases -------------------------------------------------------------------

    @abstractmethod
    async def claim(self, worker: str, limit: int, lease: float, now: float) -> Sequence[ClaimedEvent]:
        """Lease up to `limit` due events to `worker` until `now + lease`, oldest first.

        Due means: `pending`; `retry` with `next_attempt_at <= now`; or `claimed` with an expired lease (its
        worker died). Per-user order: an event is never claimed while an older unfinished event (pending,
        claimed or retry) of the same app and `for_user_id` exists; events without a `for_user_id` are free.
        """

    @abstractmethod
    async def complete(self, event_id: int, worker: str, now: float, ignored: bool = False) -> bool:
        """Mark a claimed event handled (`ignored`: skipped by the registry, no handler ran; `completed_status`).
        False (and nothing changed) if `worker` no longer holds its lease."""

    @abstractmethod
    async def fail(self, event_id: int, worker: str, error: str, retry_at: float | None, now: float) -> bool:
        """Record a failed attempt: `retry` at `retry_at`, or `dead` when `retry_at` is None. False if lease lost."""

    @abstractmethod
    async def renew(self, event_ids: Sequence[int], worker: str, until: float) -> int:
        """Extend to `until` the leases `worker` still holds among `event_ids` (a handler still running); return
        how many. A lease another worker took over, or an event no longer claimed, is left alone."""

    @abstractmethod
    async def release(self, event_ids: Sequence[int], worker: str) -> None:
        """Give claimed events back (graceful shutdown) without counting an attempt."""

    @abstractmethod
    async def redispatch(self, query: EventQuery, now: float) -> int:
        """Make the events matching `query` due again (`pending`, attempts reset); return how many.

        Only the lifecycle's `redispatch` move is made: from `retry`, `handled`, `ignored` or `dead`. Pending
        events (already due), claimed ones (a worker holds them) and quarantined ones (never handed to handlers)
        are left as they are and not counted. With `query.sink`, it is that sink's status that is reset (its dead
        letters are sent again).
        """

    # -- relays: each sink's own status per event -------------------------------------------------------

    @abstractmethod
    async def relay_claim(
        self, sink: str, worker: str, limit: int, lease: float, now: float, wanted: Callable[[str], bool] | None = None
    ) -> Sequence[ClaimedEvent]:
        """Lease up to `limit` due events of `sink` to `worker` until `now + lease`, oldest first, with headers.

        First the sink takes in the events committed since its last claim (every event but quarantined ones, or
        only those whose `event_type` `wanted` accepts; an event passed over is never taken in later), each
        `pending` for this sink whatever its handlers' status. Due and per-user order are `claim`'s, within the
        sink, with one difference: several events of one user can be leased in one call, a run of them in
        arrival order, so a relay sends a user's events in order without a round trip per event. An event is
        never leased while an older event of its app and user is leased elsewhere or waits for a retry.
        """

    @abstractmethod
    async def relay_complete(self, sink: str, event_ids: Sequence[int], worker: str, now: float) -> int:
        """Mark claimed events of `sink` handled (the sink confirmed them); return how many `worker` still held."""

    @abstractmethod
    async def relay_fail(
        self, sink: str, event_id: int, worker: str, error: str, retry_at: float | None, now: float
    ) -> bool:
        """A failed send: `retry` at `retry_at`, or `dead` when it is None. False if `worker` lost the lease."""

    @abstractmethod
    async def relay_release(self, sink: str, event_ids: Sequence[int], worker: str) -> None:
        """Give claimed events of `sink` back without counting an attempt (shutdown, sink unreachable)."""

    async def wait_for_events(self, timeout: float) -> bool:
        """Wait until events may be due, or at most `timeout` seconds; True when woken by the store.

        An idle worker calls this between empty claims. In this process, every commit that may make an event
        due wakes it at once: `record` of new events, `redispatch` and `release` of any, and `complete` / `fail`
        (which may free the next event of the same user; a failure with a retry also shortens the wait to when
        that retry falls due). Commits by other processes wake it only where the engine can be told (PostgreSQL:
        LISTEN/NOTIFY); elsewhere `timeout` is what bounds the wait.
        """
        return await self._wakeup.wait(timeout)

    def completing(self, event_id: int, worker: str, now: float) -> AbstractAsyncContextManager[Any]:
        """A transaction that marks a claimed event handled when it commits, for a transactional handler.

        The context yields the engine's connection (PostgreSQL: an `asyncpg.Connection` inside an open
        transaction). The handler writes its own effects on it; on a clean exit the event is marked handled
        in the same transaction and everything commits at once, so an effect kept in the same database
        happens exactly once. If the handler raises, everything is rolled back and the error propagates. If
        `worker` no longer holds the lease at the end, everything is rolled back and `StoreError` is raised.

        ```python
        async with store.completing(claimed.event.id, "worker-1", time.time()) as conn:
            await conn.execute("INSERT INTO replies (tweet_id) VALUES ($1)", tweet_id)
        ```

        Raises:
            NotImplementedError: the engine cannot share its transaction (SQLite: a single writer thread).
        """
        raise NotImplementedError(f"{type(self).__name__} has no transactional handlers; use the postgres engine")

    # -- retention (`store/retention.py`) --------------------------------------------------------------

    @abstractmethod
    async def prune(self, policy: RetentionPolicy, now: float, *, dry_run: bool = False) -> PruneReport:
        """Remove one batch of what `policy` no longer keeps at `now`; return what went. Raises `StoreError`.

        One transaction: up to `policy.batch` deliveries lose their raw body and headers (their events become
        tombstones, `StoredEvent.pruned_at`), and up to `policy.batch` tombstones past `tombstone_days` go with
        their sightings. `report.more` says a batch was full: call again. An event that is not finished, or that
        a relay sink has still to send, keeps its bodies. With `dry_run`, nothing changes and the report counts
        everything that would go now. SQLite gives the freed pages back to the file system (incremental vacuum).
        """

    @abstractmethod
    async def erase(self, user_id: str, reason: str, now: float) -> ErasureRecord:
        """Erase the stored bodies of every event of `user_id` and write the audit record (`store/erasure.py`).

        The events become tombstones (a late duplicate is still one); those not yet handled are given up. On
        SQLite the erased bytes are overwritten in the file and the WAL is checkpointed. Raises `StoreError`.
        """

    @abstractmethod
    async def erase_signalled(self, now: float, kinds: tuple[str, ...]) -> Sequence[ErasureRecord]:
        """Answer each stored event of X's of the types `kinds` (`erasure.REVOKE_TYPES`: erase what its user's
        earlier events stored; `erasure.POST_DELETE_TYPES`: erase the deleted Posts' events) that no erasure
        answered yet; return the audit records. X's events themselves stay for their handlers."""

    # -- reads -----------------------------------------------------------------------------------------
    #
    # Reads (these, and `spans` / `crcs` above) are async and need no `start()`: a tool may read a database that
    # another process writes, and the engine opens what reading needs on first use (`close()` releases it).
    # Sync code reads through `xhooks.store.SyncReader`, which runs these same methods.

    @abstractmethod
    async def events(self, query: EventQuery) -> Sequence[StoredEvent]:
        """Events matching `query`, newest first.

        With `query.sink`, only the events that sink took in, each with the sink's status, attempts and last error.
        """

    @abstractmethod
    async def event(self, event_id: int) -> StoredEvent | None: ...

    @abstractmethod
    async def delivery(self, delivery_id: int) -> StoredDelivery | None: ...

    @abstractmethod
    async def sightings(self, event_id: int) -> Sequence[tuple[int, float]]:
        """Every delivery that carried this event, `(delivery_id, received_at)`, first sighting first."""

    @abstractmethod
    async def attempts(self, event_id: int) -> Sequence[Attempt]:
        """Every recorded attempt of the event's handlers, oldest first (kept while its body is: `retention.py`)."""

    @abstractmethod
    async def stats(self) -> Stats:
        """Counts over the whole store, read in one snapshot."""

    @abstractmethod
    async def storage(self) -> Storage:
        """The store's size on disk, the free disk beside it (when the engine can see it) and its oldest body."""

    @abstractmethod
    async def sinks(self, since: float) -> Sequence[SinkStats]:
        """Each relay sink's backlog, counts, sends confirmed since `since`, and last error, by sink name."""
