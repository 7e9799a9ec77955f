"""Prometheus metrics for the receiver, the dispatch workers and the watcher, served at `/metrics`.

| metric | type | moves when |
|---|---|---|
| `xhooks_deliveries_total{result}` | counter | a POST is answered (results below) |
| `xhooks_events_total{type}` | counter | a stored delivery carries an event of that type (duplicates included) |
| `xhooks_duplicates_total` | counter | an event key arrives again |
| `xhooks_signature_failures_total` | counter | a POST fails signature verification |
| `xhooks_crc_requests_total{result}` | counter | a CRC GET is `answered` or refused (`InvalidCrcToken`, …) |
| `xhooks_crc_latency_seconds` | histogram | a CRC is answered (time spent in the receiver) |
| `xhooks_last_crc_success_timestamp_seconds` | gauge | a CRC is answered |
| `xhooks_intake_latency_seconds` | histogram | a delivery is committed (from its first byte to its commit) |
| `xhooks_dispatch_lag_seconds` | histogram | a worker starts an event (from its arrival) |
| `xhooks_handler_failures_total` | counter | a handler raises |
| `xhooks_handler_retries_total` | counter | a failed event is scheduled again |
| `xhooks_dead_letters` | gauge | an event runs out of attempts (counted by this process) |
| `xhooks_webhook_valid{webhook_id}` | gauge | the watcher reads X's `valid` (1 or 0) |
| `xhooks_replay_jobs{state}` | gauge | the watcher's replay jobs change state |
| `xhooks_store_size_bytes` | gauge | `/metrics` is read (`Store.storage`: SQLite file + WAL, `pg_database_size`) |
| `xhooks_disk_free_bytes`, `…_total_bytes` | gauge | `/metrics` is read (the store's file system; NaN: PostgreSQL) |
| `xhooks_oldest_body_timestamp_seconds` | gauge | `/metrics` is read (NaN when no body is kept) |
| `xhooks_next_prune_timestamp_seconds` | gauge | the background pruner ends a round (NaN: none runs in this process) |

Delivery results: `stored`, `duplicate` (every event of it was already stored), `quarantined` (stored, but
its body is not a JSON object, so it is never handed to handlers), `signature_missing`, `signature_mismatch`,
`too_large`, `store_error`.

Cost on the hot path: a delivery touches two pre-bound counter children and one histogram, about 2 µs in all
(measured with `timeit`, prometheus-client 0.26: `Counter.inc` 0.4 µs, `Histogram.observe` 0.8 µs,
`labels(…).inc` 1.3 µs, which is why label children are cached here).

Storage gauges are read from the store when `/metrics` is scraped (a cheap read: file sizes and one
index-backed query), so they are never older than the scrape; a read that fails sets them to NaN rather than
leaving old numbers up. NaN is also what an unknown value reads: Prometheus compares it false with anything,
so an alert rule on free disk stays quiet where free disk cannot be seen instead of firing on a zero.

Each `Metrics` has its own registry, so several receivers in one process (tests, several apps) do not collide.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from xhooks.protocol.envelope import EventRef
from xhooks.store.base import Storage

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0)
_UNKNOWN = float("nan")
_SLOW = (0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0, 3600.0)


class Metrics:
    """The metrics of one xhooks process; pass the same instance to the receiver, the workers and the watcher.

    ```python
    metrics = Metrics()
    app = Receiver(store, apps, metrics=metrics)       # serves metrics.render() at /metrics
    metrics.handler_failed(retrying=True)              # what the dispatch workers call
    ```
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.deliveries = Counter("xhooks_deliveries", "Webhook POSTs answered, by result.", ["result"], registry=r)
        self.events = Counter("xhooks_events", "Events in stored deliveries, by type.", ["type"], registry=r)
        self.duplicates = Counter("xhooks_duplicates", "Events that arrived again (same key).", registry=r)
        self.signature_failures = Counter(
            "xhooks_signature_failures", "POSTs whose x-twitter-webhooks-signature did not verify.", registry=r
        )
        self.crc_requests = Counter("xhooks_crc_requests", "CRC GET requests, by result.", ["result"], registry=r)
        self.crc_latency = Histogram(
            "xhooks_crc_latency_seconds", "Time to answer a CRC in the receiver.", buckets=_FAST, registry=r
        )
        self.last_crc_success = Gauge(
            "xhooks_last_crc_success_timestamp_seconds", "Unix time of the last CRC answered.", registry=r
        )
        self.intake_latency = Histogram(
            "xhooks_intake_latency_seconds", "From a delivery's arrival to its commit.", buckets=_FAST, registry=r
        )
        self.dispatch_lag = Histogram(
            "xhooks_dispatch_lag_seconds", "From an event's arrival to its handlers' start.", buckets=_SLOW, registry=r
        )
        self.handler_failures = Counter("xhooks_handler_failures", "Handler runs that raised.", registry=r)
        self.handler_retries = Counter("xhooks_handler_retries", "Failed events scheduled again.", registry=r)
        self.dead_letters = Gauge("xhooks_dead_letters", "Events out of attempts (this process).", registry=r)
        self.webhook_valid = Gauge(
            "xhooks_webhook_valid", "1 while X reports the webhook valid, else 0.", ["webhook_id"], registry=r
        )
        self.replay_jobs = Gauge("xhooks_replay_jobs", "The watcher's replay jobs, by state.", ["state"], registry=r)
        self.store_size = Gauge("xhooks_store_size_bytes", "Bytes the store takes on disk.", registry=r)
        self.disk_free = Gauge("xhooks_disk_free_bytes", "Free bytes of the store's file system.", registry=r)
        self.disk_total = Gauge("xhooks_disk_total_bytes", "Bytes of the store's file system.", registry=r)
        self.oldest_body = Gauge(
            "xhooks_oldest_body_timestamp_seconds", "Unix time of the oldest delivery whose body is kept.", registry=r
        )
        self.next_prune = Gauge(
            "xhooks_next_prune_timestamp_seconds", "Unix time of the background pruner's next round.", registry=r
        )
        self.storage(None)
        self.pruning(None)
        self._results: dict[str, Counter] = {}
        self._types: dict[str, Counter] = {}
        self._crc_results: dict[str, Counter] = {}

    # -- receiver --------------------------------------------------------------------------------------

    def delivery(self, result: str) -> None:
        """Count one POST answered with `result`."""
        child = self._results.get(result)
        if child is None:
            child = self._results[result] = self.deliveries.labels(result)
        child.inc()

    def stored(self, events: Sequence[EventRef], duplicates: int, seconds: float, quarantined: bool = False) -> None:
        """Count a committed delivery: its events by type, its duplicates, and how long intake took."""
        for event in events:
            child = self._types.get(event.event_type)
            if child is None:
                child = self._types[event.event_type] = self.events.labels(event.event_type)
            child.inc()
        if duplicates:
            self.duplicates.inc(duplicates)
        if quarantined:
            self.delivery("quarantined")
        else:
            self.delivery("duplicate" if duplicates and duplicates == len(events) else "stored")
        self.intake_latency.observe(seconds)

    def crc(self, result: str, seconds: float, at: float) -> None:
        """Count a CRC request; an `answered` one also sets the time of the last success."""
        child = self._crc_results.get(result)
        if child is None:
            child = self._crc_results[result] = self.crc_requests.labels(result)
        child.inc()
        if result == "answered":
            self.crc_latency.observe(seconds)
            self.last_crc_success.set(at)

    # -- dispatch --------------------------------------------------------------------------------------

    def handler_started(self, lag: float) -> None:
        """A worker starts an event that arrived `lag` seconds ago."""
        self.dispatch_lag.observe(lag)

    def handler_failed(self, retrying: bool) -> None:
        """A handler raised; the event is retried (`retrying`) or becomes a dead letter."""
        self.handler_failures.inc()
        if retrying:
            self.handler_retries.inc()
        else:
            self.dead_letters.inc()

    # -- storage ---------------------------------------------------------------------------------------

    def storage(self, storage: Storage | None) -> None:
        """Set the storage gauges from a `Store.storage` read; None (the read failed) makes them all unknown."""
        gauges = (self.store_size, self.disk_free, self.disk_total, self.oldest_body)
        values = (None,) * 4 if storage is None else (storage.size, storage.free, storage.total, storage.oldest_body)
        for gauge, value in zip(gauges, values, strict=True):
            gauge.set(_UNKNOWN if value is None else value)

    def pruning(self, next_at: float | None) -> None:
        """The background pruner's next round is at `next_at` (None: no pruner runs here)."""
        self.next_prune.set(_UNKNOWN if next_at is None else next_at)

    # -- output ----------------------------------------------------------------------------------------

    def render(self) -> bytes:
        """The text exposition format (served with `CONTENT_TYPE`)."""
        return generate_latest(self.registry)
