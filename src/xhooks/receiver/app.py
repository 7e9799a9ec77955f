"""The receiver: an ASGI app that answers X's CRC and turns signed POSTs into committed deliveries.

The order of a POST is fixed: read the raw bytes (bounded in size and time), verify the signature over
exactly those bytes, parse the envelope, commit to the store, and only then answer 200. A store that
cannot commit answers 503, so X retries; nothing is acknowledged that is not stored.

| request | answer |
|---|---|
| GET path?crc_token=… (token-shaped) | 200 application/json `{"response_token": …}` |
| GET path without a usable crc_token | 400, nothing signed |
| POST path, no / empty signature | 401, counted |
| POST path, wrong signature | 403, counted |
| POST path, body over `max_body` | 413, connection closed |
| POST path, verified JSON object | 200 after commit; 503 if the store cannot commit |
| POST path, verified but not a JSON object | 200 after commit, its event stored `quarantined` (never dispatched) |
| other method on path / unknown path | 405 / 404 |
| GET health_path | 200 `{"store":"writable"}`; 503 `{"store":"failing", …}` or `{"store":"unwritable"}` (below) |
| GET metrics_path | Prometheus text (`xhooks.metrics`), the storage gauges read from the store at each scrape |

Health. `/healthz` answers 503 `{"store":"failing","failures":N,"for_seconds":S}` while the newest delivery
commit failed less than `failing_for` seconds ago (default 30) and none has succeeded since; otherwise it commits a
heartbeat and answers 200 `{"store":"writable"}`, or 503 `{"store":"unwritable"}` when that fails. The heartbeat
alone is not enough: on a full disk it still fits in WAL pages already allocated while a 2-3 KB delivery does
not, so it answered 200 while every POST got 503. The window lets a receiver that a load balancer took out of
rotation come back: with no POST for `failing_for` seconds there is no fresh evidence, the heartbeat decides, and
if deliveries still fail, the first one puts health back to 503 (what it costs is the POSTs a balancer
sends before its next health check, each answered 503 and retried by X).

For the watcher (`xhooks.watch`), the receiver logs every CRC it handles (time, latency, outcome), beats a
heartbeat into the store every `heartbeat` seconds while it runs (span `up`), and marks each POST whose
signature does not match (span `rejected`): the gaps and stretches there are what recovery replays.

Quarantine. A correctly signed body that is not a JSON object cannot be an X event (`Shape.quarantined`): it is
most likely a body whose signature was obtained from this receiver's own CRC answer, which signs any token-shaped
`crc_token`. It is still committed and answered 200, as the table says: it is kept like every verified POST, and a
refusal would only make a sender retry the same bytes. Its event is stored `quarantined`, which no worker claims,
and counted under the delivery result `quarantined`.

Slow clients are bounded by the server, not here: `xhooks serve` closes a connection whose request (headers
and body) is not complete within its request deadline (see `server.py`), and the receiver then sees a
disconnect and stores nothing. An `asyncio.timeout` per request would cost a quarter of the hot path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from xhooks._asgi import BodyTooLarge, Disconnected, read_body
from xhooks._types import Receive, Scope, Send
from xhooks.errors import ConfigError, SignatureMismatch, StoreError, VerificationError
from xhooks.metrics import CONTENT_TYPE, Metrics
from xhooks.protocol.crc import crc_response, crc_token_from_query
from xhooks.protocol.signature import verify
from xhooks.receiver.config import DEFAULT_MAX_BODY, AppConfig
from xhooks.service import Service, Services
from xhooks.store.base import CrcRecord, Delivery, Store

__all__ = ["Receiver"]

SIGNATURE_HEADER = b"x-twitter-webhooks-signature"
_JSON = [(b"content-type", b"application/json")]
_encode = msgspec.json.encode
REJECTED_GAP = 600.0
"""Refused POSTs less than this many seconds apart belong to one `rejected` span."""
CRC_LOG_PER_SECOND = 20
"""At most this many CRCs a second are logged and reach the store's CRC log (X sends a few an hour; a flood of
GETs must turn neither into a disk write each nor into a log line each). Every CRC is counted in the metrics."""
logger = logging.getLogger("xhooks.receiver")
"""One line per CRC (answered: info; refused: warning; beyond `CRC_LOG_PER_SECOND` a second, one line counting
the rest), per refused POST (401/403/413: warning), and for a store that cannot commit the first 503 in full,
then a count every 10 s (error). A stored delivery logs nothing: that is the hot path."""


class Receiver:
    """The ASGI app behind `xhooks serve`; mount it anywhere an ASGI app goes.

    ```python
    store = open_store("xhooks.db")
    app = Receiver(store, [AppConfig(consumer_secrets=("my-consumer-secret",))])
    # uvicorn.run(app) — the lifespan starts and closes the store
    ```

    `services` (the dispatch worker, the watcher: `xhooks.service`) run as tasks of the lifespan, on the
    receiver's loop and store: started after the store, stopped and awaited before it closes.

    Raises:
        ConfigError: no app, or two apps on the same path.
    """

    def __init__(
        self,
        store: Store,
        apps: Sequence[AppConfig],
        *,
        max_body: int = DEFAULT_MAX_BODY,
        health_path: str = "/healthz",
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
        metrics_path: str = "/metrics",
        heartbeat: float | None = 10.0,
        heartbeat_gap: float | None = None,
        failing_for: float = 30.0,
        services: Sequence[Service] = (),
    ) -> None:
        if not apps:
            raise ConfigError("the receiver needs at least one app (a path and its consumer secret)")
        self.routes = {app.path: app for app in apps}
        if len(self.routes) != len(apps):
            raise ConfigError("two apps share one path; give each X app its own --path")
        for reserved in (health_path, metrics_path):
            if reserved in self.routes:
                raise ConfigError(f"{reserved} is served by xhooks itself; choose another webhook path")
        if max_body <= 0:
            raise ConfigError("max_body must be a positive number of bytes")
        self.store = store
        self.max_body = max_body
        self.health_path = health_path
        self.clock = clock
        self.metrics = metrics or Metrics()
        self.metrics_path = metrics_path
        self._outage = _Outage()
        self.failing_for = failing_for
        """Seconds after a failed delivery commit (with none committed since) during which health answers 503."""
        self.heartbeat = heartbeat
        """Seconds between heartbeats (span `up` in the store) while the lifespan runs; None: no heartbeat."""
        self.heartbeat_gap = heartbeat_gap or 3 * (heartbeat or 0.0)
        """Beats further apart than this, on `clock`, are downtime (default: three intervals)."""
        self._beating: asyncio.Task[None] | None = None
        self._crc_log: list[CrcRecord] = []
        self._crc_flush: asyncio.TimerHandle | None = None
        self._crc_flushed_at = -1.0
        self._crc_lines = 0
        """CRC lines logged since the last flush of the CRC log (at most `CRC_LOG_PER_SECOND`)."""
        self._crc_unlogged = 0
        self._writing: set[asyncio.Task[None]] = set()
        self.services = Services(services)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        method: str = scope["method"]
        app = self.routes.get(path)
        if app is None:
            if path == self.health_path and method in ("GET", "HEAD"):
                await self._health(send)
            elif path == self.metrics_path and method == "GET":
                await self._metrics(send)
            else:
                await _respond(send, 404, {"error": f"no webhook at {path}"})
        elif method == "POST":
            await self._delivery(app, scope, receive, send)
        elif method == "GET":
            await self._crc(app, scope, send)
        else:
            await _respond(send, 405, {"error": "X sends GET (CRC) and POST (events) only"}, [(b"allow", b"GET, POST")])

    # -- CRC -------------------------------------------------------------------------------------------

    async def _crc(self, app: AppConfig, scope: Scope, send: Send) -> None:
        started, at = time.perf_counter(), self.clock()
        header = _header(scope, SIGNATURE_HEADER)
        try:
            token = crc_token_from_query(scope["query_string"], header, app.consumer_secrets)
        except VerificationError as exc:
            status, outcome = exc.status_hint, type(exc).__name__
            self._crc_line(logging.WARNING, "CRC GET %s refused with %d %s: %s", app.path, status, outcome, exc)
            await self.store.record_rejection(app.name, f"crc:{outcome}", at)
            await _respond(send, status, {"error": str(exc)})
        else:
            status, outcome = 200, "answered"
            self._crc_line(logging.INFO, "CRC GET %s answered", app.path)
            await _respond(send, status, crc_response(token, app.consumer_secrets[0]))
        latency = time.perf_counter() - started
        self.metrics.crc(outcome, latency, at)
        self._log_crc(CrcRecord(app.name, at, latency, status, outcome))

    def _crc_line(self, level: int, message: str, *args: object) -> None:
        """Log a CRC before it is answered (so the line is there when the answer is), at most
        `CRC_LOG_PER_SECOND` a second; the others are counted, and `_flush_crc_log` logs how many. (A line per CRC
        cost a fifth of a flooded CRC's CPU, and filled stderr at the flood's rate.)"""
        if self._crc_lines < CRC_LOG_PER_SECOND:
            self._crc_lines += 1
            logger.log(level, message, *args)
        else:
            self._crc_unlogged += 1

    def _log_crc(self, record: CrcRecord) -> None:
        """Queue a CRC for the store's log; the queue goes to the store at most once a second, so a lone CRC is
        written at once and a flood becomes one write a second of at most `CRC_LOG_PER_SECOND` records (and one
        line saying how many CRCs were not logged one by one)."""
        if len(self._crc_log) < CRC_LOG_PER_SECOND:
            self._crc_log.append(record)
        if self._crc_flush is None:
            delay = max(0.0, self._crc_flushed_at + 1.0 - time.monotonic())
            self._crc_flush = asyncio.get_running_loop().call_later(delay, self._flush_crc_log)

    def _flush_crc_log(self) -> None:
        records, self._crc_log, self._crc_flush = self._crc_log, [], None
        if self._crc_unlogged:
            logger.warning(
                "%d more CRC GETs answered or refused within a second, not logged one by one (at most %d a second"
                " are); xhooks_crc_requests_total counts them all",
                self._crc_unlogged,
                CRC_LOG_PER_SECOND,
            )
        self._crc_lines = self._crc_unlogged = 0
        self._crc_flushed_at = time.monotonic()
        task = asyncio.get_running_loop().create_task(self._write_crc_log(records))
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)

    async def _write_crc_log(self, records: list[CrcRecord]) -> None:
        with contextlib.suppress(StoreError):  # a CRC log the store cannot take is lost; the answer was given
            for record in records:
                await self.store.record_crc(record)

    # -- deliveries ------------------------------------------------------------------------------------

    async def _delivery(self, app: AppConfig, scope: Scope, receive: Receive, send: Send) -> None:
        started, received_at = time.perf_counter(), self.clock()
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await self._too_large(app, send)
            return
        try:
            body = await read_body(receive, self.max_body)
        except BodyTooLarge:
            await self._too_large(app, send)
            return
        except Disconnected:
            return  # the client left before sending its body: nothing to verify, nobody to answer
        try:
            secret_index = verify(body, _header(scope, SIGNATURE_HEADER), app.consumer_secrets)
        except VerificationError as exc:
            await self._refused(app, exc, received_at)
            await _respond(send, exc.status_hint, {"error": str(exc)})
            return
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
        delivery = Delivery.received(app.name, body, received_at, headers, secret_index)
        try:
            intake = await self.store.record(delivery)
        except StoreError as exc:
            self._outage.failed(app.path, exc, self.clock())
            self.metrics.delivery("store_error")
            await _respond(send, 503, {"error": "the store cannot commit; X will retry"}, [(b"retry-after", b"1")])
            return
        self._outage.succeeded(app.path, self.clock())
        self.metrics.stored(
            delivery.events, intake.duplicates, time.perf_counter() - started, delivery.shape.quarantined
        )
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    async def _too_large(self, app: AppConfig, send: Send) -> None:
        logger.warning("POST %s refused with 413: body over %d bytes", app.path, self.max_body)
        self.metrics.delivery("too_large")
        await _respond(send, 413, {"error": f"body over {self.max_body} bytes"}, close=True)

    async def _refused(self, app: AppConfig, exc: VerificationError, at: float) -> None:
        """Count a POST that failed verification; a mismatch (X signing with another secret) is also marked."""
        reason = type(exc).__name__
        logger.warning("POST %s refused with %d %s: %s", app.path, exc.status_hint, reason, exc)
        self.metrics.signature_failures.inc()
        self.metrics.delivery("signature_mismatch" if isinstance(exc, SignatureMismatch) else "signature_missing")
        await self.store.record_rejection(app.name, reason, at)
        if isinstance(exc, SignatureMismatch):
            with contextlib.suppress(StoreError):
                await self.store.mark("rejected", at, at, REJECTED_GAP)

    # -- health and lifespan ---------------------------------------------------------------------------

    async def _health(self, send: Send) -> None:
        now = self.clock()
        outage = self._outage
        if outage.since is not None and now - outage.last_failed_at < self.failing_for:
            failing = {"store": "failing", "failures": outage.failures, "for_seconds": round(now - outage.since, 3)}
            await _respond(send, 503, failing)
        elif await self.store.check_writable(now):
            await _respond(send, 200, {"store": "writable"})
        else:
            await _respond(send, 503, {"store": "unwritable"})

    async def _metrics(self, send: Send) -> None:
        """The metrics, with the storage gauges read from the store now (`xhooks.metrics`)."""
        try:
            self.metrics.storage(await self.store.storage())
        except StoreError:
            self.metrics.storage(None)
        await _send(send, 200, self.metrics.render(), [(b"content-type", CONTENT_TYPE.encode())])

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.store.start()
                except StoreError as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                if self.heartbeat is not None:
                    self._beating = asyncio.get_running_loop().create_task(self._beat(self.heartbeat))
                self.services.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.services.stop()
                if self._crc_flush is not None:
                    self._crc_flush.cancel()
                    self._flush_crc_log()
                await asyncio.gather(*self._writing)
                if self._beating is not None:
                    self._beating.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._beating
                    self._beating = None
                await self.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _beat(self, interval: float) -> None:
        """Mark the receiver `up` now and every `interval` seconds; a failed write leaves a gap, which is the point."""
        while True:
            now = self.clock()
            with contextlib.suppress(StoreError):
                await self.store.mark("up", now, now, self.heartbeat_gap)
            await asyncio.sleep(interval)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _respond(
    send: Send, status: int, payload: Any, extra: list[tuple[bytes, bytes]] | None = None, close: bool = False
) -> None:
    headers = [*_JSON, *(extra or [])]
    if close:
        headers.append((b"connection", b"close"))
    await _send(send, status, _encode(payload), headers)


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Outage:
    """The log of a store that cannot commit: its first 503 in full, then one line every `every` seconds with how
    many more there were, and one when it commits again. A disk-full outage under X's retries answers thousands
    of POSTs with 503; a line each would flood the log (and fill a pipe nobody reads, blocking the process).

    Times are the receiver's clock. `since` (the first failure) and `last_failed_at` (the newest) also decide
    health (`Receiver._health`); both are cleared by the next commit."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self.since: float | None = None
        self.last_failed_at = 0.0
        self.failures = 0
        """POSTs answered 503 since `since`."""
        self._logged_at = 0.0
        self._unlogged = 0

    def failed(self, path: str, exc: StoreError, now: float) -> None:
        self.failures += 1
        self.last_failed_at = now
        if self.since is None:
            self.since = self._logged_at = now
            logger.error("POST %s answered 503, the store cannot commit: %s", path, exc)
            return
        self._unlogged += 1
        if now - self._logged_at >= self.every:
            logger.error(
                "%d more POSTs answered 503 in the last %.0f s; the store still cannot commit: %s",
                self._unlogged,
                now - self._logged_at,
                exc,
            )
            self._logged_at, self._unlogged = now, 0

    def succeeded(self, path: str, now: float) -> None:
        if self.since is None:
            return
        logger.info(
            "POST %s committed: the store commits again after %d POSTs answered 503 over %.0f s",
            path,
            self.failures,
            now - self.since,
        )
        self.since, self._unlogged, self.failures = None, 0, 0
